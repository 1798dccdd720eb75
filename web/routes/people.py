"""Admin pages: teams with their volunteers, and volunteer sign-ups to approve."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.config import Role
from web.auth import Form, PageUser
from web.render import flash, redirect, render
from web.signups import PENDING, decide, list_signups

router = APIRouter(include_in_schema=False)


@router.get("/teams")
def teams(request: Request, user: PageUser) -> Response:
    user.require(Role.admin)
    config = request.app.state.ctx.config
    visible = [t for t in config.teams if set(config.villages_in(t.area)) & user.villages]
    ctx = request.app.state.ctx
    return render(
        request, "teams.html", teams=visible, pending=list_signups(ctx, user, PENDING),
        decided=[s for s in list_signups(ctx, user, limit=50) if s.status != PENDING],
    )  # fmt: skip


@router.post("/signups/{signup_id}")
def signup_decision(request: Request, user: PageUser, signup_id: int, form: Form) -> Response:
    user.require(Role.admin)
    choice = form.get("decision", "")
    if choice not in ("approve", "reject"):
        flash(request, "请选择同意还是不同意。", "error")
        return redirect("/teams")
    decide(request.app.state.ctx, user, signup_id, choice == "approve")
    flash(request, "已同意这位志愿者报名,请把他加进服务队。" if choice == "approve" else "已拒绝这条报名。")
    return redirect("/teams")
