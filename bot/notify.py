"""The outbox: order history (orders' `changes_after`) → messages to residents, volunteers and staff.

A persistent cursor (bot_meta "outbox:telegram") records the last event whose messages were
sent; it is advanced event by event after sending, so a crash resends at most one event's
messages and never loses one.  Reminders before the agreed time are recorded per order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from bot import texts
from bot.actions import Action, make_button
from bot.callbacks import CallbackSigner
from bot.messages import Notice, Reply
from bot.models import BotMeta, SentReminder
from bot.timeslots import describe
from core.config import AppConfig, Team
from core.db import Database
from orders import OrderChange, Orders, OrderStatus, OrderView
from people.identities import chat_keys
from people.service import People

REMIND_BEFORE = timedelta(hours=1)
S = OrderStatus


@dataclass(frozen=True)
class EventNotices:
    event_id: int
    notices: list[Notice]


class Notifier:
    def __init__(self, db: Database, config: AppConfig, signer: CallbackSigner, cursor: str = "outbox:telegram"):
        self.db = db
        self.config = config
        self.signer = signer
        self.people = People(db, config)
        self.cursor_key = cursor
        self.orders = Orders(db, config)

    # ------------------------------------------------------------ cursor
    def cursor(self) -> int:
        with self.db.session() as s:
            value = s.scalar(select(BotMeta.value).where(BotMeta.key == self.cursor_key))
            return int(value) if value else 0

    def advance(self, event_id: int) -> None:
        with self.db.session() as s:
            row = s.get(BotMeta, self.cursor_key)
            if row is None:
                s.add(BotMeta(key=self.cursor_key, value=str(event_id)))
            elif int(row.value) < event_id:
                row.value = str(event_id)

    # ------------------------------------------------------------ events → notices
    @property
    def settle(self) -> timedelta:
        """How old an event must be before it is sent (see `orders.queries.OUTBOX_SETTLE`)."""
        return self.orders.outbox_settle

    def pending(self, now: datetime, limit: int = 100) -> list[EventNotices]:
        changes = self.orders.changes_after(self.cursor(), now, limit)
        return [EventNotices(change.event_id, self._notices(change, now)) for change in changes]

    def _notices(self, change: OrderChange, now: datetime) -> list[Notice]:
        """What each person must hear about one transition.  `change.order` is the order as it
        is now, so a notice about an old event never offers a button that no longer applies."""
        actor, before, after, order = change.actor, change.from_status, change.to_status, change.order
        out: list[Notice] = []
        head = f"单子 {order.display_number}({texts.service_name(self.config, order.service_id)})"
        mine = f"您的{head}"
        resident = order.resident_key
        if after == S.dispatched:
            team = self.config.teams_by_id.get(order.team_id or "")
            if team is not None and order.status is S.dispatched:
                out += self._offer(team, order, now)
            if before != S.submitted:  # the first dispatch was announced when the order was placed
                name = texts.team_name(self.config, order.team_id)
                out.append(_to(resident, f"{mine}还在找人,现在转给“{name}”了,有人接单马上告诉您。"))
        elif after == S.submitted and before == S.submitted:  # flagged: no team anywhere
            out += self._to_staff(order, f"{head}在{self._village(order)},没有服务队能接,请安排。")
        elif after == S.accepted:
            volunteer = texts.member_name(self.config, order.volunteer_id)
            when = describe(order.window_start, order.window_end, now)
            out.append(_to(resident, f"好消息!{volunteer}接了{mine},会在{when}上门。"))
            taken = f"{head}已经被{volunteer}接了,谢谢大家。"
            out += [_to(k, taken) for k in self.people.team_chat_keys(order.team_id, exclude=order.volunteer_id)]
        elif after == S.expired:
            out.append(_to(resident, f"{mine}暂时没人接,已经告诉工作人员,他们会帮您安排。"))
            out += self._to_staff(order, f"{head}在{self._village(order)},超时没人接,请用 /orders 改派。")
        elif after == S.done:
            stars = [
                make_button(self.signer, resident, texts.stars(n), Action.rate, order.id, n) for n in range(5, 0, -1)
            ]
            rows = ((stars[0], stars[1]), tuple(stars[2:]))
            out.append(Notice(resident, Reply(f"{mine}已经完成了。满意吗?请点星星打个分:", rows)))
        elif after == S.cancelled:
            if actor != f"resident:{resident}":
                out.append(_to(resident, f"{mine}已经被工作人员撤销了。有疑问可以找工作人员。"))
            if before in (S.dispatched, S.accepted):
                out += [_to(k, f"{head}撤销了,不用去了。") for k in self.people.team_chat_keys(order.team_id)]
        elif after == S.rated and order.volunteer_id and order.rating:
            text = f"居民给{head}打了 {order.rating} 颗星,谢谢您的付出!"
            out += [_to(k, text) for k in self.people.team_chat_keys(order.team_id, only=order.volunteer_id)]
        return out

    def _offer(self, team: Team, order: OrderView, now: datetime) -> list[Notice]:
        card = texts.order_card(self.config, order, now)
        text = f"有新单子,谁有空?\n{card}\n能去的请点“接单”。"
        return [
            Notice(key, Reply(text, ((make_button(self.signer, key, "接单", Action.accept, order.id),),)))
            for key in self.people.team_chat_keys(team.id)
        ]

    def _to_staff(self, order: OrderView, text: str) -> list[Notice]:
        staff = self.people.staff_on_duty(order.village_id)
        return [_to(key, text) for person in staff for key in chat_keys(person)]

    def _village(self, order: OrderView) -> str:
        return texts.village_name(self.config, order.village_id)

    # ------------------------------------------------------------ reminders
    def due_reminders(self, now: datetime) -> list[tuple[int, Notice]]:
        """Accepted orders starting within the hour whose volunteer was not reminded yet."""
        soon = self.orders.starting_soon(now, REMIND_BEFORE)
        with self.db.session() as s:
            ids = [o.id for o in soon]
            reminded = set(s.scalars(select(SentReminder.order_id).where(SentReminder.order_id.in_(ids))))
        orders = [o for o in soon if o.id not in reminded]
        out = []
        for order in orders:
            for key in self.people.team_chat_keys(order.team_id, only=order.volunteer_id):
                card = texts.order_card(self.config, order, now, phone=True)
                button = make_button(self.signer, key, "完成了", Action.ask_done, order.id)
                out.append((order.id, Notice(key, Reply(f"提醒您:这个单子快到时间了。\n{card}", ((button,),)))))
        return out

    def mark_reminded(self, order_id: int, now: datetime) -> None:
        with self.db.session() as s:
            if s.get(SentReminder, order_id) is None:
                s.add(SentReminder(order_id=order_id, sent_at=now))


def _to(user_key: str, text: str) -> Notice:
    return Notice(user_key, Reply(text))
