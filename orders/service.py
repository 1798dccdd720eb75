"""The 四单 workflow: 点单 (create), 配单 (dispatch/escalate/reassign), 接单 (accept),
完成 (complete, grouped into activities), 评单 (rate), and cancel.

Every state change is one transaction that updates the order with a compare-and-set on its
version and appends a history row; an illegal transition raises and changes nothing.
Front ends learn about changes by reading the history (order_events) as an outbox.

The writes are SQLAlchemy Core statements built once at import, run on a plain connection:
an order changes only through the compare-and-set, so the ORM's identity map and unit of
work bought nothing here but time (see benchmarks/orders_lifecycle.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Row, Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from core.actors import Actor, ActorKind, staff_covers
from core.clock import Clock, system_clock
from core.config import AppConfig, Role, Tier
from core.db import Database
from orders.errors import AlreadyTaken, IllegalTransition, InvalidOrder, NotFound, PermissionDenied
from orders.matching import find_team
from orders.models import Activity, Order, OrderEvent, OrderStatus
from orders.numbers import new_order_number, normalise_order_number
from orders.views import EventView, OrderView

S = OrderStatus

# from-state → the states it may move to (DESIGN.md's lifecycle; reassign re-enters dispatched).
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.submitted: frozenset({S.dispatched, S.cancelled}),
    S.dispatched: frozenset({S.dispatched, S.accepted, S.expired, S.cancelled}),
    S.accepted: frozenset({S.dispatched, S.done, S.cancelled}),
    S.done: frozenset({S.rated}),
    S.expired: frozenset({S.dispatched, S.cancelled}),
    S.rated: frozenset(),
    S.cancelled: frozenset(),
}

# Prepared once: SQLAlchemy caches their compiled SQL, so a call only binds values.
_ORDERS = cast(Table, Order.__table__)
_EVENTS = cast(Table, OrderEvent.__table__)
_ACTIVITIES = cast(Table, Activity.__table__)
_BY_ID = select(_ORDERS).where(_ORDERS.c.id == bindparam("ref"))
_BY_NUMBER = select(_ORDERS).where(_ORDERS.c.number == bindparam("ref"))
_BY_REQUEST_KEY = select(_ORDERS).where(_ORDERS.c.request_key == bindparam("key"))
_NUMBER_TAKEN = select(_ORDERS.c.id).where(_ORDERS.c.number == bindparam("number"))
_INSERT_ORDER = insert(_ORDERS).returning(*_ORDERS.c)
_INSERT_EVENT = insert(_EVENTS)
_EVENTS_OF = select(_EVENTS).where(_EVENTS.c.order_id == bindparam("id")).order_by(_EVENTS.c.id)
# The compare-and-set on (id, version); the SET columns are the other keys of the parameters.
_CAS = (
    update(_ORDERS)
    .where(_ORDERS.c.id == bindparam("cas_id"), _ORDERS.c.version == bindparam("cas_version"))
    .returning(*_ORDERS.c)
)
_WINNER = select(_ORDERS.c.status, _ORDERS.c.volunteer_id).where(_ORDERS.c.id == bindparam("id"))
_DUE = select(_ORDERS.c.id).where(_ORDERS.c.status == S.dispatched.value, _ORDERS.c.accept_deadline <= bindparam("now"))
_FIND_ACTIVITY = (
    select(_ACTIVITIES.c.id)
    .where(
        _ACTIVITIES.c.service_id == bindparam("service_id"),
        _ACTIVITIES.c.village_id == bindparam("village_id"),
        _ACTIVITIES.c.team_id == bindparam("team_id"),
        _ACTIVITIES.c.window_start < bindparam("window_end"),
        _ACTIVITIES.c.window_end > bindparam("window_start"),
    )
    .order_by(_ACTIVITIES.c.id)
    .limit(1)
)
_NEW_ACTIVITY = insert(_ACTIVITIES).returning(_ACTIVITIES.c.id)
# An increment in SQL, not read-modify-write: concurrent completions cannot lose people.
_ADD_SERVED = (
    update(_ACTIVITIES)
    .where(_ACTIVITIES.c.id == bindparam("activity_id"))
    .values(people_served=_ACTIVITIES.c.people_served + bindparam("served"))
)

OrderRow = Row[Any]  # one row of `orders`: the same attribute names as Order


def _view(row: OrderRow) -> OrderView:
    # OrderView.of only reads column attributes, which a Row has under the same names.
    return OrderView.of(cast(Order, row))


PHONE_RE = re.compile(r"^1\d{10}$|^0\d{9,11}$")
MAX_NOTE = 500


@dataclass(frozen=True)
class OrderRequest:
    """点单 input, already understood by a front end (NLU, buttons, CLI)."""

    resident_key: str
    service_id: str
    village_id: str
    window_start: datetime
    window_end: datetime
    people_count: int = 1
    note: str | None = None
    contact_phone: str | None = None
    resident_name: str | None = None
    request_key: str | None = None  # idempotency key from the client (e.g. Telegram update id)


class OrderService:
    def __init__(self, db: Database, config: AppConfig, clock: Clock = system_clock) -> None:
        self.db = db
        self.config = config
        self.clock = clock

    # ------------------------------------------------------------------ 点单
    def create(self, request: OrderRequest, actor: Actor) -> OrderView:
        """Create and dispatch an order. The same request_key always returns the first order."""
        self._check_request(request, actor)
        try:
            with self.db.engine.begin() as conn:
                if request.request_key:
                    existing = conn.execute(_BY_REQUEST_KEY, {"key": request.request_key}).first()
                    if existing is not None:
                        return _view(existing)
                now = self.clock()
                values: dict[str, Any] = {
                    "number": self._fresh_number(conn),
                    "request_key": request.request_key,
                    "resident_key": request.resident_key,
                    "resident_name": request.resident_name,
                    "contact_phone": request.contact_phone,
                    "service_id": request.service_id,
                    "village_id": request.village_id,
                    "window_start": request.window_start,
                    "window_end": request.window_end,
                    "people_count": request.people_count,
                    "note": request.note or None,
                    "status": S.submitted.value,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                second = self._auto_dispatch(values, now)
                order = conn.execute(_INSERT_ORDER, values).one()
                conn.execute(
                    _INSERT_EVENT,
                    [
                        self._event(order.id, actor, None, S.submitted, "order placed", now),
                        self._event(order.id, Actor.system("dispatcher"), *second, now),
                    ],
                )
                return _view(order)
        except IntegrityError:
            # A concurrent request with the same key won the insert: return its order.
            if request.request_key:
                existing_view = self._by_request_key(request.request_key)
                if existing_view is not None:
                    return existing_view
            raise

    def _check_request(self, r: OrderRequest, actor: Actor) -> None:
        if actor.kind is ActorKind.resident and actor.id != r.resident_key:
            raise PermissionDenied("只能为自己点单。", f"{actor.label} ordered for another resident")
        if actor.kind not in (ActorKind.resident, ActorKind.staff, ActorKind.system):
            raise PermissionDenied("志愿者账号不能点单。", f"{actor.label} cannot place orders")
        if r.village_id not in self.config.villages:
            raise InvalidOrder("没有找到这个村。", f"unknown village {r.village_id!r}")
        if r.service_id not in {s.id for s in self.config.services_for_village(r.village_id)}:
            raise InvalidOrder("这个服务不在本村的服务菜单里。", f"service {r.service_id!r} not on the menu")
        if r.window_start.tzinfo is None or r.window_end.tzinfo is None:
            raise InvalidOrder("时间不对。", "time window must be timezone-aware")
        if r.window_end <= r.window_start:
            raise InvalidOrder("结束时间要晚于开始时间。", "window_end must be after window_start")
        if r.window_end <= self.clock():
            raise InvalidOrder("这个时间已经过去了,请换个时间。", "time window is in the past")
        if not 1 <= r.people_count <= self.config.orders.max_people:
            raise InvalidOrder(
                f"人数要在 1 到 {self.config.orders.max_people} 之间。", f"people_count {r.people_count}"
            )
        if r.note and len(r.note) > MAX_NOTE:
            raise InvalidOrder(f"备注太长了,请少于 {MAX_NOTE} 个字。", "note too long")
        if r.contact_phone and not PHONE_RE.match(r.contact_phone):
            raise InvalidOrder("电话号码不对,请写 11 位手机号。", "invalid contact phone")
        if self.config.villages[r.village_id].require_phone and not r.contact_phone:
            raise InvalidOrder("本村点单需要留一个联系电话。", "contact phone required by this village")
        if r.request_key is not None and not 1 <= len(r.request_key) <= 128:
            raise InvalidOrder("请求编号不对。", "request_key must be 1..128 characters")

    def _fresh_number(self, conn: Connection) -> str:
        while True:
            number = new_order_number()
            if conn.execute(_NUMBER_TAKEN, {"number": number}).first() is None:
                return number

    def _by_request_key(self, key: str) -> OrderView | None:
        with self.db.engine.begin() as conn:
            order = conn.execute(_BY_REQUEST_KEY, {"key": key}).first()
            return _view(order) if order else None

    # ------------------------------------------------------------------ 配单
    def _auto_dispatch(self, values: dict[str, Any], now: datetime) -> tuple[OrderStatus, OrderStatus, str]:
        """Match a new order to a team. The order is inserted in its final state (dispatched at
        version 2, as a move would leave it, or submitted and flagged); returns the dispatcher's
        history entry (from, to, reason) that follows "order placed"."""
        match = find_team(self.config, values["service_id"], values["village_id"])
        if match.team is None:
            values["flagged"] = match.reason
            return S.submitted, S.submitted, f"flagged: {match.reason}"
        values.update(
            status=S.dispatched.value, version=2, team_id=match.team.id,
            tier=match.tier.value if match.tier else None, accept_deadline=self._deadline(now),
            volunteer_id=None, flagged=None,
        )  # fmt: skip
        return S.submitted, S.dispatched, match.reason

    def _deadline(self, now: datetime) -> datetime:
        return now + timedelta(minutes=self.config.orders.accept_deadline_minutes)

    def reassign(self, ref: str | int, team_id: str, actor: Actor, reason: str = "") -> OrderView:
        """An admin sends the order to another team by hand."""
        team = self.config.teams_by_id.get(team_id)
        if team is None:
            raise InvalidOrder("没有这个服务队。", f"unknown team {team_id!r}")
        with self.db.engine.begin() as conn:
            order = self._load(conn, ref)
            if not staff_covers(self.config, actor, order.village_id, Role.admin):
                raise PermissionDenied("只有管理这个村的管理员才能改派。", f"{actor.label} may not reassign")
            if order.service_id not in team.services:
                raise InvalidOrder(f"{team.name}不提供这项服务。", f"team {team_id} does not offer {order.service_id}")
            if self.config.area_of(order.village_id, team.tier) != team.area:
                raise InvalidOrder(f"{team.name}不负责这个村。", f"team {team_id} does not cover {order.village_id}")
            now = self.clock()
            why = f"reassigned by admin to {team_id}" + (f": {reason}" if reason else "")
            moved = self._move(
                conn, order, S.dispatched, actor, why, now,
                team_id=team.id, tier=team.tier.value, volunteer_id=None,
                accept_deadline=self._deadline(now), flagged=None,
            )  # fmt: skip
            return _view(moved)

    def expire_overdue(self) -> list[OrderView]:
        """Deadline sweep: escalate unaccepted orders a tier up, or flag them as expired."""
        now = self.clock()
        with self.db.engine.begin() as conn:
            ids = conn.execute(_DUE, {"now": now}).scalars().all()
        changed = []
        for order_id in ids:
            try:
                changed.append(self._expire_one(order_id, now))
            except IllegalTransition:
                continue  # accepted or cancelled meanwhile: nothing to do
        return changed

    def _expire_one(self, order_id: int, now: datetime) -> OrderView:
        system = Actor.system("deadline")
        with self.db.engine.begin() as conn:
            order = self._load(conn, order_id)
            if order.status != S.dispatched or order.accept_deadline is None or order.accept_deadline > now:
                raise IllegalTransition("订单状态已变。", "order changed before expiry")
            current = Tier(order.tier) if order.tier else None
            minutes = self.config.orders.accept_deadline_minutes
            match = find_team(self.config, order.service_id, order.village_id, above=current)
            if self.config.orders.escalate_on_deadline and match.team is not None:
                why = f"not accepted within {minutes} min at {order.tier}; escalated: {match.reason}"
                moved = self._move(
                    conn, order, S.dispatched, system, why, now,
                    team_id=match.team.id, tier=match.tier.value if match.tier else None,
                    accept_deadline=self._deadline(now),
                )  # fmt: skip
            else:
                why = f"not accepted within {minutes} min at {order.tier}; no higher tier: flagged to admins"
                moved = self._move(conn, order, S.expired, system, why, now, flagged=why)
            return _view(moved)

    # ------------------------------------------------------------------ 接单
    def accept(self, ref: str | int, actor: Actor) -> OrderView:
        with self.db.engine.begin() as conn:
            order = self._load(conn, ref)
            if order.status == S.accepted:
                raise AlreadyTaken(
                    "这个单子已经有人接了。", f"order {order.number} already accepted", order.volunteer_id
                )
            self._check_transition(order, S.accepted)
            team = self.config.teams_by_id.get(order.team_id or "")
            members = {m.id for m in team.members} if team else set()
            if actor.kind is not ActorKind.volunteer or actor.id not in members:
                raise PermissionDenied(
                    "这个单子派给了别的服务队,您不能接。", f"{actor.label} not in team {order.team_id}"
                )
            moved = self._move(
                conn, order, S.accepted, actor, f"accepted by {actor.id}", self.clock(), volunteer_id=actor.id
            )
            return _view(moved)

    # ------------------------------------------------------------------ 完成
    def complete(self, ref: str | int, actor: Actor, people_served: int) -> OrderView:
        """Record delivery. Orders of the same service, village, team and overlapping window
        join one activity (the reports count orders and activities separately)."""
        if not 0 <= people_served <= self.config.orders.max_people:
            raise InvalidOrder(f"服务人数要在 0 到 {self.config.orders.max_people} 之间。", "bad people_served")
        with self.db.engine.begin() as conn:
            order = self._load(conn, ref)
            is_taker = actor.kind is ActorKind.volunteer and actor.id == order.volunteer_id
            if not (is_taker or staff_covers(self.config, actor, order.village_id, Role.admin)):
                raise PermissionDenied("只有接单的志愿者才能登记完成。", f"{actor.label} did not accept this order")
            now = self.clock()
            self._check_transition(order, S.done)
            activity_id = self._activity_for(conn, order, people_served, now)
            moved = self._move(
                conn, order, S.done, actor, f"done, {people_served} served, activity {activity_id}", now,
                people_served=people_served, activity_id=activity_id,
            )  # fmt: skip
            return _view(moved)

    def _activity_for(self, conn: Connection, order: OrderRow, people_served: int, now: datetime) -> int:
        """The activity this order joins (created if none), with its people served added."""
        activity_id: int | None = conn.execute(
            _FIND_ACTIVITY,
            {
                "service_id": order.service_id, "village_id": order.village_id, "team_id": order.team_id,
                "window_start": order.window_start, "window_end": order.window_end,
            },
        ).scalar()  # fmt: skip
        if activity_id is not None:
            conn.execute(_ADD_SERVED, {"activity_id": activity_id, "served": people_served})
            return activity_id
        return int(
            conn.execute(
                _NEW_ACTIVITY,
                {
                    "service_id": order.service_id, "village_id": order.village_id,
                    "team_id": order.team_id or "", "volunteer_id": order.volunteer_id or "",
                    "window_start": order.window_start, "window_end": order.window_end,
                    "people_served": people_served, "done_at": now,
                },
            ).scalar_one()
        )  # fmt: skip

    # ------------------------------------------------------------------ 评单
    def rate(self, ref: str | int, actor: Actor, rating: int, comment: str | None = None) -> OrderView:
        if not isinstance(rating, int) or not 1 <= rating <= 5:
            raise InvalidOrder("评分要在 1 到 5 颗星之间。", f"rating {rating!r} out of 1..5")
        if comment and len(comment) > MAX_NOTE:
            raise InvalidOrder(f"评价太长了,请少于 {MAX_NOTE} 个字。", "comment too long")
        with self.db.engine.begin() as conn:
            order = self._load(conn, ref)
            self._require_owner(order, actor, "只有点单的居民才能评价。")
            moved = self._move(
                conn, order, S.rated, actor, f"rated {rating}", self.clock(),
                rating=rating, rating_comment=comment or None,
            )  # fmt: skip
            return _view(moved)

    # ------------------------------------------------------------------ 撤单
    def cancel(self, ref: str | int, actor: Actor, reason: str = "") -> OrderView:
        with self.db.engine.begin() as conn:
            order = self._load(conn, ref)
            if not staff_covers(self.config, actor, order.village_id, Role.admin):
                self._require_owner(order, actor, "只能撤销自己点的单。")
            why = "cancelled" + (f": {reason}" if reason else "")
            return _view(self._move(conn, order, S.cancelled, actor, why, self.clock()))

    # ------------------------------------------------------------------ reading
    def get(self, ref: str | int, actor: Actor) -> OrderView:
        """One order with its history, if the actor may see it."""
        with self.db.engine.begin() as conn:
            order = self._load(conn, ref)
            if not self.may_see(order, actor):
                raise NotFound("没有找到这个单子。", f"{actor.label} may not see order {order.number}")
            events = conn.execute(_EVENTS_OF, {"id": order.id}).all()
        return replace(_view(order), events=tuple(EventView.of(cast(OrderEvent, e)) for e in events))

    def may_see(self, order: Order | OrderView | OrderRow, actor: Actor) -> bool:
        if actor.kind is ActorKind.system:
            return True
        if actor.kind is ActorKind.resident:
            return bool(order.resident_key == actor.id)
        if actor.kind is ActorKind.volunteer:
            team = self.config.teams_by_id.get(order.team_id or "")
            return team is not None and actor.id in {m.id for m in team.members}
        return any(staff_covers(self.config, actor, order.village_id, r) for r in Role)

    # ------------------------------------------------------------------ internals
    def _load(self, conn: Connection, ref: str | int) -> OrderRow:
        if isinstance(ref, int):
            order = conn.execute(_BY_ID, {"ref": ref}).first()
        else:
            number = normalise_order_number(ref)
            order = conn.execute(_BY_NUMBER, {"ref": number}).first() if number else None
        if order is None:
            raise NotFound("没有找到这个单子,请核对单号。", f"no order {ref!r}")
        return order

    def _require_owner(self, order: OrderRow, actor: Actor, message_zh: str) -> None:
        if actor.kind is not ActorKind.resident or actor.id != order.resident_key:
            raise PermissionDenied(message_zh, f"{actor.label} is not the resident of {order.number}")

    def _check_transition(self, order: OrderRow, to: OrderStatus) -> None:
        current = OrderStatus(order.status)
        if to not in TRANSITIONS[current]:
            raise IllegalTransition(
                f"这个单子现在是“{current.label}”,不能改成“{to.label}”。",
                f"illegal transition {current.value} -> {to.value} for order {order.number}",
            )

    def _move(
        self, conn: Connection, order: OrderRow, to: OrderStatus, actor: Actor, reason: str, now: datetime,
        **fields: Any,
    ) -> OrderRow:  # fmt: skip
        """Compare-and-set on (id, version): if anyone changed the order since we read it,
        nothing is written and the caller sees who won. Returns the order as written."""
        self._check_transition(order, to)
        values = {"status": to.value, "updated_at": now, "version": order.version + 1, **fields}
        moved = conn.execute(_CAS, {**values, "cas_id": order.id, "cas_version": order.version}).first()
        if moved is None:
            # Someone committed first. Under READ COMMITTED a new statement sees their row;
            # the caller's transaction is rolled back when this propagates.
            status, taker = conn.execute(_WINNER, {"id": order.id}).one()
            if status == S.accepted:
                raise AlreadyTaken("这个单子已经有人接了。", f"order {order.number} taken concurrently", taker)
            raise IllegalTransition(
                "这个单子刚刚被别人改过,请刷新后再试。", f"order {order.number} changed concurrently"
            )
        conn.execute(_INSERT_EVENT, self._event(order.id, actor, OrderStatus(order.status), to, reason, now))
        return moved

    @staticmethod
    def _event(
        order_id: int, actor: Actor, before: OrderStatus | None, to: OrderStatus, reason: str, now: datetime
    ) -> dict[str, Any]:
        # A plain insert: the history is append-only, so the unit of work's bookkeeping buys nothing.
        return {
            "order_id": order_id, "at": now, "actor": actor.label,
            "from_status": before.value if before else None, "to_status": to.value, "reason": reason,
        }  # fmt: skip
