"""积分: the points ledger. One row per award or redemption, never a mutable total.

Awards are derived from the order history (order_events): a delivered order (完成) earns its
volunteer `per_order` plus `per_hour` × its hours; a 5-star rating earns the volunteer
`five_star_bonus`; rating an order earns the resident `per_rating`. The award pass may run on
every instance at once and as often as it likes: each award is keyed by (source event, rule),
and a duplicate insert does nothing. A volunteer may declare the hours of a delivery once
after 完成; the difference to the measured hours is booked as a correction of that event.
Admins redeem points (积分兑换) for the people of their area; the balance never goes below 0.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.actors import Actor, ActorKind
from core.clock import Clock, system_clock
from core.config import AppConfig, Role
from core.db import Database
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.snapshot import Snapshot
from orders.models import Order, OrderEvent, OrderStatus
from orders.numbers import normalise_order_number
from reports.hours import hour_points, last_accepts, measured_hours
from reports.models import DeclaredHours, HolderKind, PointsEntry, ReportsCursor, Rule
from reports.period import Area, Period

S = OrderStatus
CURSOR = "points"
# PostgreSQL hands out event ids before commit (see bot/notify.py): the pass only reads
# events this old, so its cursor never passes one that is still being written.
SETTLE = timedelta(seconds=3)
MAX_REASON = 200
SYSTEM = Actor.system("points")
_LEDGER = PointsEntry.__table__
_EVENTS = OrderEvent.__table__


@dataclass(frozen=True)
class Holder:
    kind: HolderKind
    id: str

    @classmethod
    def volunteer(cls, member_id: str) -> Holder:
        return cls(HolderKind.volunteer, member_id)

    @classmethod
    def resident(cls, key: str) -> Holder:
        return cls(HolderKind.resident, key)


@dataclass(frozen=True)
class EntryView(Snapshot):
    id: int
    holder_kind: HolderKind
    holder_id: str
    rule: Rule
    points: int
    hours: float | None
    order_id: int | None
    village_id: str | None
    at: datetime
    actor: str
    reason: str


@dataclass(frozen=True)
class Standing:
    """One line of the leaderboard: points earned in the period, and the balance now."""

    holder: Holder
    name: str
    earned: int
    balance: int


@dataclass(frozen=True)
class Redemption:
    entry: EntryView
    balance: int


class PointsLedger:
    def __init__(self, db: Database, config: AppConfig, clock: Clock = system_clock) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.rules = config.points
        self.settle = timedelta() if db.is_sqlite else SETTLE

    # ------------------------------------------------------------ the award pass
    def award_pass(self, batch: int = 500) -> int:
        """Award what the order events since the last pass earned. Returns rows written."""
        written = 0
        while True:
            added, more = self._award_batch(batch)
            written += added
            if not more:
                return written

    def _award_batch(self, batch: int) -> tuple[int, bool]:
        now = self.clock()
        with self.db.engine.begin() as conn:
            after = conn.execute(select(ReportsCursor.value).where(ReportsCursor.name == CURSOR)).scalar() or 0
            rows = conn.execute(
                select(_EVENTS.c.id, _EVENTS.c.order_id, _EVENTS.c.to_status, _EVENTS.c.at)
                .where(_EVENTS.c.id > after)
                .order_by(_EVENTS.c.id)
                .limit(batch)
            ).all()
            # Stop at the first event still settling: the cursor must never pass a gap.
            settled = list(itertools.takewhile(lambda e: e.at <= now - self.settle, rows))
            if not settled:
                return 0, False
            awards = self._awards(conn, [e for e in settled if e.to_status in (S.done, S.rated)], now)
            written = self._insert_once(conn, awards)
            self._advance(conn, settled[-1].id)
        return written, len(settled) == batch

    def _awards(self, conn: Connection, events: list[Any], now: datetime) -> list[dict[str, Any]]:
        if not events:
            return []
        order_ids = {e.order_id for e in events}
        orders = {
            o.id: o
            for o in conn.execute(
                select(Order.id, Order.volunteer_id, Order.resident_key, Order.village_id, Order.rating).where(
                    Order.id.in_(order_ids)
                )
            )
        }
        accepted = last_accepts(conn, {e.order_id for e in events if e.to_status == S.done})
        awards = []
        for e in events:
            order = orders.get(e.order_id)
            if order is None:
                continue
            base = {"source_event_id": e.id, "order_id": e.order_id, "village_id": order.village_id, "at": e.at}
            if e.to_status == S.done and order.volunteer_id:
                holder = Holder.volunteer(order.volunteer_id)
                hours = measured_hours(accepted.get(e.order_id), e.at, self.rules)
                awards.append(self._row(holder, Rule.per_order, self.rules.per_order, now, **base))
                if self.rules.per_hour and hours > 0:
                    points = hour_points(hours, self.rules)
                    awards.append(self._row(holder, Rule.per_hour, points, now, hours=hours, **base))
            elif e.to_status == S.rated and order.rating is not None:
                if order.rating == 5 and order.volunteer_id:
                    volunteer = Holder.volunteer(order.volunteer_id)
                    awards.append(self._row(volunteer, Rule.five_star, self.rules.five_star_bonus, now, **base))
                resident = Holder.resident(order.resident_key)
                awards.append(self._row(resident, Rule.rating, self.rules.per_rating, now, **base))
        return [a for a in awards if a["points"] > 0]

    def _row(self, holder: Holder, rule: Rule, points: int, now: datetime, **fields: Any) -> dict[str, Any]:
        return {
            "holder_kind": holder.kind.value, "holder_id": holder.id, "rule": rule.value, "points": points,
            "hours": None, "recorded_at": now, "actor": SYSTEM.label, "reason": "", **fields,
        }  # fmt: skip

    def _insert_once(self, conn: Connection, rows: list[dict[str, Any]]) -> int:
        """Insert the awards whose (source event, rule) is not booked yet; how many were new."""
        if not rows:
            return 0
        dialect_insert = sqlite_insert if self.db.is_sqlite else postgresql_insert
        stmt = dialect_insert(_LEDGER).values(rows).on_conflict_do_nothing(index_elements=["source_event_id", "rule"])
        return len(conn.execute(stmt.returning(_LEDGER.c.id)).all())

    def _advance(self, conn: Connection, event_id: int) -> None:
        dialect_insert = sqlite_insert if self.db.is_sqlite else postgresql_insert
        conn.execute(
            dialect_insert(ReportsCursor.__table__)
            .values(name=CURSOR, value=0)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        conn.execute(
            update(ReportsCursor.__table__)
            .where(ReportsCursor.name == CURSOR, ReportsCursor.value < event_id)
            .values(value=event_id)
        )

    # ------------------------------------------------------------ declared hours
    def declare_hours(self, ref: str | int, actor: Actor, hours: float) -> EntryView | None:
        """The volunteer who delivered an order states how long it took (once, in half hours).
        Returns the correction booked (None when the points do not change)."""
        rules = self.rules
        if not (0 < hours <= rules.max_declared_hours) or abs(hours * 2 - round(hours * 2)) > 1e-9:
            raise InvalidInput(
                f"时长按半小时算,在 0.5 到 {rules.max_declared_hours:g} 小时之间。", f"bad declared hours {hours!r}"
            )
        now = self.clock()
        try:
            with self.db.engine.begin() as conn:
                order = self._order(conn, ref)
                if actor.kind is not ActorKind.volunteer or actor.id != order.volunteer_id:
                    raise PermissionDenied("只有完成这个单子的志愿者能登记时长。", f"{actor.label} did not deliver it")
                done = conn.execute(
                    select(_EVENTS.c.id, _EVENTS.c.at)
                    .where(_EVENTS.c.order_id == order.id, _EVENTS.c.to_status == S.done.value)
                    .order_by(_EVENTS.c.id.desc())
                    .limit(1)
                ).first()
                if done is None or order.status not in (S.done, S.rated):
                    raise InvalidInput("这个单子还没完成,完成以后再登记时长。", f"order {order.number} not done")
                if now - done.at > timedelta(days=rules.declare_within_days):
                    raise InvalidInput(
                        f"完成超过 {rules.declare_within_days} 天了,不能再登记时长。", "declaration too late"
                    )
                conn.execute(
                    insert(DeclaredHours.__table__).values(
                        order_id=order.id, volunteer_id=actor.id, hours=hours, declared_at=now
                    )
                )
                accepted = last_accepts(conn, {order.id}).get(order.id)
                measured = measured_hours(accepted, done.at, rules)
                change = hour_points(hours, rules) - hour_points(measured, rules) if rules.per_hour else 0
                if change == 0:
                    return None
                row = self._row(
                    Holder.volunteer(actor.id), Rule.hours_declared, change, now, hours=hours,
                    source_event_id=done.id, order_id=order.id, village_id=order.village_id, at=done.at,
                    reason=f"declared {hours:g} h, measured {measured:g} h",
                )  # fmt: skip
                entry = conn.execute(insert(_LEDGER).values(**row).returning(*_LEDGER.c)).one()
                return EntryView.of(entry)
        except IntegrityError:
            raise InvalidInput("这个单子的时长已经登记过了。", f"hours of order {ref!r} already declared") from None

    def _order(self, conn: Connection, ref: str | int) -> Any:
        column, value = (Order.id, ref) if isinstance(ref, int) else (Order.number, normalise_order_number(ref))
        order = conn.execute(select(Order).where(column == value)).first() if value else None
        if order is None:
            raise NotFound("没有找到这个单子,请核对单号。", f"no order {ref!r}")
        return order

    # ------------------------------------------------------------ reading
    def balance(self, holder: Holder) -> int:
        with self.db.engine.connect() as conn:
            return self._balance(conn, holder)

    def _balance(self, conn: Connection, holder: Holder) -> int:
        total = conn.execute(
            select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
                PointsEntry.holder_kind == holder.kind.value, PointsEntry.holder_id == holder.id
            )
        ).scalar()
        return int(total or 0)

    def history(self, holder: Holder, actor: Actor, limit: int = 200) -> list[EntryView]:
        """A person's ledger, newest first: the person themself or an admin of their area."""
        if not self.may_see(actor, holder):
            raise PermissionDenied("您看不了这个人的积分。", f"{actor.label} may not read {holder}")
        with self.db.session() as s:
            rows = s.scalars(
                select(PointsEntry)
                .where(PointsEntry.holder_kind == holder.kind.value, PointsEntry.holder_id == holder.id)
                .order_by(PointsEntry.id.desc())
                .limit(max(1, min(limit, 1000)))
            )
            return [EntryView.of(r) for r in rows]

    def standings(self, area: Area, period: Period, limit: int = 50) -> list[Standing]:
        """Volunteers by points earned in the period for work in the area (the leaderboard)."""
        since, until = period.bounds()
        with self.db.engine.connect() as conn:
            earned = earned_points(conn, since, until, area.villages)
            balances = dict(
                conn.execute(
                    select(PointsEntry.holder_id, func.sum(PointsEntry.points))
                    .where(
                        PointsEntry.holder_kind == HolderKind.volunteer.value,
                        PointsEntry.holder_id.in_(list(earned)),
                    )
                    .group_by(PointsEntry.holder_id)
                ).all()
            )
        names = {m.id: m.name for _, m in self.config.members()}
        rows = [Standing(Holder.volunteer(k), names.get(k, k), v, int(balances.get(k, 0))) for k, v in earned.items()]
        return sorted(rows, key=lambda r: (-r.earned, r.holder.id))[:limit]

    # ------------------------------------------------------------ 积分兑换
    def redeem(self, holder: Holder, points: int, actor: Actor, reason: str) -> Redemption:
        reason = re.sub(r"\s+", " ", reason or "").strip()
        if not isinstance(points, int) or not 1 <= points <= self.rules.max_redeem:
            raise InvalidInput(f"兑换的积分要在 1 到 {self.rules.max_redeem} 之间。", f"bad points {points!r}")
        if not reason:
            raise InvalidInput("请写上兑换了什么(例如:毛巾一条)。", "reason required")
        if len(reason) > MAX_REASON:
            raise InvalidInput(f"说明太长了,请少于 {MAX_REASON} 个字。", "reason too long")
        if not self.may_manage(actor, holder):
            raise PermissionDenied("只有管这个人所在地方的管理员能兑换积分。", f"{actor.label} may not redeem")
        now = self.clock()
        with self.db.engine.begin() as conn:
            if not self.db.is_sqlite:
                # Two admins redeeming at once must not both spend the same balance. (SQLite
                # takes the write lock at BEGIN: transactions there are one at a time already.)
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"points:{holder.id}"})
            balance = self._balance(conn, holder)
            if points > balance:
                raise InvalidInput(f"积分不够:现在只有 {balance} 分。", f"balance {balance} < {points}")
            row = self._row(holder, Rule.redeem, -points, now, at=now, actor=actor.label, reason=reason)
            entry = conn.execute(insert(_LEDGER).values(**row).returning(*_LEDGER.c)).one()
        return Redemption(EntryView.of(entry), balance - points)

    # ------------------------------------------------------------ who may
    def may_manage(self, actor: Actor, holder: Holder) -> bool:
        """Admins whose areas contain the whole area of one of the volunteer's teams, or, for
        a resident, a village the resident has ordered in."""
        staff = self.config.staff_by_id.get(actor.id) if actor.kind is ActorKind.staff else None
        if actor.kind is ActorKind.system:
            return True
        if staff is None or Role.admin not in staff.roles:
            return False
        mine = self.config.staff_villages(staff)
        if holder.kind is HolderKind.volunteer:
            return any(
                set(self.config.villages_in(team.area)) <= mine
                for team, member in self.config.members()
                if member.id == holder.id
            )
        with self.db.engine.connect() as conn:
            villages = conn.execute(
                select(Order.village_id).where(Order.resident_key == holder.id).distinct()
            ).scalars()
            return any(v in mine for v in villages)

    def may_see(self, actor: Actor, holder: Holder) -> bool:
        own = actor.kind.value == holder.kind.value and actor.id == holder.id
        return own or self.may_manage(actor, holder)


def earned_points(
    conn: Connection | Session, since: datetime, until: datetime, villages: tuple[str, ...] | list[str]
) -> dict[str, int]:
    """Points volunteers earned in [since, until) for work in these villages, by member id."""
    rows = conn.execute(
        select(PointsEntry.holder_id, func.sum(PointsEntry.points))
        .where(
            PointsEntry.holder_kind == HolderKind.volunteer.value, PointsEntry.village_id.in_(list(villages)),
            PointsEntry.at >= since, PointsEntry.at < until, PointsEntry.rule != Rule.redeem.value,
        )
        .group_by(PointsEntry.holder_id)
    ).all()  # fmt: skip
    return {holder: int(total) for holder, total in rows if total}
