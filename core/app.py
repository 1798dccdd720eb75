"""The application context every front end and runtime service is built from."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import Protocol

from core.clock import Clock, system_clock
from core.config import AppConfig, load_config
from core.db import Database


@dataclass
class AppContext:
    config: AppConfig
    db: Database
    clock: Clock = field(default=system_clock)
    # Who this process is among several instances on one PostgreSQL (the holder of its
    # leases, core/lease.py): host and process id unless a test names it.
    instance: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")


class RuntimeService(Protocol):
    """A long-running part started by `xiangyin run` (Rasa sidecar, scheduler, bot…)."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def build_context(config: AppConfig | None = None, *, migrate: bool = True) -> AppContext:
    """Load config.yml (or use the given one), open the database and apply migrations."""
    config = config or load_config()
    db = Database(config.database.url)
    if migrate:
        db.migrate()
    return AppContext(config=config, db=db)
