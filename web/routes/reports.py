"""Admin pages of the reports room: the dashboard of figures and charts for an area and period
(area and date pickers), exports, the bulletin archive, and the points ledger (leaderboard,
each volunteer's history, redemption). Operators get 403; admins only their own areas (the
room's door checks that)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from core.config import Role
from core.errors import InvalidInput
from reports.charts import data_uri
from reports.export import FORMATS, MEDIA_TYPES
from reports.period import Period
from reports.points import Holder
from web.auth import Form, PageUser
from web.doors import reports_of
from web.render import flash, redirect, render

router = APIRouter(include_in_schema=False)


def _period(request: Request, month: str, first: str, last: str) -> Period:
    return Period.pick(month[:16], first[:16], last[:16], request.app.state.ctx.clock())


@router.get("/reports")
def dashboard(
    request: Request, user: PageUser, area: str = "", month: str = "", first: str = "", last: str = ""
) -> Response:
    user.require(Role.admin)
    service = reports_of(request)
    period = _period(request, month, first, last)
    place = service.area(user.actor, area[:48] or None)
    bulletin = service.bulletin(user.actor, place.id, period)
    query = {"area": place.id, **({"month": period.slug} if period.is_month else {})}
    if not period.is_month:
        query.update(first=period.start.isoformat(), last=period.last_day.isoformat())
    return render(
        request, "reports.html", b=bulletin, f=bulletin.figures, area=place, period=period,
        areas=service.areas(user.actor), charts=[(n, data_uri(svg)) for n, svg in bulletin.charts.items()],
        downloads=[(fmt, f"/reports/export?{urlencode({**query, 'format': fmt})}") for fmt in FORMATS],
        month_value=f"{period.start:%Y-%m}" if period.is_month else "", points_link=f"/points?{urlencode(query)}",
    )  # fmt: skip


@router.get("/reports/export")
def export(
    request: Request, user: PageUser, area: str = "", month: str = "", first: str = "", last: str = "",
    format: str = "pdf",
) -> Response:  # fmt: skip
    user.require(Role.admin)
    name, data = reports_of(request).export(
        user.actor, area[:48] or None, _period(request, month, first, last), format[:8]
    )
    media = MEDIA_TYPES[format]
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/reports/archive")
def archive(request: Request, user: PageUser) -> Response:
    user.require(Role.admin)
    return render(request, "report_archive.html", bulletins=reports_of(request).archive.list(user.actor))


@router.get("/reports/archive/{bulletin_id}/{fmt}")
def archived_file(request: Request, user: PageUser, bulletin_id: int, fmt: str) -> Response:
    user.require(Role.admin)
    path = reports_of(request).archive.file(bulletin_id, fmt[:8], user.actor)
    return FileResponse(path, media_type=MEDIA_TYPES[fmt], filename=path.name)


@router.get("/points")
def leaderboard(request: Request, user: PageUser, area: str = "", month: str = "") -> Response:
    user.require(Role.admin)
    service = reports_of(request)
    period = _period(request, month, "", "")
    place = service.area(user.actor, area[:48] or None)
    return render(
        request, "points.html", area=place, period=period, areas=service.areas(user.actor),
        standings=service.current_points().standings(place, period), month_value=f"{period.start:%Y-%m}",
    )  # fmt: skip


@router.get("/points/{member_id}")
def history(request: Request, user: PageUser, member_id: str) -> Response:
    user.require(Role.admin)
    ledger = reports_of(request).current_points()
    holder = Holder.volunteer(member_id[:48])
    entries = ledger.history(holder, user.actor)
    return render(
        request, "points_history.html", member_id=holder.id, entries=entries, balance=ledger.balance(holder),
        may_redeem=ledger.may_manage(user.actor, holder),
    )  # fmt: skip


@router.post("/points/{member_id}/redeem")
def redeem(request: Request, user: PageUser, member_id: str, form: Form) -> Response:
    user.require(Role.admin)
    raw = form.get("points", "").strip()
    if not raw.isdigit():
        flash(request, "兑换的积分请写一个整数。", "error")
        return redirect(f"/points/{member_id}")
    try:
        done = reports_of(request).points.redeem(
            Holder.volunteer(member_id[:48]), int(raw[:7]), user.actor, form.get("reason", "")
        )
    except InvalidInput as exc:  # not enough points, no reason given: say so on the same page
        flash(request, exc.message_zh, "error")
        return redirect(f"/points/{member_id}")
    flash(request, f"已兑换 {raw} 分,余额 {done.balance} 分。")
    return redirect(f"/points/{member_id}")
