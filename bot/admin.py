"""Staff commands: /announce (draft for approval), /orders (open and overdue, reassign), /stats."""

from __future__ import annotations

import logging

from bot import queries, texts
from bot.announce import AnnounceUnavailable, draft_announcement
from bot.turn import Turn, rows_of
from core.actors import Actor
from core.config import Role, Team, Tier
from orders.errors import OrderError
from orders.views import OrderView

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
        turn.say(texts.ASK_ANNOUNCE, ((turn.step_button("算了", "ax"),),))
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


def list_orders(turn: Turn) -> None:
    if not allowed(turn):
        return
    staff = turn.who.staff
    assert staff is not None
    orders = queries.open_orders(turn.ctx.db, turn.config.staff_villages(staff), turn.now, MAX_LISTED)
    if not orders:
        turn.say("您管的村现在没有未完成的单子。")
        return
    lines = ["未完成的单子(要处理的在前):"]
    for order in orders:
        mark = "❗" if queries.needs_hand(order, turn.now) else ""
        village = texts.village_name(turn.config, order.village_id)
        lines.append(f"{mark}{texts.order_line(turn.config, order, turn.now)} {village}")
    turn.say("\n".join(lines))
    for order in [o for o in orders if queries.needs_hand(o, turn.now)][:MAX_WITH_BUTTONS]:
        buttons = [turn.button(f"改派给{t.name}", "ra", order.id, t.id) for t in candidate_teams(turn, order)]
        why = "没人接,已超时" if order.accept_deadline and order.accept_deadline <= turn.now else "需要安排"
        text = f"{texts.order_card(turn.config, order, turn.now)}\n情况:{why}"
        turn.say(text + ("" if buttons else "\n没有别的服务队能接这个单。"), rows_of(buttons, 1))


def candidate_teams(turn: Turn, order: OrderView) -> list[Team]:
    return [
        t
        for tier in Tier
        for t in turn.config.teams
        if t.tier is tier
        and t.id != order.team_id
        and order.service_id in t.services
        and turn.config.area_of(order.village_id, tier) == t.area
    ]


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
    villages = turn.config.staff_villages(staff)
    parts = []
    for label, since in (("今天", queries.day_start(turn.now)), ("本月", queries.month_start(turn.now))):
        st = queries.stats(turn.ctx.db, villages, since)
        average = f"{st.average_rating:.1f} 星" if st.average_rating is not None else "还没有"
        parts.append(
            f"{label}:点单 {st.placed} 个,完成 {st.done} 个,服务 {st.people_served} 人,"
            f"评价 {st.rated} 个(平均 {average})"
        )
    parts.append(f"现在还有 {st.open_now} 个单子没办完。")
    turn.say("\n".join(parts))
