"""The JSON API under /api (OpenAPI schema at /api/openapi.json) for the county platform."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from core.config import Role
from orders import OrderFilter, OrderStatus
from web import schemas as S
from web.auth import ApiUser, Forbidden
from web.doors import broadcasts_of, orders_of, people_of

ERRORS = {
    401: {"model": S.Problem, "description": "未登录或令牌无效"},
    403: {"model": S.Problem, "description": "没有权限"},
}
router = APIRouter(prefix="/api", responses=ERRORS)  # type: ignore[arg-type]

OrderNumber = Annotated[str, Path(pattern=r"^[0-9][0-9 -]{4,10}[0-9]$", description="订单号, e.g. 123456")]


@router.get("/me", response_model=S.Me, tags=["account"])
def me(user: ApiUser) -> S.Me:
    return S.Me(
        staff_id=user.staff.id, name=user.staff.name, roles=sorted(r.value for r in user.roles),
        villages=sorted(user.villages),
    )  # fmt: skip


@router.get("/orders", response_model=list[S.OrderOut], tags=["orders"])
def orders(
    request: Request,
    user: ApiUser,
    status: OrderStatus | None = None,
    service: Annotated[str | None, Query(max_length=48)] = None,
    village: Annotated[str | None, Query(max_length=48)] = None,
    open_only: bool = False,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[S.OrderOut]:
    user.require(Role.admin)
    if village is not None and village not in user.villages:
        raise Forbidden("这个村不归您管。")
    queries = orders_of(request)
    if overdue:
        found = queries.overdue(user.actor)[:limit]
    else:
        f = OrderFilter(status=status, service_id=service, village_id=village, open_only=open_only, limit=limit)
        found = queries.list(user.actor, f)
    return [S.OrderOut.of(o) for o in found]


@router.get(
    "/orders/{number}", response_model=S.OrderDetailOut, tags=["orders"],
    responses={404: {"model": S.Problem}},
)  # fmt: skip
def order(request: Request, user: ApiUser, number: OrderNumber) -> S.OrderDetailOut:
    user.require(Role.admin)
    return S.OrderDetailOut.of(orders_of(request).get(number, user.actor))


@router.post(
    "/orders/{number}/reassign", response_model=S.OrderOut, tags=["orders"],
    responses={404: {"model": S.Problem}, 409: {"model": S.Problem}, 422: {"model": S.Problem}},
)  # fmt: skip
def reassign(request: Request, user: ApiUser, number: OrderNumber, body: S.ReassignIn) -> S.OrderOut:
    user.require(Role.admin)
    orders = orders_of(request)
    orders.get(number, user.actor)  # not visible → 404 before anything else is said about it
    return S.OrderOut.of(orders.reassign(number, body.team_id, user.actor, body.reason))


@router.post(
    "/orders/{number}/cancel", response_model=S.OrderOut, tags=["orders"],
    responses={404: {"model": S.Problem}, 409: {"model": S.Problem}},
)  # fmt: skip
def cancel(request: Request, user: ApiUser, number: OrderNumber, body: S.ReasonIn) -> S.OrderOut:
    user.require(Role.admin)
    orders = orders_of(request)
    orders.get(number, user.actor)
    return S.OrderOut.of(orders.cancel(number, user.actor, body.reason))


@router.get("/stats", response_model=S.StatsOut, tags=["orders"])
def stats(request: Request, user: ApiUser) -> S.StatsOut:
    user.require(Role.admin)
    stats = orders_of(request).stats(user.actor)
    summary = broadcasts_of(request).summary(user.actor)
    return S.StatsOut(
        today=S.FiguresOut.of(stats.today), month=S.FiguresOut.of(stats.month), overdue=stats.needs_hand,
        open_now=stats.open_now, broadcasts_today=S.BroadcastCounts.of(summary) if summary else None,
    )  # fmt: skip


@router.get("/teams", response_model=list[S.TeamOut], tags=["people"])
def teams(request: Request, user: ApiUser) -> list[S.TeamOut]:
    user.require(Role.admin)
    return [
        S.TeamOut(
            id=t.id,
            name=t.name,
            tier=t.tier.value,
            area=t.area,
            services=list(t.services),
            members=[S.MemberOut(id=m.id, name=m.name) for m in t.members],
        )
        for t in people_of(request).teams_visible_to(user.actor)
    ]


@router.get("/volunteer-signups", response_model=list[S.SignupOut], tags=["people"])
def signups(
    request: Request,
    user: ApiUser,
    status: Annotated[str | None, Query(pattern="^(pending|approved|rejected)$")] = None,
) -> list[S.SignupOut]:
    user.require(Role.admin)
    return [S.SignupOut.of(v) for v in people_of(request).signups(user.actor, status)]


@router.post(
    "/volunteer-signups/{signup_id}/decision", response_model=S.SignupOut, tags=["people"],
    responses={404: {"model": S.Problem}, 409: {"model": S.Problem}},
)  # fmt: skip
def signup_decision(
    request: Request, user: ApiUser, signup_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: S.DecisionIn
) -> S.SignupOut:
    user.require(Role.admin)
    return S.SignupOut.of(people_of(request).decide_signup(user.actor, signup_id, body.approve))
