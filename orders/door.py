"""`Orders`: the one door of the 四单 workflow that front ends (bot, console, CLI) go through."""

from __future__ import annotations

from orders.queries import OrderQueries
from orders.service import OrderService


class Orders(OrderService, OrderQueries):
    """Commands (`OrderService`: create, accept, complete, rate, cancel, reassign, get, the
    deadline sweep) and queries (`OrderQueries`: lists, the work needing a hand, figures, the
    outbox reads) over one database, config and clock; every call is checked against its actor."""
