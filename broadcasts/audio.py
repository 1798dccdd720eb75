"""Mastering: chime, opening phrase, the message repeated, EBU R128 loudness, true-peak
limiting, mono MP3 (lameenc) with ID3 tags (mutagen).

Loudspeakers in a village square are loud and cheap; a fixed integrated loudness keeps
every clip at the same level and the true-peak ceiling keeps the MP3 from clipping.

Cost (benchmarks/mastering.py): the MP3 encoder is most of it, so everything else is done
once, or only where it can matter:
- loudness (BS.1770, pyloudnorm) is measured once, on the assembled clip; the limiter and the
  encoder then change it by gains, whose effect is the ratio of signal energies;
- 4x-oversampled true peaks are computed only near samples loud enough to reach the level in
  question (an interpolated value is at most INTERPOLATOR_GAIN × the samples it is made of),
  and the limiter's gain curve only around the peaks it lowers;
- one MP3 encode, decoded once to check the file itself (true peak, loudness) and encoded
  again only if that check fails.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from math import gcd

import lameenc
import numpy as np
import pyloudnorm
import soundfile as sf
from mutagen.id3 import ID3, TALB, TDRC, TIT2, TPE1, TXXX
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import butter, firwin, resample_poly, sosfilt

log = logging.getLogger(__name__)

SAMPLE_RATE = 24000  # edge-tts delivers 24 kHz; espeak-ng's 22.05 kHz is resampled to it
OVERSAMPLE = 4  # true peak per ITU-R BS.1770: the peak of the 4x oversampled signal
# resample_poly's own default 4x design, spelled out so that its worst case is known: an
# interpolated value is at most INTERPOLATOR_GAIN × the largest sample within _REACH of it.
_INTERPOLATOR = firwin(2 * 10 * OVERSAMPLE + 1, 1 / OVERSAMPLE, window=("kaiser", 5.0))
INTERPOLATOR_GAIN = max(float(np.abs(OVERSAMPLE * _INTERPOLATOR[p::OVERSAMPLE]).sum()) for p in range(OVERSAMPLE))
_REACH = 10 + 2  # input samples on each side that one interpolated value depends on, + margin
# LAME scales its input by 0.95 (a plain gain at every bitrate; tests check it): the master
# is made that much louder so that the file meets the target.
ENCODER_GAIN_DB = float(20 * np.log10(0.95))
TRUE_PEAK_GUARD_DB = 0.1  # the file's true peak stays this far under the ceiling (meters differ)
MP3_MARGIN_DB = 1.0  # 64 kbps coding noise lifts limited peaks by 0.4–1.0 dB (median 0.6): limit lower
LOUDNESS_TOLERANCE_LU = 0.3  # the file's loudness may be this far from the target
MAX_ENCODES = 4
_LIMITER_WIDTH = max(3, int(0.004 * SAMPLE_RATE)) | 1  # 4 ms attack/release around each peak
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


@cache
def chime(seconds: float = 1.6) -> np.ndarray:
    """A soft two-note 'ding-dong' (E5 then C5) with bell-like overtones and decay."""
    t = np.arange(int(seconds / 2 * SAMPLE_RATE)) / SAMPLE_RATE
    notes = []
    for freq in (659.25, 523.25):
        tone = sum(a * np.sin(2 * np.pi * freq * k * t) for k, a in ((1, 1.0), (2, 0.35), (3, 0.12)))
        envelope = np.exp(-3.5 * t) * np.minimum(1.0, t / 0.01)  # 10 ms attack: no click
        notes.append(tone * envelope)
    out = (0.3 * np.concatenate(notes)).astype(np.float32)
    out.flags.writeable = False  # shared by every clip
    return out


def layout(opening: np.ndarray | None, message: np.ndarray, s: MasterSettings) -> list[np.ndarray]:
    """The clip in pieces that meet in silence: the head (chime, opening phrase), the message
    and the pauses between its repeats, the tail (chime). A repeated piece is the same array."""
    head = [silence(0.3)]
    if s.chime:
        head += [chime(), silence(0.4)]
    if opening is not None and len(opening):
        head += [opening, silence(0.6)]
    pause = silence(s.pause_seconds)
    body = [piece for n in range(s.repeat) for piece in ([pause, message] if n else [message])]
    tail = [silence(0.6), chime(), silence(0.5)] if s.chime else [silence(0.5)]
    return [np.concatenate(head), *body, np.concatenate(tail)]


def assemble(opening: np.ndarray | None, message: np.ndarray, s: MasterSettings) -> np.ndarray:
    """chime, opening phrase, message × repeat with pauses, chime."""
    return np.concatenate(layout(opening, message, s)).astype(np.float32)


def db(x: float) -> float:
    return float(20 * np.log10(max(x, 1e-12)))


def _runs(hot: np.ndarray, reach: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted sample indices → the spans [starts, ends) covering each one ± reach, merged."""
    cut = np.flatnonzero(np.diff(hot) > 2 * reach) + 1
    firsts, lasts = hot[np.r_[0, cut]], hot[np.r_[cut - 1, hot.size - 1]]
    return np.maximum(firsts - reach, 0), np.minimum(lasts + reach + 1, n)


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The indices of the spans [starts, ends), concatenated."""
    lengths = ends - starts
    return np.repeat(starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths) + np.arange(lengths.sum())


@dataclass(frozen=True)
class Peaks:
    """Per-sample 4x-oversampled peak magnitude (the sample and the three values after it),
    computed only where it can exceed `floor` (at `index`); everywhere else it is ≤ floor."""

    floor: float
    index: np.ndarray
    values: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, floor: float) -> Peaks:
        n = len(x)
        hot = np.flatnonzero(np.abs(x) > floor / INTERPOLATOR_GAIN)
        if hot.size == 0:
            return cls(floor, hot, np.zeros(0, np.float32))
        starts, ends = _runs(hot, _REACH, n)
        # All spans in one buffer, each with _REACH samples of context either side: the
        # interpolation is exact where kept, and wrong only in the context, next to a join.
        lo, hi = np.maximum(starts - _REACH, 0), np.minimum(ends + _REACH, n)
        up = np.abs(resample_poly(x[_ranges(lo, hi)], OVERSAMPLE, 1, window=_INTERPOLATOR))
        at = np.r_[0, np.cumsum(hi - lo)[:-1]] - lo  # buffer position of sample 0 of each span
        keep = _ranges(starts + at, ends + at)
        return cls(floor, _ranges(starts, ends), up.reshape(-1, OVERSAMPLE).max(axis=1)[keep])

    def max(self) -> float:
        """The true peak if it is over `floor`, else `floor` (an upper bound)."""
        return max(self.floor, float(self.values.max(initial=0.0)))


def true_peak_dbtp(x: np.ndarray) -> float:
    if not len(x):
        return db(0.0)
    return db(Peaks.of(x, float(np.max(np.abs(x)))).max())


def loudness_lufs(x: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    return float(pyloudnorm.Meter(rate).integrated_loudness(x.astype(np.float64)))


def _energy(x: np.ndarray) -> float:
    return float(np.dot(x, x))


def _limiter_curve(peaks: Peaks, gain: float, ceiling: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Where a look-ahead limiter lowers x × gain so that every 4x-oversampled peak stays
    ≤ ceiling (linear), and its gain there (≤ 1). `peaks` must be exact down to ceiling / gain."""
    assert peaks.floor <= ceiling / gain * 1.0001, "peaks computed for a lower gain"
    loud = peaks.values * gain > ceiling
    over = peaks.index[loud]
    if over.size == 0:
        return over, np.ones(0, np.float32)
    # The min over a window, averaged over the same window, never exceeds what a peak needs
    # there and ramps smoothly (no hard clipping distortion). It reaches 1.5 w from a peak, so
    # spans of 2 w either side, joined, give the curve of the whole signal where it is not 1.
    w = _LIMITER_WIDTH
    at = _ranges(*_runs(over, 2 * w, n))
    needed = np.ones(len(at), dtype=np.float32)
    needed[np.searchsorted(at, over)] = ceiling / (gain * peaks.values[loud])
    curve = uniform_filter1d(minimum_filter1d(needed, size=2 * w + 1, mode="nearest"), w, mode="nearest")
    return at, curve


def _normalised(x: np.ndarray, level: float, target: float, ceiling_dbtp: float) -> np.ndarray:
    """Gain from `level` to `target` LUFS, then the limiter at the ceiling. The limiter lowers
    the loudness of peaky speech a little, so the gain is raised by what it took away."""
    ceiling = 10 ** (ceiling_dbtp / 20)
    energy = _energy(x)
    gain_db = target - level
    peaks: Peaks | None = None
    tried: tuple[float, float] | None = None
    for _ in range(8):
        gain = 10 ** (gain_db / 20)
        if peaks is None or peaks.floor > ceiling / gain:
            peaks = Peaks.of(x, ceiling / gain / 10 ** (2 / 20))  # room for the gain to rise 2 dB
        at, curve = _limiter_curve(peaks, gain, ceiling, len(x))
        part = x[at]
        taken = float(np.dot(part * part, 1 - curve * curve))  # in units of x: × gain² below
        reached = level + gain_db + 10 * np.log10(max(1 - taken / energy, 1e-12))
        error = target - reached
        if abs(error) < 0.05:
            break
        # More gain, more limiting: step by the slope seen so far (secant), not 1 dB per dB.
        slope = 1.0 if tried is None or reached == tried[1] else (gain_db - tried[0]) / (reached - tried[1])
        tried = (gain_db, reached)
        gain_db += error * min(max(slope, 1.0), 4.0)
    y = (x * np.float32(gain)).astype(np.float32)
    y[at] *= curve
    return y


def limit(x: np.ndarray, ceiling_dbtp: float) -> np.ndarray:
    """Look-ahead peak limiter on the 4x-oversampled peaks (no value over the ceiling)."""
    ceiling = 10 ** (ceiling_dbtp / 20)
    y = x.astype(np.float32)  # a copy unless already float32 …
    y = y.copy() if y is x else y  # … and never the caller's array
    at, curve = _limiter_curve(Peaks.of(y, ceiling), 1.0, ceiling, len(y))
    y[at] *= curve
    return y


def band_limit(x: np.ndarray) -> np.ndarray:
    """Low-pass at 9 kHz: horn loudspeakers stop well below, and the MP3 encoder would cut
    there anyway, which would lower the loudness measured after encoding."""
    return sosfilt(_LOWPASS, x).astype(np.float32)


def normalise_loudness(x: np.ndarray, s: MasterSettings) -> np.ndarray:
    """The signal at the target loudness, its true peak limited with room for MP3 coding."""
    x = x.astype(np.float32)
    level = loudness_lufs(x)
    if not np.isfinite(level):
        return x  # silence: nothing to normalise
    return _normalised(x, level, s.target_lufs, s.true_peak_dbtp - MP3_MARGIN_DB)


def encode_mp3(x: np.ndarray, bitrate_kbps: int) -> bytes:
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate_kbps)
    encoder.set_in_sample_rate(SAMPLE_RATE)
    encoder.set_out_sample_rate(SAMPLE_RATE)  # LAME would resample low bitrates to 22.05 kHz
    encoder.set_channels(1)
    encoder.set_quality(5)  # 2 = best … 7 = fastest; 5 is transparent for speech at 64 kbps
    pcm = (np.clip(x, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    return bytes(encoder.encode(pcm) + encoder.flush())


def decode_mp3(mp3: bytes) -> np.ndarray:
    samples, rate = sf.read(io.BytesIO(mp3), dtype="float32")
    if rate != SAMPLE_RATE:
        raise ValueError(f"MP3 decoded at {rate} Hz, expected {SAMPLE_RATE}")
    return samples


def encode_pieces(y: np.ndarray, pieces: Sequence[np.ndarray], bitrate_kbps: int) -> bytes:
    """`y` (the mastered pieces, joined) as MP3, each piece encoded once: a repeated piece's
    frames are used again. MP3 streams can be joined frame by frame; where they meet there is
    silence, so the join is inaudible (each adds ~60 ms of encoder delay and padding to it)."""
    frames: dict[int, bytes] = {}
    out = bytearray()
    at = 0
    for piece in pieces:
        if id(piece) not in frames:
            frames[id(piece)] = encode_mp3(y[at : at + len(piece)], bitrate_kbps)
        out += frames[id(piece)]
        at += len(piece)
    return bytes(out)


def master(opening: np.ndarray | None, message: np.ndarray, s: MasterSettings) -> tuple[bytes, float]:
    """The untagged MP3 of a broadcast and its duration in seconds."""
    pieces = layout(opening, message, s)
    x = band_limit(np.concatenate(pieces))  # the pieces start and end in silence: no ringing across
    level = loudness_lufs(x)
    if not np.isfinite(level):  # silence: nothing to normalise
        mp3 = encode_pieces(x, pieces, s.bitrate_kbps)
        return mp3, len(decode_mp3(mp3)) / SAMPLE_RATE
    allowed = s.true_peak_dbtp - TRUE_PEAK_GUARD_DB
    # Aims in the encoder's input scale: what the file should measure, less the encoder's gain.
    target = s.target_lufs - ENCODER_GAIN_DB
    ceiling = allowed - MP3_MARGIN_DB - ENCODER_GAIN_DB
    energy = _energy(x)
    for attempt in range(1, MAX_ENCODES + 1):
        mp3 = encode_pieces(_normalised(x, level, target, ceiling), pieces, s.bitrate_kbps)
        # What people will hear: the decoded file. Its loudness is the assembled clip's, moved
        # by every gain since (normalisation, limiter, encoder): the ratio of the energies.
        heard = decode_mp3(mp3)
        lufs = level + 10 * np.log10(max(_energy(heard), 1e-30) / energy)
        peak = db(Peaks.of(heard, 10 ** (allowed / 20)).max())
        if peak <= allowed and abs(lufs - s.target_lufs) <= LOUDNESS_TOLERANCE_LU:
            break
        log.info("master: encode %d measured %.2f LUFS, %.2f dBTP; encoding again", attempt, lufs, peak)
        target += s.target_lufs - lufs
        if peak > allowed:
            ceiling -= peak - allowed + 0.1
    else:
        log.warning("master: %.2f LUFS, %.2f dBTP after %d encodes", lufs, peak, MAX_ENCODES)
    return mp3, len(heard) / SAMPLE_RATE


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
