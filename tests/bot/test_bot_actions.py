"""Named button actions: each has one handler, reads back exactly as it was made, stays short
and keeps the wire codes of earlier releases; buttons as typed choices for text-only channels."""

from __future__ import annotations

import pytest

from bot.actions import SHAPES, Action, Press, make_button, read_press
from bot.callbacks import MAX_DATA, CallbackSigner
from bot.choices import Choice, pick, render
from bot.engine import BUTTONS
from bot.messages import Button, Reply
from core.config import AppConfig

SIGNER = CallbackSigner(b"k" * 32)
USER = "tg:555001"
SAMPLE = {int: 123456, str: "qingshi_volunteers"}


def read(button: Button) -> Press | None:
    return read_press(SIGNER.verify(USER, button.data) or [])


def test_every_action_has_one_shape_and_one_handler() -> None:
    assert set(SHAPES) == set(Action) == set(BUTTONS)


@pytest.mark.parametrize("action", list(Action))
def test_each_action_reads_back_as_made(action: Action) -> None:
    shape = SHAPES[action]
    args = tuple(SAMPLE[t] for t in shape.params)
    step = 7 if shape.dialogue else None
    button = make_button(SIGNER, USER, "标签", action, *args, step=step)
    assert read(button) == Press(action, args, step)
    assert len(button.data.encode()) <= MAX_DATA


def test_wire_codes_are_those_of_earlier_releases() -> None:
    def payload(action: Action, *args: int | str, step: int | None = None) -> str:
        return make_button(SIGNER, USER, "x", action, *args, step=step).data.rpartition(".")[0]

    assert payload(Action.accept, 17) == "a:17"
    assert payload(Action.rate, 17, 5) == "r:17:5"
    assert payload(Action.start_order) == "menu:order"
    assert payload(Action.pick_village, "dongshan", step=4) == "v:dongshan:4"
    assert payload(Action.show_themes, step=4) == "t:-:4"
    assert payload(Action.pick_theme, 2, step=4) == "t:2:4"
    assert read_press(["t", "-", "4"]) == Press(Action.show_themes, (), 4)
    assert read_press(["menu", "vol"]) == Press(Action.volunteer, ())


def test_every_real_button_fits_telegram(config: AppConfig) -> None:
    longest = max([*config.villages, *config.services, *config.teams_by_id], key=len)
    for action, shape in SHAPES.items():
        args = tuple(999999 if t is int else longest for t in shape.params)
        make_button(SIGNER, "tg:-1001234567890", "x", action, *args, step=99999 if shape.dialogue else None)


@pytest.mark.parametrize(
    "parts",
    [[], ["zz", "1"], ["a"], ["a", "x"], ["a", "1", "2"], ["r", "1"], ["v", "dongshan"], ["v", "dongshan", "x"],
     ["p", "1", "2"], ["menu"], ["menu", "nope"], ["ok", "1", "2"]],
)  # fmt: skip
def test_malformed_payloads_read_as_nothing(parts: list[str]) -> None:
    assert read_press(parts) is None


def test_buttons_are_made_only_with_their_arguments() -> None:
    with pytest.raises(TypeError):
        make_button(SIGNER, USER, "x", Action.accept, "17")
    with pytest.raises(TypeError):
        make_button(SIGNER, USER, "x", Action.accept)
    with pytest.raises(TypeError):
        make_button(SIGNER, USER, "x", Action.pick_count, 3)  # a dialogue button needs its step
    with pytest.raises(TypeError):
        make_button(SIGNER, USER, "x", Action.accept, 17, step=3)


def test_choices_by_position_or_by_the_number_a_label_says() -> None:
    villages = Reply("您在哪个村?", ((Button("东山村", "v1"), Button("西河村", "v2")), (Button("不点了", "x"),)))
    text, choices = render([Reply("好的。"), villages])
    assert text == "好的。\n\n您在哪个村?\n1. 东山村\n2. 西河村\n3. 不点了\n\n(回复序号)"
    assert [pick(t, choices) for t in ("2", " 西河村 ", "不点了", "4", "0", "东山")] == [
        "v2",
        "v2",
        "x",
        None,
        None,
        None,
    ]
    counts = Reply("几个人?", ((Button("1人", "n1"), Button("5人", "n5"), Button("不点了", "x")),))
    text, choices = render([counts])
    assert "· 5人" in text and "1. " not in text and text.endswith("(直接打字回复)")
    assert [pick(t, choices) for t in ("5", "2", "1人")] == ["n5", None, "n1"]  # 2 is just "two people"
    stars = render([Reply("打分", ((Button("⭐⭐⭐", "r3"),),))])[1]
    assert stars == [Choice("3颗星", "r3")] and pick("3", stars) == "r3"
    assert pick("whatever", stars, menu_choice=1) == "r3" and pick("x", stars, menu_choice=2) is None
    assert render([Reply("没有按钮")]) == ("没有按钮", [])
