"""The broadcasts room's one door: mark aired with its checks, the dashboard's summary, the
public programme, `generate` on a day that is over, and front ends that use nothing else."""

from __future__ import annotations

import ast
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from bc_support import make_ctx
from typer.testing import CliRunner

from broadcasts.errors import IllegalTransition, NotFound, PermissionDenied
from broadcasts.models import ItemKind, ItemState, PlanKind
from broadcasts.planner import Planner
from broadcasts.schedule import ScheduleService
from broadcasts.service import AnnouncementDraft, BroadcastService
from broadcasts.views import ItemView
from core.actors import Actor
from core.app import AppContext
from core.clock import LOCAL_TZ, ManualClock, local_date, system_clock
from core.config import AppConfig
from core.db import Database

ROOT = Path(__file__).resolve().parents[2]
SYSTEM = Actor.system("test")
XIHE_OPERATOR, LIUHE_OPERATOR = Actor.staff("xihe_operator"), Actor.staff("liuhe_operator")
DAY = date(2026, 6, 1)


@pytest.fixture
def ctx(config: AppConfig, sqlite_db: Database, tmp_path: Path) -> AppContext:
    # An approver who operates nothing, besides the demo staff.
    raw = config.model_dump(mode="json")
    raw["staff"].append({"id": "qingshi_reviewer", "name": "审核员", "roles": ["approver"], "areas": ["qingshi"]})
    clock = ManualClock(_local(DAY, 5))
    return make_ctx(AppConfig.model_validate(raw), sqlite_db, tmp_path, clock, edge_enabled=False)


def _local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LOCAL_TZ)


def planned(ctx: AppContext, village: str) -> list[ItemView]:
    Planner(ctx).plan_day(DAY)
    return BroadcastService(ctx).day(DAY, SYSTEM, village)


def make_ready(ctx: AppContext, item: ItemView) -> None:
    """What the generator records when a clip is made (the file itself is not needed here)."""
    assert ScheduleService(ctx).move(
        item.id, ItemState.ready, [ItemState.scheduled], SYSTEM, audio_path=f"2026-06-01/{item.village_id}/x.mp3"
    )


def test_mark_aired_checks_village_role_and_state(ctx: AppContext) -> None:
    svc = BroadcastService(ctx)
    first, second, *_ = planned(ctx, "xihe")
    make_ready(ctx, first)
    with pytest.raises(NotFound):  # another township's operator: not even told it exists
        svc.mark_aired(first.id, LIUHE_OPERATOR)
    with pytest.raises(NotFound):
        svc.mark_aired(first.id, Actor.resident("tg:7001"))
    with pytest.raises(PermissionDenied):  # sees the village, but operates no loudspeaker
        svc.mark_aired(first.id, Actor.staff("qingshi_reviewer"))
    assert not svc.may_operate(Actor.staff("qingshi_reviewer"), "xihe") and svc.may_operate(XIHE_OPERATOR, "xihe")
    with pytest.raises(IllegalTransition) as early:
        svc.mark_aired(second.id, XIHE_OPERATOR)  # not voiced yet
    assert "还不能登记播出" in early.value.message_zh
    assert svc.mark_aired(first.id, XIHE_OPERATOR).state is ItemState.aired
    with pytest.raises(IllegalTransition) as twice:
        svc.mark_aired(first.id, XIHE_OPERATOR)
    assert "已经登记播出" in twice.value.message_zh
    assert svc.item(second.id, SYSTEM).state is ItemState.scheduled
    # The runtime's move at air time is the same one, and never airs a clip twice.
    make_ready(ctx, second)
    assert ScheduleService(ctx).air_due(second.air_at, SYSTEM) == 1
    assert ScheduleService(ctx).air_due(second.air_at, SYSTEM) == 0


def test_summary_counts_only_the_actors_villages(ctx: AppContext) -> None:
    svc = BroadcastService(ctx)
    xihe, dongshan = planned(ctx, "xihe"), planned(ctx, "dongshan")
    make_ready(ctx, xihe[0])
    ScheduleService(ctx).move(dongshan[0].id, ItemState.failed, [ItemState.scheduled], SYSTEM, error="x")
    mine = svc.summary(XIHE_OPERATOR, DAY)
    assert mine is not None and (mine.ready, mine.failed, mine.scheduled) == (1, 0, len(xihe) - 1)
    county = svc.summary(Actor.staff("county_admin"), DAY)
    assert county is not None and (county.ready, county.failed) == (1, 1)
    assert svc.summary(Actor.resident("tg:7001"), DAY) is None
    assert svc.summary(XIHE_OPERATOR, DAY + timedelta(days=5)) is None


def test_the_programme_is_public_but_leaves_out_cancelled_airings(ctx: AppContext) -> None:
    svc = BroadcastService(ctx)
    Planner(ctx).plan_day(DAY)
    county = Actor.staff("county_admin")
    a = svc.draft(AnnouncementDraft("今晚开会。", ["xihe"], plan=PlanKind.next_slots, count=1), county)
    svc.approve(a.id, county)
    programme = svc.programme(DAY, "xihe")
    assert a.id in {i.announcement_id for i in programme}
    svc.withdraw(a.id, county)
    assert a.id not in {i.announcement_id for i in svc.programme(DAY, "xihe")}
    assert {i.village_id for i in svc.programme(DAY, "xihe")} == {"xihe"}  # the programmes stay


def test_generate_on_a_day_that_is_over_says_so(tmp_path: Path) -> None:
    from cli.main import app

    env = {
        "XIANGYIN_CONFIG": str(ROOT / "config.yml"),
        "XIANGYIN_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "XIANGYIN_AUDIO_DIR": str(tmp_path / "audio"),
    }
    result = CliRunner().invoke(app, ["broadcasts", "generate", "--date", "2020-01-01"], env=env)
    assert result.exit_code == 0, result.output
    tomorrow = local_date(system_clock()) + timedelta(days=1)
    assert "播出时间都已经过了" in result.output and f"--date {tomorrow.isoformat()}" in result.output
    assert not (tmp_path / "audio" / "2020-01-01").exists()


async def test_an_unknown_village_is_not_found_at_the_door(ctx: AppContext) -> None:
    svc = BroadcastService(ctx)
    with pytest.raises(NotFound, match="atlantis"):
        svc.day(DAY, SYSTEM, "atlantis")
    with pytest.raises(NotFound, match="atlantis"):
        await svc.generate_day(DAY, "atlantis")
    assert svc.day(DAY, SYSTEM) == []  # every village: nothing planned yet


@pytest.mark.parametrize("command", [["today"], ["generate"], ["play", "--dry-run"]])
def test_the_cli_says_an_unknown_village_is_not_found(tmp_path: Path, command: list[str]) -> None:
    from cli.main import app

    env = {"XIANGYIN_CONFIG": str(ROOT / "config.yml"), "XIANGYIN_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    result = CliRunner().invoke(app, ["broadcasts", *command, "--village", "atlantis"], env=env)
    assert result.exit_code == 3 and "没有这个村:atlantis" in result.output, result.output


FRONT_ENDS = ("web", "cli", "bot")
# The room's vocabulary and its runtime; everything else is behind the door.
ALLOWED = {
    "broadcasts.service", "broadcasts.views", "broadcasts.models", "broadcasts.errors", "broadcasts.runtime",
    "broadcasts.voicing",
}  # fmt: skip


def test_front_ends_go_through_the_door() -> None:
    reaching_in = []
    for folder in FRONT_ENDS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom):
                    modules = [node.module or ""]
                elif isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                else:
                    continue
                reaching_in += [
                    f"{path.relative_to(ROOT)}: {m}" for m in modules if m.startswith("broadcasts") and m not in ALLOWED
                ]
    assert reaching_in == []


def test_the_calendar_shows_the_coming_week_before_anything_is_generated(ctx: AppContext) -> None:
    """节目表 from 15 June 2026 (端午 on the 19th): themes, the festival, an approved notice,
    and programmes previewed for empty slots exactly as the planner will later store them."""
    svc, county = BroadcastService(ctx), Actor.staff("county_admin")
    first = date(2026, 6, 15)
    ctx.clock.now = _local(first, 5)  # type: ignore[attr-defined]
    a = svc.draft(AnnouncementDraft("周三下午停电检修。", ["dongshan"], plan=PlanKind.next_slots, count=1), county)
    svc.approve(a.id, county)
    week = svc.week("dongshan", first, county)
    assert [d.day for d in week] == [first + timedelta(days=n) for n in range(7)]
    assert {d.theme for d in week} == {"禁毒和防溺水"}
    assert [f.name for d in week for f in d.festivals] == ["端午节"] and week[4].festivals[0].key == "duanwu"
    assert [e.hhmm for e in week[0].entries] == ["06:30", "06:30", "12:00", "18:30"]
    notice = week[0].entries[0]
    assert notice.item is not None and notice.item.announcement_id == a.id
    previewed = [(d.day, e.hhmm, e.title) for d in week for e in d.entries if e.item is None]
    assert len(previewed) == 7 * 3 and any("端午" in title for _, _, title in previewed[:12])
    for n in range(7):
        Planner(ctx).plan_day(first + timedelta(days=n))
    stored = [
        (i.local_air_at.date(), i.hhmm, i.title)
        for d in week
        for i in svc.day(d.day, SYSTEM, "dongshan")
        if i.kind is ItemKind.programme
    ]
    assert stored == previewed
    with pytest.raises(NotFound):
        svc.week("dongshan", first, XIHE_OPERATOR)
