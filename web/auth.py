"""Who is asking: the logged-in staff member (session cookie or API bearer token), their
roles and villages, and CSRF checks for every form."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from core.actors import Actor
from core.config import AppConfig, Role, Staff
from web.accounts import Accounts

ROLE_LABELS = {Role.admin: "管理员", Role.approver: "审核员", Role.operator: "广播员"}


class LoginRequired(Exception):
    """No valid session (pages redirect to the login form, the API answers 401)."""


class Forbidden(Exception):
    def __init__(self, message_zh: str = "您没有权限做这件事。") -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh


class CsrfFailed(Exception):
    """A form came without the token of this browser's session (forged or stale page)."""


@dataclass(frozen=True)
class User:
    staff: Staff
    roles: frozenset[Role]
    villages: frozenset[str]  # villages inside the person's areas
    via_token: bool = False

    @classmethod
    def of(cls, config: AppConfig, staff: Staff, *, via_token: bool = False) -> User:
        return cls(staff, frozenset(staff.roles), frozenset(config.staff_villages(staff)), via_token)

    @property
    def actor(self) -> Actor:
        return Actor.staff(self.staff.id)

    def has(self, role: Role) -> bool:
        return role in self.roles

    def can(self, role: Role, village_id: str) -> bool:
        return role in self.roles and village_id in self.villages

    def require(self, role: Role, village_id: str | None = None) -> None:
        if role not in self.roles:
            raise Forbidden(f"这一页只有{ROLE_LABELS[role]}能用。")
        if village_id is not None and village_id not in self.villages:
            raise Forbidden("这个村不归您管。")

    @property
    def role_labels(self) -> str:
        return "、".join(ROLE_LABELS[r] for r in Role if r in self.roles)


def accounts_of(request: Request) -> Accounts:
    return request.app.state.accounts


def session_user(request: Request) -> User | None:
    token = request.session.get("sid")
    if not isinstance(token, str):
        return None
    staff = accounts_of(request).session_staff(token)
    return User.of(request.app.state.ctx.config, staff) if staff else None


def page_user(request: Request) -> User:
    user = session_user(request)
    if user is None:
        raise LoginRequired()
    request.state.user = user
    return user


def api_user(request: Request) -> User:
    """Bearer token (county platform) or the console's own session cookie."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        staff = accounts_of(request).token_staff(header[7:].strip())
        if staff is None:
            raise LoginRequired()
        return User.of(request.app.state.ctx.config, staff, via_token=True)
    user = session_user(request)
    if user is None:
        raise LoginRequired()
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        # Cookie-authenticated writes need the page's CSRF token in a header.
        check_csrf(request, request.headers.get("x-csrf-token"))
    return user


PageUser = Annotated[User, Depends(page_user)]
ApiUser = Annotated[User, Depends(api_user)]


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, submitted: object) -> None:
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not isinstance(submitted, str):
        raise CsrfFailed()
    if not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise CsrfFailed()


async def form_data(request: Request) -> dict[str, str]:
    """The submitted form as plain strings, after the CSRF check (every POST form uses this)."""
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    # Multi-valued fields (checkbox groups) are kept here for the handlers that need them.
    request.state.form_lists = {k: [v for v in form.getlist(k) if isinstance(v, str)] for k in form}
    return {k: v for k, v in form.items() if isinstance(v, str)}


Form = Annotated[dict[str, str], Depends(form_data)]
