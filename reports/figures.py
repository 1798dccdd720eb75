"""The one query layer for figures: any area (county, township, village) and any period.

Definitions (the bulletin, the console, the bot and the exports all read these):
- placed (点单): orders created in the period; `by_status` is their status now.
- fulfilled (完成): orders whose 完成 (done) happened in the period, rated later or not;
  their people served, and their activities counted once however many orders one served.
- time to accept: from 点单 to the first 接单 in the period; time to done: 点单 → 完成.
  Median and p90 (nearest rank) in hours.
- expired: orders that timed out (no tier left) in the period; unmatched: placed in the period
  and never matched to any team (still waiting, flagged to admins).
- satisfaction: ratings given in the period: mean stars, share of 4–5 stars, comments.
- hours: per delivery done in the period (`reports.hours`); points: awards earned in the
  period for work in the area (the ledger).
- broadcasts: airings due in the period in the area's villages (cancelled ones left out);
  voiced = has an MP3, backup voice = voiced by the offline engine; announcements approved in
  the period that reach one of the area's villages.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, case, func, select, true

from broadcasts.models import Announcement, BroadcastAudit, BroadcastItem, ItemState
from core.config import AppConfig, PointsSettings
from core.db import Database
from orders.models import Order, OrderEvent, OrderStatus
from orders.numbers import display_order_number
from reports.hours import LONG_AGO, delivery_hours, last_accepts
from reports.models import DeclaredHours
from reports.period import Area, Period
from reports.points import earned_points

S = OrderStatus


@dataclass(frozen=True)
class Durations:
    count: int
    median_hours: float | None
    p90_hours: float | None

    @classmethod
    def of(cls, hours: Iterable[float]) -> Durations:
        values = sorted(hours)
        if not values:
            return cls(0, None, None)
        middle = len(values) // 2
        median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
        p90 = values[max(math.ceil(0.9 * len(values)) - 1, 0)]
        return cls(len(values), round(median, 2), round(p90, 2))


@dataclass(frozen=True)
class Satisfaction:
    ratings: int
    average: float | None  # mean stars
    good_share: float | None  # share of 4–5 stars, 0..1

    @classmethod
    def of(cls, stars: list[int]) -> Satisfaction:
        if not stars:
            return cls(0, None, None)
        return cls(len(stars), round(sum(stars) / len(stars), 2), round(sum(s >= 4 for s in stars) / len(stars), 4))


@dataclass(frozen=True)
class GroupFigures:
    """One row per service, village or team."""

    key: str
    name: str
    placed: int
    fulfilled: int
    activities: int
    people_served: int
    satisfaction: Satisfaction


@dataclass(frozen=True)
class VolunteerFigures:
    member_id: str
    name: str
    team: str  # team names, joined
    accepted: int
    fulfilled: int
    hours: float
    points: int
    satisfaction: Satisfaction


@dataclass(frozen=True)
class Comment:
    order_number: str  # as shown: 123-456
    village_id: str
    service_id: str
    team_id: str | None
    rating: int
    text: str | None
    at: datetime


@dataclass(frozen=True)
class AttentionOrder:
    order_number: str
    village_id: str
    service_id: str
    status: OrderStatus
    why: str


@dataclass(frozen=True)
class BroadcastFigures:
    planned: int  # airings due in the period, cancelled ones left out
    aired: int
    missed: int
    failed: int
    ready_unconfirmed: int  # voiced and due, not marked aired
    pending: int  # not yet voiced (scheduled or generating)
    voiced: int
    backup_voice: int
    backup_share: float | None  # of the voiced ones
    announcements_approved: int


@dataclass(frozen=True)
class MonthCount:
    month: str  # 2026-11
    placed: int
    fulfilled: int


@dataclass(frozen=True)
class Figures:
    area: Area
    period: Period
    placed: int
    by_status: dict[str, int]  # status value → orders placed in the period
    fulfilled: int
    activities: int
    people_served: int
    time_to_accept: Durations
    time_to_done: Durations
    expired: int
    unmatched: int
    hours: float
    points_awarded: int
    satisfaction: Satisfaction
    services: list[GroupFigures]
    villages: list[GroupFigures]
    teams: list[GroupFigures]
    volunteers: list[VolunteerFigures]
    comments: list[Comment]
    attention: list[AttentionOrder]
    broadcasts: BroadcastFigures
    trend: list[MonthCount] = field(default_factory=list)

    def headline(self) -> dict[str, Any]:
        """The figures a bulletin leads with (also kept in the archive row)."""
        return {
            "placed": self.placed,
            "fulfilled": self.fulfilled,
            "activities": self.activities,
            "people_served": self.people_served,
            "ratings": self.satisfaction.ratings,
            "average_rating": self.satisfaction.average,
            "good_share": self.satisfaction.good_share,
            "expired": self.expired,
            "unmatched": self.unmatched,
            "hours": self.hours,
            "points_awarded": self.points_awarded,
            "broadcasts_aired": self.broadcasts.aired,
            "announcements_approved": self.broadcasts.announcements_approved,
        }


class _Tally:
    """Counters for one group while the rows are read."""

    def __init__(self) -> None:
        self.placed = 0
        self.fulfilled = 0
        self.activities: set[int] = set()
        self.people = 0
        self.stars: list[int] = []
        self.accepted = 0
        self.hours = 0.0

    def done(self, people: int | None, activity_id: int | None) -> None:
        self.fulfilled += 1
        self.people += people or 0
        if activity_id is not None:
            self.activities.add(activity_id)

    def row(self, key: str, name: str) -> GroupFigures:
        return GroupFigures(
            key, name, self.placed, self.fulfilled, len(self.activities), self.people, Satisfaction.of(self.stars)
        )


class _Book:
    """Everything counted while the period's orders and events are read, row by row."""

    def __init__(self, rules: PointsSettings) -> None:
        self.rules = rules
        self.total = _Tally()
        self.services: dict[str, _Tally] = defaultdict(_Tally)
        self.villages: dict[str, _Tally] = defaultdict(_Tally)
        self.teams: dict[str, _Tally] = defaultdict(_Tally)
        self.people: dict[str, _Tally] = defaultdict(_Tally)
        self.by_status: dict[str, int] = defaultdict(int)
        self.attention: list[AttentionOrder] = []
        self.comments: list[Comment] = []
        self.to_accept: list[float] = []
        self.to_done: list[float] = []
        self.accepted: set[int] = set()
        self.expired: set[int] = set()
        self.unmatched = 0

    def placed(self, o: Row[Any]) -> None:
        self.by_status[o.status] += 1
        for tally in (self.total, self.services[o.service_id], self.villages[o.village_id]):
            tally.placed += 1
        if o.team_id:
            self.teams[o.team_id].placed += 1
        if o.status == S.submitted and o.flagged:
            self.unmatched += 1
            self.attention.append(AttentionOrder(_number(o), o.village_id, o.service_id, S.submitted, o.flagged))

    def _groups(self, e: Row[Any]) -> list[_Tally]:
        """The total, the service, village and team of the order, and who delivered it."""
        groups = [self.total, self.services[e.service_id], self.villages[e.village_id]]
        if e.team_id:
            groups.append(self.teams[e.team_id])
        if e.volunteer_id:
            groups.append(self.people[e.volunteer_id])
        return groups

    def event(self, e: Row[Any], accepted_at: datetime) -> None:
        if e.to_status == S.accepted and e.order_id not in self.accepted:
            self.accepted.add(e.order_id)
            self.to_accept.append(e.since_placed)
            kind, _, taker = e.actor.partition(":")
            if kind == "volunteer":
                self.people[taker].accepted += 1
        elif e.to_status == S.done:
            hours = delivery_hours(accepted_at, e.at, e.declared, self.rules)
            self.to_done.append(e.since_placed)
            for tally in self._groups(e):
                tally.done(e.people_served, e.activity_id)
                tally.hours += hours
        elif e.to_status == S.rated and e.rating is not None:
            for tally in self._groups(e):
                tally.stars.append(e.rating)
            self.comments.append(
                Comment(_number(e), e.village_id, e.service_id, e.team_id, e.rating, e.rating_comment, e.at)
            )
        elif e.to_status == S.expired and e.order_id not in self.expired:
            self.expired.add(e.order_id)
            if e.status == S.expired:  # still waiting for an admin
                self.attention.append(AttentionOrder(_number(e), e.village_id, e.service_id, S.expired, "超时没人接"))


_PLACED_COLUMNS = (Order.number, Order.service_id, Order.village_id, Order.team_id, Order.status, Order.flagged)
_EVENT_COLUMNS = (
    OrderEvent.order_id, OrderEvent.to_status, OrderEvent.at, OrderEvent.actor, Order.number,
    Order.service_id, Order.village_id, Order.team_id, Order.volunteer_id, Order.people_served, Order.activity_id,
    Order.rating, Order.rating_comment, Order.status,
)  # fmt: skip
_COUNTED = [S.accepted.value, S.done.value, S.rated.value, S.expired.value]
_DECLARED = DeclaredHours.hours.label("declared")


class ReportQueries:
    """Read-only over the orders, broadcasts and ledger tables."""

    def __init__(self, db: Database, config: AppConfig) -> None:
        self.db = db
        self.config = config

    def figures(self, area: Area, period: Period, *, trend_months: int = 12) -> Figures:
        since, until = period.bounds()
        villages = list(area.villages)
        in_area = self._within(Order.village_id, villages)
        book = _Book(self.config.points)
        with self.db.engine.connect() as s:
            for row in s.execute(
                select(*_PLACED_COLUMNS).where(in_area, Order.created_at >= since, Order.created_at < until)
            ):
                book.placed(row)
            accepts = self._accepts(s, since, until, in_area)
            for row in s.execute(
                select(*_EVENT_COLUMNS, _DECLARED, self._hours_between(Order.created_at, OrderEvent.at))
                .join(Order, Order.id == OrderEvent.order_id)
                .outerjoin(DeclaredHours, DeclaredHours.order_id == OrderEvent.order_id)
                .where(in_area, OrderEvent.to_status.in_(_COUNTED), OrderEvent.at >= since, OrderEvent.at < until)
                .order_by(OrderEvent.id)
            ):
                book.event(row, accepts.get(row.order_id, LONG_AGO))
            points = earned_points(s, since, until, villages)
            broadcasts = self._broadcasts(s, since, until, area)
            trend = self._trend(s, period, trend_months, villages) if trend_months else []
        total = book.total
        return Figures(
            area=area, period=period, placed=total.placed, by_status=dict(book.by_status),
            fulfilled=total.fulfilled, activities=len(total.activities), people_served=total.people,
            time_to_accept=Durations.of(book.to_accept), time_to_done=Durations.of(book.to_done),
            expired=len(book.expired), unmatched=book.unmatched, hours=round(total.hours, 2),
            points_awarded=sum(points.values()), satisfaction=Satisfaction.of(total.stars),
            services=_rows(book.services, self._service_name),
            villages=_rows(book.villages, self._village_name, keep=area.villages),  # idle villages too
            teams=_rows(book.teams, self._team_name),
            volunteers=self._volunteers(book.people, points, area),
            comments=book.comments, attention=book.attention, broadcasts=broadcasts, trend=trend,
        )  # fmt: skip

    # ------------------------------------------------------------ pieces
    def _hours_between(self, start: Any, end: Any) -> Any:
        """Hours from placement to the event, worked out by the database (turning 20,000
        timestamps into Python datetimes was a third of the figures' time)."""
        if self.db.is_sqlite:  # julianday: days; scalar max of two values
            return func.max((func.julianday(end) - func.julianday(start)) * 24, 0).label("since_placed")
        return func.greatest(func.extract("epoch", end - start) / 3600, 0).label("since_placed")

    def _within(self, column: Any, villages: Iterable[str]) -> ColumnElement[bool]:
        """The area as a condition; none for the whole county (200 ids in an IN list cost more
        than the rows they would keep out)."""
        wanted = set(villages)
        return true() if wanted >= set(self.config.villages) else column.in_(sorted(wanted))

    def deliveries(self, member_id: str) -> list[tuple[datetime, float]]:
        """Every delivery (完成) of one volunteer: when, and its hours."""
        done = (
            select(OrderEvent.order_id, OrderEvent.at, _DECLARED)
            .join(Order, Order.id == OrderEvent.order_id)
            .outerjoin(DeclaredHours, DeclaredHours.order_id == OrderEvent.order_id)
            .where(Order.volunteer_id == member_id, OrderEvent.to_status == S.done.value)
            .order_by(OrderEvent.id)
        )
        with self.db.engine.connect() as conn:
            rows = conn.execute(done).all()
            accepts = last_accepts(conn, {r.order_id for r in rows})
        rules = self.config.points
        return [(r.at, delivery_hours(accepts.get(r.order_id), r.at, r.declared, rules)) for r in rows]

    def _accepts(self, s: Any, since: datetime, until: datetime, in_area: Any) -> dict[int, datetime]:
        """The last 接单 of each order, for the hours of the deliveries of the period. Only
        accepts from `max_hours_per_order` before the period on are read (one range of the
        history index): an order accepted earlier than that gets the cap anyway."""
        cap = timedelta(hours=self.config.points.max_hours_per_order)
        rows = s.execute(
            select(OrderEvent.order_id, func.max(OrderEvent.at))
            .join(Order, Order.id == OrderEvent.order_id)
            .where(
                in_area, OrderEvent.to_status == S.accepted.value, OrderEvent.at >= since - cap, OrderEvent.at < until
            )
            .group_by(OrderEvent.order_id)
        )
        return dict(rows.all())

    def _broadcasts(self, s: Any, since: datetime, until: datetime, area: Area) -> BroadcastFigures:
        has_audio = BroadcastItem.audio_path.is_not(None)
        rows = s.execute(
            select(BroadcastItem.state, BroadcastItem.fallback_voice, has_audio, func.count())
            .where(
                self._within(BroadcastItem.village_id, area.villages), BroadcastItem.air_at >= since,
                BroadcastItem.air_at < until, BroadcastItem.state != ItemState.cancelled.value,
            )
            .group_by(BroadcastItem.state, BroadcastItem.fallback_voice, has_audio)
        ).all()  # fmt: skip
        states: dict[str, int] = defaultdict(int)
        voiced = backup = 0
        for state, fallback, with_audio, n in rows:
            states[state] += n
            if with_audio:
                voiced += n
                backup += n if fallback else 0
        approved = s.execute(
            select(BroadcastAudit.announcement_id, Announcement.audience)
            .join(Announcement, Announcement.id == BroadcastAudit.announcement_id)
            .where(BroadcastAudit.action == "approved", BroadcastAudit.at >= since, BroadcastAudit.at < until)
        ).all()
        ours = set(area.villages)
        reaching = {
            a_id
            for a_id, audience in approved
            if any(ours.intersection(self.config.villages_in(target)) for target in audience or [])
        }
        return BroadcastFigures(
            planned=sum(states.values()), aired=states[ItemState.aired], missed=states[ItemState.missed],
            failed=states[ItemState.failed], ready_unconfirmed=states[ItemState.ready],
            pending=states[ItemState.scheduled] + states[ItemState.generating], voiced=voiced, backup_voice=backup,
            backup_share=round(backup / voiced, 4) if voiced else None, announcements_approved=len(reaching),
        )  # fmt: skip

    def _trend(self, s: Any, period: Period, months: int, villages: list[str]) -> list[MonthCount]:
        """Orders placed and fulfilled per calendar month: one scan each, a CASE per month."""
        periods = period.months_back(months)
        bounds = [p.bounds() for p in periods]
        first, last = bounds[0][0], bounds[-1][1]

        def per_month(column: Any) -> list[Any]:
            return [func.sum(case((and_(column >= a, column < b), 1), else_=0)) for a, b in bounds]

        placed = s.execute(
            select(*per_month(Order.created_at)).where(
                self._within(Order.village_id, villages), Order.created_at >= first, Order.created_at < last
            )
        ).one()
        done = s.execute(
            select(*per_month(OrderEvent.at))
            .join(Order, Order.id == OrderEvent.order_id)
            .where(
                self._within(Order.village_id, villages), OrderEvent.to_status == S.done.value,
                OrderEvent.at >= first, OrderEvent.at < last,
            )
        ).one()  # fmt: skip
        return [MonthCount(p.slug, int(a or 0), int(b or 0)) for p, a, b in zip(periods, placed, done, strict=True)]

    def _volunteers(self, people: dict[str, _Tally], points: dict[str, int], area: Area) -> list[VolunteerFigures]:
        ours = set(area.villages)
        teams_of: dict[str, list[str]] = defaultdict(list)
        local: set[str] = set()
        for team, member in self.config.members():
            teams_of[member.id].append(team.name)
            if set(self.config.villages_in(team.area)) <= ours:
                local.add(member.id)
        names = {m.id: m.name for _, m in self.config.members()}
        ids = dict.fromkeys([*local, *people, *points])
        rows = []
        for member_id in ids:
            t = people.get(member_id, _Tally())
            rows.append(
                VolunteerFigures(
                    member_id, names.get(member_id, member_id), "、".join(teams_of.get(member_id, [])), t.accepted,
                    t.fulfilled, round(t.hours, 2), points.get(member_id, 0), Satisfaction.of(t.stars),
                )
            )  # fmt: skip
        return sorted(rows, key=lambda v: (-v.points, -v.hours, -v.fulfilled, v.member_id))

    def _service_name(self, key: str) -> str:
        service = self.config.services.get(key)
        return service.name if service else key

    def _village_name(self, key: str) -> str:
        village = self.config.villages.get(key)
        return village.name if village else key

    def _team_name(self, key: str) -> str:
        team = self.config.teams_by_id.get(key)
        return team.name if team else key


def _rows(tallies: dict[str, _Tally], name: Callable[[str], str], keep: Iterable[str] = ()) -> list[GroupFigures]:
    keys = dict.fromkeys([*keep, *tallies])
    rows = [(tallies[k] if k in tallies else _Tally()).row(k, name(k)) for k in keys]
    return sorted(rows, key=lambda r: (-r.placed, -r.fulfilled, r.key))


def _number(row: Row[Any]) -> str:
    return display_order_number(row.number)
