"""The dialogue engine: one inbound (text, button, anything else) → an Outcome.

Channel-agnostic: adapters (Telegram, terminal) turn their updates into `Inbound` and render
the `Outcome`.  Per-chat state is loaded from and saved to the database around every turn,
together with the update's id, so a restart resumes the conversation and a redelivered
update is answered once.  Turns of one chat run one at a time; different chats in parallel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from bot import admin, loudspeaker, ordering, residents, texts, volunteers
from bot.actions import Action, read_press
from bot.callbacks import CallbackSigner
from bot.messages import Inbound, InboundKind, Outcome
from bot.nlu import Entities, Nlu, NluResult
from bot.state import Conversation, ConversationStore
from bot.turn import Turn
from bot.voice import setting as voice_setting
from core.app import AppContext
from nlu.review import ReviewQueue
from orders import OrderError, Orders
from people.service import People

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

MAX_TEXT = 1000  # longer messages are pasted documents, not requests
DRAFT_STEPS = frozenset({*ordering.STEPS, "confirm", "fix"})
# Steps whose typed answer is free text the NLU need not read.
FREE_TEXT_STEPS = frozenset({"comment", "announce"})
SMALL_TALK = {"greet": texts.GREETING, "goodbye": texts.GOODBYE, "thanks": texts.THANKS}


class DialogueEngine:
    def __init__(self, ctx: AppContext, nlu: Nlu, signer: CallbackSigner | None = None) -> None:
        self.ctx = ctx
        self.nlu = nlu
        self.orders = Orders(ctx.db, ctx.config, ctx.clock)
        self.people = People(ctx.db, ctx.config, ctx.clock)
        self.signer = signer or CallbackSigner.from_db(ctx.db)
        self.store = ConversationStore(ctx.db)
        self.review = ReviewQueue(ctx.db, ctx.config, ctx.clock)
        self._locks: dict[str, asyncio.Lock] = {}
        # SQLite takes one writer at a time and its busy handler sleeps (up to 100 ms) on a
        # lock conflict, so all of the bot's database work runs on one thread there; the
        # event loop stays free for network I/O.  PostgreSQL gets a small pool.
        workers = 1 if ctx.db.is_sqlite else 8
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix="bot-db")
        # Time spent in turns and waiting for the NLU, for the throughput benchmark.
        self.nlu_seconds = 0.0
        self.handle_seconds = 0.0
        self.turns = 0

    async def run_db(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking database work off the event loop, on the bot's database thread(s)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: fn(*args, **kwargs))

    def close(self) -> None:
        self.executor.shutdown(wait=True)

    # ------------------------------------------------------------ entry point
    async def handle(self, inbound: Inbound) -> Outcome:
        lock = self._locks.setdefault(inbound.user_key, asyncio.Lock())
        try:
            async with lock:
                started = asyncio.get_running_loop().time()
                outcome = await self._handle(inbound)
                self.handle_seconds += asyncio.get_running_loop().time() - started
                self.turns += 1
                return outcome
        finally:
            if not lock.locked() and self._locks.get(inbound.user_key) is lock:
                del self._locks[inbound.user_key]

    async def _handle(self, inbound: Inbound) -> Outcome:
        conv, seen = await self.run_db(self._load, inbound)
        if seen:
            return Outcome()
        result = None
        if self._needs_nlu(conv, inbound):
            loop = asyncio.get_running_loop()
            started = loop.time()
            result = await self.nlu.parse(inbound.text, inbound.received_at)
            self.nlu_seconds += loop.time() - started
        return await self.run_db(self._turn, conv, inbound, result)

    def _load(self, inbound: Inbound) -> tuple[Conversation, bool]:
        return self.store.load_unless_seen(inbound.user_key, inbound.update_key)

    @staticmethod
    def _needs_nlu(conv: Conversation, inbound: Inbound) -> bool:
        text = inbound.text.strip()
        return (
            inbound.kind is InboundKind.text
            and bool(text)
            and not text.startswith("/")
            and len(text) <= MAX_TEXT
            and conv.step not in FREE_TEXT_STEPS
        )

    def _turn(self, conv: Conversation, inbound: Inbound, result: NluResult | None) -> Outcome:
        who = self.people.identify(inbound.user_key)
        if result is not None and who.staff is None and not who.memberships:
            # A resident's message the NLU missed goes to the review inbox (masked).
            self.review.note(inbound.text, result, village_id=conv.profile.get("village"))
        turn = Turn(self.ctx, self.orders, self.people, self.signer, conv, who, inbound, self.ctx.clock(), result)
        try:
            self._route(turn)
        except OrderError as exc:
            log.info("bot: domain refused (%s: %s)", exc.code, exc.detail)
            turn = self._fresh(turn)
            turn.say(exc.message_zh, turn.menu_rows())
        except Exception:
            # Never a crash for the person: log the kind of input only (no text, no names).
            log.exception("bot: turn failed for a %s input", inbound.kind.value)
            turn = self._fresh(turn)
            turn.say(texts.ERROR, turn.menu_rows())
        if not self.store.save(turn.conv, inbound.update_key, turn.now):
            return Outcome()  # another worker handled this very update first
        return turn.out

    def _fresh(self, turn: Turn) -> Turn:
        """Forget the failed turn's half-made changes to the conversation."""
        conv = self.store.load(turn.conv.chat_key)
        return Turn(self.ctx, self.orders, self.people, self.signer, conv, turn.who, turn.inbound, turn.now, turn.nlu)

    # ------------------------------------------------------------ routing
    def _route(self, turn: Turn) -> None:
        kind = turn.inbound.kind
        if kind is InboundKind.button:
            self._button(turn)
        elif kind is InboundKind.text:
            self._text(turn, turn.inbound.text.strip())
        else:
            said = texts.VOICE_NOT_HEARD if kind is InboundKind.voice else texts.UNSUPPORTED
            turn.say(said, () if self._resume(turn) else turn.menu_rows())

    def _text(self, turn: Turn, text: str) -> None:
        conv = turn.conv
        if not text:
            turn.say(texts.NOT_UNDERSTOOD, turn.menu_rows())
            return
        if text.startswith("/"):
            self._command(turn, text)
            return
        if len(text) > MAX_TEXT:
            turn.say(texts.TOO_LONG, () if self._resume(turn) else turn.menu_rows())
            return
        if conv.step == "comment":
            residents.finish_rating(turn, text)
            return
        if conv.step == "announce":
            admin.announce(turn, text)
            return
        if conv.step == "served" and volunteers.served_text(turn, text):
            return
        if text.strip() in volunteers.POINTS_WORDS:  # not an NLU intent: the contract is fixed
            volunteers.my_points(turn)
            return
        result = turn.nlu or NluResult(text, "nlu_fallback", 0.0, Entities(), "unavailable")
        if conv.step in DRAFT_STEPS and conv.draft is not None:
            self._draft_text(turn, text, result)
        elif conv.step == "staff_village" and result.entities.village:
            residents.talk_to_staff(turn, "", result.entities.village)
        else:
            self._topic(turn, text, result)

    def _draft_text(self, turn: Turn, text: str, r: NluResult) -> None:
        step = turn.conv.step
        if step in ("confirm", "fix") and r.intent == "affirm" and not _has_draft_entity(r.entities):
            ordering.submit(turn)
        elif step == "confirm" and r.intent == "deny" and not _has_draft_entity(r.entities):
            ordering.ask_fix(turn)
        elif ordering.take_answer(turn, text, r.entities):
            ordering.advance(turn)
        elif r.intent == "deny":
            ordering.drop(turn)
        elif r.intent in ("nlu_fallback", "affirm", "greet", "request_service"):
            turn.say(texts.NLU_DOWN if turn.nlu_down else "我没太听明白,请按下面的按钮,或者换个说法。")
            self._resume(turn, announce=False)
        else:
            self._topic(turn, text, r)
            self._resume(turn)

    def _topic(self, turn: Turn, text: str, r: NluResult) -> None:
        intent, e = r.intent, r.entities
        if intent == "request_service" or (intent == "nlu_fallback" and e.service):
            if turn.conv.draft is None:
                ordering.start(turn)
            ordering.merge(turn, e)
            ordering.advance(turn)
        elif intent == "ask_menu":
            ordering.start(turn)
            ordering.ask(turn, "service")
        elif intent == "check_order":
            residents.show_orders(turn, e)
        elif intent == "cancel_order":
            residents.cancel_text(turn, e)
        elif intent == "rate_order":
            residents.rate_text(turn, e, text)
        elif intent == "volunteer_signup":
            residents.signup(turn, text)
        elif intent == "talk_to_staff":
            residents.talk_to_staff(turn, text, e.village)
        elif intent == "ask_broadcast":
            loudspeaker.today(turn, e.village)
        elif intent in SMALL_TALK:
            turn.say(SMALL_TALK[intent], turn.menu_rows() if intent == "greet" else ())
        elif intent in ("affirm", "deny"):
            turn.say("好的。还有什么要帮忙的,按下面的按钮就行。", turn.menu_rows())
        else:
            turn.say(texts.NLU_DOWN if turn.nlu_down else texts.NOT_UNDERSTOOD, turn.menu_rows())

    def _resume(self, turn: Turn, *, announce: bool = True) -> bool:
        """Ask the pending draft question again; True if there was one."""
        if turn.conv.draft is None or turn.conv.step not in DRAFT_STEPS:
            return False
        if announce:
            turn.say(texts.RESUME)
        if turn.conv.step == "fix":
            ordering.ask_fix(turn)
        else:
            ordering.advance(turn)
        return True

    # ------------------------------------------------------------ commands
    def _command(self, turn: Turn, text: str) -> None:
        name, _, rest = text[1:].partition(" ")
        name = name.split("@", 1)[0].lower()  # "/orders@xiangyin_bot" in groups
        commands: dict[str, Callable[[], None]] = {
            "start": lambda: turn.say(texts.GREETING, turn.menu_rows()),
            "help": lambda: turn.say(texts.GREETING, turn.menu_rows()),
            "menu": lambda: self._topic(turn, "", NluResult("", "ask_menu", 1.0, Entities())),
            "mine": lambda: residents.show_orders(turn),
            "staff": lambda: residents.talk_to_staff(turn, ""),
            "announce": lambda: admin.announce(turn, rest),
            "orders": lambda: admin.list_orders(turn),
            "stats": lambda: admin.show_stats(turn),
            "voice": lambda: voice_setting.toggle(turn),
            "id": lambda: turn.say(texts.YOUR_ID.format(key=turn.who.user_key)),
            "me": lambda: volunteers.my_points(turn),
        }
        commands.get(name, lambda: turn.say(texts.NOT_UNDERSTOOD, turn.menu_rows()))()

    # ------------------------------------------------------------ buttons
    def _button(self, turn: Turn) -> None:
        parts = self.signer.verify(turn.who.user_key, turn.inbound.data)
        press = read_press(parts) if parts else None
        if press is None:
            # Forged, foreign or garbled data: say nothing about any order.
            log.info("bot: refused a button with invalid signature or data")
            turn.say(texts.STALE)
            return
        if turn.conv.step == "comment" and press.action is not Action.skip_comment:
            residents.finish_rating(turn, None)  # a new action: record the stars without a comment
        if press.step is not None and press.step != turn.conv.seq:
            turn.say(texts.STALE)  # the answer to a question asked before the last one
            self._resume(turn, announce=False)
            return
        BUTTONS[press.action](turn, *press.args)


# What each button does (bot.actions names them); every action has exactly one entry.
BUTTONS: dict[Action, Callable[..., None]] = {
    Action.start_order: ordering.begin,
    Action.my_orders: residents.show_orders,
    Action.find_staff: lambda turn: residents.talk_to_staff(turn, ""),
    Action.volunteer: lambda turn: residents.signup(turn, ""),
    Action.hear_broadcast: loudspeaker.today,
    Action.pick_theme: ordering.pick_theme,
    Action.show_themes: ordering.show_themes,
    Action.pick_service: ordering.pick_service,
    Action.pick_village: ordering.pick_village,
    Action.pick_time: ordering.pick_time,
    Action.pick_count: ordering.pick_count,
    Action.submit_order: ordering.press_submit,
    Action.change_order: ordering.press_change,
    Action.fix_field: ordering.press_fix,
    Action.drop_order: ordering.drop,
    Action.skip_comment: lambda turn: residents.finish_rating(turn, None),
    Action.record_served: volunteers.served,
    Action.staff_village: lambda turn, village_id: residents.talk_to_staff(turn, "", village_id),
    Action.drop_announcement: admin.drop_announcement,
    Action.ask_cancel: residents.ask_cancel,
    Action.confirm_cancel: residents.do_cancel,
    Action.keep_order: residents.keep_order,
    Action.rate: residents.press_stars,
    Action.accept: volunteers.accept,
    Action.ask_done: volunteers.ask_done,
    Action.reassign: admin.reassign,
}


def _has_draft_entity(e: Entities) -> bool:
    return any((e.service, e.village, e.time, e.count, e.phone))
