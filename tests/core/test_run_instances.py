"""Two `xiangyin run` processes on one PostgreSQL database with the fake Bot API server: the
overdue orders are escalated once, every order event's messages reach Telegram once, one
instance voices the broadcasts; kill -9 the scheduler's holder and the other takes its
leases over within the lease time, with nothing missed or sent twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from bot.models import BotMeta
from broadcasts.models import BroadcastAudit, ItemState, Priority
from broadcasts.service import AnnouncementDraft, BroadcastService
from core.actors import Actor
from core.app import AppContext
from core.config import AppConfig, load_config
from core.db import Database
from core.lease import LeaseRow
from nlu.sidecar import free_port
from orders.models import Order, OrderEvent
from orders.numbers import display_order_number
from orders.service import OrderRequest, OrderService
from tests.core.test_run import overdue_order
from tests.peers.telegram_api import TOKEN, FakeBotApi

pytestmark = pytest.mark.slow  # two whole apps in subprocesses
ROOT = Path(__file__).resolve().parents[2]
LEASE = 4.0  # seconds: the instances' cluster.lease_seconds
COUNTY = Actor.staff("county_admin")
STATION_TEAM, INSTITUTE_TEAM = (900001, 900002), (900011, 900012)  # haircut in dongshan, then a tier up


def write_config(tmp_path: Path, n: int) -> Path:
    raw = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    raw["web"]["port"] = free_port()
    # Offline voice; only what airs within a minute is voiced, urgent notices at approval.
    raw["broadcasts"].update(edge_enabled=False, lead_minutes=1, plan_days_ahead=0, urgent_delay_minutes=0)
    raw["cluster"] = {"lease_seconds": LEASE}
    path = tmp_path / f"config{n}.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def start_instance(tmp_path: Path, n: int, db_url: str, api: FakeBotApi) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "XIANGYIN_CONFIG": str(write_config(tmp_path, n)),
        "XIANGYIN_DATABASE_URL": db_url,
        "XIANGYIN_AUDIO_DIR": str(tmp_path / "audio"),  # one shared folder, as on a shared disk
        "XIANGYIN_TELEGRAM_TOKEN": TOKEN,
        "XIANGYIN_TELEGRAM_BASE_URL": api.base_url,
        "RASA_URL": "http://127.0.0.1:9",  # nobody answers: no Rasa training here
    }
    log = (tmp_path / f"run{n}.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "cli.main", "run"], cwd=ROOT, env=env, stdout=log, stderr=log)


async def until(check: Callable[[], Any], what: str, timeout: float = 40.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = await asyncio.to_thread(check)
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


def holder_pid(db: Database, name: str) -> tuple[int, datetime, datetime] | None:
    """The pid of the process holding the lease, when it took it and until when."""
    with db.session() as s:
        row = s.execute(
            select(LeaseRow.holder, LeaseRow.acquired_at, LeaseRow.expires_at).where(LeaseRow.name == name)
        ).one_or_none()
    if row is None:
        return None
    return int(row[0].rsplit(":", 1)[1]), row[1], row[2]


def delivered_all(db: Database) -> bool:
    """The Telegram outbox cursor has passed every order event."""
    with db.session() as s:
        top = s.scalar(select(func.max(OrderEvent.id))) or 0
        cursor = s.scalar(select(BotMeta.value).where(BotMeta.key == "outbox:telegram"))
    return int(cursor or 0) >= top


def urgent_notice(ctx: AppContext, text: str) -> int:
    svc = BroadcastService(ctx)
    draft = svc.draft(AnnouncementDraft(text, ["dongshan"], priority=Priority.urgent), COUNTY)
    svc.approve(draft.id, COUNTY)
    return min(svc.announcement(draft.id, COUNTY).items, key=lambda i: i.air_at).id


def voiced(ctx: AppContext, item_id: int) -> bool:
    return BroadcastService(ctx).item(item_id, Actor.system("test")).state in (ItemState.ready, ItemState.aired)


def new_order(db: Database, config: AppConfig, resident: str) -> Order:
    start = datetime.now(UTC) + timedelta(days=1)
    request = OrderRequest(resident, "haircut", "dongshan", start, start + timedelta(hours=2))
    view = OrderService(db, config).create(request, Actor.resident(resident))
    with db.session() as s:
        order = s.get(Order, view.id)
        assert order is not None
        s.expunge(order)
        return order


async def test_two_instances_each_effect_once_and_a_takeover_after_kill_9(pg_db: Database, tmp_path: Path) -> None:
    url = pg_db.url
    config = load_config(write_config(tmp_path, 9), environ={})  # the instances' settings, for the test's own door
    overdue = [overdue_order(url) for _ in range(3)]
    with pg_db.session() as s:  # their first offers went out before (a previous day's instance)
        s.add(BotMeta(key="outbox:telegram", value=str(s.scalar(select(func.max(OrderEvent.id))))))
    ctx = AppContext(config, pg_db)
    api = FakeBotApi()
    await api.start()
    procs = [start_instance(tmp_path, n, url, api) for n in (0, 1)]
    try:
        # Both instances sweep at start: each overdue order goes a tier up once.
        def escalated() -> bool:
            with pg_db.session() as s:
                return all(s.get(Order, o).tier == "institute" for o in overdue)  # type: ignore[union-attr]

        await until(escalated, "the overdue orders' escalation")
        before_kill = [new_order(pg_db, config, f"tg:{7100 + n}") for n in range(3)]
        first_notice = urgent_notice(ctx, "停水通知:今天下午两点到五点停水。")
        await until(lambda: voiced(ctx, first_notice), "the first urgent notice voiced")
        await until(lambda: delivered_all(pg_db), "the outbox before the kill")

        holder = await until(lambda: holder_pid(pg_db, "broadcasts"), "a scheduler lease")
        victim = next(p for p in procs if p.pid == holder[0])
        survivor = next(p for p in procs if p.pid != holder[0])
        victim.send_signal(signal.SIGKILL)
        await asyncio.to_thread(victim.wait, 10)
        _, _, expires = holder_pid(pg_db, "broadcasts") or holder  # its last renewal's expiry

        # After the kill: new orders, a new urgent notice; the survivor takes over and does them.
        after_kill = [new_order(pg_db, config, f"tg:{7200 + n}") for n in range(3)]
        second_notice = urgent_notice(ctx, "停电通知:今晚八点到十点停电检修。")

        def taken_over() -> tuple[int, datetime, datetime] | None:
            now = holder_pid(pg_db, "broadcasts")
            return now if now is not None and now[0] == survivor.pid else None

        _, acquired, _ = await until(taken_over, "the survivor taking the scheduler over")
        # Never two holders at once, and taken over within the lease time after the dead
        # holder's lease ran out (the stand-by retries every third of it; the rest is slack
        # for a busy machine): within two lease times of the last renewal.
        assert expires <= acquired <= expires + timedelta(seconds=LEASE)
        await until(lambda: voiced(ctx, second_notice), "the second urgent notice voiced by the survivor")
        await until(lambda: delivered_all(pg_db), "the outbox after the kill")
        outbox_holder = holder_pid(pg_db, "outbox:telegram")
        assert survivor.poll() is None
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                await asyncio.to_thread(proc.wait, 30)  # the fake Bot API must keep answering
            except subprocess.TimeoutExpired:
                proc.kill()
        await api.stop()

    log = (tmp_path / f"run{procs.index(survivor)}.log").read_text()
    assert survivor.returncode == 0 and "Traceback" not in log, log
    sent = Counter((m.chat_id, m.text) for m in api.log)
    assert [pair for pair, n in sent.items() if n > 1] == [], "a message went out twice"
    for order in before_kill + after_kill:  # one offer to each member of the village's team
        number = display_order_number(order.number)
        offers = sorted(m.chat_id for m in api.log if number in m.text and "有新单子" in m.text)
        assert offers == sorted(STATION_TEAM), (number, offers)
    assert outbox_holder is not None and outbox_holder[0] == survivor.pid
    with pg_db.session() as s:
        for order_id in overdue:
            order = s.get(Order, order_id)
            assert order is not None
            number = display_order_number(order.number)
            offers = sorted(m.chat_id for m in api.log if number in m.text and "有新单子" in m.text)
            assert offers == sorted(INSTITUTE_TEAM), (number, offers)
            moves = s.scalar(
                select(func.count()).where(OrderEvent.order_id == order_id, OrderEvent.actor == "system:deadline")
            )
            assert moves == 1, "an overdue order was escalated twice"
        for item_id in (first_notice, second_notice):
            readies = s.scalar(
                select(func.count()).where(BroadcastAudit.item_id == item_id, BroadcastAudit.action == "item_ready")
            )
            assert readies == 1
