"""`xiangyin init`, `menu` and `demo-data`."""

from __future__ import annotations

import typer
from rich.table import Table

from cli.common import console, context, domain_errors
from core.actors import Actor
from core.app import AppContext
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
    _seed_demo_announcement(ctx)


def _seed_demo_announcement(ctx: AppContext) -> None:
    """One draft waiting for approval, so a new user can try the approval flow in the console."""
    from broadcasts.models import PlanKind
    from broadcasts.service import AnnouncementDraft, BroadcastService

    service = BroadcastService(ctx)
    drafter = next((s for s in ctx.config.staff if "admin" in s.roles and ctx.config.centre.id in s.areas), None)
    if drafter is None:
        return
    text = (
        "各位村民,本周六上午八点到十一点,县医疗健康服务队在村委会门口开展义诊,"
        "免费量血压、测血糖,请有需要的老人带上医保卡按时参加。"
    )
    view = service.draft(
        AnnouncementDraft(
            text=text, audience=[ctx.config.centre.id], title="周六义诊通知", plan=PlanKind.next_slots, count=2
        ),
        Actor.staff(drafter.id),
    )
    console.print(f"已起草演示广播通知 #{view.id},等待审核 (demo announcement drafted, awaiting approval).")
