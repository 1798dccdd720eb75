"""Announcements: draft → approved (or rejected/withdrawn), with permission checks and an
audit row for every step. Approval places the airings (items) into village slots."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcasts.errors import IllegalTransition, InvalidBroadcast, NotFound, PermissionDenied
from broadcasts.events import APPROVED, EDITED, WITHDRAWN
from broadcasts.models import (
    Announcement,
    AnnouncementStatus,
    BroadcastAudit,
    BroadcastItem,
    ItemState,
    PlanKind,
    Priority,
)
from broadcasts.output import forget_items
from broadcasts.schedule import ScheduleService, audit, new_airing, next_slots, slot_times
from broadcasts.textnorm import check_text
from broadcasts.views import AnnouncementView
from broadcasts.voices import check_voice
from core.actors import Actor, staff_covers, visible_villages
from core.app import AppContext
from core.clock import local, local_date
from core.config import Role

PENDING = (ItemState.scheduled, ItemState.generating, ItemState.ready)
EDITABLE = (AnnouncementStatus.draft, AnnouncementStatus.approved, AnnouncementStatus.rejected)
MAX_COUNT = 31


@dataclass(frozen=True)
class AnnouncementDraft:
    text: str
    audience: list[str]  # centre id (all villages), institute ids, village ids
    title: str | None = None
    plan: PlanKind = PlanKind.next_slots
    count: int = 1  # slots (next_slots) or days (daily)
    at: datetime | None = None  # once: when; otherwise: not before
    priority: Priority = Priority.normal
    voice: str | None = None  # None: each village's own voice


class AnnouncementService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.settings = ctx.config.broadcasts
        self.schedule = ScheduleService(ctx)

    # ------------------------------------------------------------ validation
    def villages_of(self, audience: list[str]) -> list[str]:
        if not audience:
            raise InvalidBroadcast("请选择播给哪些村。", "audience is empty")
        out: list[str] = []
        for area in audience:
            villages = self.config.villages_in(area)
            if not villages:
                raise InvalidBroadcast(f"没有这个村或镇:{area}", f"unknown village/area id {area!r}")
            out += [v for v in villages if v not in out]
        return out

    def _check(self, d: AnnouncementDraft) -> tuple[AnnouncementDraft, list[str]]:
        text = check_text(d.text, self.settings.max_text_chars)
        villages = self.villages_of(list(d.audience))
        for v in villages:
            check_voice(d.voice or self.config.villages[v].voice)
        try:
            plan, priority = PlanKind(d.plan), Priority(d.priority)
        except ValueError as exc:
            raise InvalidBroadcast("播出安排不对。", str(exc)) from None
        if not 1 <= d.count <= MAX_COUNT:
            raise InvalidBroadcast(f"播出次数或天数要在 1 到 {MAX_COUNT} 之间。", f"count {d.count} out of range")
        now = self.ctx.clock()
        if d.at is not None and d.at.tzinfo is None:
            raise InvalidBroadcast("播出时间要带时区。", "naive datetime for `at`")
        if plan is PlanKind.once and d.at is None:
            raise InvalidBroadcast("定时播出要给出播出时间。", "plan 'once' needs `at`")
        if plan is PlanKind.once and d.at is not None and d.at <= now:
            raise InvalidBroadcast(
                f"播出时间 {local(d.at):%m月%d日 %H:%M} 已经过去了。", f"air time {d.at.isoformat()} is in the past"
            )
        title = (d.title or "").strip() or text[:16]
        if len(title) > 80:
            raise InvalidBroadcast("标题太长了,最多 80 个字。", f"title has {len(title)} characters")
        clean = AnnouncementDraft(text, list(d.audience), title, plan, d.count, d.at, priority, d.voice)
        return clean, villages

    def _uncovered(self, actor: Actor, villages: Iterable[str], role: Role) -> list[str]:
        """The villages where the actor does not hold `role` (empty: allowed everywhere)."""
        return [v for v in villages if not staff_covers(self.config, actor, v, role)]

    def _require(self, actor: Actor, villages: list[str], role: Role, what_zh: str) -> None:
        missing = self._uncovered(actor, villages, role)
        if missing:
            raise PermissionDenied(
                f"您没有权限{what_zh}这些村的广播。",
                f"{actor.label} lacks role {role.value} for villages {missing}",
            )

    # ------------------------------------------------------------ commands
    def draft(self, d: AnnouncementDraft, actor: Actor) -> AnnouncementView:
        d, villages = self._check(d)
        self._require(actor, villages, Role.admin, "起草")
        now = self.ctx.clock()
        with self.ctx.db.session() as s:
            a = Announcement(
                title=d.title,
                text=d.text,
                audience=d.audience,
                plan_kind=d.plan,
                plan_at=d.at,
                plan_count=d.count,
                priority=d.priority,
                voice=d.voice,
                status=AnnouncementStatus.draft,
                created_by=actor.label,
                created_at=now,
                updated_at=now,
                version=1,
            )
            s.add(a)
            s.flush()
            audit(s, now, actor, "drafted", f"villages={','.join(villages)}", announcement_id=a.id)
            return self._view(s, a)

    def edit(self, ref: int, actor: Actor, **changes: Any) -> AnnouncementView:
        """Change any draft field; an approved announcement goes back to draft."""
        fields = {"text", "audience", "title", "plan", "count", "at", "priority", "voice"}
        unknown = set(changes) - fields
        if unknown:
            raise InvalidBroadcast("不能修改这些内容。", f"unknown fields {sorted(unknown)}")
        with self.ctx.db.session() as s:
            a = self._load(s, ref)
            if a.status not in EDITABLE:
                raise IllegalTransition("这条广播已经撤回,不能再改。", f"announcement {a.id} is {a.status}")
            self._require(actor, self.villages_of(a.audience), Role.admin, "修改")
            current = AnnouncementDraft(
                a.text, list(a.audience), a.title, PlanKind(a.plan_kind), a.plan_count, a.plan_at,
                Priority(a.priority), a.voice,
            )  # fmt: skip
            merged = {**current.__dict__, **changes}
            if "text" in changes and "title" not in changes:
                merged["title"] = None  # the title follows the new text
            d, villages = self._check(AnnouncementDraft(**merged))
            self._require(actor, villages, Role.admin, "修改")
            now = self.ctx.clock()
            was = a.status
            a.text, a.audience, a.title = d.text, d.audience, d.title or a.title
            a.plan_kind, a.plan_count, a.plan_at = d.plan, d.count, d.at
            a.priority, a.voice = d.priority, d.voice
            a.status, a.approved_by, a.approved_at, a.reject_reason = AnnouncementStatus.draft, None, None, None
            a.version += 1
            a.updated_at = now
            cancelled = self._cancel_pending(s, a, now, actor)
            audit(s, now, actor, EDITED, f"was {was}; cancelled {len(cancelled)} airings", announcement_id=a.id)
            view = self._view(s, a)
        forget_items(self.ctx, cancelled)
        return view

    def approve(self, ref: int, actor: Actor) -> AnnouncementView:
        with self.ctx.db.session() as s:
            a = self._load(s, ref)
            if a.status != AnnouncementStatus.draft:
                raise IllegalTransition(
                    f"这条广播现在是“{AnnouncementStatus(a.status).label}”,不能审核通过。",
                    f"announcement {a.id} is {a.status}, only drafts can be approved",
                )
            villages = self.villages_of(a.audience)
            self._require(actor, villages, Role.approver, "审核")
            now = self.ctx.clock()
            if a.plan_kind == PlanKind.once and a.plan_at is not None and a.plan_at <= now:
                raise InvalidBroadcast(
                    "播出时间已经过去了,请先修改时间。", f"air time {a.plan_at.isoformat()} passed before approval"
                )
            a.status, a.approved_by, a.approved_at, a.updated_at = AnnouncementStatus.approved, actor.label, now, now
            placed = self._place(s, a, villages, now)
            audit(s, now, actor, APPROVED, f"version {a.version}; {placed} airings", announcement_id=a.id)
            view = self._view(s, a)
        return view

    def reject(self, ref: int, actor: Actor, reason: str) -> AnnouncementView:
        if not reason.strip():
            raise InvalidBroadcast("请写明不通过的原因。", "reject needs a reason")
        with self.ctx.db.session() as s:
            a = self._load(s, ref)
            if a.status != AnnouncementStatus.draft:
                raise IllegalTransition("只有待审核的广播可以退回。", f"announcement {a.id} is {a.status}")
            self._require(actor, self.villages_of(a.audience), Role.approver, "审核")
            now = self.ctx.clock()
            a.status, a.reject_reason, a.updated_at = AnnouncementStatus.rejected, reason.strip(), now
            audit(s, now, actor, "rejected", reason.strip(), announcement_id=a.id)
            return self._view(s, a)

    def withdraw(self, ref: int, actor: Actor) -> AnnouncementView:
        with self.ctx.db.session() as s:
            a = self._load(s, ref)
            villages = self.villages_of(a.audience)
            if self._uncovered(actor, villages, Role.admin) and self._uncovered(actor, villages, Role.approver):
                raise PermissionDenied("您没有权限撤回这条广播。", f"{actor.label} may not withdraw {a.id}")
            if a.status == AnnouncementStatus.withdrawn:
                raise IllegalTransition("这条广播已经撤回了。", f"announcement {a.id} already withdrawn")
            now = self.ctx.clock()
            a.status, a.updated_at = AnnouncementStatus.withdrawn, now
            cancelled = self._cancel_pending(s, a, now, actor)
            audit(s, now, actor, WITHDRAWN, f"cancelled {len(cancelled)} airings", announcement_id=a.id)
            view = self._view(s, a)
        forget_items(self.ctx, cancelled)
        return view

    # ------------------------------------------------------------ queries
    def get(self, ref: int, actor: Actor) -> AnnouncementView:
        with self.ctx.db.session() as s:
            a = self._load(s, ref)
            if not self._may_see(a, actor):
                raise NotFound(f"没有找到第 {ref} 号广播。", f"announcement {ref} not visible to {actor.label}")
            return self._view(s, a, full=True)

    def list(self, actor: Actor, status: AnnouncementStatus | None = None, limit: int = 100) -> list[AnnouncementView]:
        with self.ctx.db.session() as s:
            q = select(Announcement).order_by(Announcement.id.desc())
            if status is not None:
                q = q.where(Announcement.status == status)
            rows = [a for a in s.scalars(q) if self._may_see(a, actor)][:limit]
            return [self._view(s, a) for a in rows]

    def may_edit(self, view: AnnouncementView, actor: Actor) -> bool:
        """An admin of every audience village may change it until it is withdrawn."""
        return view.status in EDITABLE and not self._uncovered(actor, view.villages, Role.admin)

    def may_approve(self, ref: int | AnnouncementView, actor: Actor) -> bool:
        villages = list(ref.villages) if isinstance(ref, AnnouncementView) else self.get(ref, actor).villages
        return not self._uncovered(actor, villages, Role.approver)

    # ------------------------------------------------------------ internals
    def _may_see(self, a: Announcement, actor: Actor) -> bool:
        visible = visible_villages(self.config, actor)
        return visible is None or bool(visible & set(self.config_villages(a)))

    def config_villages(self, a: Announcement) -> list[str]:
        return [v for area in a.audience for v in self.config.villages_in(area)]

    def _load(self, s: Session, ref: int) -> Announcement:
        a = s.get(Announcement, int(ref)) if str(ref).isdigit() else None
        if a is None:
            raise NotFound(f"没有找到第 {ref} 号广播。", f"announcement {ref} not found")
        return a

    def _view(self, s: Session, a: Announcement, full: bool = False) -> AnnouncementView:
        items = audit_rows = None
        if full:
            items = list(s.scalars(select(BroadcastItem).where(BroadcastItem.announcement_id == a.id)))
            audit_rows = list(
                s.scalars(
                    select(BroadcastAudit).where(BroadcastAudit.announcement_id == a.id).order_by(BroadcastAudit.id)
                )
            )
        return AnnouncementView.of(a, self.config_villages(a), items, audit_rows)

    def _airings(self, a: Announcement, village_id: str, now: datetime) -> list[datetime]:
        village = self.config.villages[village_id]
        lead = timedelta(minutes=self.settings.lead_minutes)
        urgent = a.priority == Priority.urgent
        # Normal airings leave the lead time to voice them; urgent ones take the next slot.
        after = max(now if urgent else now + lead, a.plan_at or now)
        times: list[datetime] = []
        if urgent:
            times.append(now + timedelta(minutes=self.settings.urgent_delay_minutes))
        if a.plan_kind == PlanKind.once:
            times.append(a.plan_at)  # type: ignore[arg-type]
        elif a.plan_kind == PlanKind.next_slots:
            times += next_slots(village, after, a.plan_count)
        else:
            first = local_date(after)
            for n in range(a.plan_count):
                times += [t for t in slot_times(village, first + timedelta(days=n)) if t > after]
        return sorted(set(times))

    def _place(self, s: Session, a: Announcement, villages: list[str], now: datetime) -> int:
        placed = 0
        for village_id in villages:
            for air_at in self._airings(a, village_id, now):
                position = self.schedule.next_position(s, village_id, air_at)
                s.add(new_airing(self.config.villages[village_id], air_at, position, now, a))
                s.flush()
                placed += 1
        return placed

    def _cancel_pending(self, s: Session, a: Announcement, now: datetime, actor: Actor) -> list[BroadcastItem]:
        items = list(
            s.scalars(
                select(BroadcastItem).where(
                    BroadcastItem.announcement_id == a.id, BroadcastItem.state.in_([p.value for p in PENDING])
                )
            )
        )
        for item in items:
            item.state, item.updated_at = ItemState.cancelled, now
            audit(s, now, actor, "item_cancelled", "announcement changed", item_id=item.id, announcement_id=a.id)
        return items
