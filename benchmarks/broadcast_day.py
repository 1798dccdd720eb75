"""Benchmark: a broadcast day for N villages × 3 slots (a county: 200; a province: 10,000).

Runs the real pipeline (planner → speech → mastering → tagged MP3s → playlists) on a
temporary database and audio folder, once with the offline engine (espeak-ng) and once
with edge-tts's real client against the local fake edge server from the tests.

The programme mix: villages in townships of 20 and counties of 250; each county has its
own voice (one in five Cantonese, voiced offline as `yue`), airs the planner's programmes at
06:30, 12:00 and 18:30 and a county notice of its own at 12:00; one township in ten adds a
notice of its own at 18:30. Reports wall time, distinct clips voiced and mastered, CPU per
clip (this process and its children: espeak-ng, the mastering pool), peak memory, and the
busy time of each stage (synthesis, mastering, tag+write, database, planning, playlists;
items are made four at a time, so the stages overlap and their sum exceeds the wall time).

    .venv/bin/python benchmarks/broadcast_day.py [--villages 200] [--engine both|offline|edge]
        [--files tagged|linked] [--processes N] [--no-notices]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from datetime import time as clock_time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from broadcasts import audio  # noqa: E402
from broadcasts.generate import Generator  # noqa: E402
from broadcasts.models import Announcement, AnnouncementStatus, PlanKind, Priority  # noqa: E402
from broadcasts.schedule import new_airing  # noqa: E402
from core.app import AppContext  # noqa: E402
from core.clock import LOCAL_TZ, ManualClock  # noqa: E402
from core.config import AppConfig, load_config  # noqa: E402
from core.db import Database  # noqa: E402
from tests.peers.edge_tts import FakeEdgeServer  # noqa: E402

VOICES = [  # by county; (voice, offline language)
    ("zh-CN-XiaoxiaoNeural", "cmn"), ("zh-CN-YunxiNeural", "cmn"), ("zh-CN-liaoning-XiaobeiNeural", "cmn"),
    ("zh-CN-shaanxi-XiaoniNeural", "cmn"), ("zh-HK-HiuGaaiNeural", "yue"),
]  # fmt: skip
PER_TOWN, PER_COUNTY = 20, 250
DAY = date(2026, 6, 3)


def big_config(n: int, tmp: Path, **broadcasts: object) -> AppConfig:
    base = load_config(ROOT / "config.yml", environ={})
    raw = base.model_dump(mode="json")
    per = PER_TOWN

    def village(t: int, k: int) -> dict[str, object]:
        voice, language = VOICES[(t * per + k) // PER_COUNTY % len(VOICES)]
        return {"id": f"v{t:03d}_{k:02d}", "name": f"村{t}-{k}", "slots": ["06:30", "12:00", "18:30"],
                "voice": voice, "offline_language": language}  # fmt: skip

    raw["centre"]["institutes"] = [
        {
            "id": f"town{t:03d}",
            "name": f"第{t}镇新时代文明实践所",
            "villages": [village(t, k) for k in range(per) if t * per + k < n],
        }
        for t in range((n + per - 1) // per)
    ]  # fmt: skip
    raw["teams"], raw["staff"], raw["menu"]["local"] = [], [], []
    raw["broadcasts"].update({"audio_dir": str(tmp / "audio_out"), **broadcasts})
    return AppConfig.model_validate(raw)


NOTICE = (
    "{where}通知:近期气温变化大,请大家注意添衣保暖,老人和孩子尽量少去人多的地方。"
    "村卫生室每天上午八点到十一点免费量血压,有需要的村民请带上医保卡。"
)


def seed_notices(ctx: AppContext, day: date) -> int:
    """Approved notices straight into the items table (what approval does, minus the review):
    one per county at 12:00 for its villages, one per tenth township at 18:30."""
    now = datetime.combine(day, clock_time(0), tzinfo=LOCAL_TZ).astimezone(UTC)
    groups: list[tuple[str, list[str], str]] = []
    villages = list(ctx.config.villages)
    for c in range(0, len(villages), PER_COUNTY):
        groups.append((f"第{c // PER_COUNTY + 1}县", villages[c : c + PER_COUNTY], "12:00"))
    for town in ctx.config.centre.institutes[::10]:
        groups.append((town.name, [v.id for v in town.villages], "18:30"))
    added = 0
    with ctx.db.session() as s:
        for where, audience, hhmm in groups:
            a = Announcement(
                title=f"{where}通知", text=NOTICE.format(where=where), audience=audience, plan_kind=PlanKind.once,
                plan_count=1, priority=Priority.normal, status=AnnouncementStatus.approved, created_by="bench",
                created_at=now, updated_at=now, approved_by="bench", approved_at=now,
            )  # fmt: skip
            s.add(a)
            s.flush()
            air_at = datetime.combine(day, clock_time.fromisoformat(hhmm), tzinfo=LOCAL_TZ).astimezone(UTC)
            for village_id in audience:
                s.add(new_airing(ctx.config.villages[village_id], air_at, 1, now, a))
                added += 1
    return added


def cpu_seconds() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


async def run_day(label: str, config: AppConfig, tmp: Path, processes: int = 1, notices: bool = True) -> None:
    db = Database(f"sqlite:///{tmp / 'bench.db'}")
    db.migrate()
    ctx = AppContext(config, db, ManualClock())
    seeded = seed_notices(ctx, DAY) if notices else 0
    cpu0, started = cpu_seconds(), time.perf_counter()
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) if processes > 1 else None
    gen = Generator(ctx, master_pool=pool)
    counts = await gen.generate_day(DAY)
    if pool is not None:
        pool.shutdown()  # its workers' CPU time is counted once they are reaped
    total, cpu = time.perf_counter() - started, cpu_seconds() - cpu0
    st, sp = gen.stats, gen.speech.stats
    items = sum(counts.values())
    audio_root = Path(config.broadcasts.audio_dir)
    disk = sum(p.stat().st_size for p in audio_root.rglob("*.mp3") if p.stat().st_nlink == 1 or ".shared" in p.parts)
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    stages = {
        "synthesis": st.voice_seconds, "mastering": st.master_seconds, "tag+write": st.write_seconds,
        "database": st.db_seconds, "planning": st.plan_seconds, "playlists": st.playlist_seconds,
    }  # fmt: skip
    busy = sum(stages.values()) or 1.0
    print(f"\n== {label}: {len(config.villages)} villages, {config.broadcasts.village_files} files, "
          f"{processes} mastering process(es) ==")  # fmt: skip
    print(f"  airings: {counts} ({seeded} notices)   wall time: {total:.1f} s "
          f"({1000 * total / items:.1f} ms per airing)")  # fmt: skip
    print(f"  distinct clips: {st.voicings_made} (text, voice) voicings, {st.masters_made} masters made "
          f"({st.audio_seconds_mastered / 60:.1f} min audio), {sp.misses} syntheses; "
          f"reused for {st.voicings_reused} airings")  # fmt: skip
    print(f"  CPU: {cpu:.1f} s in all ({cpu / max(st.masters_made, 1):.2f} s per distinct clip, "
          f"{1000 * cpu / items:.1f} ms per airing)")  # fmt: skip
    print(f"  peak memory: {peak_self:.0f} MB this process, {peak_kids:.0f} MB largest child")
    print(f"  MP3 on disk: {disk / 1e6:.0f} MB")
    print("  busy time by stage: " + ", ".join(f"{k} {v:.1f} s ({100 * v / busy:.0f} %)" for k, v in stages.items()))
    if sp.synth_seconds:
        print(f"  mastering / synthesis: {100 * st.master_seconds / sp.synth_seconds:.0f} %")
    db.dispose()


def mastering_per_minute() -> None:
    """Median mastering cost per minute of audio on a 1-minute speech-like signal."""
    rng = np.random.default_rng(1)
    t = np.arange(30 * audio.SAMPLE_RATE) / audio.SAMPLE_RATE
    speech = (0.2 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 4 * t) > 0)
              + 0.02 * rng.standard_normal(len(t))).astype(np.float32)  # fmt: skip
    runs = []
    for _ in range(5):
        s = time.perf_counter()
        _, seconds = audio.master(None, speech, audio.MasterSettings())
        runs.append((time.perf_counter() - s) / seconds * 60)
    print(f"\nmastering cost: median {statistics.median(runs):.2f} s per minute of audio (5 runs)")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--villages", type=int, default=200)
    ap.add_argument("--engine", choices=["both", "offline", "edge"], default="both")
    ap.add_argument("--files", choices=["tagged", "linked"], default="tagged", help="broadcasts.village_files")
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="mastering processes")
    ap.add_argument("--no-notices", action="store_true", help="programmes only (the old benchmark's day)")
    args = ap.parse_args()
    mastering_per_minute()
    files = {"village_files": args.files}
    if args.engine in ("both", "offline"):
        with tempfile.TemporaryDirectory() as d:
            cfg = big_config(args.villages, Path(d), edge_enabled=False, **files)
            await run_day("offline engine (espeak-ng)", cfg, Path(d), args.processes, not args.no_notices)
            shutil.rmtree(Path(d) / "audio_out", ignore_errors=True)
    if args.engine in ("both", "edge"):
        server = FakeEdgeServer()
        await server.start()
        try:
            with tempfile.TemporaryDirectory() as d:
                cfg = big_config(args.villages, Path(d), edge_url=server.url, edge_backoff_seconds=0.05, **files)
                label = "edge-tts client → local fake edge server"
                await run_day(label, cfg, Path(d), args.processes, not args.no_notices)
        finally:
            await server.stop()


if __name__ == "__main__":
    asyncio.run(main())
