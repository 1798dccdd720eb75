"""Admin pages: the NLU review inbox (messages the bot did not understand), one-click labels,
export as training data (nlu/review.py), and the gated retrain with its progress and
before/after figures (nlu/retrain.py; it runs in a background thread, the page polls)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.config import Role
from core.errors import DomainError
from nlu import INTENTS
from nlu.retrain import default_folds, default_tolerance, load_status, start_in_background
from nlu.review import LABELLED, ReviewQueue
from web.auth import Form, PageUser
from web.render import flash, redirect, render

router = APIRouter(include_in_schema=False)

INTENT_LABELS = {
    "request_service": "点单",
    "check_order": "查单",
    "cancel_order": "撤单",
    "rate_order": "评单",
    "ask_menu": "问有啥服务",
    "ask_broadcast": "问大喇叭",
    "volunteer_signup": "当志愿者",
    "talk_to_staff": "找工作人员",
    "greet": "打招呼",
    "goodbye": "再见",
    "thanks": "谢谢",
    "affirm": "对/是",
    "deny": "不/不用",
}
REASON_LABELS = {"fallback": "没看懂", "low_confidence": "没把握", "corrected": "居民改了服务"}


def _queue(request: Request) -> ReviewQueue:
    ctx = request.app.state.ctx
    return ReviewQueue(ctx.db, ctx.config, ctx.clock)


@router.get("/nlu/review")
def review(request: Request, user: PageUser) -> Response:
    user.require(Role.admin)
    queue = _queue(request)
    return render(
        request, "nlu_review.html", items=queue.items(villages=user.villages),
        labelled=queue.items(LABELLED, limit=50, villages=user.villages), counts=queue.counts(user.villages),
        intents=[(i, INTENT_LABELS[i]) for i in INTENTS], reasons=REASON_LABELS,
        services=request.app.state.ctx.config.menu.all_services, retrain=load_status(),
    )  # fmt: skip


@router.post("/nlu/review/export")
def export(request: Request, user: PageUser, form: Form) -> Response:
    user.require(Role.admin)
    _, count = _queue(request).export()
    flash(request, f"已导出 {count} 条标好的消息。点“重新训练”:新模型成绩不变差才会换上。")
    return redirect("/nlu/review")


@router.post("/nlu/review/retrain")
def retrain_start(request: Request, user: PageUser, form: Form) -> Response:
    user.require(Role.admin)
    config = request.app.state.ctx.config
    scoring = getattr(request.app.state, "retrain_scoring", None)  # tests: a fake, no Rasa
    if start_in_background(config, k=default_folds(), tolerance=default_tolerance(), scoring=scoring) is None:
        flash(request, "已经在重新训练了,请等它做完。", "error")
    else:
        flash(request, "已开始重新训练,要几分钟;这一页会自己刷新。")
    return redirect("/nlu/review/retrain")


@router.get("/nlu/review/retrain")
def retrain_page(request: Request, user: PageUser) -> Response:
    user.require(Role.admin)
    return render(request, "nlu_retrain.html", status=load_status())


@router.post("/nlu/review/{item_id}")
def label(request: Request, user: PageUser, item_id: int, form: Form) -> Response:
    user.require(Role.admin)
    queue = _queue(request)
    choice = form.get("label", "")
    try:
        if choice == "irrelevant":
            queue.dismiss(item_id, user.staff.id, user.villages)
        else:
            intent, _, service = choice.partition(":")
            queue.label(item_id, intent, service or None, user.staff.id, user.villages)
    except DomainError as exc:
        flash(request, exc.message_zh, "error")
        return redirect("/nlu/review")
    flash(request, "已标好。")
    return redirect("/nlu/review")
