"""A local fake Telegram Bot API server (aiohttp, 127.0.0.1) for tests and benchmarks.

It speaks the HTTP protocol python-telegram-bot uses (``POST /bot<token>/<method>``) for the
methods the bot calls, keeps the messages it was asked to send, and lets a test act as
Telegram users: type text, press buttons, send stickers/photos/voice/locations, edit a
message, or have an update delivered twice.  The real PTB `Application` talks to it through
`base_url`, so the whole adapter (polling, callback queries, rate limiter) is exercised.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

TOKEN = "424242:TEST-token-for-the-local-fake"
BOT_USER = {"id": 424242, "is_bot": True, "first_name": "乡音", "username": "xiangyin_bot"}


@dataclass
class Sent:
    """A message the bot sent (or its latest edit), as a user's app would show it."""

    chat_id: int
    message_id: int
    text: str
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)  # (label, callback data)
    edited: bool = False
    audio: tuple[str, bytes] | None = None  # sendAudio: (file name, the file's bytes); text is the caption
    document: tuple[str, bytes] | None = None  # sendDocument: the same

    def button(self, label: str) -> str:
        """The callback data of the first button whose label contains `label`."""
        for row in self.buttons:
            for text, data in row:
                if label in text:
                    return data
        raise LookupError(f"no button {label!r} in message {self.message_id}: {self.labels}")

    @property
    def labels(self) -> list[str]:
        return [text for row in self.buttons for text, _ in row]


class FakeBotApi:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.log: list[Sent] = []  # every send and edit, in order
        self.messages: dict[tuple[int, int], Sent] = {}
        self.blocked: set[int] = set()  # users who blocked the bot: 403 on send
        self.webhook: dict[str, Any] | None = None  # set by setWebhook
        self._updates: list[dict[str, Any]] = []  # not yet delivered
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._arrived = asyncio.Event()
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0
        # Set by a test to observe the time each reply is sent (benchmark latency).
        self.on_send: Callable[[Sent], None] | None = None
        # Dates users' messages carry: a test sets the clock its bot runs on.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    # ------------------------------------------------------------ server
    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.base_url

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        self.calls.append((method, params))
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, f"Not Found: method {method} is not served by the fake")
        result = await handler(params)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    # ------------------------------------------------------------ Bot API methods
    async def _m_getMe(self, p: dict[str, Any]) -> Any:
        return {**BOT_USER, "can_join_groups": False, "can_read_all_group_messages": False}

    async def _m_deleteWebhook(self, p: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def _m_setWebhook(self, p: dict[str, Any]) -> Any:
        self.webhook = {"url": p.get("url"), "secret_token": p.get("secret_token")}
        return True

    async def _m_setMyCommands(self, p: dict[str, Any]) -> Any:
        return True

    async def _m_answerCallbackQuery(self, p: dict[str, Any]) -> Any:
        return True

    async def _m_getUpdates(self, p: dict[str, Any]) -> Any:
        # Telegram semantics: updates stay queued until a later call confirms them with
        # `offset`, so a poll cancelled by a stopping bot loses nothing.
        offset = int(p.get("offset") or 0)
        self._updates = [u for u in self._updates if u.get("_forced") or u["update_id"] >= offset]
        timeout = min(float(p.get("timeout") or 0), 1.0)
        if not self._updates and timeout:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._arrived.wait()
        batch = self._updates[: int(p.get("limit") or 100)]
        # A forced redelivery is sent once, whatever the offset says.
        self._updates = [u for u in self._updates if not (u.get("_forced") and u in batch)]
        return [{k: v for k, v in u.items() if k != "_forced"} for u in batch]

    async def _m_sendMessage(self, p: dict[str, Any]) -> Any:
        chat_id = int(p["chat_id"])
        if chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        text = str(p["text"])
        if len(text) > 4096:
            return _error(400, "Bad Request: message is too long")
        sent = Sent(chat_id, next(self._message_ids), text, _buttons(p.get("reply_markup")))
        self._record(sent)
        return self._message_json(sent)

    async def _m_sendAudio(self, p: dict[str, Any]) -> Any:
        return self._send_file(p, "audio")

    async def _m_sendDocument(self, p: dict[str, Any]) -> Any:
        return self._send_file(p, "document")

    def _send_file(self, p: dict[str, Any], kind: str) -> Any:
        chat_id = int(p["chat_id"])
        if chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        upload = p.get(kind)
        if not isinstance(upload, tuple):
            return _error(400, f"Bad Request: {kind} file must be uploaded (multipart)")
        sent = Sent(chat_id, next(self._message_ids), str(p.get("caption") or ""), **{kind: upload})
        self._record(sent)
        return self._message_json(sent)

    async def _m_editMessageText(self, p: dict[str, Any]) -> Any:
        key = (int(p["chat_id"]), int(p["message_id"]))
        if key not in self.messages:
            return _error(400, "Bad Request: message to edit not found")
        sent = Sent(key[0], key[1], str(p["text"]), _buttons(p.get("reply_markup")), edited=True)
        self._record(sent)
        return self._message_json(sent)

    async def _m_editMessageReplyMarkup(self, p: dict[str, Any]) -> Any:
        key = (int(p["chat_id"]), int(p["message_id"]))
        if key not in self.messages:
            return _error(400, "Bad Request: message to edit not found")
        sent = copy.copy(self.messages[key])
        sent.buttons, sent.edited = _buttons(p.get("reply_markup")), True
        self._record(sent)
        return self._message_json(sent)

    def _record(self, sent: Sent) -> None:
        self.messages[(sent.chat_id, sent.message_id)] = sent
        self.log.append(sent)
        if self.on_send is not None:
            self.on_send(sent)
        self._changed.set()

    def _message_json(self, sent: Sent) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": self._timestamp(),
            "chat": {"id": sent.chat_id, "type": "private", "first_name": "用户"},
            "from": BOT_USER,
        }
        if sent.audio is not None:
            message["caption"] = sent.text
            message["audio"] = {"file_id": f"audio-{sent.message_id}", "file_unique_id": sent.audio[0], "duration": 0}
        elif sent.document is not None:
            message["caption"] = sent.text
            message["document"] = {"file_id": f"doc-{sent.message_id}", "file_unique_id": sent.document[0]}
        else:
            message["text"] = sent.text
        if sent.buttons:
            message["reply_markup"] = {
                "inline_keyboard": [[{"text": t, "callback_data": d} for t, d in row] for row in sent.buttons]
            }
        if sent.edited:
            message["edit_date"] = self._timestamp()
        return message

    # ------------------------------------------------------------ acting as users
    def _timestamp(self) -> int:
        return int(self.clock().timestamp())

    def _push(self, update: dict[str, Any]) -> int:
        self._updates.append(update)
        self._arrived.set()
        return int(update["update_id"])

    def _user_message(self, user_id: int, **content: Any) -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": "用户"}
        return {
            "message_id": next(self._message_ids),
            "date": self._timestamp(),
            "chat": {"id": user_id, "type": "private", "first_name": "用户"},
            "from": user,
            **content,
        }

    def text_update(self, user_id: int, text: str) -> dict[str, Any]:
        """A text message update, not queued (e.g. to POST it to a webhook)."""
        return {"update_id": next(self._update_ids), "message": self._user_message(user_id, text=text)}

    def send_text(self, user_id: int, text: str) -> int:
        return self._push(self.text_update(user_id, text))

    def send_other(self, user_id: int, kind: str) -> int:
        """A sticker, photo, voice message or location."""
        content = {
            "sticker": {
                "sticker": {"file_id": "stk", "file_unique_id": "stk1", "width": 512, "height": 512,
                            "is_animated": False, "is_video": False, "type": "regular"},
            },
            "photo": {"photo": [{"file_id": "ph", "file_unique_id": "ph1", "width": 90, "height": 90}]},
            "voice": {"voice": {"file_id": "vc", "file_unique_id": "vc1", "duration": 3}},
            "location": {"location": {"latitude": 30.1, "longitude": 120.2}},
        }[kind]  # fmt: skip
        return self._push({"update_id": next(self._update_ids), "message": self._user_message(user_id, **content)})

    def edit_text(self, user_id: int, text: str) -> int:
        message = self._user_message(user_id, text=text, edit_date=self._timestamp())
        return self._push({"update_id": next(self._update_ids), "edited_message": message})

    def press(self, user_id: int, sent: Sent, data: str) -> int:
        """Press a button (any data: tests forge some) on a message the bot sent."""
        query = {
            "id": str(next(self._message_ids)),
            "from": {"id": user_id, "is_bot": False, "first_name": "用户"},
            "chat_instance": f"ci{sent.chat_id}",
            "data": data,
            "message": self._message_json(sent),
        }
        return self._push({"update_id": next(self._update_ids), "callback_query": query})

    def press_label(self, user_id: int, sent: Sent, label: str) -> int:
        return self.press(user_id, sent, sent.button(label))

    def redeliver_last(self, times: int = 1) -> None:
        """Deliver the last pushed update again (as Telegram does after a lost confirmation)."""
        last = self._updates[-1]
        for _ in range(times):
            self._push({**copy.deepcopy(last), "_forced": True})

    # ------------------------------------------------------------ observing
    def to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.log if s.chat_id == chat_id]

    def last_to(self, chat_id: int) -> Sent:
        """The latest state of the last message shown in this chat."""
        sent = self.to(chat_id)
        if not sent:
            raise LookupError(f"nothing sent to {chat_id}")
        return self.messages[(chat_id, sent[-1].message_id)]

    def find_button(self, chat_id: int, label: str) -> Sent | None:
        """The newest message in the chat (as currently shown) with a button labelled so."""
        for sent in reversed(self.to(chat_id)):
            current = self.messages[(chat_id, sent.message_id)]
            if any(label in text for text in current.labels):
                return current
        return None

    def with_button(self, chat_id: int, label: str) -> Sent:
        found = self.find_button(chat_id, label)
        if found is None:
            raise LookupError(f"no message with button {label!r} in chat {chat_id}")
        return found

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
        """Wait until predicate() is truthy (checked after each message the bot sends)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError("condition not met; last messages: " + repr([s.text[:40] for s in self.log[-6:]]))
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, 0.2)):
                    await self._changed.wait()

    async def wait_text(self, chat_id: int, needle: str, after: int = 0, timeout: float = 15.0) -> Sent:
        """The first message (after log index `after`) to the chat containing `needle`."""

        def found() -> Sent | None:
            return next((s for s in self.log[after:] if s.chat_id == chat_id and needle in s.text), None)

        return await self.wait_for(found, timeout)

    async def settle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until no update is pending and nothing was sent for `quiet` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        count = -1
        while loop.time() < deadline:
            if not self._updates and count == len(self.log):
                return
            count = len(self.log)
            await asyncio.sleep(quiet)


def _error(code: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)


def _buttons(markup: Any) -> list[list[tuple[str, str]]]:
    if isinstance(markup, str):
        markup = json.loads(markup)
    if not isinstance(markup, dict):
        return []
    return [[(b["text"], b.get("callback_data", "")) for b in row] for row in markup.get("inline_keyboard", [])]


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        data = await request.json()
        return dict(data) if isinstance(data, dict) else {}
    form = await request.post()
    out: dict[str, Any] = {}
    for key, value in form.items():
        if isinstance(value, web.FileField):
            out[key] = (value.filename, value.file.read())
        elif isinstance(value, str):
            try:
                out[key] = json.loads(value) if value[:1] in "[{" else value
            except ValueError:
                out[key] = value
    return out
