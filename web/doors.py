"""The domain doors a request handler opens, built from the app's context."""

from __future__ import annotations

from fastapi import Request

from broadcasts.service import BroadcastService
from orders import Orders
from people.service import People
from reports.service import ReportService


def orders_of(request: Request) -> Orders:
    ctx = request.app.state.ctx
    return Orders(ctx.db, ctx.config, ctx.clock)


def people_of(request: Request) -> People:
    ctx = request.app.state.ctx
    return People(ctx.db, ctx.config, ctx.clock)


def broadcasts_of(request: Request) -> BroadcastService:
    return BroadcastService(request.app.state.ctx)


def reports_of(request: Request) -> ReportService:
    return ReportService(request.app.state.ctx)
