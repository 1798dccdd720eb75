"""`xiangyin run`: migrate the database, then start every runtime part until Ctrl-C."""

from __future__ import annotations


def run() -> None:
    """启动乡音全部服务 (database, Rasa sidecar, scheduler, bot, web console)."""
    from cli.runtime import serve

    serve()
