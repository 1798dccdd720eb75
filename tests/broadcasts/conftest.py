"""Broadcast fixtures: an app context on a tmp audio dir, and a local fake edge-tts server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from bc_support import make_ctx

from core.app import AppContext
from core.config import AppConfig
from core.db import Database
from tests.peers.edge_tts import FakeEdgeServer


@pytest.fixture
def offline_ctx(config: AppConfig, sqlite_db: Database, tmp_path: Path) -> AppContext:
    return make_ctx(config, sqlite_db, tmp_path, edge_enabled=False)


@pytest_asyncio.fixture(loop_scope="function")
async def edge_server() -> AsyncIterator[FakeEdgeServer]:
    server = FakeEdgeServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(autouse=True)
def _restore_edge_url() -> Iterator[None]:
    import edge_tts.communicate

    saved = edge_tts.communicate.WSS_URL
    yield
    edge_tts.communicate.WSS_URL = saved
