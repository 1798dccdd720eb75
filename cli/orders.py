"""`xiangyin orders …`: the 四单 workflow from a terminal, for station staff and scripts.

Exit codes: 0 ok, 2 invalid input, 3 not found, 4 not allowed, 5 illegal transition,
78 bad config. `--json` prints machine-readable output.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.table import Table

from cli.common import console, context, domain_errors, viewer
from core.actors import Actor
from core.app import AppContext
from core.clock import local
from orders import InvalidOrder, OrderFilter, Orders, OrderStatus, OrderView

app = typer.Typer(no_args_is_help=True)

STAFF_OPT = typer.Option(None, "--staff", help="以哪个工作人员身份操作 (staff id from config.yml)")
JSON_OPT = typer.Option(False, "--json", help="输出 JSON")


def _orders(ctx: AppContext) -> Orders:
    return Orders(ctx.db, ctx.config, ctx.clock)


def _when(o: OrderView) -> str:
    start, end = local(o.window_start), local(o.window_end)
    return f"{start:%m-%d %H:%M}–{end:%H:%M}"


def _json(o: OrderView) -> str:
    return json.dumps(asdict(o), ensure_ascii=False, default=str)


def _print_one(ctx: AppContext, o: OrderView) -> None:
    service = ctx.config.services.get(o.service_id)
    village = ctx.config.villages.get(o.village_id)
    team = ctx.config.teams_by_id.get(o.team_id or "")
    console.print(
        f"单号 {o.display_number}  [bold]{o.status.label}[/bold] ({o.status.value})\n"
        f"服务 {service.name if service else o.service_id} · {village.name if village else o.village_id}"
        f" · {_when(o)} · {o.people_count} 人\n"
        f"服务队 {team.name if team else '—'}  志愿者 {o.volunteer_id or '—'}"
        + (f"\n评价 {'★' * o.rating} {o.rating_comment or ''}" if o.rating else "")
        + (f"\n[yellow]需要处理: {o.flagged}[/yellow]" if o.flagged else ""),
        highlight=False,
    )


@app.command("list")
@domain_errors
def list_orders(
    status: OrderStatus = typer.Option(None, "--status", help="按状态筛选"),
    village: str = typer.Option(None, "--village", help="按村筛选 (village id)"),
    service: str = typer.Option(None, "--service", help="按服务筛选 (service id)"),
    open_only: bool = typer.Option(False, "--open", help="只看未完结的"),
    staff: str = STAFF_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """列出订单。"""
    ctx = context()
    rows = _orders(ctx).list(
        viewer(ctx, staff), OrderFilter(status=status, village_id=village, service_id=service, open_only=open_only)
    )
    if as_json:
        for o in rows:
            console.out(_json(o), highlight=False)
        return
    table = Table(title=f"订单 ({len(rows)})")
    for column in ("单号", "状态", "服务", "村", "时间", "人数", "服务队"):
        table.add_column(column)
    for o in rows:
        team = ctx.config.teams_by_id.get(o.team_id or "")
        table.add_row(
            o.display_number, o.status.label, ctx.config.services[o.service_id].name,
            ctx.config.villages[o.village_id].name, _when(o), str(o.people_count), team.name if team else "—",
        )  # fmt: skip
    console.print(table)


@app.command("show")
@domain_errors
def show(number: str, staff: str = STAFF_OPT, as_json: bool = JSON_OPT) -> None:
    """查看一个订单和它的全部记录。"""
    ctx = context()
    orders = _orders(ctx)
    o = orders.get(number, viewer(ctx, staff))
    if as_json:
        console.out(_json(o), highlight=False)
        return
    _print_one(ctx, o)
    for e in o.events:
        console.print(
            f"  {local(e.at):%Y-%m-%d %H:%M}  {e.from_status or '—'} → {e.to_status}  {e.actor}  {e.reason}",
            highlight=False,
        )


@app.command("assign")
@domain_errors
def assign(
    number: str,
    team: str = typer.Argument(..., help="改派给哪个服务队 (team id)"),
    staff: str = typer.Option(..., "--staff", help="管理员 (staff id)"),
    reason: str = typer.Option("", "--reason", help="改派原因"),
) -> None:
    """管理员手动改派订单。"""
    ctx = context()
    orders = _orders(ctx)
    _print_one(ctx, orders.reassign(number, team, viewer(ctx, staff), reason))


@app.command("accept")
@domain_errors
def accept(number: str, volunteer: str = typer.Option(..., "--volunteer", help="志愿者 (member id)")) -> None:
    """志愿者接单。"""
    ctx = context()
    orders = _orders(ctx)
    _print_one(ctx, orders.accept(number, Actor.volunteer(volunteer)))


@app.command("done")
@domain_errors
def done(
    number: str,
    volunteer: str = typer.Option(..., "--volunteer", help="志愿者 (member id)"),
    people: int = typer.Option(..., "--people", help="实际服务人数"),
) -> None:
    """登记服务完成和服务人数。"""
    ctx = context()
    orders = _orders(ctx)
    _print_one(ctx, orders.complete(number, Actor.volunteer(volunteer), people))


@app.command("rate")
@domain_errors
def rate(
    number: str,
    stars: int = typer.Argument(..., help="1 到 5 颗星"),
    resident: str = typer.Option(..., "--resident", help="点单的居民 (resident key, e.g. tg:123)"),
    comment: str = typer.Option(None, "--comment", help="评价内容"),
) -> None:
    """居民评单。"""
    ctx = context()
    orders = _orders(ctx)
    _print_one(ctx, orders.rate(number, Actor.resident(resident), stars, comment))


@app.command("cancel")
@domain_errors
def cancel(
    number: str,
    resident: str = typer.Option(None, "--resident", help="点单的居民 (resident key)"),
    staff: str = typer.Option(None, "--staff", help="或:管理员 (staff id)"),
    reason: str = typer.Option("", "--reason", help="撤单原因"),
) -> None:
    """撤销订单(完成之前)。"""
    ctx = context()
    if (resident is None) == (staff is None):
        raise InvalidOrder("请用 --resident 或 --staff 说明是谁撤单。", "give exactly one of --resident/--staff")
    actor = Actor.resident(resident) if resident else viewer(ctx, staff)
    orders = _orders(ctx)
    _print_one(ctx, orders.cancel(number, actor, reason))


@app.command("sweep")
@domain_errors
def sweep() -> None:
    """检查接单期限:超时的升级派单或标记给管理员。"""
    ctx = context()
    orders = _orders(ctx)
    changed = orders.expire_overdue()
    console.print(f"处理了 {len(changed)} 个超时订单 (overdue orders handled)")
