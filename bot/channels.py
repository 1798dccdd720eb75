"""Where a message to somebody goes: each running front end registers the channel of its
user keys ("tg" for Telegram, "wx" for WeChat), so a turn on one channel can notify people
on another (a WeChat resident's hand-off reaches staff on Telegram)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.messages import Notice

log = logging.getLogger(__name__)

Sender = Callable[[Notice], Awaitable[bool]]


def channel_of(user_key: str) -> str:
    return user_key.partition(":")[0]


class Channels:
    def __init__(self) -> None:
        self._senders: dict[str, Sender] = {}

    def register(self, channel: str, send: Sender) -> None:
        self._senders[channel] = send

    def handles(self, user_key: str) -> bool:
        return channel_of(user_key) in self._senders

    async def send(self, notice: Notice) -> bool:
        """False only on a temporary failure; a channel that is not running drops the notice."""
        send = self._senders.get(channel_of(notice.to))
        if send is None:
            log.info("notice for a %s user dropped: that channel is not running", channel_of(notice.to))
            return True
        return await send(notice)
