"""Every action from every state: legal ones succeed, illegal ones raise and change nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from core.actors import Actor
from orders.errors import AlreadyTaken, IllegalTransition
from orders.models import OrderEvent, OrderStatus
from orders.service import TRANSITIONS, OrderService
from orders.views import OrderView
from tests.orders.conftest import COUNTY_ADMIN, RESIDENT, ZHANG

S = OrderStatus


# How to bring a fresh order into each state.
def _into(state: S, service: OrderService, order: OrderView, clock, config) -> None:  # type: ignore[no-untyped-def]
    if state is S.dispatched:
        return
    if state is S.expired:
        service.reassign(order.number, "qingshi_volunteers", COUNTY_ADMIN)  # top tier below centre…
        for _ in range(3):
            clock.advance(minutes=config.orders.accept_deadline_minutes + 1)
            service.expire_overdue()
        return
    if state is S.cancelled:
        service.cancel(order.number, RESIDENT)
        return
    service.accept(order.number, ZHANG)
    if state is S.accepted:
        return
    service.complete(order.number, ZHANG, 1)
    if state is S.rated:
        service.rate(order.number, RESIDENT, 4)


ACTIONS: dict[str, tuple[S, Callable[[OrderService, str], object]]] = {
    "accept": (S.accepted, lambda s, n: s.accept(n, ZHANG)),
    "complete": (S.done, lambda s, n: s.complete(n, Actor.staff("county_admin"), 1)),
    "rate": (S.rated, lambda s, n: s.rate(n, RESIDENT, 5)),
    "cancel": (S.cancelled, lambda s, n: s.cancel(n, RESIDENT)),
    "reassign": (S.dispatched, lambda s, n: s.reassign(n, "jinjianzi", COUNTY_ADMIN)),
}
STATES = [S.dispatched, S.accepted, S.done, S.rated, S.cancelled, S.expired]


@pytest.mark.parametrize("state", STATES, ids=lambda s: s.value)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_action_from_state(service, make_request, clock, config, state, action):
    order = service.create(make_request(), RESIDENT)
    _into(state, service, order, clock, config)
    current = service.get(order.id, COUNTY_ADMIN)
    assert current.status is state
    target, call = ACTIONS[action]
    legal = target in TRANSITIONS[state]
    with service.db.session() as s:
        events_before = s.scalar(select(func.count(OrderEvent.id)))
    if legal:
        result = call(service, order.number)
        assert isinstance(result, OrderView) and result.status is target
        assert service.get(order.id, COUNTY_ADMIN).events[-1].to_status == target.value
    else:
        with pytest.raises(IllegalTransition) as err:
            call(service, order.number)
        assert isinstance(err.value, AlreadyTaken) or state.label in err.value.message_zh
        after = service.get(order.id, COUNTY_ADMIN)
        assert after == current  # nothing changed, not even updated_at
        with service.db.session() as s:
            assert s.scalar(select(func.count(OrderEvent.id))) == events_before


def test_transition_table_has_no_way_out_of_final_states():
    assert TRANSITIONS[S.rated] == frozenset() and TRANSITIONS[S.cancelled] == frozenset()
    assert S.submitted not in {t for targets in TRANSITIONS.values() for t in targets}
