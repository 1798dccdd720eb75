"""The per-resident setting 语音回复: replies (confirmations, order news) also as voice."""

from __future__ import annotations

from bot.state import Conversation, ConversationStore
from bot.turn import Turn

PROFILE_KEY = "voice_reply"
VOICE_ON = "好的,以后我回您的话也会发一段语音。想关掉,再点一次“语音回复”。"
VOICE_OFF = "好的,语音回复关了,以后只发文字。"


def wants_voice(conversation: Conversation) -> bool:
    return bool(conversation.profile.get(PROFILE_KEY))


def wants_voice_of(store: ConversationStore, user_key: str) -> bool:
    return wants_voice(store.load(user_key))


def toggle(turn: Turn) -> None:
    on = not wants_voice(turn.conv)
    turn.conv.profile[PROFILE_KEY] = on
    turn.say(VOICE_ON if on else VOICE_OFF)
