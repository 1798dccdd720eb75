"""Staff commands: /announce (draft for approval), /orders (open and overdue, reassign), /stats."""

from __future__ import annotations

import logging

from bot import texts
from bot.actions import Action
from bot.announce import AnnounceUnavailable, draft_announcement
from bot.turn import Turn, rows_of
from core.actors import Actor
from core.config import Role, Team
from orders import Figures, OrderError, OrderView, eligible_teams

log = logging.getLogger(__name__)

MAX_LISTED = 8  # keeps /orders within one screen (and Telegram's 4,096-character limit)
MAX_WITH_BUTTONS = 4


def allowed(turn: Turn) -> bool:
    if turn.who.has_role(Role.admin, Role.approver):
        return True
    turn.say(texts.STAFF_ONLY)
    return False


def announce(turn: Turn, text: str) -> None:
    if not allowed(turn):
        return
    staff = turn.who.staff
    assert staff is not None
    if not text.strip():
        turn.conv.step = "announce"
        turn.say(texts.ASK_ANNOUNCE, ((turn.button("算了", Action.drop_announcement),),))
        return
    turn.conv.step = None
    try:
        drafted = draft_announcement(turn.ctx, staff, text.strip())
    except AnnounceUnavailable:
        log.error("bot: /announce used but the broadcasts room is not installed")
        turn.say("广播功能还没有装好,请在网页后台里发布。")
        return
    except Exception as exc:  # the broadcasts room's errors carry a Chinese message
        message = getattr(exc, "message_zh", None)
        if message is None:
            raise
        turn.say(message)
        return
    turn.say(f"广播稿已经存好(第 {drafted.id} 号,{drafted.status_label}),审核通过以后就会按时播出。")


def drop_announcement(turn: Turn) -> None:
    turn.conv.step = None
    turn.say("好的,不发了。", edit=True)


def list_orders(turn: Turn) -> None:
    if not allowed(turn):
        return
    staff = turn.who.staff
    assert staff is not None
    work = turn.orders.worklist(Actor.staff(staff.id), MAX_LISTED)
    if not work:
        turn.say("您管的村现在没有未完成的单子。")
        return
    lines = ["未完成的单子(要处理的在前):"]
    for item in work:
        mark = "❗" if item.needs_hand else ""
        village = texts.village_name(turn.config, item.order.village_id)
        lines.append(f"{mark}{texts.order_line(turn.config, item.order, turn.now)} {village}")
    turn.say("\n".join(lines))
    for order in [item.order for item in work if item.needs_hand][:MAX_WITH_BUTTONS]:
        buttons = [
            turn.button(f"改派给{t.name}", Action.reassign, order.id, t.id) for t in candidate_teams(turn, order)
        ]
        why = "没人接,已超时" if order.accept_deadline and order.accept_deadline <= turn.now else "需要安排"
        text = f"{texts.order_card(turn.config, order, turn.now)}\n情况:{why}"
        turn.say(text + ("" if buttons else "\n没有别的服务队能接这个单。"), rows_of(buttons, 1))


def candidate_teams(turn: Turn, order: OrderView) -> list[Team]:
    """Teams the order could go to instead of its own."""
    return [t for t in eligible_teams(turn.config, order.service_id, order.village_id) if t.id != order.team_id]


def reassign(turn: Turn, order_id: int, team_id: str) -> None:
    if not allowed(turn):
        return
    staff = turn.who.staff
    assert staff is not None
    try:
        order = turn.orders.reassign(order_id, team_id, Actor.staff(staff.id), "from the chat bot")
    except OrderError as exc:
        turn.say(exc.message_zh)
        return
    turn.say(f"单子 {order.display_number} 已经改派给{texts.team_name(turn.config, team_id)}。", edit=True)


def show_stats(turn: Turn) -> None:
    if not allowed(turn):
        return
    staff = turn.who.staff
    assert staff is not None
    stats = turn.orders.stats(Actor.staff(staff.id))
    lines = [stats_line("今天", stats.today), stats_line("本月", stats.month)]
    lines.append(f"现在还有 {stats.open_now} 个单子没办完,其中 {stats.needs_hand} 个要处理。")
    turn.say("\n".join(lines))


def stats_line(label: str, f: Figures) -> str:
    average = f"{f.average_rating:.1f} 星" if f.average_rating is not None else "还没有"
    return f"{label}:点单 {f.placed} 个,完成 {f.done} 个,服务 {f.people_served} 人,评价 {f.rated} 个(平均 {average})"
