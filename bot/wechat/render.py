"""WeChat has no inline buttons: the engine's buttons become choices in the text (bot.choices).

Each choice is a tappable link (`weixin://bizmsgmenu`, WeChat's menu-in-message: a tap
sends the label back with its number as `bizmsgmenuid`) and can also be typed: its label,
or its number (see bot.choices for when a number is a position).

The choices last shown to a user are kept in the database (`wechat_choices`), so a typed
number means the same on every instance and after a restart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime

from bot import choices
from bot.choices import Choice, plain_label
from bot.messages import Reply
from bot.wechat.models import WeChatChoices
from core.db import Database

MAX_BYTES = 2000  # WeChat's text limit is 2048 bytes
_UNSAFE = re.compile(r'[<>&"]')
HINTS = ("(点一下,或者回复序号)", "(点一下,或者直接打字回复)")


def wechat_label(label: str) -> str:
    """Labels that read well in plain text (⭐⭐⭐ → 3颗星) and fit in a link."""
    return _UNSAFE.sub("", plain_label(label))


def _link(n: int, label: str) -> str:
    return f'<a href="weixin://bizmsgmenu?msgmenucontent={label}&msgmenuid={n}">{label}</a>'


def render(replies: Sequence[Reply]) -> tuple[str, list[Choice]]:
    """The text of the replies with their buttons as tappable choice lines; the choices in order."""
    return choices.render(replies, label=wechat_label, show=_link, hints=HINTS)


def split(text: str, limit: int = MAX_BYTES) -> list[str]:
    """Messages of at most `limit` UTF-8 bytes, cut between lines where possible."""
    out: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode()) <= limit:
            current = candidate
            continue
        if current:
            out.append(current)
        while len(line.encode()) > limit:  # one enormous line: cut by characters
            cut = len(line.encode()[:limit].decode(errors="ignore"))
            out.append(line[:cut])
            line = line[cut:]
        current = line
    if current or not out:
        out.append(current)
    return out


class ChoiceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def load(self, user_key: str) -> list[Choice]:
        with self.db.session() as s:
            row = s.get(WeChatChoices, user_key)
            return [Choice(label, data) for label, data in json.loads(row.choices)] if row else []

    def save(self, user_key: str, choices: Sequence[Choice], now: datetime) -> None:
        """Remember the choices just shown; a message without buttons keeps the last ones."""
        if not choices:
            return
        value = json.dumps([[c.label, c.data] for c in choices], ensure_ascii=False)
        with self.db.session() as s:
            row = s.get(WeChatChoices, user_key)
            if row is None:
                s.add(WeChatChoices(user_key=user_key, choices=value, updated_at=now))
            else:
                row.choices, row.updated_at = value, now
