"""Placeholder: filled in by the web work (`xiangyin web`)."""

import typer


def web() -> None:
    """启动网页管理后台 (start the web console)."""
    typer.echo("web console is not available yet")
    raise typer.Exit(1)
