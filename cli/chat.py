"""Placeholder: filled in by the bot work (`xiangyin chat`)."""

import typer


def chat() -> None:
    """在终端里和乡音机器人对话 (try the bot without Telegram)."""
    typer.echo("chat is not available yet")
    raise typer.Exit(1)
