"""Login, logout, change password, and the home page that sends each role to its work."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.config import Role
from web.accounts import LoginRefused, PasswordRejected, check_password_rules
from web.auth import Form, PageUser, accounts_of, session_user
from web.render import flash, redirect, render

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only paths on this site: no 'http://…' or '//host' open redirects."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/")
def home(user: PageUser) -> Response:
    if user.has(Role.admin):
        return redirect("/dashboard")
    if user.has(Role.approver):
        return redirect("/announcements")
    return redirect("/playlist")


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    if session_user(request) is not None:
        return redirect(safe_next(next))
    return render(request, "login.html", next=safe_next(next), username="")


@router.post("/login")
def login(request: Request, form: Form) -> Response:
    username = form.get("username", "").strip()
    password = form.get("password", "")
    target = safe_next(form.get("next"))
    if not username or not password:
        return render(request, "login.html", 400, next=target, username=username, error="请填写用户名和密码。")
    client = request.client.host if request.client else "unknown"
    accounts = accounts_of(request)
    try:
        staff = accounts.login(username, password, client)
    except LoginRefused as exc:
        status = 429 if exc.locked else 400
        return render(request, "login.html", status, next=target, username=username, error=exc.message_zh)
    old = request.session.get("sid")
    if isinstance(old, str):
        accounts.end_session(old)
    request.session.clear()
    request.session["sid"] = accounts.start_session(staff.id)
    request.session["csrf"] = secrets.token_urlsafe(24)  # a new token per login
    if accounts.has_initial_password(staff.id):
        flash(request, "您还在用初始密码,请先改一个自己的密码。", "warn")
        return redirect("/account/password")
    return redirect(target)


@router.post("/logout")
def logout(request: Request, form: Form) -> Response:
    token = request.session.get("sid")
    if isinstance(token, str):
        accounts_of(request).end_session(token)
    request.session.clear()
    return redirect("/login")


@router.get("/account/password")
def password_form(request: Request, user: PageUser) -> Response:
    return render(request, "password.html")


@router.post("/account/password")
def change_password(request: Request, user: PageUser, form: Form) -> Response:
    accounts = accounts_of(request)
    current, new, again = form.get("current", ""), form.get("new", ""), form.get("again", "")
    error = None
    if not accounts.verify_password(user.staff.id, current):
        error = "原来的密码不对。"
    elif new != again:
        error = "两次输入的新密码不一样。"
    elif new == current:
        error = "新密码不能和原来的一样。"
    else:
        try:
            check_password_rules(new)
        except PasswordRejected as exc:
            error = exc.message_zh
    if error:
        return render(request, "password.html", 400, error=error)
    accounts.set_password(user.staff.id, new)
    # Changing the password ends every session, this one too: start a fresh one.
    request.session["sid"] = accounts.start_session(user.staff.id)
    flash(request, "密码改好了。")
    return redirect("/")
