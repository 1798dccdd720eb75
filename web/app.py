"""The FastAPI application: server-rendered pages for staff plus a JSON API under /api."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from core.app import AppContext
from core.errors import DomainError
from web.accounts import Accounts, InitialPassword
from web.auth import CsrfFailed, Forbidden, LoginRequired
from web.render import make_templates, redirect, render

STATIC_DIR = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "xiangyin_session"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Everything is served from here: no CDN, no inline scripts.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
        "script-src 'self'; frame-ancestors 'none'; form-action 'self'"
    ),
}


def create_app(
    ctx: AppContext,
    *,
    environ: Mapping[str, str] | None = None,
    announce: Callable[[str], None] | None = print,
) -> FastAPI:
    """Build the console. Staff without a password get a generated one, passed to `announce`
    once (printed at start) so a fresh install can log in."""
    accounts = Accounts(ctx)
    generated = accounts.bootstrap(environ)
    if generated and announce is not None:
        announce(describe_initial_passwords(generated))

    app = FastAPI(
        title="乡音 Xiangyin API",
        version="1.0",
        description="Orders, statistics, announcements and playlists of the Xiangyin console. "
        "Authenticate with `Authorization: Bearer <token>` (create one with "
        "`xiangyin web create-token USERNAME`) or the console's session cookie.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI loads from a CDN; the schema itself is enough for integrators
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.state.accounts = accounts
    app.state.templates = make_templates(ctx.config)
    app.state.initial_passwords = generated

    app.add_middleware(
        SessionMiddleware,
        secret_key=accounts.secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=ctx.config.web.session_hours * 3600,
        same_site="lax",
        https_only=ctx.config.web.cookie_secure,
    )

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable) -> Response:  # type: ignore[type-arg]
        response: Response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/api") or "set-cookie" in response.headers:
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    _install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    from web.routes import account, api, api_broadcasts, broadcasts, nlu_review, orders, people, reports

    for module in (account, orders, broadcasts, people, reports, nlu_review, api, api_broadcasts):
        app.include_router(module.router)
    return app


def describe_initial_passwords(generated: list[InitialPassword]) -> str:
    lines = ["", "网页后台初始密码 (web console first-start passwords; shown once, change after login):"]
    lines += [f"  {p.username:<12} {p.password}   ({p.staff_name})" for p in generated]
    lines.append("  Reset any time with: xiangyin web set-password USERNAME")
    return "\n".join(lines)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api")


def _page_error(request: Request, status: int, title: str, message: str) -> Response:
    return render(request, "error.html", status, title=title, message=message)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "未登录或令牌无效。"}, 401, headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"/login?next={quote(target)}")

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": exc.message_zh}, 403)
        return _page_error(request, 403, "没有权限", exc.message_zh)

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        message = "页面已过期,请刷新页面后再试一次。"
        if _is_api(request):
            return JSONResponse({"detail": message}, 403)
        return _page_error(request, 403, "请刷新页面", message)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        status = {"not_found": 404, "forbidden": 403, "invalid": 422}.get(exc.code, 409)
        if _is_api(request):
            return JSONResponse({"detail": exc.message_zh, "code": exc.code}, status)
        return _page_error(request, status, "没有找到" if status == 404 else "没办成", exc.message_zh)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "请求的内容不对。", "errors": _plain_errors(exc)}, 422)
        return _page_error(request, 400, "填写有误", "网址或表单里的内容不对,请回到上一页重新填写。")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {404: "没有这个页面。", 405: "不支持这样操作。"}
        message = messages.get(exc.status_code, "出了点问题,请稍后再试。")
        if _is_api(request):
            return JSONResponse({"detail": message}, exc.status_code, headers=exc.headers)
        return _page_error(request, exc.status_code, "出错了", message)


def _plain_errors(exc: RequestValidationError) -> list[dict[str, object]]:
    # Only where and what: never echo the submitted input back.
    return [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
