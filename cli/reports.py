"""`xiangyin report …` (月报 and exports) and `xiangyin points …` (积分): the reports room from
a terminal. Without --as the terminal user is the machine's operator and may read every area."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.common import console, context, domain_errors, viewer
from core.actors import Actor
from core.clock import day_bounds, local
from core.errors import InvalidInput
from core.files import write_atomic
from reports.archive import monthly_areas, monthly_bulletins
from reports.export import FORMATS
from reports.period import Period
from reports.points import Holder
from reports.service import ReportService

report_app = typer.Typer(no_args_is_help=True)
points_app = typer.Typer(no_args_is_help=True)

AsStaff = Annotated[str | None, typer.Option("--as", help="以哪个工作人员身份 (staff id; default: all areas)")]
AreaOpt = Annotated[str | None, typer.Option("--area", help="县、镇或村的 id (default: your widest area)")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="pdf | xlsx | csv")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="写到这个文件 (default: ./<area>-<period>.<format>)")]
STEPS = {
    "points": "积分入账",
    "figures": "统计数字",
    "charts": "画图表",
    "pdf": "排版 PDF",
    "xlsx": "写 Excel",
    "csv": "写 CSV",
}


def _export(period: Period, area: str | None, fmt: str, out: Path | None, staff: str | None) -> None:
    fmt = fmt.lower().strip()
    if fmt not in FORMATS:
        raise InvalidInput(f"不支持这种格式:{fmt}(可以用 pdf、xlsx、csv)。", f"unknown format {fmt!r}")
    ctx = context()
    service = ReportService(ctx)
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("准备", total=4)

        def step(name: str) -> None:
            bar.update(task, description=STEPS.get(name, name), advance=1)

        name, data = service.export(viewer(ctx, staff), area, period, fmt, step)
        bar.update(task, completed=4)
    target = out or Path(name)
    write_atomic(target, data)
    console.print(f"已生成 {target} ({len(data) // 1024} KB)", highlight=False)


@report_app.command("month")
@domain_errors
def month(
    month: Annotated[str, typer.Argument(help="月份, 例如 2026-11")],
    area: AreaOpt = None,
    fmt: FormatOpt = "pdf",
    out: OutOpt = None,
    staff: AsStaff = None,
) -> None:
    """一个月的月报 (PDF、Excel 或 CSV)。"""
    _export(Period.parse_month(month), area, fmt, out, staff)


@report_app.command("range")
@domain_errors
def date_range(
    first: Annotated[str, typer.Argument(help="第一天, 例如 2026-11-03")],
    last: Annotated[str, typer.Argument(help="最后一天 (含), 例如 2026-11-20")],
    area: AreaOpt = None,
    fmt: FormatOpt = "pdf",
    out: OutOpt = None,
    staff: AsStaff = None,
) -> None:
    """任意一段时间的报表。"""
    _export(Period.parse_days(first, last), area, fmt, out, staff)


@report_app.command("archive")
@domain_errors
def archive(
    month: Annotated[str | None, typer.Option("--month", help="归档哪个月 (default: last month)")] = None,
) -> None:
    """把月报存档 (每月 1 号自动做的事;做过的不会重做)。"""
    ctx = context()
    now = ctx.clock() if month is None else day_bounds(Period.parse_month(month).end)[0]
    made = monthly_bulletins(ctx, now, monthly_areas(ctx.config))
    for b in made:
        console.print(f"{b.id:>4}  {b.title}  {', '.join(b.files.values())}", highlight=False)


@report_app.command("list")
@domain_errors
def list_bulletins(staff: AsStaff = None) -> None:
    """已存档的月报。"""
    ctx = context()
    table = Table(title="月报存档")
    for column in ("编号", "地方", "时间", "生成于", "已发送"):
        table.add_column(column)
    for b in ReportService(ctx).archive.list(viewer(ctx, staff)):
        sent = f"{local(b.sent_at):%m-%d %H:%M}" if b.sent_at else "—"
        table.add_row(str(b.id), b.area_id, b.period.label, f"{local(b.created_at):%Y-%m-%d %H:%M}", sent)
    console.print(table)


# ---------------------------------------------------------------- points
@points_app.command("award")
@domain_errors
def award() -> None:
    """把新完成、新评价的单子记上积分 (运行时每分钟自动做)。"""
    ctx = context()
    console.print(f"新记积分 {ReportService(ctx).points.award_pass()} 笔。")


@points_app.command("show")
@domain_errors
def show(member: Annotated[str, typer.Argument(help="志愿者 id (config.yml)")], staff: AsStaff = None) -> None:
    """一个志愿者的积分余额和明细。"""
    ctx = context()
    ledger = ReportService(ctx).current_points()
    holder = Holder.volunteer(member)
    entries = ledger.history(holder, viewer(ctx, staff))
    table = Table(title=f"{member} 积分余额 {ledger.balance(holder)}")
    for column in ("时间", "事由", "积分", "时长", "说明"):
        table.add_column(column)
    for e in entries:
        hours = f"{e.hours:g} 小时" if e.hours is not None else ""
        table.add_row(f"{local(e.at):%Y-%m-%d %H:%M}", e.rule.label, f"{e.points:+d}", hours, e.reason)
    console.print(table)


@points_app.command("board")
@domain_errors
def board(
    month: Annotated[str, typer.Argument(help="月份, 例如 2026-11")], area: AreaOpt = None, staff: AsStaff = None
) -> None:
    """积分排行榜:这个月在这个地方挣的积分。"""
    ctx = context()
    service = ReportService(ctx)
    place = service.area(viewer(ctx, staff), area)
    table = Table(title=f"{place.name} {Period.parse_month(month).label} 积分榜")
    for column in ("名次", "志愿者", "本月积分", "余额"):
        table.add_column(column)
    for n, s in enumerate(service.current_points().standings(place, Period.parse_month(month)), start=1):
        table.add_row(str(n), s.name, str(s.earned), str(s.balance))
    console.print(table)


@points_app.command("redeem")
@domain_errors
def redeem(
    member: Annotated[str, typer.Argument(help="志愿者 id")],
    points: Annotated[int, typer.Argument(help="兑换多少积分")],
    reason: Annotated[str, typer.Option("--reason", help="兑换了什么")],
    staff: Annotated[str, typer.Option("--as", help="办理的管理员 (staff id)")],
) -> None:
    """积分兑换 (管理员办理;余额不够不能兑)。"""
    ctx = context()
    done = ReportService(ctx).points.redeem(Holder.volunteer(member), points, viewer(ctx, staff), reason)
    console.print(f"已兑换 {points} 分({done.entry.reason}),余额 {done.balance} 分。", highlight=False)


@points_app.command("declare")
@domain_errors
def declare(
    order: Annotated[str, typer.Argument(help="单号, 例如 123-456")],
    hours: Annotated[float, typer.Argument(help="用了几个小时 (按半小时)")],
    volunteer: Annotated[str, typer.Option("--volunteer", help="完成这个单子的志愿者 id")],
) -> None:
    """志愿者登记一次服务的时长 (完成后一周内,只能登记一次)。"""
    ctx = context()
    correction = ReportService(ctx).points.declare_hours(order, Actor.volunteer(volunteer), hours)
    change = f",积分 {correction.points:+d}" if correction else ""
    console.print(f"已登记 {hours:g} 小时{change}。", highlight=False)
