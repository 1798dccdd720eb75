"""What a pressed button asks for: named actions with typed arguments, short on the wire.

A button's data is the action's code, its arguments and — for a button answering one
question of a conversation — the conversation's step number, joined by ":" and signed
(bot.callbacks), e.g. `a:17` (accept order 17) or `v:dongshan:4` (village 东山村, answer to
question 4).  The codes are kept short for Telegram's 64-byte limit and stable across
releases, so buttons already in people's chats keep working after an upgrade.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.callbacks import CallbackSigner
from bot.messages import Button


class Action(StrEnum):
    # The main menu and other buttons that stay valid.
    start_order = "menu:order"
    my_orders = "menu:mine"
    find_staff = "menu:staff"
    volunteer = "menu:vol"
    hear_broadcast = "bc"  # village id
    # Answers to the question just asked (they carry the conversation's step number).
    pick_theme = "t"  # theme position
    show_themes = "t:-"  # back to the list of themes
    pick_service = "s"  # service id
    pick_village = "v"  # village id
    pick_time = "w"  # half-day code, e.g. d1am
    pick_count = "n"  # people
    submit_order = "ok"
    change_order = "no"
    fix_field = "f"  # draft field
    drop_order = "x"
    skip_comment = "rc"
    record_served = "p"  # order id, people served
    staff_village = "hv"  # village id
    drop_announcement = "ax"
    # An order's buttons (the order's state decides whether they still apply).
    ask_cancel = "c"  # order id
    confirm_cancel = "cy"  # order id
    keep_order = "cn"  # order id
    rate = "r"  # order id, stars
    accept = "a"  # order id
    ask_done = "d"  # order id
    reassign = "ra"  # order id, team id


@dataclass(frozen=True)
class Shape:
    params: tuple[type, ...] = ()  # int or str, in order
    dialogue: bool = False  # answers one question: carries the conversation's step number


DIALOGUE = Shape(dialogue=True)
ORDER = Shape((int,))
SHAPES: dict[Action, Shape] = {
    Action.start_order: Shape(),
    Action.my_orders: Shape(),
    Action.find_staff: Shape(),
    Action.volunteer: Shape(),
    Action.hear_broadcast: Shape((str,)),
    Action.pick_theme: Shape((int,), dialogue=True),
    Action.show_themes: DIALOGUE,
    Action.pick_service: Shape((str,), dialogue=True),
    Action.pick_village: Shape((str,), dialogue=True),
    Action.pick_time: Shape((str,), dialogue=True),
    Action.pick_count: Shape((int,), dialogue=True),
    Action.submit_order: DIALOGUE,
    Action.change_order: DIALOGUE,
    Action.fix_field: Shape((str,), dialogue=True),
    Action.drop_order: DIALOGUE,
    Action.skip_comment: DIALOGUE,
    Action.record_served: Shape((int, int), dialogue=True),
    Action.staff_village: Shape((str,), dialogue=True),
    Action.drop_announcement: DIALOGUE,
    Action.ask_cancel: ORDER,
    Action.confirm_cancel: ORDER,
    Action.keep_order: ORDER,
    Action.rate: Shape((int, int)),
    Action.accept: ORDER,
    Action.ask_done: ORDER,
    Action.reassign: Shape((int, str)),
}
_BY_CODE = {a.value: a for a in Action}


@dataclass(frozen=True)
class Press:
    """A pressed button, read back: what it asks for, its arguments, and (dialogue buttons)
    the step number of the question it answers."""

    action: Action
    args: tuple[int | str, ...]
    step: int | None = None


def make_button(
    signer: CallbackSigner, user_key: str, label: str, action: Action, *args: int | str, step: int | None = None
) -> Button:
    """A button for one person; `step` is required exactly for dialogue actions."""
    shape = SHAPES[action]
    if len(args) != len(shape.params) or not all(isinstance(a, t) for a, t in zip(args, shape.params, strict=True)):
        raise TypeError(f"{action.name} takes {[t.__name__ for t in shape.params]}, got {args!r}")
    if shape.dialogue != (step is not None):
        raise TypeError(f"{action.name}: a step number goes with dialogue buttons only")
    tail = (step,) if step is not None else ()
    return signer.button(user_key, label, action.value, *args, *tail)


def read_press(parts: list[str]) -> Press | None:
    """The press a verified payload stands for; None for anything malformed."""
    if not parts:
        return None
    if ":".join(parts[:2]) in _BY_CODE:  # a two-part code: menu:order, t:-
        action, rest = _BY_CODE[":".join(parts[:2])], parts[2:]
    elif parts[0] in _BY_CODE:
        action, rest = _BY_CODE[parts[0]], parts[1:]
    else:
        return None
    shape = SHAPES[action]
    step: int | None = None
    if shape.dialogue:
        if not rest or not rest[-1].isdigit():
            return None
        step, rest = int(rest[-1]), rest[:-1]
    if len(rest) != len(shape.params):
        return None
    args: list[int | str] = []
    for value, kind in zip(rest, shape.params, strict=True):
        if kind is int and not value.isdigit():
            return None
        args.append(int(value) if kind is int else value)
    return Press(action, tuple(args), step)
