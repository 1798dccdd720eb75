"""语音回复: a reply also as a short voice message, voiced by the broadcast TTS.

The speech comes from the broadcast room's `broadcasts.voicing.Speaker` (edge-tts in the resident's village
voice, espeak-ng when that fails), which caches clips; the encoded file (MP3 for WeChat,
OGG/Opus for Telegram) is cached beside the broadcast cache, so a message said often
("单子下好了" with the same number is rare, "好的,这次不点了" is not) is voiced once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re

from bot.voice.audio import AudioError, encode
from broadcasts.errors import BroadcastError
from broadcasts.voicing import Speaker, unsayable_characters
from core.config import AppConfig
from core.files import write_atomic

log = logging.getLogger(__name__)

NUMBERED_LINE = re.compile(r"^\s*\d+\.\s.*$", re.M)  # "2. 我的单子": choices are read, not heard


def speakable(text: str, max_chars: int) -> str:
    """The part of a reply worth saying: no numbered choices, no emoji, at most max_chars."""
    t = NUMBERED_LINE.sub("", text)
    t = t.replace("⭐", "星")
    bad = unsayable_characters(t) - {"\n"}
    t = "".join(c for c in t if c not in bad)
    t = re.sub(r"\s*\n\s*", ",", t.strip()).strip(",")
    if len(t) > max_chars:
        cut = max(t.rfind(p, 0, max_chars) for p in "。!?;")
        t = t[: cut + 1] if cut > max_chars // 3 else t[:max_chars]
    return t


class VoiceReplies:
    def __init__(self, config: AppConfig, speaker: Speaker | None = None) -> None:
        self.config = config
        self.speaker = speaker or Speaker(config)
        self.dir = self.speaker.cache_root / "voice-replies"
        self.made = 0
        self.reused = 0

    async def voice(self, text: str, fmt: str, village_id: str | None = None) -> bytes | None:
        """The reply as MP3/OGG bytes, or None when there is nothing to say or speech failed."""
        spoken = speakable(text, self.config.voice.reply_max_chars)
        if not re.search(r"[\u4e00-\u9fff0-9A-Za-z]", spoken):
            return None
        voice, language = self.speaker.voice_of(village_id)
        key = hashlib.sha256(json.dumps([spoken, voice, language, fmt], ensure_ascii=False).encode()).hexdigest()
        path = self.dir / key[:2] / f"{key}.{fmt}"
        if path.exists():
            self.reused += 1
            return path.read_bytes()
        try:
            clip = await self.speaker.say(spoken, village_id)
            data = await encode(clip.samples, clip.rate, fmt, ffmpeg=self.config.voice.ffmpeg)
        except (BroadcastError, AudioError) as exc:
            log.warning("voice reply not made (%s)", type(exc).__name__)
            return None
        write_atomic(path, data)
        self.made += 1
        return data
