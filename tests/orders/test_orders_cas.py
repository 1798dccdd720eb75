"""The compare-and-set itself: a move based on a stale read writes nothing and names the winner.

The race tests (test_orders_concurrency) may be won before the compare-and-set is reached; here
the loser's read is made stale on purpose, so the version check is what must refuse it.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from orders.errors import AlreadyTaken, IllegalTransition
from orders.models import Order, OrderEvent, OrderStatus
from tests.orders.conftest import LI, RESIDENT, ZHANG

S = OrderStatus


def _events(service, order_id: int) -> int:  # type: ignore[no-untyped-def]
    with service.db.session() as s:
        return s.scalar(select(func.count(OrderEvent.id)).where(OrderEvent.order_id == order_id)) or 0


def test_stale_accept_loses_to_the_committed_one(service, make_request):
    order = service.create(make_request(), RESIDENT)
    with service.db.engine.begin() as conn:
        stale = service._load(conn, order.id)  # LI reads version 2 ...
    service.accept(order.id, ZHANG)  # ... ZHANG accepts first (version 3)
    before = _events(service, order.id)
    with pytest.raises(AlreadyTaken) as err, service.db.engine.begin() as conn:
        service._move(conn, stale, S.accepted, LI, "accepted by jjz_li", service.clock(), volunteer_id=LI.id)
    assert err.value.taken_by == ZHANG.id
    assert _events(service, order.id) == before  # the loser logged nothing
    with service.db.session() as s:
        stored = s.get(Order, order.id)
        assert stored is not None and (stored.volunteer_id, stored.version) == (ZHANG.id, 3)


def test_stale_cancel_after_a_change_is_refused(service, make_request):
    order = service.create(make_request(), RESIDENT)
    with service.db.engine.begin() as conn:
        stale = service._load(conn, order.id)
    service.cancel(order.id, RESIDENT, "不用了")
    with pytest.raises(IllegalTransition) as err, service.db.engine.begin() as conn:
        service._move(conn, stale, S.cancelled, RESIDENT, "cancelled", service.clock())
    assert not isinstance(err.value, AlreadyTaken)
    assert service.get(order.id, RESIDENT).status is S.cancelled
    assert [e.to_status for e in service.get(order.id, RESIDENT).events].count("cancelled") == 1


def test_moves_return_what_was_written(service, make_request):
    order = service.create(make_request(), RESIDENT)
    accepted = service.accept(order.number, ZHANG)
    fresh = service.get(order.id, RESIDENT)
    assert accepted == replace(fresh, events=())  # the view from RETURNING matches a fresh read
    assert accepted.updated_at == service.clock() and accepted.accept_deadline == order.accept_deadline
