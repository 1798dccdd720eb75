"""查单, 撤单, 评单, 当志愿者 and 找工作人员 for residents (their own orders only)."""

from __future__ import annotations

from bot import texts
from bot.actions import Action
from bot.nlu import Entities
from bot.turn import Turn, rows_of
from orders import OPEN_STATUSES, OrderError, OrderFilter, OrderStatus, OrderView
from people.identities import chat_keys, contact_hint

MAX_SIGNUP_TEXT = 500


# ---------------------------------------------------------------- 查单
def show_orders(turn: Turn, e: Entities | None = None) -> None:
    if e is not None and e.order_id:
        order = _own(turn, e.order_id)
        if order is not None:
            _show_one(turn, order)
        return
    orders = turn.orders.list(turn.who.resident, OrderFilter(limit=5))
    if not orders:
        turn.say("您还没有点过单。想请人帮忙,直接跟我说就行。", turn.menu_rows())
        return
    lines = ["您最近的单子:", *(texts.order_line(turn.config, o, turn.now) for o in orders)]
    cancellable = [o for o in orders if o.status in OPEN_STATUSES]
    buttons = [turn.button(f"撤销 {o.display_number}", Action.ask_cancel, o.id) for o in cancellable]
    turn.say("\n".join(lines), rows_of(buttons, 2))


def _show_one(turn: Turn, order: OrderView) -> None:
    text = texts.order_card(turn.config, order, turn.now) + f"\n状态:{texts.status_text(turn.config, order)}"
    rows = ((turn.button("撤销这个单", Action.ask_cancel, order.id),),) if order.status in OPEN_STATUSES else ()
    turn.say(text, rows)


def _own(turn: Turn, ref: str | int) -> OrderView | None:
    """The resident's own order, or a polite 'not found' (never someone else's data)."""
    try:
        return turn.orders.get(ref, turn.who.resident)
    except OrderError as exc:
        turn.say(exc.message_zh)
        return None


# ---------------------------------------------------------------- 撤单
def cancel_text(turn: Turn, e: Entities) -> None:
    if e.order_id:
        order = _own(turn, e.order_id)
        if order is not None:
            ask_cancel(turn, order.id)
        return
    orders = turn.orders.list(turn.who.resident, OrderFilter(open_only=True, limit=10))
    if e.service:
        orders = [o for o in orders if o.service_id == e.service] or orders
    if not orders:
        turn.say("您现在没有可以撤销的单子。", turn.menu_rows())
    elif len(orders) == 1:
        ask_cancel(turn, orders[0].id)
    else:
        buttons = [
            turn.button(f"{o.display_number} {texts.service_name(turn.config, o.service_id)}", Action.ask_cancel, o.id)
            for o in orders
        ]
        turn.say("您要撤销哪一个?", rows_of(buttons, 1))


def ask_cancel(turn: Turn, order_id: int) -> None:
    order = _own(turn, order_id)
    if order is None:
        return
    if order.status not in OPEN_STATUSES:
        turn.say(f"单子 {order.display_number} 现在是“{order.status.label}”,不能撤销了。")
        return
    when = texts.order_title(turn.config, order, turn.now)
    rows = (
        (turn.button("确定撤销", Action.confirm_cancel, order.id), turn.button("不撤了", Action.keep_order, order.id)),
    )
    turn.say(f"确定要撤销这个单子吗?\n{when}", rows)


def keep_order(turn: Turn, order_id: int) -> None:
    turn.say("好的,不撤了。", edit=True)


def do_cancel(turn: Turn, order_id: int) -> None:
    try:
        order = turn.orders.cancel(order_id, turn.who.resident, "by resident in chat")
    except OrderError as exc:
        turn.say(exc.message_zh, edit=True)
        return
    turn.say(f"单子 {order.display_number} 已经撤销了。", edit=True)


# ---------------------------------------------------------------- 评单
def star_rows(turn: Turn, order_id: int) -> tuple:
    buttons = [turn.button(texts.stars(n), Action.rate, order_id, n) for n in range(1, 6)]
    return ((buttons[4], buttons[3]), (buttons[2], buttons[1], buttons[0]))


def rate_text(turn: Turn, e: Entities, text: str) -> None:
    done = turn.orders.list(turn.who.resident, OrderFilter(status=OrderStatus.done, limit=10))
    if e.order_id:
        done = [o for o in done if o.number == e.order_id]
    done = [o for o in done if o.volunteer_id not in turn.who.member_ids]
    if not done:
        turn.say("您现在没有要评价的单子。服务做完以后,我会请您打分。", turn.menu_rows())
        return
    order = done[0]
    comment = text.strip()[:MAX_SIGNUP_TEXT] or None
    if e.rating:
        _rate(turn, order.id, e.rating, comment)
        return
    turn.conv.pending = {"rate_comment": comment, "rate_order": order.id}
    name = texts.service_name(turn.config, order.service_id)
    turn.say(f"谢谢您的评价!请给单子 {order.display_number}({name})打个分:", star_rows(turn, order.id))


def press_stars(turn: Turn, order_id: int, stars: int) -> None:
    if not 1 <= stars <= 5:
        turn.say(texts.STALE)  # no such button was ever sent
        return
    order = _own(turn, order_id)
    if order is None:
        return
    if order.volunteer_id in turn.who.member_ids:
        turn.say("这个单子是您自己服务的,不能给自己打分哦。")
        return
    if order.status is not OrderStatus.done:
        rated = order.status is OrderStatus.rated
        turn.say("这个单子已经评过了,谢谢您!" if rated else "这个单子还没完成,完成以后再打分。")
        return
    pending = turn.conv.pending
    if pending.get("rate_order") == order_id and pending.get("rate_comment"):
        _rate(turn, order_id, stars, pending["rate_comment"])
        return
    turn.conv.pending = {"rate_order": order_id, "rate_stars": stars}
    turn.conv.step = "comment"
    turn.say(texts.ASK_COMMENT.format(stars=stars), ((turn.button("不写了", Action.skip_comment),),), edit=True)


def finish_rating(turn: Turn, comment: str | None) -> None:
    """The comment (or none) after the stars: now the rating is recorded."""
    pending = turn.conv.pending
    turn.conv.step, turn.conv.pending = None, {}
    if "rate_stars" in pending:
        _rate(turn, int(pending["rate_order"]), int(pending["rate_stars"]), comment)


def _rate(turn: Turn, order_id: int, stars: int, comment: str | None) -> None:
    turn.conv.pending = {}
    try:
        order = turn.orders.rate(order_id, turn.who.resident, stars, comment)
    except OrderError as exc:
        turn.say(exc.message_zh)
        return
    turn.say(f"收到!单子 {order.display_number} 您打了 {stars} 颗星。谢谢您的评价,我们会做得更好。")


# ---------------------------------------------------------------- 当志愿者
def signup(turn: Turn, text: str) -> None:
    if turn.people.sign_up(turn.who.user_key, turn.conv.profile.get("village"), text):
        turn.say("太好了,谢谢您愿意帮忙!已经帮您报上名了,工作人员审核以后会联系您。")
    else:
        turn.say("您已经报过名了,工作人员审核以后会联系您。谢谢您!")


# ---------------------------------------------------------------- 找工作人员
def talk_to_staff(turn: Turn, text: str, village_id: str | None = None) -> None:
    village_id = village_id or turn.conv.profile.get("village")
    if village_id not in turn.config.villages:
        turn.conv.step = "staff_village"
        turn.conv.pending = {"staff_text": text[:MAX_SIGNUP_TEXT]}
        buttons = [turn.button(v.name, Action.staff_village, v.id) for v in turn.config.villages.values()]
        turn.say("好的。您在哪个村?我好告诉那里的工作人员。", rows_of(buttons, 3))
        return
    text = text or turn.conv.pending.get("staff_text", "")
    turn.conv.step, turn.conv.pending = None, {}
    turn.conv.profile["village"] = village_id
    handoff = turn.people.hand_off(turn.who.user_key, village_id, text)
    village = texts.village_name(turn.config, village_id)
    said = f"\n他说:“{text[:200]}”" if text else ""
    message = f"{village}有村民想找工作人员。{said}\n请尽快联系他:{contact_hint(turn.who.user_key)}"
    for key in (key for person in handoff.staff for key in chat_keys(person)):
        turn.notify(key, message)
    if handoff.staff:
        turn.say("好的,已经告诉村里的工作人员了,他们会尽快联系您。")
    else:
        turn.say("工作人员这会儿联系不上,您也可以直接去村里的新时代文明实践站找他们。")
