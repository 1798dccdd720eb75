"""The figures of one area and period against a hand-computed November (tests/reports/scenario.py),
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from core.actors import Actor
from core.clock import ManualClock
from core.config import AppConfig
from core.db import Database
from core.errors import InvalidInput, NotFound, PermissionDenied
from reports.figures import Durations, ReportQueries
from reports.period import Area, Period, report_areas, resolve_area
from reports.points import Holder, PointsLedger
from tests.reports.scenario import EXPECTED_QINGSHI, build_november, local_time

NOVEMBER = Period.month(2026, 11)


@pytest.fixture
def november(db: Database, config: AppConfig):  # type: ignore[no-untyped-def]
    return build_november(db, config)


def test_township_month_matches_the_hand_count(db: Database, config: AppConfig, november) -> None:  # type: ignore[no-untyped-def]
    PointsLedger(db, config, november.clock).award_pass()
    f = ReportQueries(db, config).figures(Area.of(config, "qingshi"), NOVEMBER)
    want = EXPECTED_QINGSHI
    assert f.placed == want["placed"]
    assert f.by_status == want["by_status"]
    assert f.fulfilled == want["fulfilled"]
    assert f.activities == want["activities"]
    assert f.people_served == want["people_served"]
    assert (f.time_to_accept.count, f.time_to_accept.median_hours, f.time_to_accept.p90_hours) == want["time_to_accept"]
    assert (f.time_to_done.count, f.time_to_done.median_hours, f.time_to_done.p90_hours) == want["time_to_done"]
    assert (f.expired, f.unmatched, f.hours) == (want["expired"], want["unmatched"], want["hours"])
    sat = f.satisfaction
    assert (sat.ratings, sat.average, sat.good_share) == want["ratings"]
    assert sorted((c.rating, c.text) for c in f.comments) == [(2, "来得太晚"), (4, None), (5, "师傅手艺好")]

    villages = {v.key: v for v in f.villages}
    assert list(villages) == ["dongshan", "xihe", "qiaotou"]  # most placed, then fulfilled, first
    dongshan = villages["dongshan"]
    assert (dongshan.placed, dongshan.fulfilled, dongshan.activities, dongshan.people_served) == (3, 3, 2, 6)
    assert (dongshan.satisfaction.ratings, dongshan.satisfaction.average) == (2, 4.5)
    assert (villages["qiaotou"].placed, villages["qiaotou"].fulfilled) == (1, 0)
    services = {s.key: s for s in f.services}
    assert (services["haircut"].placed, services["haircut"].fulfilled, services["haircut"].name) == (3, 3, "义务理发")
    assert services["appliance_repair"].satisfaction.average == 2.0
    teams = {t.key: t for t in f.teams}
    assert (teams["jinjianzi"].fulfilled, teams["jinjianzi"].people_served) == (3, 6)
    assert teams["qingshi_volunteers"].satisfaction.good_share == 0.0

    people = {v.member_id: v for v in f.volunteers}
    # 张师傅: accepted A and G in November (F in October), delivered F and A: 2 + 2 h;
    # points 10 + 10 (F) + 10 + 10 + 5 (A, five stars) = 45.
    zhang = people["jjz_zhang"]
    assert (zhang.accepted, zhang.fulfilled, zhang.hours, zhang.points) == (2, 2, 4.0, 45)
    assert (people["jjz_li"].hours, people["jjz_li"].points) == (1.0, 15)
    assert (people["qs_wang"].hours, people["qs_wang"].points) == (4.0, 30)  # 10 + 4 h × 5
    assert f.points_awarded == 90
    assert [v.member_id for v in f.volunteers[:3]] == ["jjz_zhang", "qs_wang", "jjz_li"]

    attention = {(a.order_number, a.status.value) for a in f.attention}
    assert attention == {(november.orders["D"].display_number, "expired")}

    b = f.broadcasts
    assert (b.planned, b.aired, b.missed, b.failed, b.ready_unconfirmed, b.pending) == (5, 2, 1, 1, 1, 0)
    assert (b.voiced, b.backup_voice, b.backup_share, b.announcements_approved) == (3, 2, 0.6667, 1)

    trend = {m.month: (m.placed, m.fulfilled) for m in f.trend}
    assert len(f.trend) == 12 and f.trend[0].month == "2025-12" and f.trend[-1].month == "2026-11"
    assert trend["2026-10"] == (1, 0) and trend["2026-11"] == (5, 4)


def test_county_village_and_day_ranges(db: Database, config: AppConfig, november) -> None:  # type: ignore[no-untyped-def]
    queries = ReportQueries(db, config)
    county = queries.figures(Area.of(config, "linxi"), NOVEMBER)
    assert (county.placed, county.unmatched, county.by_status["cancelled"]) == (7, 1, 1)
    assert county.broadcasts.announcements_approved == 2 and county.broadcasts.aired == 3
    assert {a.status.value for a in county.attention} == {"expired", "submitted"}
    liuhe = queries.figures(Area.of(config, "liuhe"), NOVEMBER)
    assert (liuhe.placed, liuhe.fulfilled, liuhe.broadcasts.announcements_approved) == (2, 0, 1)
    # One day: 2 November (local) holds A and B's whole lives.
    day = queries.figures(Area.of(config, "dongshan"), Period.days(date(2026, 11, 2), date(2026, 11, 2)))
    assert (day.placed, day.fulfilled, day.activities, day.people_served, day.satisfaction.ratings) == (2, 2, 1, 5, 1)
    # December: G delivered, nothing placed.
    december = queries.figures(Area.of(config, "qingshi"), Period.month(2026, 12), trend_months=0)
    assert (december.placed, december.fulfilled, december.trend) == (0, 1, [])


def test_declared_hours_replace_the_measured_ones(db: Database, config: AppConfig, november) -> None:  # type: ignore[no-untyped-def]
    next_morning = PointsLedger(db, config, ManualClock(local_time("2026-11-07 09:00")))
    next_morning.declare_hours(november.orders["C"].number, Actor.volunteer("qs_wang"), 6)
    ledger = PointsLedger(db, config, november.clock)
    ledger.award_pass()
    f = ReportQueries(db, config).figures(Area.of(config, "qingshi"), NOVEMBER)
    wang = next(v for v in f.volunteers if v.member_id == "qs_wang")
    assert (f.hours, wang.hours, wang.points) == (11.0, 6.0, 40)  # 10 + 6 h × 5
    assert ledger.balance(Holder.volunteer("qs_wang")) == 40


def test_durations_median_and_p90() -> None:
    assert Durations.of([]) == Durations(0, None, None)
    assert Durations.of([3.0]) == Durations(1, 3.0, 3.0)
    assert Durations.of([float(n) for n in range(1, 11)]) == Durations(10, 5.5, 9.0)


def test_periods_and_who_reads_which_area(config: AppConfig) -> None:
    assert Period.parse_month("2026-11") == Period(date(2026, 11, 1), date(2026, 12, 1))
    assert Period.parse_month("2026年2月").label == "2026年2月"
    assert Period.month(2026, 12).end == date(2027, 1, 1)
    assert Period.days(date(2026, 11, 3), date(2026, 11, 20)).slug == "2026-11-03_2026-11-20"
    since, until = Period.month(2026, 11).bounds()
    assert (since.isoformat(), until.isoformat()) == ("2026-10-31T16:00:00+00:00", "2026-11-30T16:00:00+00:00")
    for bad in ("2026-13", "November", ""):
        with pytest.raises(InvalidInput):
            Period.parse_month(bad)
    with pytest.raises(InvalidInput):
        Period.days(date(2026, 11, 5), date(2026, 11, 1))
    with pytest.raises(NotFound):
        Area.of(config, "atlantis")

    assert [a.id for a in report_areas(config, Actor.staff("qingshi_head"))] == [
        "qingshi",
        "dongshan",
        "xihe",
        "qiaotou",
    ]
    assert resolve_area(config, Actor.staff("county_admin"), None).id == "linxi"
    assert resolve_area(config, Actor.staff("qingshi_head"), None).id == "qingshi"
    with pytest.raises(PermissionDenied):
        resolve_area(config, Actor.staff("qingshi_head"), "liuhe")
    for outsider in (Actor.staff("xihe_operator"), Actor.volunteer("jjz_zhang"), Actor.resident("tg:8001")):
        with pytest.raises(PermissionDenied):
            resolve_area(config, outsider, None)
