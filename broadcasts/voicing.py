"""The room's voice lent to other rooms: a short text said in a village's voice.

Front ends (voice replies in the bot) come through here rather than reaching into the
TTS engine, the text normaliser or the cache layout, so the broadcast room can change those
behind its door.
"""

from __future__ import annotations

from pathlib import Path

from broadcasts.output import cache_dir
from broadcasts.textnorm import normalise, unsayable
from broadcasts.tts import Clip, SpeechService
from core.config import AppConfig

DEFAULT_VOICE = "zh-CN-XiaoxiaoNeural"


class Speaker:
    """Says normalised text in a village's neural voice (espeak-ng when that fails); clips cached."""

    def __init__(self, config: AppConfig, speech: SpeechService | None = None) -> None:
        self.config = config
        self.cache_root: Path = cache_dir(config)
        self.speech = speech or SpeechService(config.broadcasts, self.cache_root)

    def voice_of(self, village_id: str | None) -> tuple[str, str]:
        village = self.config.villages.get(village_id or "")
        return (village.voice, village.offline_language) if village else (DEFAULT_VOICE, "cmn")

    async def say(self, text: str, village_id: str | None = None) -> Clip:
        """Raises broadcasts.errors.BroadcastError when no engine could say it."""
        voice, language = self.voice_of(village_id)
        return await self.speech.speak(normalise(text), voice, language)


def unsayable_characters(text: str) -> set[str]:
    """Characters no Chinese voice can say (emoji, symbols from other scripts)."""
    return set(unsayable(text))
