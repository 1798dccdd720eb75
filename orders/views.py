"""Plain snapshots of orders handed to front ends (no ORM session needed to read them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from orders.models import Order, OrderEvent, OrderStatus
from orders.numbers import display_order_number


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor: str
    from_status: str | None
    to_status: str
    reason: str

    @classmethod
    def of(cls, e: OrderEvent) -> EventView:
        return cls(e.at, e.actor, e.from_status, e.to_status, e.reason)


@dataclass(frozen=True)
class OrderView:
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
    def of(cls, o: Order, with_events: bool = False) -> OrderView:
        return cls(
            id=o.id,
            number=o.number,
            resident_key=o.resident_key,
            service_id=o.service_id,
            village_id=o.village_id,
            window_start=o.window_start,
            window_end=o.window_end,
            people_count=o.people_count,
            note=o.note,
            contact_phone=o.contact_phone,
            status=OrderStatus(o.status),
            team_id=o.team_id,
            tier=o.tier,
            volunteer_id=o.volunteer_id,
            accept_deadline=o.accept_deadline,
            flagged=o.flagged,
            people_served=o.people_served,
            activity_id=o.activity_id,
            rating=o.rating,
            rating_comment=o.rating_comment,
            created_at=o.created_at,
            updated_at=o.updated_at,
            events=tuple(EventView.of(e) for e in o.events) if with_events else (),
        )
