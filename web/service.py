"""The console as a runtime service for `xiangyin run` (uvicorn inside the running event loop)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import uvicorn

from core.app import AppContext
from web.app import create_app

log = logging.getLogger(__name__)


def console_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}/"


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: the host process (`xiangyin run`) owns Ctrl-C
    and stops every part in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebService:
    name = "web"

    def __init__(self, ctx: AppContext, host: str | None = None, port: int | None = None) -> None:
        self.ctx = ctx
        self.host = host or ctx.config.web.host
        self.port = port or ctx.config.web.port
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return console_url(self.host, self.port)

    async def start(self) -> None:
        app = create_app(self.ctx)
        config = uvicorn.Config(app, host=self.host, port=self.port, log_level="warning", lifespan="off")
        self._server = _EmbeddedServer(config)
        self._task = asyncio.create_task(self._server.serve(), name="web-console")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises the bind error (port taken…)
                raise RuntimeError(f"web console stopped during start-up on {self.url}")
            await asyncio.sleep(0.05)
        log.info("web console listening on %s", self.url)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=10)
