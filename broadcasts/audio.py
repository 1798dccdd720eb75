"""Mastering: chime, opening phrase, the message repeated, EBU R128 loudness, true-peak
limiting, mono MP3 (lameenc) with ID3 tags (mutagen).

Loudspeakers in a village square are loud and cheap; a fixed integrated loudness keeps
every clip at the same level and the true-peak ceiling keeps the MP3 from clipping.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from math import gcd

import lameenc
import numpy as np
import pyloudnorm
import soundfile as sf
from mutagen.id3 import ID3, TALB, TDRC, TIT2, TPE1, TXXX
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import butter, resample_poly, sosfilt

SAMPLE_RATE = 24000  # edge-tts delivers 24 kHz; espeak-ng's 22.05 kHz is resampled to it
OVERSAMPLE = 4  # true peak per ITU-R BS.1770: the peak of the 4x oversampled signal
MP3_MARGIN_DB = 0.5  # MP3 decoding can overshoot the master's peaks a little
_LOWPASS = butter(8, 9000, btype="low", fs=SAMPLE_RATE, output="sos")


@dataclass(frozen=True)
class MasterSettings:
    target_lufs: float = -16.0
    true_peak_dbtp: float = -1.0
    repeat: int = 2
    pause_seconds: float = 1.5
    chime: bool = True
    bitrate_kbps: int = 64


def resample(x: np.ndarray, rate: int, to: int = SAMPLE_RATE) -> np.ndarray:
    if rate == to:
        return x.astype(np.float32, copy=False)
    g = gcd(rate, to)
    return resample_poly(x, to // g, rate // g).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


def chime(seconds: float = 1.6) -> np.ndarray:
    """A soft two-note 'ding-dong' (E5 then C5) with bell-like overtones and decay."""
    t = np.arange(int(seconds / 2 * SAMPLE_RATE)) / SAMPLE_RATE
    notes = []
    for freq in (659.25, 523.25):
        tone = sum(a * np.sin(2 * np.pi * freq * k * t) for k, a in ((1, 1.0), (2, 0.35), (3, 0.12)))
        envelope = np.exp(-3.5 * t) * np.minimum(1.0, t / 0.01)  # 10 ms attack: no click
        notes.append(tone * envelope)
    return (0.3 * np.concatenate(notes)).astype(np.float32)


def assemble(opening: np.ndarray | None, message: np.ndarray, s: MasterSettings) -> np.ndarray:
    """chime, opening phrase, message × repeat with pauses, chime."""
    parts: list[np.ndarray] = [silence(0.3)]
    if s.chime:
        parts += [chime(), silence(0.4)]
    if opening is not None and len(opening):
        parts += [opening, silence(0.6)]
    for n in range(s.repeat):
        if n:
            parts.append(silence(s.pause_seconds))
        parts.append(message)
    if s.chime:
        parts += [silence(0.6), chime()]
    parts.append(silence(0.5))
    return np.concatenate(parts).astype(np.float32)


def db(x: float) -> float:
    return float(20 * np.log10(max(x, 1e-12)))


def true_peak_dbtp(x: np.ndarray) -> float:
    return db(float(np.max(np.abs(resample_poly(x, OVERSAMPLE, 1)))) if len(x) else 0.0)


def loudness_lufs(x: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    return float(pyloudnorm.Meter(rate).integrated_loudness(x.astype(np.float64)))


def limit(x: np.ndarray, ceiling_dbtp: float) -> np.ndarray:
    """Look-ahead peak limiter on the 4x-oversampled peaks (no sample over the ceiling)."""
    ceiling = 10 ** (ceiling_dbtp / 20)
    over = np.abs(resample_poly(x, OVERSAMPLE, 1))
    n = len(x)
    peaks = over[: n * OVERSAMPLE].reshape(n, OVERSAMPLE).max(axis=1)
    needed = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    if needed.min() >= 1.0:
        return x
    width = max(3, int(0.004 * SAMPLE_RATE)) | 1  # 4 ms attack/release around each peak
    # The min over a window, averaged over the same window, never exceeds `needed` at the
    # peak itself, and ramps smoothly (no hard clipping distortion).
    gain = uniform_filter1d(minimum_filter1d(needed, size=2 * width + 1), size=width)
    return (x * gain).astype(np.float32)


def band_limit(x: np.ndarray) -> np.ndarray:
    """Low-pass at 9 kHz: horn loudspeakers stop well below, and the MP3 encoder would cut
    there anyway, which would lower the loudness measured after encoding."""
    return sosfilt(_LOWPASS, x).astype(np.float32)


def normalise_loudness(x: np.ndarray, s: MasterSettings) -> np.ndarray:
    """Gain to the target integrated loudness, then limit the true peak. The limiter lowers
    the loudness of peaky speech a little, so the gain is corrected by what it took away."""
    ceiling = s.true_peak_dbtp - MP3_MARGIN_DB
    x = x.astype(np.float32)
    current = loudness_lufs(x)
    if not np.isfinite(current):
        return x  # silence: nothing to normalise
    gain_db = s.target_lufs - current
    for _ in range(4):
        y = limit(x * np.float32(10 ** (gain_db / 20)), ceiling)
        error = s.target_lufs - loudness_lufs(y)
        if abs(error) < 0.15:
            break
        gain_db += error
    peak = true_peak_dbtp(y)
    if peak > ceiling:  # safety net; the limiter should have done it
        y = y * np.float32(10 ** ((ceiling - peak) / 20))
    return y


def encode_mp3(x: np.ndarray, bitrate_kbps: int) -> bytes:
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate_kbps)
    encoder.set_in_sample_rate(SAMPLE_RATE)
    encoder.set_channels(1)
    encoder.set_quality(5)  # 2 = best … 7 = fastest; 5 is transparent for speech at 64 kbps
    pcm = (np.clip(x, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    return bytes(encoder.encode(pcm) + encoder.flush())


def master(opening: np.ndarray | None, message: np.ndarray, s: MasterSettings) -> tuple[bytes, float]:
    """The untagged MP3 of a broadcast and its duration in seconds."""
    audio = normalise_loudness(band_limit(assemble(opening, message, s)), s)
    mp3 = encode_mp3(audio, s.bitrate_kbps)
    # The encoder drops a little energy (~0.4 dB on speech): measure what people will hear
    # and correct once, so the file itself meets the target.
    decoded, _ = sf.read(io.BytesIO(mp3), dtype="float32")
    error = s.target_lufs - loudness_lufs(decoded)
    if abs(error) > 0.2:
        headroom = s.true_peak_dbtp - true_peak_dbtp(decoded) - 0.1
        audio = audio * np.float32(10 ** (min(error, headroom) / 20))
        mp3 = encode_mp3(audio, s.bitrate_kbps)
    return mp3, len(audio) / SAMPLE_RATE


def tag_mp3(mp3: bytes, tags: dict[str, str], title: str, artist: str, album: str, date: str) -> bytes:
    """ID3v2 tags in front of the MP3 frames (title, village, air time, ids)."""
    id3 = ID3()
    id3.add(TIT2(encoding=3, text=title))
    id3.add(TPE1(encoding=3, text=artist))
    id3.add(TALB(encoding=3, text=album))
    id3.add(TDRC(encoding=3, text=date))
    for key, value in tags.items():
        id3.add(TXXX(encoding=3, desc=key, text=value))
    out = io.BytesIO()
    id3.save(out, v2_version=4, padding=lambda info: 0)
    return out.getvalue() + mp3
