"""The orders door that bot, console and CLI share (SQLite and PostgreSQL): every list scoped to
what the actor may see, one definition of each figure counted in Shanghai days, the work
needing a hand first, and the outbox reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.actors import Actor
from core.clock import ManualClock
from core.config import AppConfig
from core.db import Database
from orders import OPEN_STATUSES, OrderFilter, Orders, OrderStatus, eligible_teams
from orders.service import TRANSITIONS
from tests.orders.conftest import COUNTY_ADMIN, DONGSHAN_ADMIN, LI, OTHER_RESIDENT, RESIDENT, WANG, ZHANG

S = OrderStatus
# 09:00 on 15 June in Shanghai (01:00 UTC): local midnight was 16:00 UTC the day before.
MID_JUNE = datetime(2026, 6, 15, 1, 0, tzinfo=UTC)


@pytest.fixture
def june(db: Database, config: AppConfig, clock: ManualClock) -> tuple[Orders, ManualClock]:
    clock.now = MID_JUNE  # `make_request` places windows a day after the shared clock
    return Orders(db, config, clock), clock


def test_open_statuses_are_the_cancellable_ones() -> None:
    assert set(OPEN_STATUSES) == {s for s, to in TRANSITIONS.items() if S.cancelled in to}


def test_each_actor_lists_only_what_they_may_see(june, make_request) -> None:
    orders, _ = june
    mine = orders.create(make_request(), RESIDENT)  # dongshan haircut → 金剪子 (ZHANG, LI)
    theirs = orders.create(make_request(resident_key=OTHER_RESIDENT.id, village_id="xihe"), OTHER_RESIDENT)
    assert [o.id for o in orders.list(RESIDENT)] == [mine.id]
    assert [o.id for o in orders.list(OTHER_RESIDENT, OrderFilter(open_only=True))] == [theirs.id]
    assert [o.id for o in orders.list(ZHANG)] == [mine.id]  # 金剪子理发队
    assert [o.id for o in orders.list(WANG)] == [theirs.id]  # 青石镇便民服务队 serves xihe
    assert [o.id for o in orders.list(DONGSHAN_ADMIN)] == [mine.id]
    assert {o.id for o in orders.list(COUNTY_ADMIN)} == {mine.id, theirs.id}
    assert orders.list(Actor.staff("liuhe_operator")) == [] and orders.list(Actor.staff("nobody")) == []
    for actor, seen in ((RESIDENT, [mine.id]), (DONGSHAN_ADMIN, [mine.id]), (Actor.resident("tg:1"), [])):
        assert [w.order.id for w in orders.worklist(actor)] == seen
        assert orders.stats(actor).open_now == len(seen)


def test_figures_count_shanghai_days_and_months(june, make_request) -> None:
    orders, clock = june
    clock.now = datetime(2026, 5, 31, 15, 0, tzinfo=UTC)  # 23:00 on 31 May in Shanghai: last month
    may = orders.create(make_request(), RESIDENT)
    clock.now = datetime(2026, 6, 14, 15, 30, tzinfo=UTC)  # 23:30 on 14 June: this month, not today
    yesterday = orders.create(make_request(), RESIDENT)
    clock.now = datetime(2026, 6, 14, 16, 30, tzinfo=UTC)  # 00:30 on 15 June: today, though UTC says 14th
    rated = orders.create(make_request(people_count=3), RESIDENT)
    clock.now = MID_JUNE
    done = orders.create(make_request(resident_key=OTHER_RESIDENT.id), OTHER_RESIDENT)
    cancelled = orders.create(make_request(), RESIDENT)
    flagged = orders.create(make_request(village_id="yangliu"), RESIDENT)  # nobody cuts hair in 柳河镇
    for order, served in ((yesterday, 2), (rated, 3), (done, 4)):
        orders.accept(order.id, ZHANG)
        orders.complete(order.id, ZHANG, served)
    orders.rate(rated.id, RESIDENT, 4)
    orders.rate(yesterday.id, RESIDENT, 5)
    orders.cancel(cancelled.id, RESIDENT)

    stats = orders.stats(COUNTY_ADMIN)
    today, month = stats.today, stats.month
    assert (today.placed, today.done, today.rated, today.people_served) == (4, 2, 1, 7)
    assert today.orders_by_status == {"rated": 1, "done": 1, "cancelled": 1, "submitted": 1}
    assert today.average_rating == 4.0
    assert (month.placed, month.done, month.rated, month.people_served, month.average_rating) == (5, 3, 2, 9, 4.5)
    # Open whenever placed, and needing a hand: May's order (long past its acceptance deadline)
    # and the flagged one.
    assert (stats.open_now, stats.needs_hand) == (2, 2)
    assert [o.id for o in orders.overdue(COUNTY_ADMIN)] == [may.id, flagged.id]
    dongshan = orders.stats(DONGSHAN_ADMIN)  # yangliu's flagged order is not in 东山村
    assert (dongshan.today.placed, dongshan.month.placed, dongshan.open_now, dongshan.needs_hand) == (3, 4, 1, 1)


def test_worklist_puts_the_orders_needing_a_hand_first(june, make_request, config) -> None:
    orders, clock = june
    waiting = orders.create(make_request(), RESIDENT)
    taken = orders.create(make_request(), RESIDENT)
    orders.accept(taken.id, LI)
    clock.advance(minutes=10)
    fresh = orders.create(make_request(), RESIDENT)
    flagged = orders.create(make_request(village_id="yangliu"), RESIDENT)
    assert [(w.order.id, w.needs_hand) for w in orders.worklist(COUNTY_ADMIN)] == [
        (flagged.id, True), (waiting.id, False), (taken.id, False), (fresh.id, False),
    ]  # fmt: skip
    clock.advance(minutes=config.orders.accept_deadline_minutes - 5)  # the first one is overdue now
    assert [(w.order.id, w.needs_hand) for w in orders.worklist(COUNTY_ADMIN, limit=3)] == [
        (waiting.id, True), (flagged.id, True), (taken.id, False),
    ]  # fmt: skip
    assert orders.stats(COUNTY_ADMIN).needs_hand == len(orders.overdue(COUNTY_ADMIN)) == 2


def test_outbox_reads(june, make_request) -> None:
    orders, clock = june
    order = orders.create(make_request(), RESIDENT)
    settle = orders.outbox_settle
    assert settle == (timedelta() if orders.db.is_sqlite else timedelta(seconds=3))
    if settle:
        assert orders.changes_after(0) == []  # still inside PostgreSQL's settle window
    clock.advance(seconds=settle.total_seconds())
    first = orders.changes_after(0)
    assert [(c.from_status, c.to_status) for c in first] == [(None, "submitted"), ("submitted", "dispatched")]
    assert first[0].actor == RESIDENT.label and first[1].order.team_id == "jinjianzi"
    orders.accept(order.id, ZHANG)
    clock.advance(seconds=settle.total_seconds())
    later = orders.changes_after(first[-1].event_id)
    assert [(c.to_status, c.order.status) for c in later] == [("accepted", S.accepted)]
    # Long before the settle window has passed nothing is handed out (PostgreSQL waits it out).
    assert orders.changes_after(0, now=clock() - timedelta(hours=1)) == []
    # Reminders: accepted orders whose agreed time starts within the hour and has not ended.
    start = order.window_start
    assert orders.starting_soon(start - timedelta(hours=2), timedelta(hours=1)) == []
    assert [o.id for o in orders.starting_soon(start - timedelta(minutes=30), timedelta(hours=1))] == [order.id]
    assert orders.starting_soon(order.window_end, timedelta(hours=1)) == []


def test_eligible_teams_lowest_tier_first(config: AppConfig) -> None:
    assert [t.id for t in eligible_teams(config, "haircut", "dongshan")] == ["jinjianzi", "qingshi_volunteers"]
    assert [t.id for t in eligible_teams(config, "elderly_visit", "xihe")] == ["qingshi_volunteers", "county_repair"]
    assert eligible_teams(config, "haircut", "yangliu") == []
