"""What every CLI command shares: config errors as one line, domain errors as exit codes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from core.actors import Actor
from core.app import AppContext, build_context
from core.config import AppConfig, ConfigError, load_config
from core.errors import DomainError, InvalidInput

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)

EXIT_CONFIG = 78  # EX_CONFIG from sysexits.h


@contextmanager
def config_errors() -> Iterator[None]:
    """A broken config.yml is one message and EX_CONFIG, not a traceback."""
    try:
        yield
    except ConfigError as exc:
        err_console.print(f"[red]配置错误 (config error):[/red]\n{exc}", highlight=False)
        raise typer.Exit(EXIT_CONFIG) from None


def context() -> AppContext:
    with config_errors():
        return build_context()


def app_config() -> AppConfig:
    """Only the configuration, for commands that need no database (e.g. `xiangyin nlu`)."""
    with config_errors():
        return load_config()


def domain_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into a Chinese line on stderr and a stable exit code."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with config_errors():
                return fn(*args, **kwargs)
        except DomainError as exc:
            err_console.print(f"[red]{exc.message_zh}[/red] ({exc.code}: {exc.detail})", highlight=False)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def viewer(ctx: AppContext, staff: str | None) -> Actor:
    """Without --staff/--as the terminal user is the machine's operator and sees everything."""
    if staff is None:
        return Actor.system("cli")
    if staff not in ctx.config.staff_by_id:
        raise InvalidInput(f"没有这个工作人员:{staff}", f"unknown staff id {staff!r}")
    return Actor.staff(staff)
