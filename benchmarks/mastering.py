"""Mastering cost: CPU seconds per minute of mastered audio, this tree's broadcasts/audio.py
against the one at --baseline (read from git), on a day of different espeak-ng clips, in one
run with the two interleaved (medians; the machine is shared and noisy).

    .venv/bin/python benchmarks/mastering.py [--clips 8] [--rounds 5] [--baseline e49cbac]
        [--profile] [--edge-latency 0.5] [--edge-seconds-per-minute 10]

Also prints each version's worst true peak and loudness spread on the decoded files, and the
share of mastering in the time edge-tts would take to voice each clip's message. That time
cannot be measured here (no internet; the fake edge peer's timing is not the service's):
--edge-latency and --edge-seconds-per-minute are the estimate; the README's mastering section
says where the defaults (0.5 s a request + 10 s per minute of speech) come from.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "broadcasts"))

from speech_clips import SpeechClip, day_of_clips, ffmpeg_r128  # noqa: E402

from broadcasts import audio  # noqa: E402


def load_baseline(rev: str) -> types.ModuleType:
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:broadcasts/audio.py"], capture_output=True, text=True, check=True
    ).stdout
    module = types.ModuleType(f"audio_at_{rev}")
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    exec(compile(source, f"{rev}:broadcasts/audio.py", "exec"), module.__dict__)
    return module


def cpu_per_minute(impl: types.ModuleType, clip: SpeechClip, settings: object) -> tuple[float, float, bytes]:
    """(CPU seconds, CPU seconds per minute of mastered audio, the MP3) for one master."""
    started = time.process_time()
    mp3, seconds = impl.master(clip.opening, clip.message, settings)
    cpu = time.process_time() - started
    return cpu, cpu / seconds * 60, mp3


def edge_seconds(clip: SpeechClip, latency: float, per_minute: float) -> float:
    """The estimated time edge-tts takes to voice the clip's message (the opening is cached)."""
    return latency + per_minute * len(clip.message) / audio.SAMPLE_RATE / 60


def quality(mp3s: list[bytes]) -> str:
    peaks, levels, by_ffmpeg = [], [], []
    for mp3 in mp3s:
        heard, rate = sf.read(io.BytesIO(mp3), dtype="float64")
        peaks.append(audio.db(float(np.abs(resample_poly(heard, 4, 1)).max())))  # the full 4x meter
        levels.append(audio.loudness_lufs(heard, rate))
        if shutil.which("ffmpeg"):
            by_ffmpeg.append(ffmpeg_r128(mp3)[1])
    ff = f", by ffmpeg {max(by_ffmpeg):.2f}" if by_ffmpeg else ""
    return f"worst true peak {max(peaks):.2f} dBTP{ff}; loudness {min(levels):.2f} … {max(levels):.2f} LUFS"


def profile(impl: types.ModuleType, clips: list[SpeechClip], settings: object, top: int) -> None:
    prof = cProfile.Profile()
    prof.enable()
    for clip in clips:
        impl.master(clip.opening, clip.message, settings)
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]  # type: ignore[attr-defined]
    for (path, line, name), (_, calls, own, _cum, _) in rows:
        where = f"{Path(path).name}:{line}({name})" if line else name
        print(f"    {100 * own / total:5.1f} %  {calls:6d} calls  {where}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--baseline", default="e49cbac", help="git revision of the audio.py to compare with")
    ap.add_argument("--profile", action="store_true", help="also print each version's top costs (cProfile)")
    ap.add_argument("--edge-seconds-per-minute", type=float, default=10.0, help="edge-tts: s per minute of speech")
    ap.add_argument("--edge-latency", type=float, default=0.5, help="edge-tts: seconds per request before that")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as cache:
        clips = asyncio.run(day_of_clips(Path(cache), args.clips))
    impls = {f"baseline {args.baseline}": load_baseline(args.baseline), "this tree": audio}
    settings = {name: impl.MasterSettings() for name, impl in impls.items()}
    per_minute: dict[str, list[float]] = {name: [] for name in impls}
    per_clip: dict[str, list[list[float]]] = {name: [[] for _ in clips] for name in impls}
    mp3s: dict[str, list[bytes]] = {name: [b""] * len(clips) for name in impls}
    for r in range(args.rounds):
        for c, clip in enumerate(clips):
            order = list(impls) if (r + c) % 2 == 0 else list(reversed(impls))  # interleaved
            for name in order:
                cpu, rate, mp3 = cpu_per_minute(impls[name], clip, settings[name])
                per_minute[name].append(rate)
                per_clip[name][c].append(cpu)
                mp3s[name][c] = mp3

    minutes = sum(len(c.message) for c in clips) / audio.SAMPLE_RATE / 60
    shortest, longest = (f(len(c.message) for c in clips) / audio.SAMPLE_RATE for f in (min, max))
    print(f"edge-tts estimate: {args.edge_latency:g} s + {args.edge_seconds_per_minute:g} s per minute of speech; "
          f"messages {shortest:.0f}–{longest:.0f} s")  # fmt: skip
    print(f"{len(clips)} clips (messages {minutes:.1f} min in all, each mastered with chimes, opening and "
          f"2 repeats), {args.rounds} rounds, CPU time (time.process_time)")  # fmt: skip
    medians = {name: statistics.median(v) for name, v in per_minute.items()}
    for name, impl in impls.items():
        print(f"\n{name}: median {medians[name]:.3f} CPU s per minute of mastered audio")
        print(f"    {quality(mp3s[name])}")
        shares = [
            statistics.median(cpu) / edge_seconds(clip, args.edge_latency, args.edge_seconds_per_minute)
            for cpu, clip in zip(per_clip[name], clips, strict=True)
        ]
        print(f"    mastering / edge-tts synthesis of the message: median {100 * statistics.median(shares):.1f} %, "
              f"worst clip {100 * max(shares):.1f} %")  # fmt: skip
        if args.profile:
            print("    top costs (own time, one pass over the clips):")
            profile(impl, clips, settings[name], 8)
    before, after = medians.values()
    print(f"\nspeed-up: {before / after:.1f}x")


if __name__ == "__main__":
    main()
