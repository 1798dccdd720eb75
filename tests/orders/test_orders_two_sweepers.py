"""Two instances' deadline sweeps (each its own engine and pool) racing on the real PostgreSQL
server over the same overdue orders, pass after pass: every order moves a tier up once per
deadline, never twice."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from core.app import AppContext
from core.clock import ManualClock
from core.config import AppConfig
from core.db import Database
from orders.models import OrderEvent
from orders.service import OrderService
from orders.sweeper import DeadlineSweeper
from tests.orders.conftest import RESIDENT
from tests.orders.test_orders_concurrency import run_together


def test_two_sweeps_at_once_escalate_each_order_once(pg_db: Database, config: AppConfig, make_request) -> None:  # type: ignore[no-untyped-def]
    clock = ManualClock()
    other = Database(pg_db.url)
    try:
        service = OrderService(pg_db, config, clock)
        ids = [service.create(make_request(service_id="elderly_visit"), RESIDENT).id for _ in range(20)]
        sweeps = [DeadlineSweeper(AppContext(config, db, clock)).orders for db in (pg_db, other)]
        for _ in range(3):  # station → institute → centre → expired (flagged)
            clock.advance(minutes=config.orders.accept_deadline_minutes + 1)
            moved = run_together([sweep.expire_overdue for sweep in sweeps])
            assert not any(isinstance(m, Exception) for m in moved), moved
            assert sorted(o.id for m in moved for o in m) == sorted(ids)  # each by one of them
    finally:
        other.dispose()
    with pg_db.session() as s:
        rows = s.execute(select(OrderEvent.order_id, OrderEvent.actor).where(OrderEvent.order_id.in_(ids))).all()
    deadline_moves = Counter(order_id for order_id, actor in rows if actor == "system:deadline")
    assert deadline_moves == dict.fromkeys(ids, 3)
