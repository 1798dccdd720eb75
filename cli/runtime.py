"""`xiangyin run`: every runtime part in one process, started in order, stopped in reverse.

The web console, the broadcast scheduler and the orders' deadline sweep come up first so
staff can work at once; the Rasa sidecar trains/starts in the background (the bot answers
with menu buttons meanwhile); the Telegram bot starts only when a token is configured, the WeChat official account only
when its credentials are.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from bot.channels import Channels
from bot.engine import DialogueEngine
from bot.telegram import NO_TOKEN_MESSAGE, TelegramFrontend, token_configured
from bot.wechat.frontend import NO_CREDENTIALS_MESSAGE, WeChatFrontend, credentials_configured
from broadcasts.runtime import BroadcastRuntime
from cli.common import console, context
from core.app import AppContext, RuntimeService
from core.tasks import cancel_and_wait
from nlu.client import NluClient
from nlu.sidecar import RasaSidecar
from orders.sweeper import DeadlineSweeper
from reports.runtime import ReportsRuntime
from web.service import WebService

log = logging.getLogger("xiangyin.run")


class SidecarInBackground:
    """Starts the Rasa sidecar without holding up the rest (first training takes ~1–2 min)."""

    name = "rasa"

    def __init__(self, sidecar: RasaSidecar) -> None:
        self.sidecar = sidecar
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._start())

    async def _start(self) -> None:
        try:
            await self.sidecar.start()
            console.print(f"语言理解服务已就绪 (Rasa ready): {self.sidecar.url}")
        except Exception as exc:  # the bot keeps working with menu buttons
            log.error("Rasa sidecar failed to start: %s", exc)
            console.print(f"[yellow]语言理解服务没有启动,机器人先用菜单按钮 (Rasa not started: {exc})[/yellow]")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        await self.sidecar.stop()


async def serve_all(ctx: AppContext, stop: asyncio.Event) -> None:
    config = ctx.config
    sidecar = RasaSidecar(config)
    nlu = NluClient(sidecar.url, config, timeout=config.nlu.timeout_seconds, threshold=config.nlu.confidence_threshold)
    web = WebService(ctx)
    parts: list[RuntimeService] = [
        web, BroadcastRuntime(ctx), DeadlineSweeper(ctx), ReportsRuntime(ctx), SidecarInBackground(sidecar)
    ]  # fmt: skip
    # One dialogue engine for every channel (one database thread on SQLite), and one
    # registry so a turn on one channel can notify people on the other.
    engine = DialogueEngine(ctx, nlu)
    channels = Channels()
    telegram = token_configured(config)
    if telegram:
        parts.append(TelegramFrontend(ctx, nlu, engine=engine, channels=channels))
    else:
        console.print(f"[yellow]{NO_TOKEN_MESSAGE}[/yellow]")
    wechat: WeChatFrontend | None = None
    if credentials_configured(config):
        # Reminders run in one front end only: Telegram's when it runs.
        wechat = WeChatFrontend(ctx, nlu, engine=engine, channels=channels, reminder_interval=None if telegram else 60)
        parts.append(wechat)
    else:
        console.print(f"[yellow]{NO_CREDENTIALS_MESSAGE}[/yellow]")
    started: list[RuntimeService] = []
    try:
        for part in parts:
            await part.start()
            started.append(part)
            log.info("started %s", part.name)
        callback = f"  公众号回调 WeChat callback: {wechat.url}\n" if wechat is not None else ""
        console.print(
            f"\n乡音已启动 (Xiangyin is running).\n  网页后台 web console: {web.url}\n{callback}"
            f"  数据库 database: {ctx.db.engine.url.render_as_string(hide_password=True)}\n"
            f"  音频 audio: {config.broadcasts.audio_dir}/\n  按 Ctrl-C 停止 (Ctrl-C to stop).",
            highlight=False,
        )
        await stop.wait()
    finally:
        for part in reversed(started):
            try:
                await part.stop()
            except Exception:
                log.exception("stopping %s failed", part.name)
        await nlu.aclose()
        engine.close()
        ctx.db.dispose()


def serve() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx = context()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve_all(ctx, stop)

    asyncio.run(main())
