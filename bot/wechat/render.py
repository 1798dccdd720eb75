"""WeChat has no inline buttons: the engine's buttons become choices in the text.

Each choice is a tappable link (`weixin://bizmsgmenu`, WeChat's menu-in-message: a tap
sends the label back with its number as `bizmsgmenuid`) and can also be typed: its label,
or its number.  Numbers are positions only when no label is itself a number — in "几个人?
1人 2人 … 不点了" a typed 5 means five people, so there a number matches the label that
says it ("5人", "5颗星") and anything else goes to the engine as text.

The choices last shown to a user are kept in the database (`wechat_choices`), so a typed
number means the same on every instance and after a restart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.messages import Reply
from bot.wechat.models import WeChatChoices
from core.db import Database

MAX_BYTES = 2000  # WeChat's text limit is 2048 bytes
_NUMBER = re.compile(r"\d+")
_UNSAFE = re.compile(r'[<>&"]')


@dataclass(frozen=True)
class Choice:
    label: str
    data: str  # the engine's signed button data


def wechat_label(label: str) -> str:
    """Labels that read well in plain text: ⭐⭐⭐ → 3颗星."""
    if label and set(label) == {"⭐"}:
        return f"{len(label)}颗星"
    return _UNSAFE.sub("", label)


def _number(label: str) -> int | None:
    found = _NUMBER.search(label)
    return int(found.group()) if found else None


def by_position(choices: Sequence[Choice]) -> bool:
    return not any(_number(c.label) is not None for c in choices)


def render(replies: Sequence[Reply]) -> tuple[str, list[Choice]]:
    """The text of the replies with their buttons as choice lines; the choices in order."""
    choices = [Choice(wechat_label(b.label), b.data) for r in replies for row in r.buttons for b in row]
    numbered = by_position(choices)
    parts: list[str] = []
    n = 0
    for reply in replies:
        lines = [reply.text]
        for row in reply.buttons:
            for _button in row:
                n += 1
                label = choices[n - 1].label
                link = f'<a href="weixin://bizmsgmenu?msgmenucontent={label}&msgmenuid={n}">{label}</a>'
                lines.append(f"{n}. {link}" if numbered else f"· {link}")
        parts.append("\n".join(lines))
    if choices:
        parts.append("(点一下,或者回复序号)" if numbered else "(点一下,或者直接打字回复)")
    return "\n\n".join(parts), choices


def pick(text: str, menu_choice: int | None, choices: Sequence[Choice]) -> str | None:
    """The button data a message presses, or None when it is just text."""
    if menu_choice is not None:
        return choices[menu_choice - 1].data if 1 <= menu_choice <= len(choices) else None
    typed = text.strip()
    for choice in choices:
        if typed == choice.label:
            return choice.data
    if not typed.isdigit():
        return None
    number = int(typed)
    if by_position(choices):
        return choices[number - 1].data if 1 <= number <= len(choices) else None
    return next((c.data for c in choices if _number(c.label) == number), None)


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
