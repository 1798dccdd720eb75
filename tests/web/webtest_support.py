"""Web console test helpers: an app on a fresh SQLite database with known staff passwords, an
httpx/TestClient logged in as any staff member, and a small order set."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from core.actors import Actor
from core.app import AppContext
from core.config import AppConfig, load_config
from core.db import Database
from orders.service import OrderRequest, OrderService
from orders.views import OrderView
from web.accounts import env_password_var

ROOT = Path(__file__).resolve().parents[2]
PASSWORDS = {
    "admin": "county-admin-pass",
    "qingshi": "qingshi-head-pass",
    "dongshan": "dongshan-staff-pass",
    "xihe": "xihe-operator-pass",
    "liuhe": "liuhe-operator-pass",
}
PASSWORD_ENV = {env_password_var(u): p for u, p in PASSWORDS.items()}
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def web_config(audio_dir: Path) -> AppConfig:
    return load_config(ROOT / "config.yml", environ={"XIANGYIN_AUDIO_DIR": str(audio_dir)})


def make_context(tmp_path: Path) -> AppContext:
    (tmp_path / "audio_out").mkdir(exist_ok=True)
    db = Database(f"sqlite:///{tmp_path / 'web.db'}")
    db.migrate()
    return AppContext(config=web_config(tmp_path / "audio_out"), db=db)


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


def login(client: TestClient, username: str, password: str | None = None) -> TestClient:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": password or PASSWORDS[username],
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def place_order(
    ctx: AppContext, service: str = "haircut", village: str = "dongshan", key: str = "tg:7001"
) -> OrderView:
    start = datetime.now(UTC) + timedelta(days=1)
    request = OrderRequest(
        resident_key=key, service_id=service, village_id=village, window_start=start,
        window_end=start + timedelta(hours=2), contact_phone="13900000000",
    )  # fmt: skip
    return OrderService(ctx.db, ctx.config, ctx.clock).create(request, Actor.resident(key))
