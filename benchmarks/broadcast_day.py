"""Benchmark: a broadcast day for 200 villages × 3 slots.

Runs the real pipeline (planner → speech → mastering → tagged MP3s → playlists) on a
temporary database and audio folder, once with the offline engine (espeak-ng) and once
with edge-tts's real client against the local fake edge server from the tests. Reports
synthesis and mastering time, cache hits, mastering cost per minute of audio.

    .venv/bin/python benchmarks/broadcast_day.py [--villages 200] [--engine both|offline|edge]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from broadcasts import audio  # noqa: E402
from broadcasts.generate import Generator  # noqa: E402
from core.app import AppContext  # noqa: E402
from core.clock import ManualClock  # noqa: E402
from core.config import AppConfig, load_config  # noqa: E402
from core.db import Database  # noqa: E402
from tests.peers.edge_tts import FakeEdgeServer  # noqa: E402

VOICES = ["zh-CN-XiaoxiaoNeural", "zh-CN-YunxiNeural", "zh-CN-liaoning-XiaobeiNeural", "zh-CN-shaanxi-XiaoniNeural"]


def big_config(n: int, tmp: Path, **broadcasts: object) -> AppConfig:
    base = load_config(ROOT / "config.yml", environ={})
    raw = base.model_dump(mode="json")
    per = 20
    raw["centre"]["institutes"] = [
        {
            "id": f"town{t:02d}",
            "name": f"第{t}镇新时代文明实践所",
            "villages": [
                {"id": f"v{t:02d}_{k:02d}", "name": f"村{t}-{k}", "slots": ["06:30", "12:00", "18:30"],
                 "voice": VOICES[(t * per + k) % len(VOICES)]}
                for k in range(per) if t * per + k < n
            ],
        }
        for t in range((n + per - 1) // per)
    ]  # fmt: skip
    raw["teams"], raw["staff"], raw["menu"]["local"] = [], [], []
    raw["broadcasts"].update({"audio_dir": str(tmp / "audio_out"), **broadcasts})
    return AppConfig.model_validate(raw)


async def run_day(label: str, config: AppConfig, tmp: Path) -> None:
    db = Database(f"sqlite:///{tmp / 'bench.db'}")
    db.migrate()
    ctx = AppContext(config, db, ManualClock())
    gen = Generator(ctx)
    started = time.perf_counter()
    counts = await gen.generate_day(date(2026, 6, 3))
    total = time.perf_counter() - started
    st, sp = gen.stats, gen.speech.stats
    print(f"\n== {label}: {len(config.villages)} villages ==")
    print(f"  items: {counts}   wall time: {total:.1f} s")
    print(f"  synthesis: {sp.misses} unique clips, {sp.synth_seconds:.2f} s; cache hits {sp.hits}")
    print(f"  mastering: {st.masters_made} masters ({st.audio_seconds_mastered / 60:.1f} min audio) "
          f"{st.master_seconds:.2f} s, reused {st.masters_reused}; tag+write {st.write_seconds:.2f} s")  # fmt: skip
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
    args = ap.parse_args()
    mastering_per_minute()
    if args.engine in ("both", "offline"):
        with tempfile.TemporaryDirectory() as d:
            await run_day("offline engine (espeak-ng)", big_config(args.villages, Path(d), edge_enabled=False), Path(d))
    if args.engine in ("both", "edge"):
        server = FakeEdgeServer()
        await server.start()
        try:
            with tempfile.TemporaryDirectory() as d:
                cfg = big_config(args.villages, Path(d), edge_url=server.url, edge_backoff_seconds=0.05)
                await run_day("edge-tts client → local fake edge server", cfg, Path(d))
        finally:
            await server.stop()


if __name__ == "__main__":
    asyncio.run(main())
