"""JSON shapes of /api (they make the OpenAPI schema the county platform integrates with)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from orders.queries import Figures
from orders.views import OrderView


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Me(Out):
    staff_id: str
    name: str
    roles: list[str]
    villages: list[str]


class OrderEventOut(Out):
    at: datetime
    actor: str
    from_status: str | None
    to_status: str
    reason: str


class OrderOut(Out):
    number: str
    display_number: str
    service_id: str
    village_id: str
    window_start: datetime
    window_end: datetime
    people_count: int
    note: str | None
    contact_phone: str | None
    status: str
    status_label: str
    team_id: str | None
    tier: str | None
    volunteer_id: str | None
    accept_deadline: datetime | None
    flagged: str | None
    people_served: int | None
    rating: int | None
    rating_comment: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, o: OrderView) -> OrderOut:
        return cls(
            number=o.number, display_number=o.display_number, service_id=o.service_id,
            village_id=o.village_id, window_start=o.window_start, window_end=o.window_end,
            people_count=o.people_count, note=o.note, contact_phone=o.contact_phone,
            status=o.status.value, status_label=o.status.label, team_id=o.team_id, tier=o.tier,
            volunteer_id=o.volunteer_id, accept_deadline=o.accept_deadline, flagged=o.flagged,
            people_served=o.people_served, rating=o.rating, rating_comment=o.rating_comment,
            created_at=o.created_at, updated_at=o.updated_at,
        )  # fmt: skip


class OrderDetailOut(OrderOut):
    events: list[OrderEventOut]

    @classmethod
    def of(cls, o: OrderView) -> OrderDetailOut:  # type: ignore[override]
        base = OrderOut.of(o).model_dump()
        events = [OrderEventOut(**e.__dict__) for e in o.events]
        return cls(**base, events=events)


class FiguresOut(Out):
    orders_by_status: dict[str, int]
    orders_by_service: dict[str, int]
    activities: int
    people_served: int
    average_rating: float | None

    @classmethod
    def of(cls, f: Figures) -> FiguresOut:
        return cls(**f.__dict__)


class BroadcastCounts(Out):
    ready: int
    fallback: int
    failed: int
    aired: int
    scheduled: int


class StatsOut(Out):
    today: FiguresOut
    month: FiguresOut
    overdue: int
    broadcasts_today: BroadcastCounts | None


class ReassignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    team_id: str = Field(min_length=1, max_length=48)
    reason: str = Field(default="", max_length=200)


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=200)


class MemberOut(Out):
    id: str
    name: str


class TeamOut(Out):
    id: str
    name: str
    tier: str
    area: str
    services: list[str]
    members: list[MemberOut]


class SignupOut(Out):
    id: int
    village_id: str | None
    skills: str | None
    status: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approve: bool


class Problem(Out):
    detail: str
    code: str | None = None
