"""Admin pages: teams with their volunteers, and volunteer sign-ups to approve."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.config import Role
from people.views import PENDING
from web.auth import Form, PageUser
from web.doors import people_of
from web.render import flash, redirect, render

router = APIRouter(include_in_schema=False)


@router.get("/teams")
def teams(request: Request, user: PageUser) -> Response:
    user.require(Role.admin)
    people = people_of(request)
    return render(
        request, "teams.html", teams=people.teams_visible_to(user.actor),
        pending=people.signups(user.actor, PENDING),
        decided=[s for s in people.signups(user.actor, limit=50) if s.status != PENDING],
    )  # fmt: skip


@router.post("/signups/{signup_id}")
def signup_decision(request: Request, user: PageUser, signup_id: int, form: Form) -> Response:
    user.require(Role.admin)
    choice = form.get("decision", "")
    if choice not in ("approve", "reject"):
        flash(request, "请选择同意还是不同意。", "error")
        return redirect("/teams")
    people_of(request).decide_signup(user.actor, signup_id, choice == "approve")
    flash(request, "已同意这位志愿者报名,请把他加进服务队。" if choice == "approve" else "已拒绝这条报名。")
    return redirect("/teams")
