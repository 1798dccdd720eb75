"""Shared fixtures: the demo config, a controllable clock, and a migrated database on
SQLite and on PostgreSQL (the local server started by scripts/pg_test_server.sh)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

import core.models  # noqa: F401  (every room's tables on Base.metadata)
from core.clock import ManualClock
from core.config import AppConfig, load_config
from core.db import Base, Database

ROOT = Path(__file__).resolve().parent.parent

# A live, trained Rasa sidecar (`rasa_url`, `rasa_sidecar`, `nlu_client`) for any room.
pytest_plugins = ["tests.rasa_fixture"]


# The fast tier (`make test-fast`: -m "not rasa and not postgres and not browser and not slow")
# needs no outside server. A test asking for one through a fixture (directly or through
# another fixture) carries the server's marker, whether or not it was marked by hand.
NEEDS_SERVER = {"rasa_sidecar": "rasa", "rasa_url": "rasa", "_pg_database": "postgres"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            marker = NEEDS_SERVER.get(fixture)
            if marker and not item.get_closest_marker(marker):
                item.add_marker(marker)


@pytest.fixture(scope="session")
def config() -> AppConfig:
    return load_config(ROOT / "config.yml", environ={})


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def _postgres_url() -> str:
    url = os.environ.get("XIANGYIN_TEST_PG_URL")
    if url:
        return url
    try:
        out = subprocess.run(
            ["bash", str(ROOT / "scripts/pg_test_server.sh"), "start"],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL test server could not be started in CI: {detail}")
        pytest.skip(f"PostgreSQL tests skipped: no local server could be started ({detail.strip()})")
    return out.stdout.strip().splitlines()[-1]


def _fresh_database(url: str) -> Database:
    db = Database(url)
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    db.migrate()
    return db


@pytest.fixture(scope="session")
def _pg_database() -> Iterator[Database]:
    db = _fresh_database(_postgres_url())
    yield db
    db.dispose()


def _truncate(db: Database) -> None:
    existing = set(inspect(db.engine).get_table_names())
    tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in existing]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database; every test that uses it runs on both backends."""
    if request.param == "sqlite":
        database = _fresh_database(f"sqlite:///{tmp_path / 'test.db'}")
        yield database
        database.dispose()
    else:
        database = request.getfixturevalue("_pg_database")
        _truncate(database)
        yield database


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = _fresh_database(f"sqlite:///{tmp_path / 'test.db'}")
    yield database
    database.dispose()


@pytest.fixture
def pg_db(_pg_database: Database) -> Database:
    """The PostgreSQL database alone, for behaviour only PostgreSQL has (concurrent writers)."""
    _truncate(_pg_database)
    return _pg_database
