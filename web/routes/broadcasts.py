"""Announcements (draft, edit, approve, reject, withdraw, listen), the programme calendar
per village, and the operators' daily playlist with audio, downloads and "mark as aired".
Everything goes through the broadcasts room's door, `BroadcastService`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from broadcasts.errors import IllegalTransition, InvalidBroadcast
from broadcasts.models import AnnouncementStatus, PlanKind, Priority
from broadcasts.service import AnnouncementDraft, BroadcastService
from broadcasts.views import AnnouncementView
from core.app import AppContext
from core.clock import LOCAL_TZ, local
from core.config import Role
from web.auth import Forbidden, Form, PageUser, User
from web.doors import broadcasts_of
from web.files import playlists_for
from web.render import flash, redirect, render

router = APIRouter(include_in_schema=False)
MAX_TEXT = 1000
MAX_COUNT = 14
CALENDAR_DAYS = 7


def audience_choices(ctx: AppContext, user: User) -> list[tuple[str, str]]:
    """Areas wholly inside the person's villages: the county, a township, a village."""
    config = ctx.config
    areas = [(config.centre.id, config.centre.name)]
    areas += [(i.id, i.name) for i in config.centre.institutes]
    areas += [(v.id, v.name) for v in config.villages.values()]
    return [(a, name) for a, name in areas if set(config.villages_in(a)) <= user.villages]


@dataclass
class DraftForm:
    """What was typed, kept to show the form again with the errors."""

    title: str = ""
    text: str = ""
    audience: list[str] = field(default_factory=list)
    plan: str = PlanKind.next_slots.value
    count: str = "2"
    at: str = ""
    priority: str = Priority.normal.value

    def check(self, choices: list[tuple[str, str]], now: datetime) -> tuple[AnnouncementDraft | None, list[str]]:
        errors = []
        if not self.text.strip():
            errors.append("请填写广播内容。")
        elif len(self.text) > MAX_TEXT:
            errors.append(f"广播内容太长了,请少于 {MAX_TEXT} 个字。")
        if len(self.title) > 60:
            errors.append("标题太长了,请少于 60 个字。")
        allowed = {a for a, _ in choices}
        if not self.audience:
            errors.append("请至少选一个播出的村或镇。")
        elif not set(self.audience) <= allowed:
            errors.append("选的地方有的不归您管。")
        if self.plan not in PlanKind.__members__:
            errors.append("请选择播出方式。")
        count = int(self.count) if self.count.isdigit() else 0
        if not 1 <= count <= MAX_COUNT:
            errors.append(f"次数要填 1 到 {MAX_COUNT} 之间的数字。")
        at = None
        if self.at:
            try:
                at = datetime.fromisoformat(self.at).replace(tzinfo=LOCAL_TZ)
            except ValueError:
                errors.append("播出时间的格式不对。")
            else:
                if at <= now:
                    errors.append("播出时间已经过去了,请换个时间。")
        elif self.plan == PlanKind.once.value:
            errors.append("“定时播一次”要填写播出时间。")
        if self.priority not in Priority.__members__:
            errors.append("请选择普通还是紧急。")
        if errors:
            return None, errors
        draft = AnnouncementDraft(
            text=self.text.strip(), audience=list(self.audience), title=self.title.strip() or None,
            plan=PlanKind(self.plan), count=count, at=at, priority=Priority(self.priority), voice=None,
        )  # fmt: skip
        return draft, []

    @classmethod
    def entered(cls, request: Request, form: dict[str, str]) -> DraftForm:
        raw: dict[str, list[str]] = request.state.form_lists
        return cls(
            title=form.get("title", ""), text=form.get("text", ""), audience=raw.get("audience", []),
            plan=form.get("plan", ""), count=form.get("count", "").strip(), at=form.get("at", "").strip(),
            priority=form.get("priority", Priority.normal.value),
        )  # fmt: skip

    @classmethod
    def of(cls, a: AnnouncementView, now: datetime) -> DraftForm:
        """The form filled in with an announcement, to edit it. A "not before" time that has
        passed is left out (it no longer holds anything back)."""
        keep_at = a.plan_at is not None and (a.plan_kind is PlanKind.once or a.plan_at > now)
        return cls(
            title=a.title, text=a.text, audience=list(a.audience), plan=a.plan_kind.value, count=str(a.plan_count),
            at=local(a.plan_at).strftime("%Y-%m-%dT%H:%M") if keep_at and a.plan_at else "", priority=a.priority.value,
        )  # fmt: skip


def editor_page(request: Request, form: DraftForm, choices: list[tuple[str, str]], **extra: object) -> Response:
    status = 400 if extra.get("errors") else 200
    return render(request, "announcement_form.html", status, form=form, choices=choices, plans=PlanKind, **extra)


@router.get("/announcements")
def announcement_list(request: Request, user: PageUser, status: str = "") -> Response:
    if not (user.has(Role.admin) or user.has(Role.approver)):
        raise Forbidden("公告只有管理员和审核员能看。")
    wanted = AnnouncementStatus(status) if status in AnnouncementStatus.__members__ else None
    items = broadcasts_of(request).announcements(user.actor, status=wanted)
    return render(request, "announcements.html", announcements=items, status=status, statuses=AnnouncementStatus)


@router.get("/announcements/new")
def new_announcement(request: Request, user: PageUser) -> Response:
    user.require(Role.admin)
    return editor_page(request, DraftForm(), audience_choices(request.app.state.ctx, user))


@router.post("/announcements/new")
def create_announcement(request: Request, user: PageUser, form: Form) -> Response:
    user.require(Role.admin)
    ctx = request.app.state.ctx
    entered = DraftForm.entered(request, form)
    choices = audience_choices(ctx, user)
    draft, errors = entered.check(choices, ctx.clock())
    if draft is not None:
        try:
            created = broadcasts_of(request).draft(draft, user.actor)
        except InvalidBroadcast as exc:
            errors = [exc.message_zh]
        else:
            flash(request, "公告草稿已保存,等审核员审核。")
            return redirect(f"/announcements/{created.id}")
    return editor_page(request, entered, choices, errors=errors)


def editable(request: Request, user: User, announcement_id: int) -> tuple[BroadcastService, AnnouncementView]:
    user.require(Role.admin)
    svc = broadcasts_of(request)
    view = svc.announcement(announcement_id, user.actor)
    if not svc.may_edit(view, user.actor):
        raise Forbidden("这条公告您不能修改。")
    return svc, view


@router.get("/announcements/{announcement_id}/edit")
def edit_announcement(request: Request, user: PageUser, announcement_id: int) -> Response:
    ctx = request.app.state.ctx
    _, view = editable(request, user, announcement_id)
    return editor_page(request, DraftForm.of(view, ctx.clock()), audience_choices(ctx, user), editing=view)


@router.post("/announcements/{announcement_id}/edit")
def save_announcement(request: Request, user: PageUser, announcement_id: int, form: Form) -> Response:
    """The changed text or plan goes back to review: an approver must approve it again."""
    ctx = request.app.state.ctx
    svc, view = editable(request, user, announcement_id)
    entered = DraftForm.entered(request, form)
    choices = audience_choices(ctx, user)
    draft, errors = entered.check(choices, ctx.clock())
    if draft is not None:
        try:
            svc.edit(
                announcement_id, user.actor, text=draft.text, title=draft.title, audience=draft.audience,
                plan=draft.plan, count=draft.count, at=draft.at, priority=draft.priority,
            )  # fmt: skip
        except (InvalidBroadcast, IllegalTransition) as exc:
            errors = [exc.message_zh]
        else:
            was_approved = view.status is AnnouncementStatus.approved
            flash(request, "已修改,等审核员重新审核后才会播出。" if was_approved else "已修改,等审核员审核。")
            return redirect(f"/announcements/{announcement_id}")
    return editor_page(request, entered, choices, errors=errors, editing=view)


@router.get("/announcements/{announcement_id}")
def announcement_detail(request: Request, user: PageUser, announcement_id: int) -> Response:
    if not (user.has(Role.admin) or user.has(Role.approver)):
        raise Forbidden("公告只有管理员和审核员能看。")
    svc = broadcasts_of(request)
    view = svc.announcement(announcement_id, user.actor)
    return render(
        request, "announcement.html", a=view, may_approve=svc.may_approve(view, user.actor),
        may_edit=svc.may_edit(view, user.actor),
        items=sorted(view.items, key=lambda i: (i.air_at, i.village_id, i.position)),
    )  # fmt: skip


@router.post("/announcements/{announcement_id}/{action}")
def announcement_action(request: Request, user: PageUser, announcement_id: int, action: str, form: Form) -> Response:
    svc = broadcasts_of(request)
    reason = form.get("reason", "").strip()
    messages = {
        "approve": "已审核通过,会按计划生成语音并排进播出表。",
        "reject": "已退回。",
        "withdraw": "已撤回。",
    }
    if action not in messages:
        return render(request, "error.html", 404, title="出错了", message="没有这个页面。")
    if action == "reject" and not reason:
        flash(request, "退回要写明原因,方便修改。", "error")
        return redirect(f"/announcements/{announcement_id}")
    try:
        if action == "approve":
            svc.approve(announcement_id, user.actor)
        elif action == "reject":
            svc.reject(announcement_id, user.actor, reason=reason[:200])
        else:
            svc.withdraw(announcement_id, user.actor)
    except (InvalidBroadcast, IllegalTransition) as exc:
        flash(request, exc.message_zh, "error")
    else:
        flash(request, messages[action])
    return redirect(f"/announcements/{announcement_id}")


def _village_and_day(request: Request, user: User, village: str, day: str) -> tuple[str, date]:
    """The page's village (the user's first when none is asked for) and day (today when none
    or a bad one is given: said in a flash message)."""
    order = list(request.app.state.ctx.config.villages)
    village = village[:48]
    if village and village not in user.villages:
        raise Forbidden("这个村不归您管。")
    today = broadcasts_of(request).today()
    try:
        when = date.fromisoformat(day[:10]) if day else today
    except ValueError:
        when = today
        flash(request, "日期格式不对,已显示今天。", "error")
    return village or sorted(user.villages, key=order.index)[0], when


@router.get("/playlist")
def playlist(request: Request, user: PageUser, village: str = "", day: str = "") -> Response:
    if not (user.has(Role.operator) or user.has(Role.admin)):
        raise Forbidden("这一页只有广播员和管理员能用。")
    ctx, svc = request.app.state.ctx, broadcasts_of(request)
    village_id, when = _village_and_day(request, user, village, day)
    items = svc.day(when, user.actor, village_id)
    return render(
        request, "playlist.html", village=village_id, day=when, items=items,
        playlists=playlists_for(svc, when, village_id),
        villages=sorted(user.villages, key=list(ctx.config.villages).index),
        prev_day=when - timedelta(days=1), next_day=when + timedelta(days=1),
        may_mark=svc.may_operate(user.actor, village_id),
    )  # fmt: skip


@router.post("/playlist/items/{item_id}/aired")
def aired(request: Request, user: PageUser, item_id: int, form: Form) -> Response:
    back = form.get("back", "/playlist")
    back = back if back.startswith("/playlist") else "/playlist"
    try:
        broadcasts_of(request).mark_aired(item_id, user.actor)
    except IllegalTransition as exc:  # not found / not allowed: the error page (404 / 403)
        flash(request, exc.message_zh, "error")
    else:
        flash(request, "已登记播出。")
    return redirect(back)


@router.get("/calendar")
def calendar(request: Request, user: PageUser, village: str = "", start: str = "") -> Response:
    user.require(Role.admin)
    ctx = request.app.state.ctx
    village_id, first = _village_and_day(request, user, village, start)
    week = broadcasts_of(request).week(village_id, first, user.actor, CALENDAR_DAYS)
    return render(
        request, "calendar.html", village=village_id, week=week, slots=ctx.config.villages[village_id].slots,
        villages=sorted(user.villages, key=list(ctx.config.villages).index),
        prev_start=first - timedelta(days=CALENDAR_DAYS), next_start=first + timedelta(days=CALENDAR_DAYS),
    )  # fmt: skip
