"""The domain doors a request handler opens, built from the app's context."""

from __future__ import annotations

from fastapi import Request

from people.service import People


def people_of(request: Request) -> People:
    ctx = request.app.state.ctx
    return People(ctx.db, ctx.config, ctx.clock)
