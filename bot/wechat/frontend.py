"""The WeChat Official Account front end: `WeChatFrontend(ctx, nlu)`, started by `xiangyin run`.

It serves the callback URL (aiohttp) and answers each message with WeChat's passive reply
when the dialogue engine has it ready within `wechat.reply_budget_seconds` (WeChat waits
5 s, then drops the connection and retries).  A slower answer (a voice message to recognise,
a busy Rasa) is sent through the customer-service API (客服消息) instead, and the request is
answered "success" so WeChat neither retries nor tells the user the account is broken.
Retries of a message still being handled join it; the engine's processed-update record
makes a retry that reaches another instance harmless.  The WeChat outbox sends order news
(offers, "taken", "done → rate"…) to WeChat users with its own cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field, replace

from aiohttp import web

from bot import outbox
from bot.channels import Channels
from bot.choices import Choice, pick
from bot.engine import DialogueEngine
from bot.messages import Inbound, InboundKind, Notice, Outcome
from bot.nlu import Nlu
from bot.notify import Notifier
from bot.voice.asr import FunAsrClient, SpeechToText
from bot.voice.audio import AudioError, to_pcm16k
from bot.voice.replies import VoiceReplies
from bot.voice.setting import wants_voice_of
from bot.wechat.api import WeChatApi, WeChatApiError
from bot.wechat.callback import MAX_BODY, CallbackCodec, Incoming, Refused, incoming
from bot.wechat.render import ChoiceStore, render, split
from core.app import AppContext
from core.config import AppConfig
from core.lease import lease_for
from core.tasks import cancel_and_wait, repeat
from people.identities import Channel, account, user_key

log = logging.getLogger(__name__)

CHANNEL = Channel.wechat.value
NO_CREDENTIALS_MESSAGE = (
    "WeChat official account not started: no credentials configured (set XIANGYIN_WECHAT_APP_ID, "
    "XIANGYIN_WECHAT_APP_SECRET and XIANGYIN_WECHAT_TOKEN)."
)
HEARD = "我听到您说:“{text}”"
RECENT_SECONDS = 60.0  # passive replies kept for WeChat's retries of the same message
# The custom menu (自定义菜单): clicks become the engine's main-menu buttons or commands.
MENU_ACTIONS = {
    "XY_ORDER": ("menu", "order"),
    "XY_MINE": ("menu", "mine"),
    "XY_STAFF": ("menu", "staff"),
    "XY_VOLUNTEER": ("menu", "vol"),
    "XY_VOICE": ("command", "/voice"),
    "XY_HELP": ("command", "/start"),
}
MENU = {
    "button": [
        {"type": "click", "name": "我要点服务", "key": "XY_ORDER"},
        {"type": "click", "name": "我的单子", "key": "XY_MINE"},
        {
            "name": "更多",
            "sub_button": [
                {"type": "click", "name": "找工作人员", "key": "XY_STAFF"},
                {"type": "click", "name": "我想当志愿者", "key": "XY_VOLUNTEER"},
                {"type": "click", "name": "语音回复 开/关", "key": "XY_VOICE"},
                {"type": "click", "name": "怎么用", "key": "XY_HELP"},
            ],
        },
    ]
}


def credentials_configured(config: AppConfig) -> bool:
    s = config.wechat
    return all(v and v.strip() for v in (s.app_id, s.app_secret, s.token))


def wechat_key(openid: str) -> str:
    return user_key(Channel.wechat, openid)


def openid_of(key: str) -> str | None:
    return account(key, Channel.wechat)


@dataclass
class Answer:
    """What one message produced: the text (with choices) and what goes after it."""

    user_key: str
    text: str
    voice_text: str | None = None  # also sent as voice (语音回复)
    audio: list[str] = field(default_factory=list)  # recordings (MP3 paths) to send
    notices: list[Notice] = field(default_factory=list)


@dataclass
class _Pending:
    task: asyncio.Task[Answer | None]
    late: bool = False  # the budget ran out: the answer goes through the customer-service API
    taken: bool = False  # delivered (passively or not): never twice


class WeChatFrontend:
    """Runtime service: the callback server, the WeChat outbox and the custom menu."""

    name = "wechat"

    def __init__(
        self,
        ctx: AppContext,
        nlu: Nlu,
        *,
        engine: DialogueEngine | None = None,
        channels: Channels | None = None,
        asr: SpeechToText | None = None,
        voice_replies: VoiceReplies | None = None,
        outbox_interval: float = 2.0,
        reminder_interval: float | None = 60.0,  # None: another front end sends the reminders
    ) -> None:
        self.ctx = ctx
        self.settings = ctx.config.wechat
        self.nlu = nlu
        self.engine = engine or DialogueEngine(ctx, nlu)
        self._owns_engine = engine is None
        self.api = WeChatApi(self.settings, ctx.db, ctx.clock)
        self.codec = CallbackCodec(self.settings, ctx.clock)
        self.choices = ChoiceStore(ctx.db)
        self.notifier = Notifier(ctx.db, ctx.config, self.engine.signer, cursor="outbox:wechat")
        # Several instances: each loop works on the instance holding its lease (core/lease.py).
        self.outbox_lease = lease_for(ctx, self.notifier.cursor_key)
        self.reminder_lease = lease_for(ctx, "reminders")
        self.channels = channels or Channels()
        self.channels.register(CHANNEL, self.send_notice)
        voice = ctx.config.voice
        self.asr = asr or (FunAsrClient(voice.asr_url, timeout=voice.asr_timeout_seconds) if voice.asr_url else None)
        self.voice_replies = voice_replies or VoiceReplies(ctx.config)
        self.outbox_interval = outbox_interval
        self.reminder_interval = reminder_interval
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._pending: dict[str, _Pending] = {}
        self._recent: dict[str, tuple[float, str]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()
        self._outbox_wakeup = asyncio.Event()
        self.late_answers = 0  # answers that went through the customer-service API

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        if not credentials_configured(self.ctx.config):
            raise RuntimeError(NO_CREDENTIALS_MESSAGE)
        # The NLU's normaliser loads jieba's dictionaries on first use, seconds of blocking the
        # event loop: done now, in a thread, or the first message would miss WeChat's 5 s.
        normaliser = getattr(self.nlu, "normaliser", None)
        for text in ("你好", "明天上午来东山村理发") if normaliser is not None else ():
            await asyncio.to_thread(normaliser.entities, text, [], self.ctx.clock())
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get(self.settings.path, self._verify)
        app.router.add_post(self.settings.path, self._callback)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.listen, self.settings.port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}{self.settings.path}"
        if self.settings.create_menu:
            try:
                await self.api.create_menu(MENU)
            except WeChatApiError as exc:  # the chat works without it; staff can retry by restarting
                log.warning("wechat: custom menu not created (%s)", exc)
        outbox = repeat(
            self.flush_outbox, self.outbox_interval, what="wechat outbox", wake=self._outbox_wakeup, min_gap=0.1
        )
        self._tasks = [asyncio.create_task(outbox, name="wechat-outbox")]
        if self.reminder_interval is not None:
            reminders = repeat(self.remind, self.reminder_interval, what="reminders")
            self._tasks.append(asyncio.create_task(reminders, name="wechat-reminders"))
        log.info("wechat callback listening on %s", self.url)

    async def stop(self) -> None:
        await cancel_and_wait(*self._tasks)
        self._tasks = []
        for lease in (self.outbox_lease, self.reminder_lease):
            await asyncio.to_thread(lease.release)  # another instance goes on at once
        for pending in list(self._pending.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(pending.task), 5)
        if self._background:
            await asyncio.wait(self._background, timeout=10)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.asr is not None:
            await self.asr.aclose()
        if self._owns_engine:
            self.engine.close()
        log.info("wechat stopped")

    # ------------------------------------------------------------ callback
    async def _verify(self, request: web.Request) -> web.Response:
        try:
            echo = self.codec.verify_url(dict(request.query))
        except Refused as exc:
            log.warning("wechat: refused a URL verification (%s)", exc)
            return web.Response(status=403, text="forbidden")
        return web.Response(text=echo)

    async def _callback(self, request: web.Request) -> web.Response:
        loop = asyncio.get_running_loop()
        started = loop.time()
        query = dict(request.query)
        try:
            message, encrypted = self.codec.read(query, await request.read())
        except Refused as exc:
            log.warning("wechat: refused a callback (%s)", exc)
            return web.Response(status=403, text="forbidden")
        item = incoming(message)
        nonce = query.get("nonce", "")
        recent = self._recent.get(item.update_key)
        if recent is not None:  # WeChat did not get our passive reply: the same again
            return self._xml(self.codec.reply(message, recent[1], encrypted, nonce))
        pending = self._pending.get(item.update_key)
        if pending is None:
            pending = _Pending(asyncio.create_task(self._answer(item)))
            self._pending[item.update_key] = pending
            pending.task.add_done_callback(lambda _t, key=item.update_key: self._finished(key))
        elif pending.late:
            return _success()
        budget = self.settings.reply_budget_seconds - (loop.time() - started)
        try:
            async with asyncio.timeout(max(budget, 0.0)):
                await asyncio.shield(pending.task)
        except TimeoutError:
            pending.late = True
            if pending.task.done():
                self._deliver_late(pending)
            return _success()
        except Exception:
            return _success()  # logged by _finished; the person gets nothing rather than a retry storm
        answer = pending.task.result()
        if answer is None or pending.taken:
            return _success()
        pending.taken = True
        first, *rest = split(answer.text)
        self._recent[item.update_key] = (time.monotonic(), first)
        self._spawn(self._send_after(answer, rest))
        return self._xml(self.codec.reply(message, first, encrypted, nonce))

    def _finished(self, key: str) -> None:
        pending = self._pending.pop(key, None)
        if pending is None:
            return
        if not pending.task.cancelled() and pending.task.exception() is not None:
            log.error("wechat: handling a message failed", exc_info=pending.task.exception())
            return
        if pending.late:
            self._deliver_late(pending)
        cutoff = time.monotonic() - RECENT_SECONDS
        for old in [k for k, (at, _) in self._recent.items() if at < cutoff]:
            del self._recent[old]

    def _deliver_late(self, pending: _Pending) -> None:
        if pending.taken or pending.task.cancelled() or pending.task.exception() is not None:
            return
        pending.taken = True
        answer = pending.task.result()
        if answer is not None:
            self.late_answers += 1
            self._spawn(self._send_after(answer, split(answer.text)))

    def _spawn(self, coro) -> None:  # type: ignore[no-untyped-def]
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @staticmethod
    def _xml(body: str) -> web.Response:
        return web.Response(text=body, content_type="application/xml")

    # ------------------------------------------------------------ one message → an answer
    async def _answer(self, item: Incoming) -> Answer | None:
        user = wechat_key(item.openid)
        inbound, heard = await self._inbound(item, user)
        if inbound is None:
            return None
        outcome = await self.engine.handle(inbound)
        self._outbox_wakeup.set()  # the turn may have changed an order: tell the others soon
        if heard and outcome.replies:  # show what was understood: a mishearing is then plain to see
            first = outcome.replies[0]
            outcome.replies[0] = replace(first, text=f"{HEARD.format(text=heard)}\n{first.text}")
        return await self._prepare(user, outcome)

    async def _prepare(self, user: str, outcome: Outcome) -> Answer:
        replies = outcome.replies
        text, choices = render(replies)
        if outcome.toast and not text:
            text = outcome.toast
        await self._remember(user, choices)
        voice_text = replies[0].text if replies and await self.engine.run_db(self._wants_voice, user) else None
        audio = [r.audio.path for r in replies if r.audio is not None]
        return Answer(user, text, voice_text, audio, list(outcome.notices))

    def _wants_voice(self, user: str) -> bool:
        return wants_voice_of(self.engine.store, user)

    async def _remember(self, user: str, choices: list[Choice]) -> None:
        await self.engine.run_db(self.choices.save, user, choices, self.ctx.clock())

    async def _inbound(self, item: Incoming, user: str) -> tuple[Inbound | None, str]:
        """The engine's view of a callback, and what was heard when it was a voice message."""

        now = self.ctx.clock()  # times like "明天上午" are read against the app's clock

        def make(kind: InboundKind, text: str = "", data: str = "") -> Inbound:
            return Inbound(user, item.update_key, kind, now, text=text, data=data)

        if item.kind == "text":
            if item.menu_choice is not None or len(item.text) <= 12:
                choices = await self.engine.run_db(self.choices.load, user)
                data = pick(item.text, choices, item.menu_choice)
                if data is not None:
                    return make(InboundKind.button, data=data), ""
            return make(InboundKind.text, item.text), ""
        if item.kind == "voice":
            heard = item.recognition or await self._recognise(item.media_id)
            if heard:
                return make(InboundKind.text, heard), heard
            return make(InboundKind.voice), ""
        if item.kind == "subscribe":
            return make(InboundKind.text, "/start"), ""
        if item.kind == "click":
            kind, arg = MENU_ACTIONS.get(item.event_key, ("command", "/start"))
            if kind == "menu":
                return make(InboundKind.button, data=self.engine.signer.sign(user, "menu", arg)), ""
            return make(InboundKind.text, arg), ""
        if item.kind == "unsubscribe":
            return None, ""
        return make(InboundKind.unsupported), ""

    async def _recognise(self, media_id: str) -> str:
        if self.asr is None or not media_id:
            return ""
        try:
            recording = await self.api.download_media(media_id)
            voice = self.ctx.config.voice
            pcm = await to_pcm16k(recording, ffmpeg=voice.ffmpeg, max_seconds=voice.max_seconds)
        except (WeChatApiError, AudioError) as exc:
            log.warning("wechat: voice message not converted (%s)", exc)
            return ""
        return (await self.asr.transcribe(pcm)) or ""

    # ------------------------------------------------------------ sending (customer-service API)
    async def _send_after(self, answer: Answer, texts: list[str]) -> None:
        """What follows the passive reply (or replaces it when late): more text, voice, recordings, notices."""
        openid = openid_of(answer.user_key)
        try:
            if openid is not None:
                for text in texts:
                    await self.api.send_text(openid, text)
                await self._send_voice(openid, answer.voice_text, answer.user_key)
                for path in answer.audio:
                    await self._send_recording(openid, path)
        except WeChatApiError as exc:
            log.warning("wechat: customer-service message not delivered (%s)", exc)
        for notice in answer.notices:
            await self.channels.send(notice)

    async def _send_voice(self, openid: str, text: str | None, user_key: str) -> None:
        if not text:
            return
        conv = await self.engine.run_db(self.engine.store.load, user_key)
        audio = await self.voice_replies.voice(text, "mp3", conv.profile.get("village"))
        if audio is not None:
            await self.api.send_voice(openid, audio, "reply.mp3")

    async def _send_recording(self, openid: str, path: str) -> None:
        try:
            data = await asyncio.to_thread(_read, path)
            await self.api.send_voice(openid, data, "broadcast.mp3")
        except (OSError, WeChatApiError) as exc:
            log.warning("wechat: recording not sent (%s)", exc)

    async def send_notice(self, notice: Notice) -> bool:
        """A message to a WeChat user; False only on a temporary failure (worth retrying)."""
        openid = openid_of(notice.to)
        if openid is None:
            return True
        answer = await self._prepare(notice.to, Outcome(replies=[notice.reply]))
        try:
            for text in split(answer.text):
                await self.api.send_text(openid, text)
            await self._send_voice(openid, answer.voice_text, notice.to)
        except WeChatApiError as exc:
            if exc.permanent:  # unfollowed, or silent for 48 hours: WeChat will not deliver it
                log.warning("wechat: notice not delivered (%s)", exc)
                return True
            log.warning("wechat: notice delivery failed, will retry (%s)", exc)
            return False
        return True

    async def flush_outbox(self) -> int:
        return await outbox.flush(
            self.notifier, self.engine.run_db, self.ctx.clock, self.send_notice, CHANNEL, self.outbox_lease
        )

    async def remind(self) -> None:
        await outbox.remind(self.notifier, self.engine, self.ctx.clock, self.channels, self.reminder_lease)


def _success() -> web.Response:
    # "success" (or an empty body) tells WeChat the message was received: no retry, no error shown.
    return web.Response(text="success")


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()
