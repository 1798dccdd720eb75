"""Admin pages: the dashboard and the orders (list with filters, detail with history,
reassign, cancel)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.config import AppConfig, Role
from orders import (
    STATUS_LABELS,
    Figures,
    IllegalTransition,
    InvalidOrder,
    OrderFilter,
    Orders,
    OrderStatus,
    OrderView,
    eligible_teams,
)
from web.auth import Form, PageUser, User
from web.doors import broadcasts_of, orders_of
from web.render import flash, redirect, render

router = APIRouter(include_in_schema=False)
MAX_REASON = 200


@router.get("/dashboard")
def dashboard(request: Request, user: PageUser) -> Response:
    user.require(Role.admin)
    orders = orders_of(request)
    stats = orders.stats(user.actor)
    today, month = stats.today, stats.month
    config = request.app.state.ctx.config
    return render(
        request, "dashboard.html", stats=stats, today=today, month=month, overdue=orders.overdue(user.actor)[:20],
        broadcasts=broadcasts_of(request).summary(user.actor),
        charts={
            "today_status": status_rows(today), "month_status": status_rows(month),
            "today_service": service_rows(config, today), "month_service": service_rows(config, month),
        },
    )  # fmt: skip


def status_rows(figures: Figures) -> list[tuple[str, int]]:
    return [(s.label, figures.orders_by_status[s.value]) for s in OrderStatus if s.value in figures.orders_by_status]


def service_rows(config: AppConfig, figures: Figures, top: int = 10) -> list[tuple[str, int]]:
    counts = sorted(figures.orders_by_service.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [(config.services[k].name if k in config.services else k, n) for k, n in counts]


@dataclass(frozen=True)
class ListForm:
    """The orders filter, checked: unknown values are reported and ignored."""

    status: str = ""
    service: str = ""
    village: str = ""
    open_only: bool = False
    overdue: bool = False

    def errors(self, config: AppConfig, user: User) -> list[str]:
        problems = []
        if self.status and self.status not in OrderStatus.__members__:
            problems.append("没有这个订单状态。")
        if self.service and self.service not in config.services:
            problems.append("没有这项服务。")
        if self.village and self.village not in user.villages:
            problems.append("这个村不在您管理的范围里。")
        return problems


@router.get("/orders")
def order_list(
    request: Request, user: PageUser, status: str = "", service: str = "", village: str = "",
    open_only: str = "", overdue: str = "", q: str = "",
) -> Response:  # fmt: skip
    user.require(Role.admin)
    config = request.app.state.ctx.config
    if q.strip():
        return redirect(f"/orders/{''.join(ch for ch in q if ch.isdigit())[:12] or '0'}")
    form = ListForm(status[:16], service[:48], village[:48], bool(open_only), bool(overdue))
    errors = form.errors(config, user)
    queries = orders_of(request)
    if form.overdue:
        orders = queries.overdue(user.actor)
    else:
        orders = queries.list(
            user.actor,
            OrderFilter(
                status=OrderStatus(form.status) if form.status in OrderStatus.__members__ else None,
                service_id=form.service if form.service in config.services else None,
                village_id=form.village if form.village in user.villages else None,
                open_only=form.open_only,
            ),
        )
    return render(
        request, "orders.html", orders=orders, form=form, errors=errors,
        villages=sorted(user.villages, key=list(config.villages).index), status_labels=STATUS_LABELS,
    )  # fmt: skip


@router.get("/orders/{number}")
def order_detail(request: Request, user: PageUser, number: str) -> Response:
    user.require(Role.admin)
    order = orders_of(request).get(number[:20], user.actor)
    config = request.app.state.ctx.config
    return render(request, "order.html", order=order, teams=eligible_teams(config, order.service_id, order.village_id))


@router.post("/orders/{number}/reassign")
def reassign(request: Request, user: PageUser, number: str, form: Form) -> Response:
    user.require(Role.admin)
    team_id = form.get("team_id", "").strip()
    reason = form.get("reason", "").strip()
    teams = request.app.state.ctx.config.teams_by_id
    return _change_order(
        request, number, "请选择要改派的服务队。" if not team_id else _reason_problem(reason),
        lambda service: service.reassign(number[:20], team_id, user.actor, reason),
        lambda _: f"已改派给{teams[team_id].name}。",
    )  # fmt: skip


@router.post("/orders/{number}/cancel")
def cancel(request: Request, user: PageUser, number: str, form: Form) -> Response:
    user.require(Role.admin)
    reason = form.get("reason", "").strip()
    return _change_order(
        request, number, "撤销订单要写明原因。" if not reason else _reason_problem(reason),
        lambda service: service.cancel(number[:20], user.actor, reason),
        lambda _: "订单已撤销。",
    )  # fmt: skip


def _reason_problem(reason: str) -> str | None:
    return f"原因太长了,请少于 {MAX_REASON} 个字。" if len(reason) > MAX_REASON else None


def _change_order(
    request: Request,
    number: str,
    problem: str | None,
    change: Callable[[Orders], OrderView],
    done: Callable[[OrderView], str],
) -> Response:
    """One order form: a problem with the form or a refusal by the service is flashed as an
    error, success as a notice; either way back to the order's page."""
    if problem:
        flash(request, problem, "error")
        return redirect(f"/orders/{number[:20]}")
    try:
        order = change(orders_of(request))
    except (InvalidOrder, IllegalTransition) as exc:
        flash(request, exc.message_zh, "error")
        return redirect(f"/orders/{number[:20]}")
    flash(request, done(order))
    return redirect(f"/orders/{order.number}")
