"""Audio conversion with ffmpeg: what people send (WeChat AMR, Telegram OGG/Opus) → 16 kHz
mono PCM for speech recognition, and voiced replies → MP3 (WeChat) or OGG/Opus (Telegram)."""

from __future__ import annotations

import asyncio
import logging

import numpy as np

log = logging.getLogger(__name__)

ASR_RATE = 16000
MAX_INPUT_BYTES = 5 * 1024 * 1024  # WeChat voice media are ≤ 2 MB; Telegram notes are small
REPLY_FORMATS = {
    # WeChat plays MP3 voice media; Telegram shows OGG/Opus as a voice bubble.
    "mp3": ("-c:a", "libmp3lame", "-b:a", "32k", "-f", "mp3"),
    "ogg": ("-c:a", "libopus", "-b:a", "24k", "-application", "voip", "-f", "ogg"),
}


class AudioError(Exception):
    """Audio that could not be converted (broken file, unknown format, no ffmpeg)."""


async def _ffmpeg(ffmpeg: str, args: list[str], data: bytes) -> bytes:
    try:
        proc = await asyncio.create_subprocess_exec(
            ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", *args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
    except OSError as exc:
        raise AudioError(f"cannot run {ffmpeg} ({exc}); run scripts/install_system_deps.sh") from None
    out, err = await proc.communicate(data)
    if proc.returncode != 0 or not out:
        raise AudioError(f"ffmpeg exit {proc.returncode}: {err.decode(errors='replace')[-200:].strip()}")
    return out


async def to_pcm16k(data: bytes, *, ffmpeg: str = "ffmpeg", max_seconds: int = 60) -> bytes:
    """Any recording ffmpeg can read (format from its content) → 16 kHz mono s16le, cut at max_seconds."""
    if not data:
        raise AudioError("empty recording")
    if len(data) > MAX_INPUT_BYTES:
        raise AudioError(f"recording too large ({len(data)} bytes)")
    args = ["-i", "pipe:0", "-t", str(max_seconds), "-ac", "1", "-ar", str(ASR_RATE), "-f", "s16le", "pipe:1"]
    return await _ffmpeg(ffmpeg, args, data)


async def encode(samples: np.ndarray, rate: int, fmt: str, *, ffmpeg: str = "ffmpeg") -> bytes:
    """float32 mono samples → an MP3 or OGG/Opus file's bytes."""
    if fmt not in REPLY_FORMATS:
        raise ValueError(f"unknown reply format {fmt!r}")
    raw = np.clip(samples, -1.0, 1.0).astype("<f4").tobytes()
    args = ["-f", "f32le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0", *REPLY_FORMATS[fmt], "pipe:1"]
    return await _ffmpeg(ffmpeg, args, raw)


def pcm_seconds(pcm: bytes) -> float:
    return len(pcm) / (2 * ASR_RATE)
