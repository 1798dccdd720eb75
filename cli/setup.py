"""`xiangyin init`, `menu` and `demo-data`."""

from __future__ import annotations

import typer
from rich.table import Table

from cli.common import console, context, domain_errors
from core.clock import system_clock
from orders.demo import DEMO_KEY_PREFIX, seed_demo_orders


def init() -> None:
    """初始化数据库 (create or upgrade the database schema)."""
    ctx = context()
    console.print(f"数据库已就绪 (database ready): {ctx.db.engine.url.render_as_string(hide_password=True)}")


def menu(village: str = typer.Option(None, "--village", "-v", help="只看这个村能点的服务 (village id)")) -> None:
    """列出服务菜单 (the service menu)."""
    ctx = context()
    config = ctx.config
    if village is not None and village not in config.villages:
        console.print(f"[red]没有这个村:{village}[/red] (unknown village; known: {', '.join(config.villages)})")
        raise typer.Exit(2)
    services = config.services_for_village(village) if village else config.menu.all_services
    table = Table(title="服务菜单" + (f" · {config.villages[village].name}" if village else ""))
    for column in ("编号 id", "名称", "类别", "说法举例", "范围"):
        table.add_column(column)
    for s in services:
        scope = "全县" if s.tier is None else f"{s.tier.label}:{s.area}"
        table.add_row(s.id, s.name, s.theme, "、".join(s.synonyms[:4]), scope)
    console.print(table)


@domain_errors
def demo_data() -> None:
    """写入演示订单,覆盖每种状态 (demo orders in every state)."""
    ctx = context()
    created = seed_demo_orders(ctx.db, ctx.config, real_now=system_clock())
    if created == 0:
        console.print(f"演示数据已存在 (demo orders with keys {DEMO_KEY_PREFIX}* already exist)")
        return
    console.print(f"已写入 {created} 个演示订单 (demo orders created). 用 `xiangyin orders list` 查看。")
