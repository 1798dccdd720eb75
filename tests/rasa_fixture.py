"""Pytest plugin: a live, trained Rasa sidecar for any room's tests.

Register it in tests/conftest.py with `pytest_plugins = ["tests.rasa_fixture"]`, then ask
for `rasa_url` (str), `rasa_sidecar` or `nlu_client` (an `NluClient`, async).
One sidecar per test session; the model is trained once per data fingerprint and cached.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from core.config import load_config
from nlu.client import NluClient
from nlu.sidecar import RasaSidecar
from tests.peers.rasa import shared_sidecar


@pytest.fixture(scope="session")
def rasa_sidecar() -> RasaSidecar:
    return shared_sidecar(load_config(environ={}))


@pytest.fixture(scope="session")
def rasa_url(request: pytest.FixtureRequest) -> str:
    """RASA_URL when set (a server you keep running while developing), else the shared sidecar."""
    if os.environ.get("RASA_URL"):
        return os.environ["RASA_URL"]
    sidecar: RasaSidecar = request.getfixturevalue("rasa_sidecar")
    return sidecar.url


# Same event loop as the (function-scoped) test that uses it: the client's connection pool
# belongs to one loop.
@pytest_asyncio.fixture(loop_scope="function")
async def nlu_client(rasa_url: str) -> AsyncIterator[NluClient]:
    # Tests check what is understood, not how fast (benchmarks/nlu_latency.py measures speed).
    client = NluClient.for_scoring(load_config(environ={}), rasa_url)
    try:
        yield client
    finally:
        await client.aclose()
