"""Test helpers for broadcasts: an app context on a tmp audio folder with quick edge retries."""

from __future__ import annotations

from pathlib import Path

from core.app import AppContext
from core.clock import ManualClock
from core.config import AppConfig
from core.db import Database


def make_ctx(config: AppConfig, db: Database, tmp_path: Path, clock=None, **broadcasts) -> AppContext:  # type: ignore[no-untyped-def]
    settings = {
        "audio_dir": str(tmp_path / "audio_out"),
        "edge_backoff_seconds": 0.01,
        "edge_timeout_seconds": 5,
        **broadcasts,
    }
    cfg = config.model_copy(update={"broadcasts": config.broadcasts.model_copy(update=settings)})
    return AppContext(config=cfg, db=db, clock=clock or ManualClock())
