"""Approval gating, bad input, generation to audio_out/ (loudness, peak, tags, playlist)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import mutagen
import pytest
import soundfile as sf

from broadcasts import audio
from broadcasts.announcements import AnnouncementDraft, AnnouncementService
from broadcasts.errors import InvalidBroadcast, PermissionDenied
from broadcasts.generate import Generator
from broadcasts.models import AnnouncementStatus, ItemState, PlanKind, Priority
from broadcasts.output import audio_dir, playlist_path
from broadcasts.planner import Planner
from broadcasts.schedule import ScheduleService
from core.actors import Actor
from core.app import AppContext
from core.clock import local

ADMIN = Actor.staff("dongshan_staffer")  # admin + operator for dongshan only
APPROVER = Actor.staff("qingshi_head")  # approver for the qingshi villages
OPERATOR = Actor.staff("xihe_operator")
SYSTEM = Actor.system("test")
TEXT = "各位村民:明天上午9:00在村委会开展义诊,量血压、测血糖,请有需要的老人按时参加。咨询电话13800000001。"


def draft(svc: AnnouncementService, **kw: object) -> int:
    d = AnnouncementDraft(text=TEXT, audience=["dongshan"], plan=PlanKind.next_slots, count=2, **kw)  # type: ignore[arg-type]
    return svc.draft(d, ADMIN).id


def test_only_an_approver_covering_the_audience_approves(offline_ctx: AppContext) -> None:
    svc = AnnouncementService(offline_ctx)
    a = draft(svc)
    with pytest.raises(PermissionDenied):
        svc.approve(a, ADMIN)  # an admin is not an approver
    with pytest.raises(PermissionDenied):
        svc.approve(a, Actor.staff("liuhe_operator"))
    assert svc.get(a, ADMIN).items == ()  # nothing is voiced before approval
    view = svc.approve(a, APPROVER)
    assert view.status is AnnouncementStatus.approved
    items = svc.get(a, ADMIN).items
    assert len(items) == 2 and {i.state for i in items} == {ItemState.scheduled}
    # An edit after approval needs a new approval and cancels the pending airings.
    edited = svc.edit(a, ADMIN, text="义诊改到后天上午。")
    assert edited.status is AnnouncementStatus.draft and edited.version == 2
    full = svc.get(a, ADMIN)
    assert {i.state for i in full.items} == {ItemState.cancelled}
    assert [x.action for x in full.audit][:4] == ["drafted", "approved", "item_cancelled", "item_cancelled"]
    assert full.audit[-1].action == "edited"
    # Operators only see announcements for their villages.
    assert svc.list(OPERATOR) == [] and len(svc.list(ADMIN)) == 1


def test_urgent_airs_right_away(offline_ctx: AppContext) -> None:
    svc = AnnouncementService(offline_ctx)
    now = offline_ctx.clock()
    a = svc.draft(
        AnnouncementDraft("河水上涨,请沿河住户马上转移到村委会。", ["qingshi"], priority=Priority.urgent),
        Actor.staff("qingshi_head"),
    )
    view = svc.approve(a.id, APPROVER)
    items = svc.get(view.id, APPROVER).items
    assert len(view.villages) == 3 and len(items) == 6
    assert min(i.air_at for i in items) <= now + timedelta(minutes=2)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"text": "  "}, "不能为空"),
        ({"text": "字" * 20000}, "太长"),
        ({"text": "今晚开会🎉"}, "念不出来"),
        ({"audience": ["nowhere"]}, "没有这个村"),
        ({"voice": "zh-CN-NobodyNeural"}, "播音员"),
        ({"plan": PlanKind.once, "at": None}, "播出时间"),
    ],
)
def test_bad_input_is_refused_before_anything_is_stored(offline_ctx: AppContext, changes, fragment) -> None:  # type: ignore[no-untyped-def]
    svc = AnnouncementService(offline_ctx)
    base = {"text": TEXT, "audience": ["dongshan"]}
    with pytest.raises(InvalidBroadcast) as err:
        svc.draft(AnnouncementDraft(**{**base, **changes}), ADMIN)
    assert fragment in err.value.message_zh and err.value.detail
    assert svc.list(ADMIN) == []


def test_air_time_in_the_past_is_refused(offline_ctx: AppContext) -> None:
    svc = AnnouncementService(offline_ctx)
    past = offline_ctx.clock() - timedelta(hours=1)
    with pytest.raises(InvalidBroadcast, match="past"):
        svc.draft(AnnouncementDraft(TEXT, ["dongshan"], plan=PlanKind.once, at=past), ADMIN)


async def test_approved_announcement_becomes_a_mastered_mp3_in_the_playlist(offline_ctx: AppContext) -> None:
    svc = AnnouncementService(offline_ctx)
    a = draft(svc)
    svc.approve(a, APPROVER)
    first = min(svc.get(a, ADMIN).items, key=lambda i: i.air_at)
    gen = Generator(offline_ctx)
    assert await gen.generate(first.id) is ItemState.ready
    item = ScheduleService(offline_ctx).item(first.id, SYSTEM)
    assert item.fallback_voice and item.engine == "espeak"
    path = audio_dir(offline_ctx.config) / (item.audio_path or "")
    assert path.name.startswith(local(item.air_at).strftime("%H%M")) and path.parent.name == "dongshan"
    data = path.read_bytes()
    samples, rate = sf.read(io.BytesIO(data), dtype="float32")
    assert abs(audio.loudness_lufs(samples, rate) - (-16.0)) <= 1.0
    assert audio.true_peak_dbtp(samples) <= -1.0
    tags = mutagen.File(io.BytesIO(data)).tags  # type: ignore[union-attr]
    assert str(tags["TIT2"]) == item.title and str(tags["TXXX:village"]) == "dongshan"
    assert str(tags["TXXX:announcement_id"]) == str(a) and str(tags["TXXX:fallback_voice"]) == "yes"
    playlist = playlist_path(offline_ctx.config, "dongshan", local(item.air_at).date()).read_text()
    assert f"dongshan/{path.name}" in playlist and "备用语音" in playlist


async def test_a_programme_day_reuses_synthesis(offline_ctx: AppContext) -> None:
    gen = Generator(offline_ctx)
    day = local(offline_ctx.clock()).date() + timedelta(days=1)
    counts = await gen.generate_day(day)
    slots = sum(len(v.slots) for v in offline_ctx.config.villages.values())
    assert counts == {"ready": slots}
    # Mandarin villages share voiced scripts: far fewer syntheses than files.
    assert gen.speech.stats.misses < slots and gen.stats.masters_reused > 0
    items = ScheduleService(offline_ctx).day(day, SYSTEM, "dongshan")
    assert len({i.script_id for i in items}) == len(items)  # no repeats in a day


def test_planner_prefers_festivals_and_avoids_repeats(offline_ctx: AppContext) -> None:
    sched, planner = ScheduleService(offline_ctx), Planner(offline_ctx)
    planner.plan_day(date(2026, 6, 17))  # two days before 端午 (2026-06-19)
    first = sched.day(date(2026, 6, 17), SYSTEM, "dongshan")
    assert first[0].script_id == "festival_duanwu"
    planner.plan_day(date(2026, 6, 18))
    second = sched.day(date(2026, 6, 18), SYSTEM, "dongshan")
    assert not {i.script_id for i in first} & {i.script_id for i in second}
    assert all(i.script_id and i.script_id.startswith(("safety_", "law_", "festival", "policy", "family", "civility"))
               for i in second)  # fmt: skip


def test_crash_mid_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from broadcasts import output

    target = tmp_path / "day" / "0630_x.mp3"

    def boom(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("core.files.os.fsync", boom)
    with pytest.raises(OSError):
        output.write_atomic(target, b"ID3" + b"\0" * 1000)
    assert list(tmp_path.rglob("*")) == [tmp_path / "day"]
    monkeypatch.undo()
    (tmp_path / "day" / ".0630_x.mp3.1.tmp").write_bytes(b"half")  # left by a killed process
    assert output.clean_temporaries(tmp_path) == 1
