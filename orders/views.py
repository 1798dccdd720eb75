"""Plain snapshots of orders handed to front ends (no ORM session needed to read them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.snapshot import Snapshot
from orders.models import Order, OrderStatus
from orders.numbers import display_order_number


@dataclass(frozen=True)
class EventView(Snapshot):
    at: datetime
    actor: str
    from_status: str | None
    to_status: str
    reason: str


@dataclass(frozen=True)
class OrderView(Snapshot):
    id: int
    number: str
    resident_key: str
    service_id: str
    village_id: str
    window_start: datetime
    window_end: datetime
    people_count: int
    note: str | None
    contact_phone: str | None
    status: OrderStatus
    team_id: str | None
    tier: str | None
    volunteer_id: str | None
    accept_deadline: datetime | None
    flagged: str | None
    people_served: int | None
    activity_id: int | None
    rating: int | None
    rating_comment: str | None
    created_at: datetime
    updated_at: datetime
    events: tuple[EventView, ...] = ()

    @property
    def display_number(self) -> str:
        return display_order_number(self.number)

    @classmethod
    def of(cls, o: Order, with_events: bool = False) -> OrderView:  # type: ignore[override]
        # Events only when asked: reading them loads another table.
        return super().of(o, events=tuple(EventView.of(e) for e in o.events) if with_events else ())
