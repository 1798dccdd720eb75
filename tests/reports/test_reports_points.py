"""The points ledger: awards from order events exactly once (also with several passes at once on
PostgreSQL), declared hours, redemption with the balance, and who may do what."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from core.actors import Actor
from core.clock import ManualClock
from core.config import AppConfig
from core.db import Database
from core.errors import InvalidInput, PermissionDenied
from reports.models import PointsEntry, Rule
from reports.period import Area, Period
from reports.points import Holder, PointsLedger
from tests.reports.scenario import build_november, local_time

ZHANG = Holder.volunteer("jjz_zhang")
WANG = Holder.volunteer("qs_wang")


def ledger_rows(db: Database) -> list[tuple[str, str, str, int]]:
    with db.session() as s:
        rows = s.execute(
            select(PointsEntry.holder_id, PointsEntry.rule, PointsEntry.order_id, PointsEntry.points).order_by(
                PointsEntry.id
            )
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_awards_follow_the_rules_once(db: Database, config: AppConfig) -> None:
    november = build_november(db, config)
    ledger = PointsLedger(db, config, november.clock)
    written = ledger.award_pass()
    again = ledger.award_pass()
    orders = november.orders
    rows = ledger_rows(db)
    assert again == 0 and written == len(rows)
    by_order = {(holder, rule, order_id): points for holder, rule, order_id, points in rows}
    a, c, g = orders["A"].id, orders["C"].id, orders["G"].id
    assert by_order[("jjz_zhang", "per_order", a)] == 10
    assert by_order[("jjz_zhang", "per_hour", a)] == 10  # 2 h × 5
    assert by_order[("jjz_zhang", "five_star", a)] == 5
    assert by_order[("tg:8001", "rating", a)] == 2
    assert by_order[("qs_wang", "per_hour", c)] == 20  # 20 h capped at 4 h
    assert ("qs_wang", "five_star", c) not in by_order  # two stars
    assert by_order[("jjz_zhang", "per_order", g)] == 10
    # F 20 + A 25 + G 10 + G's 23 h capped at 4 → 20.
    assert ledger.balance(ZHANG) == 75
    assert ledger.balance(Holder.resident("tg:8003")) == 2
    # The cancelled, expired and unmatched orders earned nothing.
    assert {order_id for _, _, order_id, _ in rows} == {orders[n].id for n in "FABCG"}


def test_new_events_are_picked_up_by_the_next_pass(db: Database, config: AppConfig) -> None:
    november = build_november(db, config)
    ledger = PointsLedger(db, config, november.clock)
    ledger.award_pass()
    before = ledger.balance(ZHANG)
    from orders.service import OrderService

    OrderService(db, config, november.clock).rate(november.orders["G"].number, Actor.resident("tg:8007"), 5)
    november.clock.advance(seconds=5)  # PostgreSQL: past the settle window
    assert ledger.award_pass() == 2  # five stars for 张师傅, two points for the resident
    assert ledger.balance(ZHANG) == before + 5


@pytest.mark.postgres
def test_parallel_award_passes_write_each_award_once(pg_db: Database, config: AppConfig) -> None:
    """Four instances run the pass at the same moment: the unique (event, rule) key keeps one."""
    november = build_november(pg_db, config)
    november.clock.advance(minutes=1)  # past the settle window
    barrier = threading.Barrier(4)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(PointsLedger(pg_db, config, november.clock).award_pass(batch=7))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    rows = ledger_rows(pg_db)
    assert sum(results) == len(rows) == 14  # F 2, A 4, B 3, C 3, G 2
    assert len({(r[1], r[2], r[0]) for r in rows}) == len(rows)
    with pg_db.session() as s:
        assert s.scalar(select(func.sum(PointsEntry.points))) == 75 + 15 + 30 + 3 * 2


def test_postgres_pass_waits_for_settling_events(pg_db: Database, config: AppConfig) -> None:
    november = build_november(pg_db, config)
    ledger = PointsLedger(pg_db, config, november.clock)
    # The last event (G done, 09:00) is an hour old, so everything is settled; a fresh one waits.
    assert ledger.award_pass() > 0
    from orders.service import OrderService

    OrderService(pg_db, config, november.clock).rate(november.orders["G"].number, Actor.resident("tg:8007"), 3)
    assert ledger.award_pass() == 0
    november.clock.advance(seconds=5)
    assert ledger.award_pass() == 1


def test_declared_hours_once_by_the_deliverer_within_the_week(db: Database, config: AppConfig) -> None:
    november = build_november(db, config)
    c = november.orders["C"].number
    ledger = PointsLedger(db, config, ManualClock(local_time("2026-11-07 09:00")))
    for who, hours, error in [
        (Actor.volunteer("qs_zhao"), 6, PermissionDenied),  # same team, did not deliver it
        (Actor.staff("county_admin"), 6, PermissionDenied),
        (Actor.volunteer("qs_wang"), 0, InvalidInput),
        (Actor.volunteer("qs_wang"), 2.3, InvalidInput),
        (Actor.volunteer("qs_wang"), 13, InvalidInput),
    ]:
        with pytest.raises(error):
            ledger.declare_hours(c, who, hours)
    with pytest.raises(PermissionDenied):
        ledger.declare_hours(november.orders["D"].number, Actor.volunteer("qs_wang"), 2)  # nobody delivered it
    correction = ledger.declare_hours(c, Actor.volunteer("qs_wang"), 1.5)
    assert correction is not None and (correction.rule, correction.points) == (Rule.hours_declared, 8 - 20)
    with pytest.raises(InvalidInput) as twice:
        ledger.declare_hours(c, Actor.volunteer("qs_wang"), 2)
    assert twice.value.message_zh == "这个单子的时长已经登记过了。"
    ledger.award_pass()  # the measured award comes after the declaration: the sum is still right
    assert ledger.balance(WANG) == 10 + 8
    late = PointsLedger(db, config, ManualClock(local_time("2026-11-14 09:00")))
    with pytest.raises(InvalidInput) as too_late:
        late.declare_hours(november.orders["A"].number, Actor.volunteer("jjz_zhang"), 2)
    assert too_late.value.message_zh == "完成超过 7 天了,不能再登记时长。"


def test_redemption_by_an_admin_of_the_area_keeps_the_balance(db: Database, config: AppConfig) -> None:
    november = build_november(db, config)
    ledger = PointsLedger(db, config, november.clock)
    ledger.award_pass()
    head, county = Actor.staff("qingshi_head"), Actor.staff("county_admin")
    done = ledger.redeem(ZHANG, 30, head, "  毛巾 两条 ")
    assert (done.balance, done.entry.points, done.entry.reason, done.entry.actor) == (
        45,
        -30,
        "毛巾 两条",
        "staff:qingshi_head",
    )
    with pytest.raises(InvalidInput) as refused:
        ledger.redeem(ZHANG, 46, head, "电饭锅")
    assert refused.value.message_zh == "积分不够:现在只有 45 分。"
    for points, reason in [(0, "x"), (-5, "x"), (5, ""), (5, "长" * 201)]:
        with pytest.raises(InvalidInput):
            ledger.redeem(ZHANG, points, head, reason)
    # 柳河镇's staff and operators cannot spend a 青石镇 volunteer's points; the county admin can.
    for outsider in (Actor.staff("liuhe_operator"), Actor.staff("xihe_operator"), Actor.volunteer("jjz_zhang")):
        with pytest.raises(PermissionDenied):
            ledger.redeem(ZHANG, 1, outsider, "x")
    with pytest.raises(PermissionDenied):  # a county team's volunteer: only the county admin
        ledger.redeem(Holder.volunteer("cr_huang"), 1, head, "x")
    assert ledger.redeem(ZHANG, 45, county, "奖状").balance == 0
    assert ledger.balance(ZHANG) == 0
    # A resident's points: redeemed by an admin of a village the resident ordered in.
    assert ledger.redeem(Holder.resident("tg:8001"), 2, Actor.staff("dongshan_staffer"), "肥皂").balance == 0

    history = ledger.history(ZHANG, Actor.volunteer("jjz_zhang"))
    assert [e.rule for e in history[:2]] == [Rule.redeem, Rule.redeem]
    assert sum(e.points for e in history) == 0
    with pytest.raises(PermissionDenied):
        ledger.history(ZHANG, Actor.volunteer("jjz_li"))
    with pytest.raises(PermissionDenied):
        ledger.history(ZHANG, Actor.staff("liuhe_operator"))


@pytest.mark.postgres
def test_two_admins_redeeming_at_once_cannot_overspend(pg_db: Database, config: AppConfig) -> None:
    november = build_november(pg_db, config)
    ledger = PointsLedger(pg_db, config, november.clock)
    ledger.award_pass()
    assert ledger.balance(ZHANG) == 75
    barrier = threading.Barrier(3)
    outcomes: list[str] = []

    def spend() -> None:
        barrier.wait(timeout=10)
        try:
            ledger.redeem(ZHANG, 30, Actor.staff("qingshi_head"), "脸盆")
            outcomes.append("ok")
        except InvalidInput:
            outcomes.append("refused")

    threads = [threading.Thread(target=spend) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["ok", "ok", "refused"]
    assert ledger.balance(ZHANG) == 15


def test_leaderboard_of_an_area_and_month(db: Database, config: AppConfig) -> None:
    november = build_november(db, config)
    ledger = PointsLedger(db, config, november.clock)
    ledger.award_pass()
    ledger.redeem(ZHANG, 5, Actor.staff("county_admin"), "笔记本")
    board = ledger.standings(Area.of(config, "qingshi"), Period.month(2026, 11))
    assert [(s.holder.id, s.name, s.earned, s.balance) for s in board] == [
        ("jjz_zhang", "张师傅", 45, 70),
        ("qs_wang", "王电工", 30, 30),
        ("jjz_li", "李大姐", 15, 15),
    ]
    assert ledger.standings(Area.of(config, "liuhe"), Period.month(2026, 11)) == []
