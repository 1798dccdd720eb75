"""What every CLI command shares: config errors as one line, domain errors as exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from core.app import AppContext, build_context
from core.config import ConfigError
from core.errors import DomainError

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)

EXIT_CONFIG = 78  # EX_CONFIG from sysexits.h


def context() -> AppContext:
    try:
        return build_context()
    except ConfigError as exc:
        err_console.print(f"[red]配置错误 (config error):[/red]\n{exc}", highlight=False)
        raise typer.Exit(EXIT_CONFIG) from None


def domain_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into a Chinese line on stderr and a stable exit code."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except DomainError as exc:
            err_console.print(f"[red]{exc.message_zh}[/red] ({exc.code}: {exc.detail})", highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except ConfigError as exc:
            err_console.print(f"[red]配置错误 (config error):[/red]\n{exc}", highlight=False)
            raise typer.Exit(EXIT_CONFIG) from None

    return wrapper


def is_tty() -> bool:
    return sys.stdout.isatty()
