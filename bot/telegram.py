"""The Telegram adapter (python-telegram-bot 22) and the bot's runtime service.

`TelegramFrontend(ctx, nlu)` is what `xiangyin run` starts: polling by default, a webhook by
config, `base_url` for a local Bot API server.  Besides answering updates it runs two
loops: the outbox (order history → messages, whoever changed the order: this bot, the web
console, the CLI or the deadline sweep of `orders.sweeper`) and reminders before the agreed time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from pathlib import Path
from typing import Literal

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ChatType, MessageLimit
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot import outbox
from bot.bulletins import deliver_bulletins
from bot.channels import Channels
from bot.engine import DialogueEngine
from bot.messages import Inbound, InboundKind, Notice, Outcome, Reply
from bot.nlu import Nlu
from bot.notify import Notifier
from bot.transport import AiohttpRequest
from core.app import AppContext
from core.clock import Clock
from core.config import AppConfig, Role
from core.lease import lease_for
from core.tasks import cancel_and_wait, repeat
from people.identities import Channel, account, user_key

log = logging.getLogger(__name__)

NO_TOKEN_MESSAGE = (
    "Telegram bot not started: no token configured (set XIANGYIN_TELEGRAM_TOKEN). "
    "Residents can still be served with `xiangyin chat`."
)
OUTBOX_MIN_GAP = 0.1  # seconds between outbox passes when woken by busy chats
RESIDENT_COMMANDS = [
    BotCommand("start", "开始 / 看菜单"),
    BotCommand("menu", "点服务"),
    BotCommand("mine", "我的单子"),
    BotCommand("staff", "找工作人员"),
    BotCommand("me", "我的积分(志愿者)"),
]
STAFF_COMMANDS = [
    BotCommand("announce", "写大喇叭广播稿(交给审核)"),
    BotCommand("orders", "没办完和超时的单子"),
    BotCommand("stats", "今天和本月的统计"),
]


def telegram_key(telegram_id: int) -> str:
    return user_key(Channel.telegram, telegram_id)


def telegram_id(key: str) -> int | None:
    """The Telegram chat id of a user key, or None for other channels."""
    found = account(key, Channel.telegram)
    return int(found) if found is not None and found.lstrip("-").isdigit() else None


def token_configured(config: AppConfig) -> bool:
    """True when a bot token is set (config or XIANGYIN_TELEGRAM_TOKEN)."""
    return bool(config.telegram.token and config.telegram.token.strip())


def to_inbound(update: Update, clock: Clock) -> Inbound | None:
    """The channel-neutral view of an update; None for what the bot ignores.

    A message is dated when the person sent it (Telegram's date: what "明天" meant then, even
    if the bot was down for a while); a pressed button, which Telegram does not date, by the
    clock.  Edited messages are ignored on purpose: acting on an edit could place an order
    twice.  Group chats are ignored: orders are personal and replies may hold a phone number.
    """
    key = f"tg:u:{update.update_id}"
    now = clock()
    query = update.callback_query
    if query is not None:
        if query.message is not None and query.message.chat.type != ChatType.PRIVATE:
            return None
        return Inbound(telegram_key(query.from_user.id), key, InboundKind.button, now, data=query.data or "")
    message = update.message
    if message is None or message.from_user is None or message.chat.type != ChatType.PRIVATE:
        return None
    received = message.date or now
    if message.text is not None:
        return Inbound(telegram_key(message.from_user.id), key, InboundKind.text, received, text=message.text)
    return Inbound(telegram_key(message.from_user.id), key, InboundKind.unsupported, received)


def markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in reply.buttons]
    )


def _fit(text: str) -> str:
    limit = MessageLimit.MAX_TEXT_LENGTH
    return text if len(text) <= limit else text[: limit - 1] + "…"


class TelegramFrontend:
    """Runtime service: the Telegram bot plus its outbox, reminders and monthly bulletins."""

    name = "telegram"

    def __init__(
        self,
        ctx: AppContext,
        nlu: Nlu,
        *,
        outbox_interval: float = 2.0,
        reminder_interval: float = 60.0,
        bulletin_interval: float = 60.0,
        poll_timeout: int = 10,
        # Updates handled at once.  The NLU server answers one request at a time, so more
        # only queues inside the HTTP pools, whose bookkeeping grows with the queue.
        concurrency: int = 8,
        transport: Literal["aiohttp", "httpx"] = "aiohttp",  # httpx: PTB's default, for comparison
        engine: DialogueEngine | None = None,  # shared with the other channels in `xiangyin run`
        channels: Channels | None = None,
    ) -> None:
        self.ctx = ctx
        self.engine = engine or DialogueEngine(ctx, nlu)
        self._owns_engine = engine is None
        self.notifier = Notifier(ctx.db, ctx.config, self.engine.signer)
        # Several instances: each loop works on the instance holding its lease (core/lease.py).
        self.outbox_lease = lease_for(ctx, self.notifier.cursor_key)
        self.reminder_lease = lease_for(ctx, "reminders")
        self.bulletin_lease = lease_for(ctx, "bulletins:telegram")
        self.channels = channels or Channels()
        self.channels.register("tg", self.send_notice)
        self.outbox_interval = outbox_interval
        self.reminder_interval = reminder_interval
        self.bulletin_interval = bulletin_interval
        self.poll_timeout = poll_timeout
        self.concurrency = concurrency
        self.transport = transport
        self.application: Application | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._outbox_wakeup = asyncio.Event()

    # ------------------------------------------------------------ lifecycle
    def build_application(self) -> Application:
        settings = self.ctx.config.telegram
        if not token_configured(self.ctx.config):
            raise RuntimeError(NO_TOKEN_MESSAGE)
        builder: ApplicationBuilder = (
            Application.builder()
            .token(settings.token or "")
            # Flood control: queue sends under Telegram's limits, retry once after RetryAfter.
            .rate_limiter(AIORateLimiter(overall_max_rate=settings.max_messages_per_second, max_retries=2))
            .concurrent_updates(self.concurrency)  # the engine serialises turns per chat
            .job_queue(None)  # our loops are plain tasks; no APScheduler inside PTB
        )
        if self.transport == "aiohttp":
            # Long polling holds one connection for up to poll_timeout: its own small pool.
            builder = builder.request(AiohttpRequest(16)).get_updates_request(AiohttpRequest(1))
        else:
            builder = builder.connection_pool_size(16)
        if settings.base_url:
            base = settings.base_url.rstrip("/")
            builder = builder.base_url(base if base.endswith("/bot") else f"{base}/bot")
        application = builder.build()
        application.add_handler(TypeHandler(Update, self._on_update))
        application.add_error_handler(self._on_error)
        return application

    async def start(self) -> None:
        self.application = app = self.build_application()
        await app.initialize()
        await self._set_commands()
        await app.start()
        settings = self.ctx.config.telegram
        assert app.updater is not None
        allowed = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
        if settings.mode == "webhook":
            if not settings.webhook_url:
                raise RuntimeError("telegram.mode is webhook but telegram.webhook_url is not set in config.yml")
            await app.updater.start_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path="telegram",
                webhook_url=settings.webhook_url,
                secret_token=hashlib.sha256((settings.token or "").encode()).hexdigest()[:32],
                allowed_updates=allowed,
            )
        else:
            await app.updater.start_polling(
                poll_interval=0.0,
                timeout=self.poll_timeout,
                allowed_updates=allowed,
                drop_pending_updates=False,
            )
        # At most a few outbox passes a second under load: each pass is a query.
        outbox = repeat(
            self.flush_outbox, self.outbox_interval, what="telegram outbox",
            wake=self._outbox_wakeup, min_gap=OUTBOX_MIN_GAP,
        )  # fmt: skip
        self._tasks = [
            asyncio.create_task(outbox, name="bot-outbox"),
            asyncio.create_task(repeat(self.remind, self.reminder_interval, what="reminders"), name="bot-reminders"),
            asyncio.create_task(
                repeat(self.send_bulletins, self.bulletin_interval, what="bulletins"), name="bot-bulletins"
            ),
        ]
        log.info("telegram bot started (%s)", settings.mode)

    async def stop(self) -> None:
        await cancel_and_wait(*self._tasks)
        self._tasks = []
        for lease in (self.outbox_lease, self.reminder_lease, self.bulletin_lease):
            await asyncio.to_thread(lease.release)  # another instance goes on at once
        app, self.application = self.application, None
        if app is None:
            return
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        if self._owns_engine:
            self.engine.close()
        log.info("telegram bot stopped")

    async def _set_commands(self) -> None:
        assert self.application is not None
        bot = self.application.bot
        await bot.set_my_commands(RESIDENT_COMMANDS, scope=BotCommandScopeDefault())
        for person in self.ctx.config.staff:
            if person.telegram_id is None or not ({Role.admin, Role.approver} & set(person.roles)):
                continue
            try:
                scope = BotCommandScopeChat(person.telegram_id)
                await bot.set_my_commands(RESIDENT_COMMANDS + STAFF_COMMANDS, scope=scope)
            except BadRequest:
                # The staff member never opened the bot yet: their menu shows resident commands.
                log.info("telegram: staff command menu not set for %s (chat not found)", person.id)

    # ------------------------------------------------------------ updates
    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        inbound = to_inbound(update, self.ctx.clock)
        query = update.callback_query
        if inbound is None:
            if query is not None:
                await query.answer()
            return
        outcome = await self.engine.handle(inbound)
        if query is not None:
            with contextlib.suppress(TelegramError):
                await query.answer(outcome.toast)
        await self.render(update, outcome)
        self._outbox_wakeup.set()  # a turn may have changed an order: tell the others soon

    async def render(self, update: Update, outcome: Outcome) -> None:
        assert self.application is not None
        bot = self.application.bot
        chat = update.effective_chat
        query = update.callback_query
        for reply in outcome.replies:
            if reply.audio is not None and chat is not None:
                audio = Path(reply.audio.path)
                await bot.send_audio(
                    chat.id, audio=audio, filename=audio.name, title=reply.audio.title,
                    caption=reply.text[: MessageLimit.CAPTION_LENGTH], reply_markup=markup(reply),
                )  # fmt: skip
                continue
            if reply.edit and query is not None and query.message is not None:
                try:
                    await bot.edit_message_text(
                        _fit(reply.text), chat_id=query.message.chat.id,
                        message_id=query.message.message_id, reply_markup=markup(reply),
                    )  # fmt: skip
                    continue
                except BadRequest:
                    pass  # too old to edit or unchanged: send it as a new message instead
            if chat is not None:
                await bot.send_message(chat.id, _fit(reply.text), reply_markup=markup(reply))
        for notice in outcome.notices:
            await self.channels.send(notice)

    async def send_notice(self, notice: Notice) -> bool:
        """False only on a temporary failure (worth retrying); permanent ones are logged."""
        assert self.application is not None
        chat_id = telegram_id(notice.to)
        if chat_id is None:
            return True  # a terminal user: nothing to deliver to
        try:
            await self.application.bot.send_message(chat_id, _fit(notice.reply.text), reply_markup=markup(notice.reply))
        except (BadRequest, Forbidden) as exc:
            # Blocked the bot or never started it: retrying will not help.
            log.warning("telegram: notice not delivered (%s)", type(exc).__name__)
        except TelegramError as exc:
            log.warning("telegram: notice delivery failed, will retry (%s)", type(exc).__name__)
            return False
        return True

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # PTB passes the exception here; log its type and trace, never the update (personal data).
        log.error("telegram: error while handling an update", exc_info=context.error)

    # ------------------------------------------------------------ background jobs
    async def flush_outbox(self) -> int:
        """Send the messages of every new order event; the cursor moves after each event."""
        return await outbox.flush(
            self.notifier, self.engine.run_db, self.ctx.clock, self.send_notice, "tg", self.outbox_lease
        )

    async def send_bulletins(self) -> int:
        """月报 archived by the reports job → a PDF to each admin of the area."""
        assert self.application is not None
        return await deliver_bulletins(self.ctx, self.application.bot, self.engine.run_db, self.bulletin_lease)

    async def remind(self) -> None:
        await outbox.remind(self.notifier, self.engine, self.ctx.clock, self.channels, self.reminder_lease)


__all__ = ["NO_TOKEN_MESSAGE", "TelegramFrontend", "to_inbound", "token_configured"]
