"""Login, sessions, CSRF, rate limiting, roles and API tokens."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from webtest_support import PASSWORDS, csrf_of, login, place_order

from core.app import AppContext
from web.accounts import Accounts
from web.app import create_app


def test_anonymous_gets_login_redirect_and_api_401(anonymous: TestClient, ctx: AppContext) -> None:
    place_order(ctx)
    page = anonymous.get("/dashboard", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/dashboard"
    for path in ("/api/orders", "/api/stats", "/api/me", "/api/teams", "/api/volunteer-signups"):
        response = anonymous.get(path)
        assert response.status_code == 401, path
        assert response.json() == {"detail": "未登录或令牌无效。"}
    assert anonymous.get("/orders/123456", follow_redirects=False).status_code == 303


def test_wrong_password_and_unknown_user_get_the_same_message(anonymous: TestClient) -> None:
    for username in ("admin", "nosuchuser"):
        page = anonymous.get("/login")
        response = anonymous.post(
            "/login",
            data={"username": username, "password": "wrong-password", "csrf_token": csrf_of(page.text)},
        )
        assert response.status_code == 400
        assert "用户名或密码不对。" in response.text
    empty = anonymous.post("/login", data={"username": "", "password": "", "csrf_token": csrf_of(page.text)})
    assert empty.status_code == 400 and "请填写用户名和密码。" in empty.text


def test_login_is_rate_limited_per_username(app: FastAPI, ctx: AppContext) -> None:
    client = TestClient(app)
    token = csrf_of(client.get("/login").text)
    limit = ctx.config.web.login_max_failures
    for _ in range(limit):
        r = client.post("/login", data={"username": "admin", "password": "guess-guess", "csrf_token": token})
        assert r.status_code == 400
    # Even the right password is refused while locked, and the lock message says how long.
    locked = client.post("/login", data={"username": "admin", "password": PASSWORDS["admin"], "csrf_token": token})
    assert locked.status_code == 429
    assert "登录失败次数太多" in locked.text and "15 分钟" in locked.text
    # Another account from the same client is not locked by admin's failures.
    login(client, "xihe")


def test_login_form_without_csrf_is_refused(anonymous: TestClient) -> None:
    anonymous.get("/login")
    r = anonymous.post("/login", data={"username": "admin", "password": PASSWORDS["admin"]})
    assert r.status_code == 403 and "请刷新页面" in r.text
    assert anonymous.get("/dashboard", follow_redirects=False).status_code == 303


def test_logout_ends_the_server_side_session(client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for("admin")
    stolen = dict(client.cookies)
    assert client.get("/dashboard").status_code == 200
    token = csrf_of(client.get("/dashboard").text)
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    replay = TestClient(client.app, cookies=stolen)
    assert replay.get("/dashboard", follow_redirects=False).status_code == 303


def test_next_parameter_cannot_redirect_off_site(anonymous: TestClient) -> None:
    page = anonymous.get("/login?next=//evil.example/x")
    r = anonymous.post(
        "/login",
        data={
            "username": "admin",
            "password": PASSWORDS["admin"],
            "csrf_token": csrf_of(page.text),
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"


def test_generated_first_password_works_once_then_asks_to_change(ctx: AppContext) -> None:
    shown: list[str] = []
    app = create_app(ctx, environ={}, announce=shown.append)
    generated = {p.username: p.password for p in app.state.initial_passwords}
    assert set(generated) == set(PASSWORDS) and generated["admin"] in shown[0]
    # A second start prints nothing: the passwords exist now.
    assert create_app(ctx, environ={}, announce=shown.append).state.initial_passwords == []
    client = TestClient(app)
    page = client.get("/login")
    r = client.post(
        "/login", data={"username": "admin", "password": generated["admin"], "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )  # fmt: skip
    assert r.headers["location"] == "/account/password"
    form = client.get("/account/password")
    assert "您还在用初始密码" in form.text
    token = csrf_of(form.text)
    short = client.post(
        "/account/password",
        data={"current": generated["admin"], "new": "short", "again": "short", "csrf_token": token},
    )
    assert short.status_code == 400 and "密码至少要 8 位。" in short.text
    ok = client.post(
        "/account/password",
        data={
            "current": generated["admin"],
            "new": "a-better-pass",
            "again": "a-better-pass",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert client.get("/dashboard").status_code == 200  # this browser stays logged in
    assert not Accounts(ctx).has_initial_password("county_admin")
    assert Accounts(ctx).verify_password("county_admin", "a-better-pass")


def test_roles_and_areas(client_for, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    xihe_order = place_order(ctx, village="xihe")
    operator = client_for("xihe")
    assert operator.get("/", follow_redirects=False).headers["location"] == "/playlist"
    r = operator.get("/dashboard")
    assert r.status_code == 403 and "管理员" in r.text
    assert operator.get("/api/orders").status_code == 403
    assert operator.get(f"/api/orders/{xihe_order.number}").status_code == 403
    dongshan = client_for("dongshan")
    assert dongshan.get(f"/api/orders/{xihe_order.number}").status_code == 404
    assert dongshan.get("/api/orders?village=xihe").status_code == 403
    assert client_for("admin").get(f"/api/orders/{xihe_order.number}").status_code == 200


def test_api_tokens(app: FastAPI, ctx: AppContext) -> None:
    accounts = Accounts(ctx)
    token = accounts.create_token("qingshi_head", "county platform")
    client = TestClient(app)
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["villages"] == ["dongshan", "qiaotou", "xihe"]
    assert client.get("/api/me", headers={"Authorization": "Bearer xy_not-a-token"}).status_code == 401
    assert accounts.revoke_tokens("qingshi_head") == 1
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_cookie_api_writes_need_the_csrf_header(client_for, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    order = place_order(ctx)
    client = client_for("admin")
    body = {"team_id": "qingshi_volunteers", "reason": "test"}
    refused = client.post(f"/api/orders/{order.number}/reassign", json=body)
    assert refused.status_code == 403
    token = csrf_of(client.get("/dashboard").text)
    ok = client.post(f"/api/orders/{order.number}/reassign", json=body, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200 and ok.json()["team_id"] == "qingshi_volunteers"


def test_security_headers(anonymous: TestClient) -> None:
    r = anonymous.get("/login")
    assert r.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
