"""JSON shapes of /api (they make the OpenAPI schema the county platform integrates with).

Shapes read from a view dataclass are made by `from_view`, so their fields are declared once,
on the view, and the API cannot drift from it.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, create_model

from broadcasts.views import BroadcastSummary
from orders import EventView, Figures, OrderView
from people.views import SignupView


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class FromView(Out):
    """An /api shape cut from a view dataclass by `from_view`."""

    # API field → how to work it out from the view; every other field is the view's attribute.
    computed: ClassVar[dict[str, Callable[[Any], Any]]] = {}

    @classmethod
    def of(cls, view: object) -> Self:
        return cls(**{f: cls.computed[f](view) if f in cls.computed else getattr(view, f) for f in cls.model_fields})


def from_view(
    name: str,
    view: type,
    fields: str | None = None,
    *,
    base: type[FromView] = FromView,
    **computed: tuple[Any, Callable[[Any], Any]],
) -> type[FromView]:
    """A response model `name`: the view's `fields` (space-separated; None: all of them) typed as
    on the view, plus `computed` ones given as name=(type, function of the view).

    A view with personal data (an order's resident_key) names its fields, so a field added to
    the view reaches the county platform only when it is added here too."""
    hints = typing.get_type_hints(view)
    names = fields.split() if fields is not None else [f.name for f in dataclasses.fields(view)]
    definitions: dict[str, Any] = {f: (hints[f], ...) for f in names}
    definitions |= {f: (kind, ...) for f, (kind, _) in computed.items()}
    model = create_model(name, __base__=base, **definitions)
    model.computed = {**base.computed, **{f: work_out for f, (_, work_out) in computed.items()}}
    return model


class Me(Out):
    staff_id: str
    name: str
    roles: list[str]
    villages: list[str]


OrderEventOut = from_view("OrderEventOut", EventView)
OrderOut = from_view(
    "OrderOut",
    OrderView,
    "number service_id village_id window_start window_end people_count note contact_phone status team_id tier"
    " volunteer_id accept_deadline flagged people_served rating rating_comment created_at updated_at",
    display_number=(str, lambda o: o.display_number),
    status_label=(str, lambda o: o.status.label),
)
OrderDetailOut = from_view(
    "OrderDetailOut", OrderView, "", base=OrderOut,
    events=(list[OrderEventOut], lambda o: [OrderEventOut.of(e) for e in o.events]),
)  # fmt: skip
FiguresOut = from_view(
    "FiguresOut",
    Figures,
    placed=(int, lambda f: f.placed),
    done=(int, lambda f: f.done),
    rated=(int, lambda f: f.rated),
)
BroadcastCounts = from_view("BroadcastCounts", BroadcastSummary)


class StatsOut(Out):
    today: FiguresOut
    month: FiguresOut
    overdue: int  # orders needing a hand now
    open_now: int
    broadcasts_today: BroadcastCounts | None


class ReassignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    team_id: str = Field(min_length=1, max_length=48)
    reason: str = Field(default="", max_length=200)


class ReasonIn(BaseModel):
    """Why an order is cancelled or an announcement rejected (required)."""

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


SignupOut = from_view("SignupOut", SignupView)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approve: bool


class Problem(Out):
    detail: str
    code: str | None = None
