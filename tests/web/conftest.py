"""Web console fixtures: an app on a fresh SQLite database with known staff passwords and
TestClients logged in as any staff member (helpers live in webtest_support.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from webtest_support import PASSWORD_ENV, login, make_context

from core.app import AppContext
from web import accounts as accounts_module
from web.app import create_app


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    context = make_context(tmp_path)
    yield context
    context.db.dispose()


@pytest.fixture
def app(ctx: AppContext) -> FastAPI:
    return create_app(ctx, environ=PASSWORD_ENV, announce=None)


@pytest.fixture
def client_for(app: FastAPI) -> Callable[[str], TestClient]:
    def make(username: str) -> TestClient:
        return login(TestClient(app, base_url="http://testserver"), username)

    return make


@pytest.fixture
def anonymous(app: FastAPI) -> TestClient:
    return TestClient(app)


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2, lighter parameters: the default profile (64 MiB, 3 passes) is right for a
    server but makes every app start in these tests hash five passwords slowly."""
    monkeypatch.setattr(accounts_module, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
