"""One turn of a conversation: what came in, who sent it, and the reply being built."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.actions import SHAPES, Action, make_button
from bot.callbacks import CallbackSigner
from bot.messages import Button, Inbound, Notice, Outcome, Reply
from bot.nlu import DOWN_REASONS, NluResult
from bot.state import Conversation
from core.app import AppContext
from core.config import AppConfig
from orders import Orders
from people.identities import Identity
from people.service import People

Rows = tuple[tuple[Button, ...], ...]


@dataclass
class Turn:
    ctx: AppContext
    orders: Orders
    people: People
    signer: CallbackSigner
    conv: Conversation
    who: Identity
    inbound: Inbound
    now: datetime
    nlu: NluResult | None = None
    out: Outcome = field(default_factory=Outcome)
    _bumped: bool = False

    @property
    def config(self) -> AppConfig:
        return self.ctx.config

    @property
    def nlu_down(self) -> bool:
        return self.nlu is not None and self.nlu.fallback_reason in DOWN_REASONS

    def button(self, label: str, action: Action, *args: int | str) -> Button:
        """A button for this user.  One answering a question (a dialogue action) is valid only
        until the next question is asked: it carries the question's step number."""
        step = None
        if SHAPES[action].dialogue:
            if not self._bumped:
                self.conv.seq += 1
                self._bumped = True
            step = self.conv.seq
        return make_button(self.signer, self.who.user_key, label, action, *args, step=step)

    def say(self, text: str, rows: Rows = (), *, edit: bool = False) -> None:
        self.out.say(text, rows, edit=edit)

    def notify(self, to: str, text: str, rows: Rows = ()) -> None:
        if to != self.who.user_key:
            self.out.notices.append(Notice(to, Reply(text, rows)))

    def menu_rows(self) -> Rows:
        """The main menu, for people who don't type."""
        return (
            (self.button("我要点服务", Action.start_order), self.button("我的单子", Action.my_orders)),
            (self.button("找工作人员", Action.find_staff), self.button("我想当志愿者", Action.volunteer)),
        )


def rows_of(buttons: list[Button], per_row: int) -> Rows:
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))
