"""Speech: edge-tts neural voices, espeak-ng when they fail or the village is offline, a cache.

Synthesis is per unique (text, voice, rate, volume, engine): the same programme script for
many villages with the same voice is voiced once. The cache holds decoded 16-bit WAVs.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import edge_tts
import edge_tts.communicate
import numpy as np
import soundfile as sf
from edge_tts.exceptions import EdgeTTSException
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from broadcasts.errors import SpeechError
from broadcasts.textnorm import split_for_speech
from core.config import BroadcastSettings

log = logging.getLogger(__name__)

# Statuses worth a retry: token expiry (403, edge-tts adjusts its clock and retries once
# itself), rate limits and server trouble.
TRANSIENT_STATUS = {403, 408, 429, 500, 502, 503, 504}
CHUNK_GAP_SECONDS = 0.12  # a breath between chunks of a long text, as between sentences


@dataclass(frozen=True)
class Clip:
    samples: np.ndarray  # float32 mono in [-1, 1]
    rate: int
    engine: str  # "edge" | "espeak"
    fallback: bool  # True when the offline engine stood in for the village's voice
    cached: bool = False

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, aiohttp.ClientResponseError):
        return exc.status in TRANSIENT_STATUS
    return isinstance(exc, EdgeTTSException | aiohttp.ClientError | asyncio.TimeoutError | OSError)


def decode_audio(data: bytes) -> tuple[np.ndarray, int]:
    """MP3 (edge-tts) or WAV (espeak-ng) bytes → float32 mono (libsndfile ≥ 1.1 reads MP3)."""
    samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return samples.mean(axis=1).astype(np.float32), rate


def trim_silence(x: np.ndarray, rate: int, threshold: float = 0.003) -> np.ndarray:
    """Cut leading/trailing near-silence so joined chunks sound like one reading."""
    loud = np.flatnonzero(np.abs(x) > threshold)
    if loud.size == 0:
        return x[:0]
    pad = int(0.03 * rate)
    return x[max(0, loud[0] - pad) : loud[-1] + pad]


def join_chunks(chunks: list[np.ndarray], rate: int) -> np.ndarray:
    gap = np.zeros(int(CHUNK_GAP_SECONDS * rate), dtype=np.float32)
    fade = min(int(0.005 * rate), 64)
    parts: list[np.ndarray] = []
    for n, c in enumerate(chunks):
        c = trim_silence(c, rate) if len(chunks) > 1 else c
        if len(c) > 2 * fade:  # short fades: no click where chunks meet
            c = c.copy()
            c[:fade] *= np.linspace(0, 1, fade, dtype=np.float32)
            c[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
        parts += [gap, c] if n else [c]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


class EdgeEngine:
    """Microsoft Edge read-aloud voices through edge-tts's own client."""

    name = "edge"

    def __init__(self, settings: BroadcastSettings) -> None:
        self.settings = settings
        if settings.edge_url:
            # edge-tts builds its websocket URL from this module constant at connect time;
            # pointing it elsewhere (a local server, a relay) is the hook the client offers.
            edge_tts.communicate.WSS_URL = settings.edge_url

    async def synthesize(self, text: str, voice: str, rate: str, volume: str) -> np.ndarray:
        chunks = []
        sample_rate = 24000
        for piece in split_for_speech(text):
            mp3 = await self._with_retries(piece, voice, rate, volume)
            samples, sample_rate = decode_audio(mp3)
            chunks.append(samples)
        if sample_rate != 24000:
            raise SpeechError("语音合成出错。", f"edge-tts returned {sample_rate} Hz, expected 24000")
        return join_chunks(chunks, sample_rate)

    async def _with_retries(self, text: str, voice: str, rate: str, volume: str) -> bytes:
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_attempt(self.settings.edge_attempts),
            wait=wait_exponential(multiplier=self.settings.edge_backoff_seconds, max=30),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._once(text, voice, rate, volume)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, text: str, voice: str, rate: str, volume: str) -> bytes:
        communicate = edge_tts.Communicate(
            text,
            voice,
            rate=rate,
            volume=volume,
            connect_timeout=10,
            receive_timeout=self.settings.edge_timeout_seconds,
        )
        audio = bytearray()
        async for message in communicate.stream():
            if message["type"] == "audio":
                audio += message["data"]
        return bytes(audio)


class EspeakEngine:
    """espeak-ng, offline: Mandarin (cmn) or Cantonese (yue). Robotic but always there."""

    name = "espeak"
    BASE_WPM = 165

    def __init__(self) -> None:
        self.binary = shutil.which("espeak-ng")

    def speed(self, rate: str) -> int:
        return max(80, round(self.BASE_WPM * (1 + int(rate.rstrip("%")) / 100)))

    async def synthesize(self, text: str, language: str, rate: str) -> tuple[np.ndarray, int]:
        if self.binary is None:
            raise SpeechError("离线语音没有安装。", "espeak-ng not found; run scripts/install_system_deps.sh")
        proc = await asyncio.create_subprocess_exec(
            self.binary, "-v", language, "-s", str(self.speed(rate)), "--stdout", "--stdin",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await proc.communicate(text.encode("utf-8"))
        if proc.returncode != 0 or not out:
            raise SpeechError("离线语音合成失败。", f"espeak-ng exit {proc.returncode}: {err.decode()[:200]}")
        return decode_audio(out)


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    synth_seconds: float = 0.0  # wall time spent synthesising (misses only)
    by_engine: dict[str, int] = field(default_factory=dict)


class ClipCache:
    """Decoded clips on disk by key; written to a temporary name and renamed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.wav"

    def get(self, key: str) -> tuple[np.ndarray, int] | None:
        path = self.path(key)
        try:
            samples, rate = sf.read(path, dtype="float32")
        except (OSError, RuntimeError, sf.LibsndfileError):
            return None
        return samples, rate

    def put(self, key: str, samples: np.ndarray, rate: int) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}.wav")
        sf.write(tmp, samples, rate, subtype="PCM_16")
        os.replace(tmp, path)


def cache_key(text: str, voice: str, rate: str, volume: str, engine: str) -> str:
    raw = json.dumps([text, voice, rate, volume, engine], ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class SpeechService:
    """Voice a normalised text: the village's neural voice, else espeak-ng (flagged)."""

    def __init__(self, settings: BroadcastSettings, cache_dir: Path) -> None:
        self.settings = settings
        self.cache = ClipCache(cache_dir)
        self.edge = EdgeEngine(settings)
        self.espeak = EspeakEngine()
        self.stats = CacheStats()
        self._edge_down_until = 0.0  # after a full failure, skip edge for a while
        self._locks: dict[str, asyncio.Lock] = {}

    @property
    def edge_available(self) -> bool:
        return self.settings.edge_enabled and time.monotonic() >= self._edge_down_until

    async def speak(self, text: str, voice: str, offline_language: str) -> Clip:
        rate, volume = self.settings.rate, self.settings.volume
        edge_key = cache_key(text, voice, rate, volume, "edge")
        hit = self.cache.get(edge_key)
        if hit is not None:
            return self._hit(hit, "edge", False)
        if self.edge_available:
            async with self._lock(edge_key):
                hit = self.cache.get(edge_key)  # another task may have just made it
                if hit is not None:
                    return self._hit(hit, "edge", False)
                try:
                    return await self._make(edge_key, "edge", False, self._edge(text, voice, rate, volume))
                except (TimeoutError, EdgeTTSException, aiohttp.ClientError, OSError) as exc:
                    self._edge_down_until = time.monotonic() + self.settings.edge_cooldown_seconds
                    log.warning("edge-tts failed (%s: %s); using the offline voice", type(exc).__name__, exc)
        offline_voice = f"espeak-{offline_language}"
        key = cache_key(text, offline_voice, rate, volume, "espeak")
        async with self._lock(key):
            hit = self.cache.get(key)
            if hit is not None:
                return self._hit(hit, "espeak", True)
            return await self._make(key, "espeak", True, self.espeak.synthesize(text, offline_language, rate))

    async def _edge(self, text: str, voice: str, rate: str, volume: str) -> tuple[np.ndarray, int]:
        return await self.edge.synthesize(text, voice, rate, volume), 24000

    async def _make(self, key: str, engine: str, fallback: bool, job) -> Clip:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        samples, rate = await job
        self.stats.synth_seconds += time.perf_counter() - started
        self.stats.misses += 1
        self.stats.by_engine[engine] = self.stats.by_engine.get(engine, 0) + 1
        self.cache.put(key, samples, rate)
        return Clip(samples, rate, engine, fallback)

    def _hit(self, hit: tuple[np.ndarray, int], engine: str, fallback: bool) -> Clip:
        self.stats.hits += 1
        return Clip(hit[0], hit[1], engine, fallback, cached=True)

    def _lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())
