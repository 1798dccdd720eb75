"""Admin pages: the NLU review inbox (messages the bot did not understand), one-click labels,
export as training data (nlu/review.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.config import Role
from core.errors import DomainError
from nlu import INTENTS
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
        services=request.app.state.ctx.config.menu.all_services,
    )  # fmt: skip


@router.post("/nlu/review/export")
def export(request: Request, user: PageUser) -> Response:
    user.require(Role.admin)
    _, count = _queue(request).export()
    flash(request, f"已导出 {count} 条标好的消息,下次训练会用上。")
    return redirect("/nlu/review")


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
