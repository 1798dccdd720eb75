"""`xiangyin run` really starts: the console answers on its port, Ctrl-C stops every part cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from core.actors import Actor
from core.clock import ManualClock
from core.config import load_config
from core.db import Database
from nlu.sidecar import free_port
from orders.models import Order, OrderStatus
from orders.service import OrderRequest, OrderService

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow  # the whole app in a subprocess


def overdue_order(db_url: str) -> int:
    """An order dispatched five hours ago whose 240-minute accept deadline has passed."""
    config = load_config(environ={})
    db = Database(db_url)
    db.migrate()
    past = ManualClock(datetime.now(UTC) - timedelta(hours=5))
    start = past() + timedelta(days=1)
    request = OrderRequest(
        resident_key="tg:7001", service_id="haircut", village_id="dongshan",
        window_start=start, window_end=start + timedelta(hours=4),
    )  # fmt: skip
    order = OrderService(db, config, past).create(request, Actor.resident("tg:7001"))
    db.dispose()
    assert order.status is OrderStatus.dispatched and order.tier == "station"
    return order.id


def test_run_serves_console_sweeps_deadlines_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    config = (ROOT / "config.yml").read_text(encoding="utf-8").replace("port: 8000", f"port: {port}")
    (tmp_path / "config.yml").write_text(config, encoding="utf-8")
    db_url = f"sqlite:///{tmp_path / 'run.db'}"
    order_id = overdue_order(db_url)
    env = {
        **os.environ,
        "XIANGYIN_CONFIG": str(tmp_path / "config.yml"),
        "XIANGYIN_DATABASE_URL": db_url,
        "XIANGYIN_AUDIO_DIR": str(tmp_path / "audio"),
        # An external NLU URL nobody answers: run must not train Rasa here, and must not care.
        "RASA_URL": "http://127.0.0.1:9",
    }
    env.pop("XIANGYIN_TELEGRAM_TOKEN", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "run"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "console did not come up within 60 s"
                time.sleep(0.3)
        assert page.status_code == 200 and "登录" in page.text
        # Without a Telegram token the deadline sweep still escalates the overdue order.
        db = Database(db_url)
        while (tier := escalated_tier(db, order_id)) is None:
            assert time.monotonic() < deadline + 30, "the overdue order was not escalated"
            time.sleep(0.3)
        db.dispose()
        assert tier == "institute"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "no token configured" in out and f"127.0.0.1:{port}" in out
    assert "WeChat official account not started" in out
    assert "Traceback" not in out


def escalated_tier(db: Database, order_id: int) -> str | None:
    with db.session() as s:
        order = s.scalars(select(Order).where(Order.id == order_id)).one()
        return order.tier if order.tier != "station" else None
