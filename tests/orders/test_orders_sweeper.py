"""The deadline sweep as a runtime service: it escalates on its own, catches up on deadlines
missed while it was stopped, and keeps going after a failed pass."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from core.actors import Actor
from core.app import AppContext
from core.clock import ManualClock
from core.config import AppConfig
from core.db import Database
from orders.models import OrderStatus
from orders.service import OrderService
from orders.sweeper import DeadlineSweeper
from tests.orders.conftest import RESIDENT

SYSTEM = Actor.system("test")


async def wait_until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not check():
            await asyncio.sleep(0.02)


async def test_sweeper_escalates_then_flags_what_nobody_takes(
    db: Database, config: AppConfig, clock: ManualClock, service: OrderService, make_request
) -> None:  # type: ignore[no-untyped-def]
    # 关爱帮扶 is offered at every tier: station → institute → centre → flagged.
    order = service.create(make_request(service_id="elderly_visit"), RESIDENT)
    sweeper = DeadlineSweeper(AppContext(config, db, clock), interval=0.05)
    await sweeper.start()
    try:
        passes = sweeper.passes
        await wait_until(lambda: sweeper.passes > passes + 1)
        assert service.get(order.id, SYSTEM).tier == "station"  # the deadline has not come yet
        clock.advance(minutes=config.orders.accept_deadline_minutes + 1)
        await wait_until(lambda: service.get(order.id, SYSTEM).tier == "institute")
        clock.advance(minutes=config.orders.accept_deadline_minutes + 1)
        await wait_until(lambda: service.get(order.id, SYSTEM).tier == "centre")
        clock.advance(minutes=config.orders.accept_deadline_minutes + 1)
        await wait_until(lambda: service.get(order.id, SYSTEM).status is OrderStatus.expired)
    finally:
        await sweeper.stop()
    assert service.get(order.id, SYSTEM).flagged


async def test_a_failed_pass_is_logged_and_the_next_one_runs(
    sqlite_db: Database, config: AppConfig, clock: ManualClock, make_request, caplog
) -> None:  # type: ignore[no-untyped-def]
    service = OrderService(sqlite_db, config, clock)
    order = service.create(make_request(), RESIDENT)
    sweeper = DeadlineSweeper(AppContext(config, sqlite_db, clock), interval=0.05)
    real = sweeper.orders.expire_overdue
    failures = iter([RuntimeError("database went away")])

    def flaky() -> list:  # type: ignore[type-arg]
        for exc in failures:
            raise exc
        return real()

    sweeper.orders.expire_overdue = flaky  # type: ignore[method-assign]
    clock.advance(minutes=config.orders.accept_deadline_minutes + 1)
    await sweeper.start()
    try:
        await wait_until(lambda: service.get(order.id, SYSTEM).tier == "institute")
    finally:
        await sweeper.stop()
    assert "deadline sweep failed" in caplog.text
    assert sweeper._task is None
