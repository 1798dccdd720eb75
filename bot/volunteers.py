"""接单 and 完成 for volunteers: the buttons on order offers sent to a team's members."""

from __future__ import annotations

from bot import texts
from bot.actions import Action
from bot.turn import Turn, rows_of
from core.actors import Actor
from orders import AlreadyTaken, NotFound, OrderError, OrderStatus, OrderView
from reports.service import ReportService

SERVED_CHOICES = (1, 2, 3, 5, 10, 20)


def _as_member(turn: Turn, order_id: int) -> tuple[OrderView, Actor] | None:
    """The order as one of the user's team memberships sees it, or None if it is not their team's."""
    for _, member in turn.who.memberships:
        volunteer = Actor.volunteer(member.id)
        try:
            return turn.orders.get(order_id, volunteer), volunteer
        except NotFound:
            continue
    return None


def _taken_by_me(turn: Turn, order_id: int) -> tuple[OrderView, Actor] | None:
    found = _as_member(turn, order_id)
    if found is None or found[0].volunteer_id != found[1].id:
        turn.say("只有接这个单的志愿者才能登记完成。")
        return None
    return found


def accept(turn: Turn, order_id: int) -> None:
    found = _as_member(turn, order_id)
    if found is None:
        # A resident (or another team) pressing an offer: refuse without showing the order.
        turn.say("这个单子不是派给您的服务队的,您不能接。")
        return
    order, volunteer = found
    try:
        order = turn.orders.accept(order_id, volunteer)
    except AlreadyTaken as exc:
        who = texts.member_name(turn.config, exc.taken_by)
        turn.say(f"来晚了一步,单子 {order.display_number} 已经被{who}接了。谢谢您!", edit=True)
        return
    except OrderError as exc:
        turn.say(f"单子 {order.display_number}:{exc.message_zh}", edit=True)
        return
    card = texts.order_card(turn.config, order, turn.now, phone=True)
    rows = ((turn.button("完成了", Action.ask_done, order.id),),)
    turn.say(f"好的,这个单子归您了!\n{card}\n请按时上门,做完以后按“完成了”。", rows, edit=True)


def ask_done(turn: Turn, order_id: int) -> None:
    found = _taken_by_me(turn, order_id)
    if found is None:
        return
    order = found[0]
    if order.status is not OrderStatus.accepted:
        turn.say(f"单子 {order.display_number} 现在是“{order.status.label}”,不用再登记了。")
        return
    turn.conv.step, turn.conv.pending = "served", {"served_order": order_id}
    buttons = [turn.button(f"{n}人", Action.record_served, order_id, n) for n in SERVED_CHOICES]
    turn.say(texts.ASK_SERVED, rows_of(buttons, 3))


def served(turn: Turn, order_id: int, people: int) -> None:
    found = _taken_by_me(turn, order_id)
    if found is None:
        return
    turn.conv.step, turn.conv.pending = None, {}
    try:
        order = turn.orders.complete(order_id, found[1], people)
    except OrderError as exc:
        turn.say(exc.message_zh)
        return
    turn.say(f"好的,单子 {order.display_number} 已经登记完成,服务了 {people} 人。辛苦了!", edit=True)


def served_text(turn: Turn, text: str) -> bool:
    """A typed number of people served; False if the text was not a number."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits or len(digits) > 4:
        return False
    served(turn, int(turn.conv.pending.get("served_order", 0)), int(digits))
    return True


POINTS_WORDS = frozenset({"我的积分", "积分", "查积分", "我的时长", "服务时长", "我的服务时长"})


def my_points(turn: Turn) -> None:
    """“我的积分” or /me: a volunteer's balance, and hours and points this month and in all."""
    members = sorted(turn.who.member_ids)
    if not members:
        turn.say("积分是给志愿者记的。想当志愿者的话,跟我说“我想报名当志愿者”就行。", turn.menu_rows())
        return
    service = ReportService(turn.ctx)
    for member in members:
        s = service.volunteer_summary(Actor.volunteer(member), turn.now)
        turn.say(
            f"{s.name},您的积分:{s.balance} 分。\n"
            f"本月完成 {s.month_deliveries} 次服务,{s.month_hours:g} 小时,得了 {s.month_points} 分。\n"
            f"一共完成 {s.total_deliveries} 次,服务 {s.total_hours:g} 小时。谢谢您!"
        )
