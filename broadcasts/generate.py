"""One item → a mastered, tagged MP3 in audio_out/ and the village's playlist updated.

Synthesis is cached per unique (text, voice, rate, engine) in tts.SpeechService; the
mastered audio is cached per unique (opening, message, engine, mastering settings), so a
programme aired in 200 villages with the same voice is voiced and mastered once and only
tagged and written per village.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select

from broadcasts import audio
from broadcasts.errors import BroadcastError
from broadcasts.models import BroadcastItem, ItemState
from broadcasts.output import audio_dir, cache_dir, relative_path, write_atomic, write_playlist
from broadcasts.planner import Planner
from broadcasts.schedule import ScheduleService
from broadcasts.textnorm import normalise
from broadcasts.tts import SpeechService
from broadcasts.voices import VOICES
from core.actors import Actor
from core.app import AppContext
from core.clock import day_bounds, local, local_date

log = logging.getLogger(__name__)
SYSTEM = Actor.system("generator")


@dataclass
class GenerationStats:
    items: int = 0
    failed: int = 0
    master_seconds: float = 0.0  # wall time mastering (misses of the master cache)
    masters_made: int = 0
    masters_reused: int = 0
    audio_seconds_mastered: float = 0.0
    write_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


class Generator:
    def __init__(self, ctx: AppContext, speech: SpeechService | None = None) -> None:
        self.ctx = ctx
        self.settings = ctx.config.broadcasts
        self.speech = speech or SpeechService(self.settings, cache_dir(ctx.config))
        self.schedule = ScheduleService(ctx)
        self.stats = GenerationStats()
        self.master_settings = audio.MasterSettings(
            target_lufs=self.settings.target_lufs,
            true_peak_dbtp=self.settings.true_peak_dbtp,
            repeat=self.settings.repeat,
            pause_seconds=self.settings.pause_seconds,
            chime=self.settings.chime,
            bitrate_kbps=self.settings.bitrate_kbps,
        )
        self._master_locks: dict[str, asyncio.Lock] = {}

    async def generate(self, item_id: int, rewrite_playlist: bool = True) -> ItemState:
        """scheduled → generating → ready (or failed). Returns the item's resulting state.
        The database work runs on worker threads, never on the event loop."""
        item = await asyncio.to_thread(self._claim, item_id)
        if item is None:  # someone else has it, or it is final
            return (await asyncio.to_thread(self.schedule.item, item_id, SYSTEM)).state
        try:
            path, seconds, engine, fallback = await self._make(item)
        except (BroadcastError, OSError, RuntimeError, ValueError) as exc:
            detail = getattr(exc, "detail", str(exc))
            log.error("broadcast item %s failed: %s", item_id, detail)
            self.stats.failed += 1
            self.stats.errors.append(detail)
            await asyncio.to_thread(
                self.schedule.move, item_id, ItemState.failed, [ItemState.generating], SYSTEM, error=detail[:500]
            )
            return ItemState.failed
        ready = {
            "audio_path": path,
            "duration_seconds": seconds,
            "engine": engine,
            "fallback_voice": fallback,
            "error": "备用语音 (offline voice)" if fallback else None,
        }
        moved = await asyncio.to_thread(
            self.schedule.move, item_id, ItemState.ready, [ItemState.generating], SYSTEM, **ready
        )
        self.stats.items += 1
        if not moved:
            # Withdrawn or edited while it was being voiced: the file must not stay behind.
            state = (await asyncio.to_thread(self.schedule.item, item_id, SYSTEM)).state
            if state is ItemState.cancelled:
                (audio_dir(self.ctx.config) / path).unlink(missing_ok=True)
            return state
        if rewrite_playlist:
            await asyncio.to_thread(write_playlist, self.ctx, item.village_id, local_date(item.air_at))
        return ItemState.ready

    def _claim(self, item_id: int) -> BroadcastItem | None:
        """scheduled → generating (compare-and-set), and the item as it is now, detached."""
        if not self.schedule.move(item_id, ItemState.generating, [ItemState.scheduled], SYSTEM):
            return None
        with self.ctx.db.session() as s:
            item = s.get(BroadcastItem, item_id)
            assert item is not None
            s.expunge(item)
            return item

    async def _make(self, item: BroadcastItem) -> tuple[str, float, str, bool]:
        village = self.ctx.config.villages.get(item.village_id)
        language = village.offline_language if village else VOICES[item.voice].offline_language
        opening = await self.speech.speak(normalise(self.settings.opening), item.voice, language)
        message = await self.speech.speak(normalise(item.text), item.voice, language)
        fallback = opening.fallback or message.fallback
        key = self._master_key(item, opening.engine, message.engine, language)
        mp3, seconds = await self._master(key, opening, message)
        started = time.perf_counter()
        when = local(item.air_at)
        tagged = audio.tag_mp3(
            mp3,
            {
                "village": item.village_id,
                "air_time": when.isoformat(),
                "announcement_id": str(item.announcement_id or ""),
                "item_id": str(item.id),
                "script_id": item.script_id or "",
                "voice": item.voice,
                "engine": message.engine,
                "fallback_voice": "yes" if fallback else "no",
            },
            title=item.title,
            artist=village.name if village else item.village_id,
            album=f"大喇叭 {when:%Y-%m-%d}",
            date=f"{when:%Y-%m-%dT%H:%M}",
        )
        rel = relative_path(item)
        await asyncio.to_thread(write_atomic, audio_dir(self.ctx.config) / rel, tagged)
        self.stats.write_seconds += time.perf_counter() - started
        return rel, seconds, message.engine, fallback

    def _master_key(self, item: BroadcastItem, opening_engine: str, engine: str, language: str) -> str:
        voice = item.voice if engine == "edge" else f"espeak-{language}"
        raw = json.dumps(
            [self.settings.opening, item.text, voice, opening_engine, engine, self.settings.rate,
             self.settings.volume, asdict(self.master_settings)],
            ensure_ascii=False,
        )  # fmt: skip
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    async def _master(self, key: str, opening, message) -> tuple[bytes, float]:  # type: ignore[no-untyped-def]
        path = cache_dir(self.ctx.config) / "masters" / key[:2] / f"{key}.mp3"
        lock = self._master_locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = await asyncio.to_thread(_read_master, path)
            if cached is not None:
                self.stats.masters_reused += 1
                return cached
            started = time.perf_counter()
            mp3, seconds = await asyncio.to_thread(
                audio.master,
                audio.resample(opening.samples, opening.rate),
                audio.resample(message.samples, message.rate),
                self.master_settings,
            )
            self.stats.master_seconds += time.perf_counter() - started
            self.stats.masters_made += 1
            self.stats.audio_seconds_mastered += seconds
            await asyncio.to_thread(write_atomic, path, mp3)
            await asyncio.to_thread(write_atomic, path.with_suffix(".seconds"), f"{seconds:.3f}".encode())
            return mp3, seconds

    async def generate_day(
        self,
        day: date,
        village_id: str | None = None,
        progress: Callable[[int, int], None] | None = None,
        concurrency: int = 4,
    ) -> dict[str, int]:
        """Plan the day's programmes and make every scheduled clip now (CLI, benchmark)."""
        villages = [village_id] if village_id else list(self.ctx.config.villages)
        await asyncio.to_thread(Planner(self.ctx).plan_day, day, villages)
        todo = await asyncio.to_thread(self._scheduled_on, day, villages)
        counts: dict[str, int] = {}
        done = 0
        gate = asyncio.Semaphore(concurrency)

        async def one(item_id: int) -> None:
            nonlocal done
            async with gate:
                state = await self.generate(item_id, rewrite_playlist=False)
            counts[state.value] = counts.get(state.value, 0) + 1
            done += 1
            if progress:
                progress(done, len(todo))

        await asyncio.gather(*(one(i) for i, _ in todo))
        for v in {v for _, v in todo}:
            await asyncio.to_thread(write_playlist, self.ctx, v, day)
        return counts

    def _scheduled_on(self, day: date, villages: list[str]) -> list[tuple[int, str]]:
        start, end = day_bounds(day)
        with self.ctx.db.session() as s:
            q = select(BroadcastItem.id, BroadcastItem.village_id).where(
                BroadcastItem.air_at >= start,
                BroadcastItem.air_at < end,
                BroadcastItem.state == ItemState.scheduled,
                BroadcastItem.village_id.in_(villages),
            )
            return [(item_id, village) for item_id, village in s.execute(q)]


def _read_master(path: Path) -> tuple[bytes, float] | None:
    try:
        return path.read_bytes(), float(path.with_suffix(".seconds").read_text())
    except (OSError, ValueError):
        return None
