"""Buttons for channels without buttons: the engine's buttons as choices written into the
text, pressed by typing (WeChat, the terminal).  One piece of code for every such channel.

Numbers are positions only when no label is itself a number — in "几个人? 1人 2人 … 不点了"
a typed 5 means five people, so there a number matches the label that says it ("5人",
"5颗星") and anything else goes to the engine as text.  A label typed in full presses it too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.messages import Reply

_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Choice:
    label: str
    data: str  # the engine's signed button data


def plain_label(label: str) -> str:
    """Labels that read well in plain text: ⭐⭐⭐ → 3颗星."""
    return f"{len(label)}颗星" if label and set(label) == {"⭐"} else label


def _number(label: str) -> int | None:
    found = _NUMBER.search(label)
    return int(found.group()) if found else None


def by_position(choices: Sequence[Choice]) -> bool:
    return not any(_number(c.label) is not None for c in choices)


def render(
    replies: Sequence[Reply],
    *,
    label: Callable[[str], str] = plain_label,
    show: Callable[[int, str], str] = lambda n, text: text,
    hints: tuple[str, str] = ("(回复序号)", "(直接打字回复)"),
) -> tuple[str, list[Choice]]:
    """The text of the replies, each followed by its buttons as choice lines ("1. 东山村", or
    "· 2人" where labels carry numbers), then a hint (by position, by label); the choices in
    order.  `show(n, label)` formats a choice (WeChat makes it a tappable link)."""
    choices = [Choice(label(b.label), b.data) for r in replies for row in r.buttons for b in row]
    numbered = by_position(choices)
    parts: list[str] = []
    n = 0
    for reply in replies:
        lines = [reply.text]
        for _ in (b for row in reply.buttons for b in row):
            n += 1
            shown = show(n, choices[n - 1].label)
            lines.append(f"{n}. {shown}" if numbered else f"· {shown}")
        parts.append("\n".join(lines))
    if choices:
        parts.append(hints[0] if numbered else hints[1])
    return "\n\n".join(parts), choices


def pick(text: str, choices: Sequence[Choice], menu_choice: int | None = None) -> str | None:
    """The button data a message presses, or None when it is just text.  `menu_choice` is a
    choice's number the channel says was tapped (WeChat's bizmsgmenuid)."""
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
