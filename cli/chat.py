"""`xiangyin chat`: the bot's dialogue engine in a terminal, so staff can try it without Telegram.

Type as a resident would; buttons are shown as choices (bot.choices, as on WeChat): type a
choice's number or its label to press it.  Messages the bot would send to other people
(volunteers, staff) are shown in brackets.
"""

from __future__ import annotations

import asyncio
import re
import uuid

import typer

from bot.choices import Choice, pick, render
from bot.engine import DialogueEngine
from bot.messages import Inbound, InboundKind, Outcome
from cli.common import console, context, err_console
from core.app import AppContext
from core.clock import Clock

USER_KEY = re.compile(r"^(cli|tg):[A-Za-z0-9_-]{1,40}$")
QUIT = {"退出", "再见", "quit", "exit", "q"}


def chat(
    user: str = typer.Option("cli:console", "--user", "-u", help="Resident id, e.g. cli:wang or tg:123456."),
    village: str | None = typer.Option(None, "--village", "-v", help="The resident's village id (config.yml)."),
    rasa_url: str | None = typer.Option(None, "--rasa-url", help="Rasa server; default RASA_URL or the sidecar port."),
) -> None:
    """在终端里和乡音机器人对话 (try the bot without Telegram)."""
    if not USER_KEY.match(user):
        err_console.print(f"--user must look like cli:name or tg:123456, got {user!r}")
        raise typer.Exit(2)
    ctx = context()
    if village is not None and village not in ctx.config.villages:
        known = ", ".join(ctx.config.villages)
        err_console.print(f"--village: unknown village {village!r}; known: {known}")
        raise typer.Exit(2)
    asyncio.run(_session(ctx, user, village, rasa_url))


async def _session(ctx: AppContext, user: str, village: str | None, rasa_url: str | None) -> None:
    from nlu.client import NluClient

    async with NluClient.from_config(ctx.config, rasa_url) as nlu:
        engine = DialogueEngine(ctx, nlu)
        if village:
            _remember_village(engine, user, village)
        if not await _nlu_alive(nlu):
            console.print("[yellow](语言理解服务没有启动:回复选项的序号来选,一样能点单。)[/yellow]")
        console.print("乡音小助手(输入“退出”结束;回复选项的序号或者选项上的字,就是按那个按钮)")
        choices = _show(await engine.handle(_inbound(engine.ctx.clock, user, InboundKind.text, "/start")), user)
        while True:
            try:
                line = (await asyncio.to_thread(input, "您:")).strip()
            except (EOFError, KeyboardInterrupt):
                break
            if line in QUIT:
                break
            pressed = pick(line, choices)
            if pressed is not None:
                inbound = _inbound(engine.ctx.clock, user, InboundKind.button, data=pressed)
            else:
                inbound = _inbound(engine.ctx.clock, user, InboundKind.text, line)
            choices = _show(await engine.handle(inbound), user) or choices
        engine.close()
    console.print("再见!")


def _inbound(clock: Clock, user: str, kind: InboundKind, text: str = "", data: str = "") -> Inbound:
    return Inbound(user, f"cli:{uuid.uuid4().hex}", kind, clock(), text=text, data=data)


def _show(outcome: Outcome, user: str) -> list[Choice]:
    """Print the replies with their buttons as choices; return the choices (none: keep the last)."""
    text, choices = render(outcome.replies)
    if text:
        console.print("乡音:" + text, highlight=False, markup=False)
    for reply in outcome.replies:
        if reply.audio is not None:
            console.print(f"[cyan](声音:{reply.audio.path})[/cyan]", highlight=False)
    for notice in outcome.notices:
        console.print(f"[dim](发给 {notice.to}:{notice.reply.text})[/dim]", highlight=False)
    return choices


def _remember_village(engine: DialogueEngine, user: str, village: str) -> None:
    conversation = engine.store.load(user)
    conversation.profile["village"] = village
    engine.store.save(conversation, f"cli:init:{uuid.uuid4().hex}", engine.ctx.clock())


async def _nlu_alive(nlu: object) -> bool:
    result = await nlu.parse("你好")  # type: ignore[attr-defined]
    return result.fallback_reason not in {"timeout", "unreachable", "unavailable"}
