"""The official account's API (access token, 客服消息, custom menu, media) through wechatpy.

wechatpy's client is synchronous (requests); every call runs in a worker thread.  The access
token lives in the database (`wechat_tokens`) so several instances share one: refreshing is
done under a row lock by whoever finds it expiring, the others use what it stored.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import requests
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from bot.wechat.models import WeChatToken
from core.clock import Clock
from core.config import WeChatSettings
from core.db import Database

log = logging.getLogger(__name__)
T = TypeVar("T")

REFRESH_MARGIN = timedelta(minutes=5)  # refresh this long before WeChat's expiry
TOKEN_ERRORS = {40001, 40014, 42001}  # invalid / malformed / expired access token
# Customer-service sends that retrying will not fix: the user unfollowed, never wrote in
# the last 48 hours (45015), too many messages since (45047), bad openid.
PERMANENT_SEND_ERRORS = {40003, 43004, 45015, 45047, 45002}


class WeChatApiError(Exception):
    """A failed API call; `permanent` when retrying cannot help."""

    def __init__(self, what: str, errcode: int | None, *, permanent: bool) -> None:
        super().__init__(f"{what} failed (errcode {errcode})")
        self.errcode = errcode
        self.permanent = permanent


class TokenStore:
    """The access token in the database, refreshed by one instance at a time."""

    def __init__(self, db: Database, app_id: str, fetch: Callable[[], tuple[str, int]], clock: Clock) -> None:
        self.db = db
        self.app_id = app_id
        self.fetch = fetch  # → (token, expires_in seconds), from WeChat
        self.clock = clock
        self.fetches = 0

    def current(self) -> str:
        with self.db.session() as s:
            row = s.get(WeChatToken, self.app_id)
            if row is not None and row.expires_at - self.clock() > REFRESH_MARGIN:
                return row.access_token
            stale = row.access_token if row is not None else None
        return self.refresh(stale)

    def refresh(self, stale: str | None) -> str:
        """A new token, unless another instance already replaced `stale` with a good one."""
        try:
            with self.db.session() as s:
                row = s.scalars(select(WeChatToken).where(WeChatToken.app_id == self.app_id).with_for_update()).first()
                now = self.clock()
                if row is not None and row.access_token != stale and row.expires_at - now > REFRESH_MARGIN:
                    return row.access_token
                token, expires_in = self.fetch()
                self.fetches += 1
                expires = now + timedelta(seconds=expires_in)
                if row is None:
                    s.add(WeChatToken(app_id=self.app_id, access_token=token, expires_at=expires, updated_at=now))
                else:
                    row.access_token, row.expires_at, row.updated_at = token, expires, now
                return token
        except IntegrityError:
            # Another instance stored the first token at the same moment: use theirs.
            with self.db.session() as s:
                row = s.get(WeChatToken, self.app_id)
                assert row is not None
                return row.access_token


class _Client(WeChatClient):
    """wechatpy's client with a configurable base URL and the shared token."""

    def __init__(self, settings: WeChatSettings, timeout: float) -> None:
        super().__init__(settings.app_id, settings.app_secret, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = settings.api_base_url.rstrip("/") + "/"
        self.tokens: TokenStore | None = None

    @property
    def access_token(self) -> str:
        assert self.tokens is not None
        return self.tokens.current()

    def fetch_access_token(self) -> dict[str, Any]:
        response = self._http.get(
            f"{self.API_BASE_URL}token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            timeout=self.timeout,
        )
        response.raise_for_status()
        result = response.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg"), client=self)
        return result


class WeChatApi:
    """Async wrappers for the calls the channel makes; each runs in a thread."""

    def __init__(self, settings: WeChatSettings, db: Database, clock: Clock, *, timeout: float = 10.0) -> None:
        self.client = _Client(settings, timeout)
        self.tokens = TokenStore(db, settings.app_id or "", self._fetch_token, clock)
        self.client.tokens = self.tokens
        self.calls = 0

    def _fetch_token(self) -> tuple[str, int]:
        result = self.client.fetch_access_token()
        log.info("wechat: fetched a new access token")
        return result["access_token"], int(result.get("expires_in", 7200))

    async def _call(self, what: str, fn: Callable[[], T]) -> T:
        return await asyncio.to_thread(self._call_sync, what, fn)

    def _call_sync(self, what: str, fn: Callable[[], T]) -> T:
        self.calls += 1
        for attempt in (1, 2):
            try:
                return fn()
            except WeChatClientException as exc:
                code = exc.errcode
                if code in TOKEN_ERRORS and attempt == 1:
                    # Rejected token (revoked by a fetch elsewhere, clock skew): one new one, once.
                    self.tokens.refresh(stale=self.tokens.current())
                    continue
                permanent = code is not None and code in PERMANENT_SEND_ERRORS
                raise WeChatApiError(what, code, permanent=permanent) from None
            except requests.RequestException as exc:
                raise WeChatApiError(what, None, permanent=False) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def send_text(self, openid: str, text: str) -> None:
        await self._call("message/custom/send text", lambda: self.client.message.send_text(openid, text))

    async def send_voice(self, openid: str, audio: bytes, filename: str) -> None:
        """Upload a voice clip (MP3/AMR, ≤ 2 MB, ≤ 60 s) as temporary media and send it."""

        def upload_and_send() -> None:
            media = self.client.media.upload("voice", (filename, io.BytesIO(audio)))
            self.client.message.send_voice(openid, media["media_id"])

        await self._call("voice message", upload_and_send)

    async def download_media(self, media_id: str) -> bytes:
        def download() -> bytes:
            response = self.client.media.download(media_id)
            if not isinstance(response, requests.Response):  # a JSON error body decoded by wechatpy
                raise WeChatClientException(response.get("errcode"), response.get("errmsg"), client=self.client)
            return response.content

        return await self._call("media/get", download)

    async def create_menu(self, menu: dict[str, Any]) -> None:
        await self._call("menu/create", lambda: self.client.menu.create(menu))
