"""python-telegram-bot's network backend on aiohttp (PTB's `BaseRequest` extension point).

Why not PTB's default `HTTPXRequest`: measured here through PTB, a Bot API call costs ~1.16 ms
of CPU on httpx and ~0.56 ms on aiohttp (`benchmarks/bot_transport.py`), and the bot makes one
or two calls per message.  Semantics follow `HTTPXRequest`: form-encoded parameters, multipart
when files are sent, PTB's four timeouts, `TimedOut`/`NetworkError` on failures.
"""

from __future__ import annotations

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT = BaseRequest.DEFAULT_NONE


class AiohttpRequest(BaseRequest):
    __slots__ = ("_connect", "_media_write", "_pool", "_pool_size", "_read", "_session", "_write")

    def __init__(
        self,
        pool_size: int = 16,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = pool_size
        self._read, self._write, self._connect = read_timeout, write_timeout, connect_timeout
        self._pool, self._media_write = pool_timeout, media_write_timeout
        # Made in initialize(): an aiohttp session belongs to the running event loop.
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None))

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | None = DEFAULT,  # type: ignore[assignment]
        write_timeout: float | None = DEFAULT,  # type: ignore[assignment]
        connect_timeout: float | None = DEFAULT,  # type: ignore[assignment]
        pool_timeout: float | None = DEFAULT,  # type: ignore[assignment]
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        read = self._read if read_timeout is DEFAULT else read_timeout
        write = (self._media_write if files else self._write) if write_timeout is DEFAULT else write_timeout
        connect = self._connect if connect_timeout is DEFAULT else connect_timeout
        pool = self._pool if pool_timeout is DEFAULT else pool_timeout
        # aiohttp has no write timeout: sending counts against the total instead.
        total = None if read is None or write is None else read + write + (connect or 0) + (pool or 0)
        timeout = aiohttp.ClientTimeout(total=total, connect=_sum(pool, connect), sock_connect=connect, sock_read=read)
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout, headers={"User-Agent": self.USER_AGENT}
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            if isinstance(exc, aiohttp.ConnectionTimeoutError):
                raise TimedOut("Pool timeout: no free connection to the Bot API server") from exc
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


def _sum(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    if request_data is None:
        return None
    if not request_data.multipart_data:
        return request_data.json_parameters  # sent form-encoded, as HTTPXRequest does
    form = aiohttp.FormData(request_data.json_parameters)
    for name, part in request_data.multipart_data.items():
        filename, content = part[0], part[1]
        content_type = part[2] if len(part) > 2 else None
        form.add_field(name, content, filename=filename, content_type=content_type)
    return form


__all__ = ["AiohttpRequest"]
