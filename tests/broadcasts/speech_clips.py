"""A day's worth of different clips to master: library scripts and typical announcements,
voiced for real by espeak-ng in Mandarin and Cantonese at the rates villages use.
Shared by tests/broadcasts/test_broadcasts_mastering.py and benchmarks/mastering.py."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from broadcasts import audio
from broadcasts.library import default_library
from broadcasts.textnorm import normalise
from broadcasts.tts import SpeechService
from core.config import BroadcastSettings

OPENING = "各位村民请注意"
ANNOUNCEMENTS = [
    "明天上午九点在村委会开展义诊,请有需要的老人带好医保卡。",
    "今晚有大风降温,请大家关好门窗,收好晾晒的粮食。",
    "停水通知:六月三日下午两点到五点,全村停水检修,请提前储水。联系电话13800138000。",
    "本周六上午,新时代文明实践站组织志愿者为独居老人打扫卫生、理发,需要的请到站里登记。",
]
# (offline language, rate): Mandarin and Cantonese villages, the default rate and the others.
VOICES = [("cmn", "-10%"), ("yue", "-10%"), ("cmn", "+0%"), ("yue", "-20%"), ("cmn", "-20%")]


@dataclass(frozen=True)
class SpeechClip:
    label: str
    opening: np.ndarray  # 24 kHz float32, as Generator hands them to audio.master
    message: np.ndarray


async def day_of_clips(cache_dir: Path, count: int = 12) -> list[SpeechClip]:
    """`count` different (text, language, rate) clips: announcements and every few library scripts."""
    scripts = default_library().scripts
    texts = ANNOUNCEMENTS + [s.text for s in scripts[::5]]
    clips = []
    for n in range(count):
        language, rate = VOICES[n % len(VOICES)]
        speech = SpeechService(BroadcastSettings(edge_enabled=False, rate=rate), cache_dir)
        opening = await speech.speak(normalise(OPENING), "zh-CN-XiaoxiaoNeural", language)
        message = await speech.speak(normalise(texts[n % len(texts)]), "zh-CN-XiaoxiaoNeural", language)
        clips.append(
            SpeechClip(
                f"{n:02d}-{language}{rate}",
                audio.resample(opening.samples, opening.rate),
                audio.resample(message.samples, message.rate),
            )
        )
    return clips


def ffmpeg_r128(mp3: bytes) -> tuple[float, float]:
    """(integrated loudness LUFS, true peak dBTP) of an MP3 as ffmpeg's ebur128 filter measures
    it: an independent meter and decoder (3 decimals, from the filter's metadata)."""
    out = subprocess.run(
        ["ffmpeg", "-nostats", "-hide_banner", "-i", "-", "-af",
         "ebur128=peak=true:metadata=1,ametadata=mode=print:file=-", "-f", "null", "-"],
        input=mp3, capture_output=True, check=True, timeout=60,
    ).stdout.decode()  # fmt: skip
    last = dict(line.split("=", 1) for line in out.splitlines() if line.startswith("lavfi.r128."))
    return float(last["lavfi.r128.I"]), audio.db(float(last["lavfi.r128.true_peak"]))
