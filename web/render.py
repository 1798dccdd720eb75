"""Template rendering: one Jinja2 environment with Chinese labels, local times and flashes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from core.clock import local
from core.config import AppConfig
from orders import STATUS_LABELS, OrderStatus
from web.auth import csrf_token

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def make_templates(config: AppConfig) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.filters["when"] = when
    env.filters["day"] = lambda d: local(d).strftime("%Y-%m-%d") if d else ""
    env.filters["clock"] = lambda d: local(d).strftime("%H:%M") if d else ""
    env.globals.update(
        config=config,
        village_name=lambda v: config.villages[v].name if v in config.villages else v,
        service_name=lambda s: config.services[s].name if s in config.services else s,
        team_name=lambda t: config.teams_by_id[t].name if t in config.teams_by_id else (t or "—"),
        status_label=lambda s: STATUS_LABELS[OrderStatus(s)] if s in OrderStatus.__members__ else s,
        actor_label=lambda a: actor_label(config, a),
        member_name=lambda m: member_name(config, m),
    )
    return templates


def when(moment: datetime | None) -> str:
    return local(moment).strftime("%m-%d %H:%M") if moment else "—"


def member_name(config: AppConfig, member_id: str | None) -> str:
    if not member_id:
        return "—"
    member = config.members_by_id.get(member_id)
    return member.name if member else member_id


def actor_label(config: AppConfig, label: str) -> str:
    """History rows store 'kind:id'; people read a name or a role."""
    kind, _, ident = label.partition(":")
    if kind == "staff" and ident in config.staff_by_id:
        return config.staff_by_id[ident].name
    if kind == "volunteer":
        return member_name(config, ident)
    if kind == "resident":
        return "居民"
    if kind == "system":
        return "系统"
    return label


def flash(request: Request, message: str, kind: str = "ok") -> None:
    request.session.setdefault("flash", []).append([kind, message])


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    messages = request.session.pop("flash", []) if "session" in request.scope else []
    return templates.TemplateResponse(
        request,
        template,
        {
            "user": getattr(request.state, "user", None),
            "csrf": csrf_token(request) if "session" in request.scope else "",
            "messages": messages,
            **context,
        },
        status_code=status_code,
    )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
