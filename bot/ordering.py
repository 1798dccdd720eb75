"""点单: fill a draft from free text or buttons, ask only for what is missing, confirm, create.

Draft fields in the order they are asked: service → village → time → count → phone (only
where the village requires one).  From the confirmation screen a resident can fix one field;
the others are kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from typing import Concatenate, ParamSpec

from bot import texts
from bot.actions import Action
from bot.nlu import Entities
from bot.state import Draft
from bot.timeslots import choices, describe, slot
from bot.turn import Turn, rows_of
from orders import InvalidOrder, OrderRequest

P = ParamSpec("P")
STEPS = ("service", "village", "time", "count", "phone")
COUNT_CHOICES = (1, 2, 3, 5, 10)
FIELD_LABELS = {"service": "服务", "village": "村", "time": "时间", "count": "人数", "phone": "电话"}
_PHONE = re.compile(r"1\d{10}")
_CN_DIGITS = {ch: n for n, chars in enumerate(" 一两三四五六七八九十") for ch in chars if n}
_CN_DIGITS["二"] = 2


def themes(turn: Turn) -> list[str]:
    seen: list[str] = []
    for service in _menu(turn):
        if service.theme not in seen:
            seen.append(service.theme)
    return seen


def _menu(turn: Turn) -> list:  # list[Service]
    draft = turn.conv.draft
    if draft and draft.village:
        return turn.config.services_for_village(draft.village)
    return list(turn.config.menu.services)


def start(turn: Turn) -> Draft:
    """A new draft, pre-filled with what this resident told us last time (their village)."""
    draft = Draft(key=turn.inbound.update_key)
    village = turn.conv.profile.get("village")
    if village in turn.config.villages:
        draft.village = village
        if turn.config.villages[village].require_phone:
            draft.phone = turn.conv.profile.get("phone")
    turn.conv.draft, turn.conv.fixing = draft, False
    return draft


def merge(turn: Turn, e: Entities) -> bool:
    """Put understood values into the draft; True if anything was taken."""
    draft = turn.conv.draft or start(turn)
    taken = False
    if e.village and e.village in turn.config.villages:
        draft.village, taken = e.village, True
    if e.service and e.service in turn.config.services:
        draft.service, draft.theme, taken = e.service, None, True
    if e.time and e.time.end > turn.now:
        draft.set_window(e.time.start, e.time.end)
        taken = True
    if e.count and 1 <= e.count <= turn.config.orders.max_people:
        draft.count, taken = e.count, True
    if e.phone and _PHONE.fullmatch(e.phone):
        draft.phone, taken = e.phone, True
    return taken


# While the bot asks for the village, time, people or phone, the reply answers that question:
# "就我一个人" to 几个人? is a count, not a new request for a visit to someone living alone.
# The service is changed on the confirmation card (改一下), where every field is shown.
_VALUE_STEPS = frozenset({"village", "time", "count", "phone"})


def take_answer(turn: Turn, text: str, e: Entities) -> bool:
    """Read the answer to the current question (with simple rules when NLU missed it)."""
    step, draft = turn.conv.step, turn.conv.draft
    if draft is None:
        return False
    if step in _VALUE_STEPS and draft.service and e.service:
        e = replace(e, service=None)
    if step == "count" and not e.count:
        count = _count(text)
        if count is not None and 1 <= count <= turn.config.orders.max_people:
            draft.count = count
            return True
    if step == "phone" and not e.phone:
        found = _PHONE.search(re.sub(r"[\s-]", "", text))
        if found:
            draft.phone = found.group()
            return True
    return merge(turn, e)


def _count(text: str) -> int | None:
    digits = re.search(r"\d+", text)
    if digits:
        return int(digits.group())
    for ch in text:
        if ch in _CN_DIGITS:
            return _CN_DIGITS[ch]
    return None


def advance(turn: Turn) -> None:
    """Ask for the first missing field, or show the confirmation."""
    draft = turn.conv.draft
    assert draft is not None
    if draft.service and draft.village:
        allowed = {s.id for s in turn.config.services_for_village(draft.village)}
        if draft.service not in allowed:
            village = texts.village_name(turn.config, draft.village)
            service = texts.service_name(turn.config, draft.service)
            turn.say(f"{village}的服务菜单里没有“{service}”,请换一个。")
            draft.service = None
    window = draft.window()
    if window and window[1] <= turn.now:
        turn.say("这个时间已经过去了,请换个时间。")
        draft.start = draft.end = None
    missing = next((f for f in STEPS if _missing(turn, draft, f)), None)
    if missing is None:
        confirm(turn)
    else:
        ask(turn, missing)


def _missing(turn: Turn, draft: Draft, field: str) -> bool:
    if field == "time":
        return draft.window() is None
    if field == "phone":
        village = turn.config.villages.get(draft.village or "")
        return bool(village and village.require_phone and not draft.phone)
    return getattr(draft, field) is None


def ask(turn: Turn, field: str) -> None:
    turn.conv.step = field
    quit_row = (turn.button("不点了", Action.drop_order),)
    if field == "service":
        draft = turn.conv.draft
        if draft and draft.theme:
            services = [s for s in _menu(turn) if s.theme == draft.theme]
            buttons = [turn.button(s.name, Action.pick_service, s.id) for s in services]
            rows = (*rows_of(buttons, 2), (turn.button("看看别的类", Action.show_themes), *quit_row))
            turn.say(texts.ASK_SERVICE, rows)
        else:
            buttons = [turn.button(t, Action.pick_theme, i) for i, t in enumerate(themes(turn))]
            turn.say(texts.ASK_THEME, (*rows_of(buttons, 2), quit_row))
    elif field == "village":
        buttons = [turn.button(v.name, Action.pick_village, v.id) for v in turn.config.villages.values()]
        turn.say(texts.ASK_VILLAGE, (*rows_of(buttons, 3), quit_row))
    elif field == "time":
        buttons = [turn.button(s.label, Action.pick_time, s.code) for s in choices(turn.now)]
        turn.say(texts.ASK_TIME + "也可以直接说,比如“后天上午”。", (*rows_of(buttons, 2), quit_row))
    elif field == "count":
        buttons = [turn.button(f"{n}人", Action.pick_count, n) for n in COUNT_CHOICES]
        turn.say(texts.ASK_COUNT, (tuple(buttons), quit_row))
    else:
        turn.say(texts.ASK_PHONE, (quit_row,))


def summary(turn: Turn, draft: Draft) -> str:
    window = draft.window()
    when = describe(window[0], window[1], turn.now) if window else "(未选)"
    lines = [
        "请您核对一下:",
        f"服务:{texts.service_name(turn.config, draft.service)}",
        f"村:{texts.village_name(turn.config, draft.village)}",
        f"时间:{when}",
        f"人数:{draft.count}人",
    ]
    if draft.phone:
        lines.append(f"电话:{draft.phone}")
    lines.append("对吗?")
    return "\n".join(lines)


def confirm(turn: Turn) -> None:
    draft = turn.conv.draft
    assert draft is not None
    turn.conv.step, turn.conv.fixing = "confirm", False
    rows = (
        (turn.button("对,就这样", Action.submit_order), turn.button("不对,要改", Action.change_order)),
        (turn.button("不点了", Action.drop_order),),
    )
    turn.say(summary(turn, draft), rows)


def ask_fix(turn: Turn) -> None:
    draft = turn.conv.draft
    assert draft is not None
    turn.conv.step = "fix"
    fields = [f for f in STEPS if f != "phone" or draft.phone]
    buttons = [turn.button(FIELD_LABELS[f], Action.fix_field, f) for f in fields]
    rows = (*rows_of(buttons, 3), (turn.button("都对,提交", Action.submit_order),))
    turn.say(texts.ASK_FIX + "也可以直接说,比如“改成后天上午”。", rows)


def fix(turn: Turn, field: str) -> None:
    draft = turn.conv.draft
    if draft is None or field not in STEPS:
        return
    if field == "time":
        draft.start = draft.end = None
    else:
        setattr(draft, field, None)
    if field == "service":
        draft.theme = None
    turn.conv.fixing = True
    ask(turn, field)


def drop(turn: Turn) -> None:
    turn.conv.reset()
    turn.say(texts.DRAFT_DROPPED, turn.menu_rows())


def submit(turn: Turn) -> None:
    draft = turn.conv.draft
    if draft is None:
        turn.say("这个单子已经提交过了。", turn.menu_rows())
        return
    window = draft.window()
    if any(_missing(turn, draft, f) for f in STEPS) or window is None:
        advance(turn)
        return
    village = turn.config.villages[draft.village or ""]
    request = OrderRequest(
        resident_key=turn.who.user_key,
        service_id=draft.service or "",
        village_id=village.id,
        window_start=window[0],
        window_end=window[1],
        people_count=draft.count or 1,
        contact_phone=draft.phone,
        # The chat plus the update that started the draft: a redelivered or double-pressed
        # confirmation finds the same order instead of making a second one.
        request_key=f"{turn.who.user_key}|{draft.key}"[:128],
    )
    try:
        order = turn.orders.create(request, turn.who.resident)
    except InvalidOrder as exc:
        turn.say(exc.message_zh)
        if window[1] <= turn.now:
            draft.start = draft.end = None
        advance(turn)
        return
    turn.conv.profile["village"] = village.id
    if draft.phone:
        turn.conv.profile["phone"] = draft.phone
    turn.conv.reset()
    if order.team_id:
        team = texts.team_name(turn.config, order.team_id)
        after = f"已经交给“{team}”了,有人接单我马上告诉您。"
    else:
        after = "暂时没有服务队能接,我已经告诉工作人员,他们会尽快安排。"
    turn.say(f"好了,单子下好了!单号 {order.display_number}。\n{after}", turn.menu_rows())


# ---------------------------------------------------------------- the draft's buttons
def needs_draft(handler: Callable[Concatenate[Turn, Draft, P], None]) -> Callable[Concatenate[Turn, P], None]:
    """A button of the draft: refused as stale once the draft is gone (submitted or dropped)."""

    @wraps(handler)
    def press(turn: Turn, *args: P.args, **kwargs: P.kwargs) -> None:
        if turn.conv.draft is None:
            turn.say(texts.STALE, turn.menu_rows())
            return
        handler(turn, turn.conv.draft, *args, **kwargs)

    return press


def begin(turn: Turn) -> None:
    start(turn)
    advance(turn)


@needs_draft
def pick_theme(turn: Turn, draft: Draft, position: int) -> None:
    names = themes(turn)
    draft.theme = names[position] if position < len(names) else None
    ask(turn, "service")


@needs_draft
def show_themes(turn: Turn, draft: Draft) -> None:
    draft.theme = None
    ask(turn, "service")


@needs_draft
def pick_service(turn: Turn, draft: Draft, service_id: str) -> None:
    if service_id in turn.config.services:
        draft.service, draft.theme = service_id, None
    advance(turn)


@needs_draft
def pick_village(turn: Turn, draft: Draft, village_id: str) -> None:
    village = turn.config.villages.get(village_id)
    if village is not None:
        draft.village = village.id
        if village.require_phone and not draft.phone:
            draft.phone = turn.conv.profile.get("phone")
    advance(turn)


@needs_draft
def pick_time(turn: Turn, draft: Draft, code: str) -> None:
    chosen = slot(code, turn.now)
    if chosen is None or chosen.end <= turn.now:
        turn.say("这个时间已经过去了,请换个时间。")
    else:
        draft.set_window(chosen.start, chosen.end)
    advance(turn)


@needs_draft
def pick_count(turn: Turn, draft: Draft, people: int) -> None:
    if 1 <= people <= turn.config.orders.max_people:
        draft.count = people
    advance(turn)


@needs_draft
def press_submit(turn: Turn, draft: Draft) -> None:
    submit(turn)


@needs_draft
def press_change(turn: Turn, draft: Draft) -> None:
    ask_fix(turn)


@needs_draft
def press_fix(turn: Turn, draft: Draft, field: str) -> None:
    fix(turn, field)
