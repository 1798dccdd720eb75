"""Channel-neutral input and output of the dialogue engine; adapters render these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class InboundKind(StrEnum):
    text = "text"  # a typed message (commands included)
    button = "button"  # a pressed button: `data` holds the signed callback data
    voice = "voice"  # a voice message nobody could turn into words (no ASR server, nothing heard)
    unsupported = "unsupported"  # sticker, photo, location…


@dataclass(frozen=True)
class Inbound:
    """One thing a person did, already stripped of the channel's details."""

    user_key: str  # "tg:123" or "cli:demo": who acts (and where replies go)
    update_key: str  # unique per delivery source, e.g. "tg:u:4711"; used for de-duplication
    kind: InboundKind
    received_at: datetime
    text: str = ""
    data: str = ""


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # signed callback data (≤ 64 bytes, Telegram's limit)


@dataclass(frozen=True)
class Audio:
    """A recording to send with the reply (its text becomes the caption)."""

    path: str  # an MP3 on this machine
    title: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    # Replace the message whose button was pressed instead of sending a new one.
    edit: bool = False
    audio: Audio | None = None


@dataclass(frozen=True)
class Notice:
    """A message to somebody else (a volunteer, staff, a resident about their order)."""

    to: str  # user key, e.g. "tg:900001"
    reply: Reply


@dataclass
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    # Text for a popup on the pressed button (Telegram answerCallbackQuery); optional.
    toast: str | None = None

    def say(
        self, text: str, buttons: tuple[tuple[Button, ...], ...] = (), *, edit: bool = False, audio: Audio | None = None
    ) -> Outcome:
        self.replies.append(Reply(text, buttons, edit, audio))
        return self

    def extend(self, other: Outcome) -> Outcome:
        self.replies += other.replies
        self.notices += other.notices
        self.toast = self.toast or other.toast
        return self
