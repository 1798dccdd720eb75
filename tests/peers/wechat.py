"""A local fake of WeChat's servers for the official-account channel (aiohttp, 127.0.0.1).

Both halves of the protocol, as WeChat speaks them:
- **callbacks**: it plays WeChat users (text, voice, menu clicks, subscribe, tapped choice
  links) and POSTs the XML to the adapter's callback URL, signed with the token — plain, or
  encrypted (安全模式) with the EncodingAESKey.  Like WeChat it waits 5 s for an answer and
  then tries again, 3 attempts in all; a passive reply is checked (msg_signature,
  decryption, AppId) and shown to the user.  The crypto here is written from WeChat's
  published scheme with `cryptography`, not with wechatpy, so the adapter is checked
  against an independent implementation.
- **the API** at `base_url` (`/cgi-bin/…`): token, message/custom/send (客服消息: only to
  users who wrote in the last 48 hours, else 45015), menu/create, media/upload, media/get.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import os
import re
import secrets
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from core.config import AppConfig

APP_ID = "wx5a1f0c0ffee0babe"
APP_SECRET = "fake-app-secret-for-local-tests-only"
TOKEN = "xiangyinTestToken2026"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat generates
ACCOUNT = "gh_f4ke0ff1c1a1"  # the official account's own id (ToUserName)
WAIT_SECONDS = 5.0  # WeChat drops a callback after 5 s…
ATTEMPTS = 3  # …and tries 3 times in all
_LINK = re.compile(r'<a href="weixin://bizmsgmenu\?msgmenucontent=([^&"]*)&msgmenuid=(\d+)">')


# ---------------------------------------------------------------- WeChat's message crypto
def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _key(aes_key: str) -> bytes:
    return base64.b64decode(aes_key + "=")


def encrypt(plain: str, aes_key: str, app_id: str) -> str:
    """random(16) + len(4, big endian) + message + AppId, PKCS#7 to 32 bytes, AES-256-CBC, iv = key[:16]."""
    key = _key(aes_key)
    body = plain.encode()
    data = os.urandom(16) + struct.pack(">I", len(body)) + body + app_id.encode()
    pad = 32 - len(data) % 32
    data += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


def decrypt(encrypted: str, aes_key: str) -> tuple[str, str]:
    """(message, AppId)."""
    key = _key(aes_key)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    data = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    data = data[: -data[-1]]
    (length,) = struct.unpack(">I", data[16:20])
    return data[20 : 20 + length].decode(), data[20 + length :].decode()


def xml_of(fields: dict[str, Any]) -> str:
    parts = []
    for name, value in fields.items():
        text = str(value) if isinstance(value, int) else f"<![CDATA[{value}]]>"
        parts.append(f"<{name}>{text}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


def fields_of(xml: str) -> dict[str, str]:
    root = ElementTree.fromstring(xml)
    return {child.tag: (child.text or "") for child in root}


# ---------------------------------------------------------------- what users see
@dataclass
class Sent:
    """A message the account sent to a user: a passive reply or a customer-service message."""

    openid: str
    via: str  # "passive" | "custom"
    kind: str  # "text" | "voice"
    text: str = ""
    audio: bytes | None = None  # voice: the uploaded file
    at: float = field(default_factory=time.monotonic)

    @property
    def choices(self) -> list[tuple[int, str]]:
        """The tappable choice links: (number, label)."""
        return [(int(n), label) for label, n in _LINK.findall(self.text)]

    @property
    def labels(self) -> list[str]:
        return [label for _, label in self.choices]

    def choice(self, label: str) -> tuple[int, str]:
        for number, text in self.choices:
            if label in text:
                return number, text
        raise LookupError(f"no choice {label!r} in {self.labels}: {self.text[:80]!r}")


@dataclass
class Delivery:
    """One callback as WeChat sent it: how many attempts, what came back."""

    attempts: int = 0
    statuses: list[int | str] = field(default_factory=list)  # HTTP status or "timeout"
    reply: dict[str, str] | None = None  # the decrypted, verified passive reply


class FakeWeChat:
    def __init__(self, *, mode: str = "plain", wait_seconds: float = WAIT_SECONDS, attempts: int = ATTEMPTS) -> None:
        self.mode = mode  # plain | safe: how callbacks are sent
        self.wait_seconds = wait_seconds
        self.attempts = attempts
        self.callback_url = ""  # set once the adapter is listening
        self.log: list[Sent] = []
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.menu: dict[str, Any] | None = None
        self.media: dict[str, bytes] = {}
        self.tokens: set[str] = set()
        self.token_fetches = 0
        self.interacted: dict[str, float] = {}  # openid → last callback time (48-hour rule)
        self.fail_sends = 0  # the next N customer-service sends answer "system busy" (-1)
        self.on_send: Callable[[Sent], None] | None = None
        self._ids = itertools.count(int(time.time() * 1000))
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    # ------------------------------------------------------------ server
    async def start(self) -> str:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom_send)
        app.router.add_post("/cgi-bin/menu/create", self._menu_create)
        app.router.add_post("/cgi-bin/media/upload", self._media_upload)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._session = aiohttp.ClientSession(trust_env=False)
        return self.base_url

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cgi-bin/"

    def configure(self, config: AppConfig, *, port: int = 0, **overrides: Any) -> AppConfig:
        """The config with this account's credentials, the API here and the callback on `port`."""
        wechat = config.wechat.model_copy(
            update={
                "app_id": APP_ID, "app_secret": APP_SECRET, "token": TOKEN, "encoding_aes_key": AES_KEY,
                "api_base_url": self.base_url, "listen": "127.0.0.1", "port": port, **overrides,
            }
        )  # fmt: skip
        return config.model_copy(update={"wechat": wechat})

    def expire_tokens(self) -> None:
        """Every access token handed out so far stops working (as after a fetch elsewhere + 5 min)."""
        self.tokens.clear()

    # ------------------------------------------------------------ API
    def _authorised(self, request: web.Request) -> web.Response | None:
        self.calls.append((request.path.removeprefix("/cgi-bin/"), dict(request.query)))
        if request.query.get("access_token") not in self.tokens:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
        return None

    async def _token(self, request: web.Request) -> web.Response:
        self.calls.append(("token", {k: v for k, v in request.query.items() if k != "secret"}))
        q = request.query
        if q.get("grant_type") != "client_credential" or q.get("appid") != APP_ID or q.get("secret") != APP_SECRET:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        token = secrets.token_urlsafe(48)
        self.tokens.add(token)
        self.token_fetches += 1
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def _custom_send(self, request: web.Request) -> web.Response:
        if (refused := self._authorised(request)) is not None:
            return refused
        body = json.loads(await request.read())
        openid, kind = body["touser"], body["msgtype"]
        if self.fail_sends > 0:
            self.fail_sends -= 1
            return web.json_response({"errcode": -1, "errmsg": "system error"})
        if time.monotonic() - self.interacted.get(openid, -1e9) > 48 * 3600:
            return web.json_response(
                {"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"}
            )
        if kind == "text":
            self._record(Sent(openid, "custom", "text", body["text"]["content"]))
        elif kind == "voice":
            media = self.media.get(body["voice"]["media_id"])
            if media is None:
                return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
            self._record(Sent(openid, "custom", "voice", audio=media))
        else:
            return web.json_response({"errcode": 40008, "errmsg": "invalid message type"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _menu_create(self, request: web.Request) -> web.Response:
        if (refused := self._authorised(request)) is not None:
            return refused
        menu = json.loads(await request.read())
        if not 1 <= len(menu.get("button", [])) <= 3:
            return web.json_response({"errcode": 40016, "errmsg": "invalid button size"})
        self.menu = menu
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _media_upload(self, request: web.Request) -> web.Response:
        if (refused := self._authorised(request)) is not None:
            return refused
        form = await request.post()
        media = form.get("media")
        if request.query.get("type") != "voice" or not hasattr(media, "file"):
            return web.json_response({"errcode": 40004, "errmsg": "invalid media type"})
        data = media.file.read()  # type: ignore[union-attr]
        if len(data) > 2 * 1024 * 1024:
            return web.json_response({"errcode": 40006, "errmsg": "invalid media size"})
        media_id = self.store_media(data)
        return web.json_response({"type": "voice", "media_id": media_id, "created_at": int(time.time())})

    async def _media_get(self, request: web.Request) -> web.Response:
        if (refused := self._authorised(request)) is not None:
            return refused
        data = self.media.get(request.query.get("media_id", ""))
        if data is None:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        return web.Response(body=data, content_type="audio/amr")

    def store_media(self, data: bytes) -> str:
        media_id = secrets.token_urlsafe(24)
        self.media[media_id] = data
        return media_id

    def _record(self, sent: Sent) -> None:
        self.log.append(sent)
        if self.on_send is not None:
            self.on_send(sent)
        self._changed.set()

    # ------------------------------------------------------------ users: callbacks
    def _message(self, openid: str, msg_type: str, **fields: Any) -> dict[str, Any]:
        return {
            "ToUserName": ACCOUNT,
            "FromUserName": openid,
            "CreateTime": int(time.time()),
            "MsgType": msg_type,
            **fields,
        }

    async def send_text(self, openid: str, text: str, **kw: Any) -> Delivery:
        return await self.post(self._message(openid, "text", Content=text, MsgId=next(self._ids)), **kw)

    async def tap(self, openid: str, sent: Sent, label: str, **kw: Any) -> Delivery:
        """Tap a choice link: WeChat sends its label back with the choice's number."""
        number, text = sent.choice(label)
        message = self._message(openid, "text", Content=text, MsgId=next(self._ids), bizmsgmenuid=number)
        return await self.post(message, **kw)

    async def send_voice(self, openid: str, amr: bytes, recognition: str | None = None, **kw: Any) -> Delivery:
        fields: dict[str, Any] = {"MediaId": self.store_media(amr), "Format": "amr", "MsgId": next(self._ids)}
        if recognition is not None:
            fields["Recognition"] = recognition
        return await self.post(self._message(openid, "voice", **fields), **kw)

    async def click(self, openid: str, key: str, **kw: Any) -> Delivery:
        return await self.post(self._message(openid, "event", Event="CLICK", EventKey=key), **kw)

    async def subscribe(self, openid: str, **kw: Any) -> Delivery:
        return await self.post(self._message(openid, "event", Event="subscribe", EventKey=""), **kw)

    def signed_query(self, *, encrypted_body: str | None = None, mode: str | None = None) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        query = {"signature": signature(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
        if encrypted_body is not None:
            query |= {"encrypt_type": "aes", "msg_signature": signature(TOKEN, timestamp, nonce, encrypted_body)}
        return query

    def envelope(self, message: dict[str, Any], mode: str | None = None) -> tuple[dict[str, str], str]:
        """The query string and body of a callback, signed (and encrypted in safe mode)."""
        plain = xml_of(message)
        if (mode or self.mode) == "plain":
            query = self.signed_query()
            query["openid"] = message["FromUserName"]
            return query, plain
        encrypted = encrypt(plain, AES_KEY, APP_ID)
        query = self.signed_query(encrypted_body=encrypted)
        query["openid"] = message["FromUserName"]
        return query, xml_of({"ToUserName": message["ToUserName"], "Encrypt": encrypted})

    async def post(self, message: dict[str, Any], *, mode: str | None = None, duplicates: int = 1) -> Delivery:
        """Deliver a callback the way WeChat does; `duplicates` sends it that many times at once
        (as when WeChat's retries overlap a slow first attempt)."""
        self.interacted[message["FromUserName"]] = time.monotonic()
        if duplicates > 1:
            results = await asyncio.gather(*(self._deliver(message, mode) for _ in range(duplicates)))
            merged = Delivery(sum(r.attempts for r in results), [s for r in results for s in r.statuses])
            merged.reply = next((r.reply for r in results if r.reply), None)
            return merged
        return await self._deliver(message, mode)

    async def _deliver(self, message: dict[str, Any], mode: str | None) -> Delivery:
        assert self._session is not None and self.callback_url, "start() and set callback_url first"
        delivery = Delivery()
        query, body = self.envelope(message, mode)
        for _ in range(self.attempts):
            delivery.attempts += 1
            try:
                timeout = aiohttp.ClientTimeout(total=self.wait_seconds)
                async with self._session.post(
                    self.callback_url, params=query, data=body.encode(), timeout=timeout
                ) as r:
                    delivery.statuses.append(r.status)
                    text = await r.text()
                    if r.status != 200:
                        continue
            except TimeoutError:
                delivery.statuses.append("timeout")
                continue
            delivery.reply = self._passive(message["FromUserName"], text, query)
            return delivery
        return delivery

    def _passive(self, openid: str, text: str, query: dict[str, str]) -> dict[str, str] | None:
        if text in ("", "success"):
            return None
        fields = fields_of(text)
        if "Encrypt" in fields:
            expected = signature(TOKEN, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
            assert fields["MsgSignature"] == expected, "passive reply with a bad msg_signature"
            plain, app_id = decrypt(fields["Encrypt"], AES_KEY)
            assert app_id == APP_ID, f"passive reply encrypted for another AppId: {app_id}"
            fields = fields_of(plain)
        elif query.get("encrypt_type") == "aes":
            raise AssertionError("an encrypted callback got a plain passive reply")
        assert fields["ToUserName"] == openid and fields["FromUserName"] == ACCOUNT, fields
        assert fields["MsgType"] == "text", fields
        self._record(Sent(openid, "passive", "text", fields["Content"]))
        return fields

    async def verify_url(self, *, token: str = TOKEN) -> tuple[int, bool]:
        """WeChat's check of the callback URL when a station saves it: (status, echoed back?)."""
        assert self._session is not None
        timestamp, nonce, echo = str(int(time.time())), secrets.token_hex(5), secrets.token_hex(8)
        query = {
            "signature": signature(token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": echo,
        }
        async with self._session.get(self.callback_url, params=query) as r:
            return r.status, (await r.text()) == echo

    # ------------------------------------------------------------ assertions
    def to(self, openid: str) -> list[Sent]:
        return [s for s in self.log if s.openid == openid]

    async def wait_for(self, found: Callable[[], Any], timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = found()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                recent = "\n".join(repr(s) for s in self.log[-8:])
                raise AssertionError(f"timed out waiting; recent messages:\n{recent}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))

    async def wait_text(self, openid: str, expect: str, *, after: int = 0, timeout: float = 30.0) -> Sent:
        def find() -> Sent | None:
            return next((s for s in self.log[after:] if s.openid == openid and expect in s.text), None)

        return await self.wait_for(find, timeout)

    async def wait_voice(self, openid: str, *, after: int = 0, timeout: float = 30.0) -> Sent:
        def find() -> Sent | None:
            return next((s for s in self.log[after:] if s.openid == openid and s.kind == "voice"), None)

        return await self.wait_for(find, timeout)

    async def settle(self, quiet: float = 0.5, timeout: float = 15.0) -> None:
        """Wait until nothing has been sent for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        count = -1
        while time.monotonic() < deadline and count != len(self.log):
            count = len(self.log)
            await asyncio.sleep(quiet)
