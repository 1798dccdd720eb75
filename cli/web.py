"""`xiangyin web`: serve the web console, and manage console passwords and API tokens."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from cli.common import context, err_console


class Action(StrEnum):
    serve = "serve"
    set_password = "set-password"
    create_token = "create-token"
    revoke_tokens = "revoke-tokens"


def web(
    action: Annotated[
        Action, typer.Argument(help="serve | set-password | create-token | revoke-tokens")
    ] = Action.serve,
    username: Annotated[str | None, typer.Argument(help="staff username from config.yml")] = None,
    host: Annotated[str | None, typer.Option(help="listen address (default: web.host)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default: web.port)")] = None,
    password_stdin: Annotated[bool, typer.Option(help="read the new password from stdin")] = False,
    label: Annotated[str, typer.Option(help="what the API token is for")] = "",
) -> None:
    """启动网页管理后台 (start the web console); `xiangyin web set-password USERNAME` 设置密码。"""
    if action is Action.serve:
        _serve(host, port)
        return
    if not username:
        err_console.print(f"error: `xiangyin web {action.value}` needs a USERNAME")
        raise typer.Exit(2)
    from web.accounts import Accounts, PasswordRejected

    ctx = context()
    accounts = Accounts(ctx)
    staff = accounts.by_username(username)
    if staff is None:
        err_console.print(f"error: no staff member with username {username!r} in config.yml")
        raise typer.Exit(3)
    if action is Action.set_password:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt("新密码 (new password)", hide_input=True, confirmation_prompt=True)
        try:
            accounts.set_password(staff.id, password)
        except PasswordRejected as exc:
            err_console.print(f"{exc.message_zh} (password rejected)")
            raise typer.Exit(2) from None
        typer.echo(f"password set for {staff.username}; their open sessions were ended")
    elif action is Action.create_token:
        token = accounts.create_token(staff.id, label)
        typer.echo(token)
        err_console.print("Keep this token secret; it is shown only once. Use: Authorization: Bearer <token>")
    else:
        typer.echo(f"revoked {accounts.revoke_tokens(staff.id)} token(s) of {staff.username}")


def _serve(host: str | None, port: int | None) -> None:
    import uvicorn

    from web.app import create_app
    from web.service import console_url

    ctx = context()
    app = create_app(ctx)
    host = host or ctx.config.web.host
    port = port or ctx.config.web.port
    typer.echo(f"乡音网页后台 (web console): {console_url(host, port)}")
    uvicorn.run(app, host=host, port=port, log_level="warning")
