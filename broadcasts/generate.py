"""One item → a mastered, tagged MP3 in audio_out/ and the village's playlist updated.

Synthesis is cached per unique (text, voice, rate, engine) in tts.SpeechService; the
mastered audio is cached per unique (opening, message, engine, mastering settings), so a
programme aired in 200 villages with the same voice is voiced and mastered once and only
tagged and written per village.

For a province-sized day (thousands of villages airing the same few programmes and
notices) the generator also keeps the finished master of each distinct (text, voice,
offline language) in memory (`Voicings`, a small LRU), so every further village airing it
costs a tag and a file write, no cache reads or decoding. A master voiced by the offline
engine while edge-tts is in its cool-down is reused only until the cool-down ends. With
`broadcasts.village_files: linked` the villages' files are hard links to one file per day
and clip (`<date>/.shared/`, tagged with the programme, not the village) instead of tagged
copies: a 10,000-village day then takes the disk space of its distinct clips. Mastering can
run in a process pool (`master_pool`) over the machine's cores.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import select

from broadcasts import audio
from broadcasts.errors import BroadcastError
from broadcasts.models import BroadcastItem, ItemState
from broadcasts.output import audio_dir, cache_dir, relative_path, write_atomic, write_playlist
from broadcasts.planner import Planner
from broadcasts.schedule import ScheduleService
from broadcasts.textnorm import normalise
from broadcasts.tts import Clip, SpeechService
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
    voicings_made: int = 0  # distinct (text, voice) voiced and mastered (or read from the cache)
    voicings_reused: int = 0  # airings served from the in-memory voicings
    voice_seconds: float = 0.0  # wall time of synthesis (incl. cache reads) for the voicings made
    db_seconds: float = 0.0  # the items' claims and ready moves
    plan_seconds: float = 0.0  # generate_day: planning the programmes
    playlist_seconds: float = 0.0  # generate_day: writing the playlists
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Voicing:
    """A finished master for one (text, voice): what every village airing it shares."""

    mp3: bytes
    seconds: float
    engine: str
    fallback: bool
    key: str  # the master's cache key
    until: datetime | None  # reusable until then (an offline stand-in during edge's cool-down)


VOICINGS_KEPT = 48  # masters kept in memory (~1 MB each)


class Generator:
    def __init__(
        self, ctx: AppContext, speech: SpeechService | None = None, master_pool: Executor | None = None
    ) -> None:
        self.ctx = ctx
        self.master_pool = master_pool  # a process pool for mastering; None: a worker thread
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
        self._voicings: OrderedDict[str, Voicing] = OrderedDict()
        self._voicing_locks: dict[str, asyncio.Lock] = {}
        self._shared_lock = threading.Lock()

    async def generate(self, item_id: int, rewrite_playlist: bool = True) -> ItemState:
        """scheduled → generating → ready (or failed). Returns the item's resulting state.
        The database work runs on worker threads, never on the event loop."""
        started = time.perf_counter()
        item = await asyncio.to_thread(self._claim, item_id)
        self.stats.db_seconds += time.perf_counter() - started
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
        started = time.perf_counter()
        moved = await asyncio.to_thread(
            self.schedule.move, item_id, ItemState.ready, [ItemState.generating], SYSTEM, **ready
        )
        self.stats.db_seconds += time.perf_counter() - started
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
        return self.schedule.claim(item_id, SYSTEM)

    async def _make(self, item: BroadcastItem) -> tuple[str, float, str, bool]:
        village = self.ctx.config.villages.get(item.village_id)
        language = village.offline_language if village else VOICES[item.voice].offline_language
        voicing = await self._voicing(item, language)
        started = time.perf_counter()
        when = local(item.air_at)
        rel = relative_path(item)
        target = audio_dir(self.ctx.config) / rel
        if self.settings.village_files == "linked":
            await asyncio.to_thread(self._link_shared, voicing, item, target)
        else:
            tagged = audio.tag_mp3(
                voicing.mp3,
                {
                    "village": item.village_id,
                    "air_time": when.isoformat(),
                    "announcement_id": str(item.announcement_id or ""),
                    "item_id": str(item.id),
                    "script_id": item.script_id or "",
                    "voice": item.voice,
                    "engine": voicing.engine,
                    "fallback_voice": "yes" if voicing.fallback else "no",
                },
                title=item.title,
                artist=village.name if village else item.village_id,
                album=f"大喇叭 {when:%Y-%m-%d}",
                date=f"{when:%Y-%m-%dT%H:%M}",
            )
            await asyncio.to_thread(write_atomic, target, tagged)
        self.stats.write_seconds += time.perf_counter() - started
        return rel, voicing.seconds, voicing.engine, voicing.fallback

    async def _voicing(self, item: BroadcastItem, language: str) -> Voicing:
        """The master for the item's (text, voice): made once, then shared by every village."""
        raw = json.dumps([self.settings.opening, item.text, item.voice, language], ensure_ascii=False)
        memo = hashlib.sha256(raw.encode("utf-8")).hexdigest()
        if len(self._voicing_locks) > 4 * VOICINGS_KEPT:  # a long-running runtime: forget idle locks
            for key in [k for k, v in self._voicing_locks.items() if not v.locked()]:
                del self._voicing_locks[key]
        lock = self._voicing_locks.setdefault(memo, asyncio.Lock())
        async with lock:
            now = self.ctx.clock()
            hit = self._voicings.get(memo)
            if hit is not None and (hit.until is None or now < hit.until):
                self._voicings.move_to_end(memo)
                self.stats.voicings_reused += 1
                return hit
            started = time.perf_counter()
            opening = await self.speech.speak(normalise(self.settings.opening), item.voice, language)
            message = await self.speech.speak(normalise(item.text), item.voice, language)
            self.stats.voice_seconds += time.perf_counter() - started
            fallback = opening.fallback or message.fallback
            key = self._master_key(item, opening.engine, message.engine, language)
            mp3, seconds = await self._master(key, opening, message)
            # An offline stand-in while edge-tts cools down is not the day's voice for good.
            until = now + timedelta(seconds=self.settings.edge_cooldown_seconds) if (
                fallback and self.settings.edge_enabled
            ) else None  # fmt: skip
            voicing = Voicing(mp3, seconds, message.engine, fallback, key, until)
            self._voicings[memo] = voicing
            while len(self._voicings) > VOICINGS_KEPT:
                self._voicings.popitem(last=False)
            self.stats.voicings_made += 1
            return voicing

    def _link_shared(self, voicing: Voicing, item: BroadcastItem, target: Path) -> None:
        """The village's file as a hard link to the day's shared file of this clip (written
        once, tagged with the programme); a copy where links are impossible."""
        when = local(item.air_at)
        shared = audio_dir(self.ctx.config) / f"{when:%Y-%m-%d}" / ".shared" / f"{voicing.key}.mp3"
        with self._shared_lock:
            if not shared.exists():
                flag = "yes" if voicing.fallback else "no"
                tags = {"voice": item.voice, "engine": voicing.engine, "fallback_voice": flag}
                tagged = audio.tag_mp3(
                    voicing.mp3, tags, title=item.title, artist="大喇叭", album=f"大喇叭 {when:%Y-%m-%d}",
                    date=f"{when:%Y-%m-%d}",
                )  # fmt: skip
                write_atomic(shared, tagged)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.unlink(missing_ok=True)
        try:
            os.link(shared, tmp)
            os.replace(tmp, target)
        except OSError:
            tmp.unlink(missing_ok=True)
            write_atomic(target, shared.read_bytes())

    def _master_key(self, item: BroadcastItem, opening_engine: str, engine: str, language: str) -> str:
        voice = item.voice if engine == "edge" else f"espeak-{language}"
        raw = json.dumps(
            [self.settings.opening, item.text, voice, opening_engine, engine, self.settings.rate,
             self.settings.volume, asdict(self.master_settings)],
            ensure_ascii=False,
        )  # fmt: skip
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    async def _master(self, key: str, opening: Clip, message: Clip) -> tuple[bytes, float]:
        path = cache_dir(self.ctx.config) / "masters" / key[:2] / f"{key}.mp3"
        lock = self._master_locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = await asyncio.to_thread(_read_master, path)
            if cached is not None:
                self.stats.masters_reused += 1
                return cached
            started = time.perf_counter()
            job = (opening.samples, opening.rate, message.samples, message.rate, self.master_settings)
            if self.master_pool is not None:
                mp3, seconds = await asyncio.get_running_loop().run_in_executor(self.master_pool, master_job, *job)
            else:
                mp3, seconds = await asyncio.to_thread(master_job, *job)
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
        started = time.perf_counter()
        await asyncio.to_thread(Planner(self.ctx).plan_day, day, villages)
        self.stats.plan_seconds += time.perf_counter() - started
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
        started = time.perf_counter()
        for v in {v for _, v in todo}:
            await asyncio.to_thread(write_playlist, self.ctx, v, day)
        self.stats.playlist_seconds += time.perf_counter() - started
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


def master_job(
    opening: np.ndarray, opening_rate: int, message: np.ndarray, message_rate: int, settings: audio.MasterSettings
) -> tuple[bytes, float]:
    """Resample and master one clip (a module-level function: it runs in a process pool too)."""
    return audio.master(audio.resample(opening, opening_rate), audio.resample(message, message_rate), settings)


def _read_master(path: Path) -> tuple[bytes, float] | None:
    try:
        return path.read_bytes(), float(path.with_suffix(".seconds").read_text())
    except (OSError, ValueError):
        return None
