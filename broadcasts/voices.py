"""The Chinese neural voices edge-tts offers (its voice list needs the internet, so ship it)."""

from __future__ import annotations

from dataclasses import dataclass

from broadcasts.errors import InvalidBroadcast


@dataclass(frozen=True)
class Voice:
    name: str
    locale: str
    gender: str
    label: str  # Chinese description for the console
    offline_language: str  # espeak-ng language that suits listeners of this voice


# edge-tts 7.x `--list-voices`, zh-* entries (Microsoft's free Edge read-aloud voices).
ZH_VOICES: tuple[Voice, ...] = (
    Voice("zh-CN-XiaoxiaoNeural", "zh-CN", "Female", "晓晓(普通话,女声,温暖)", "cmn"),
    Voice("zh-CN-XiaoyiNeural", "zh-CN", "Female", "晓伊(普通话,女声,活泼)", "cmn"),
    Voice("zh-CN-YunjianNeural", "zh-CN", "Male", "云健(普通话,男声,激情)", "cmn"),
    Voice("zh-CN-YunxiNeural", "zh-CN", "Male", "云希(普通话,男声,阳光)", "cmn"),
    Voice("zh-CN-YunxiaNeural", "zh-CN", "Male", "云夏(普通话,男声,少年)", "cmn"),
    Voice("zh-CN-YunyangNeural", "zh-CN", "Male", "云扬(普通话,男声,播音)", "cmn"),
    Voice("zh-CN-liaoning-XiaobeiNeural", "zh-CN-liaoning", "Female", "晓北(东北话,女声)", "cmn"),
    Voice("zh-CN-shaanxi-XiaoniNeural", "zh-CN-shaanxi", "Female", "晓妮(陕西话,女声)", "cmn"),
    Voice("zh-HK-HiuGaaiNeural", "zh-HK", "Female", "曉佳(粤语,女声)", "yue"),
    Voice("zh-HK-HiuMaanNeural", "zh-HK", "Female", "曉曼(粤语,女声)", "yue"),
    Voice("zh-HK-WanLungNeural", "zh-HK", "Male", "雲龍(粤语,男声)", "yue"),
    Voice("zh-TW-HsiaoChenNeural", "zh-TW", "Female", "曉臻(台湾普通话,女声)", "cmn"),
    Voice("zh-TW-HsiaoYuNeural", "zh-TW", "Female", "曉雨(台湾普通话,女声)", "cmn"),
    Voice("zh-TW-YunJheNeural", "zh-TW", "Male", "雲哲(台湾普通话,男声)", "cmn"),
)
VOICES = {v.name: v for v in ZH_VOICES}


def check_voice(name: str) -> Voice:
    """The voice, or a clear error naming the voices that exist."""
    voice = VOICES.get(name)
    if voice is None:
        raise InvalidBroadcast(
            f"没有这个播音员声音:{name}",
            f"unknown voice {name!r}; known zh voices: {', '.join(VOICES)}",
        )
    return voice
