"""Races: several volunteers press 接单 at the same moment; a client retries 点单 concurrently."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy import func, select

from core.actors import Actor
from orders.errors import AlreadyTaken
from orders.models import Order, OrderEvent, OrderStatus
from tests.orders.conftest import RESIDENT


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Start every call at the same instant (barrier) and collect results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_exactly_one_of_two_volunteers_wins(service, make_request):
    for _ in range(5):  # repeat: a race that is only sometimes lost is still a bug
        order = service.create(make_request(), RESIDENT)
        zhang, li = Actor.volunteer("jjz_zhang"), Actor.volunteer("jjz_li")
        results = run_together([partial(service.accept, order.id, zhang), partial(service.accept, order.id, li)])
        winners = [r for r in results if not isinstance(r, Exception)]
        losers = [r for r in results if isinstance(r, Exception)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert isinstance(losers[0], AlreadyTaken) and losers[0].taken_by == winners[0].volunteer_id
        with service.db.session() as s:
            accepted = s.scalar(
                select(func.count(OrderEvent.id)).where(
                    OrderEvent.order_id == order.id, OrderEvent.to_status == OrderStatus.accepted
                )
            )
            stored = s.get(Order, order.id)
            assert accepted == 1
            assert stored is not None and stored.volunteer_id == winners[0].volunteer_id


def test_concurrent_retries_of_one_request_create_one_order(service, make_request):
    request = make_request(request_key="tg-chat-1-update-9")
    results = run_together([lambda: service.create(request, RESIDENT) for _ in range(4)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.id for r in results}) == 1
    with service.db.session() as s:
        assert s.scalar(select(func.count(Order.id))) == 1
