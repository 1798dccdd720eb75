"""`xiangyin`: one entry point, one sub-command group per room."""

from __future__ import annotations

import typer

from cli import broadcasts, chat, nlu, orders, reports, run, setup, web

app = typer.Typer(
    name="xiangyin",
    help="乡音 — 新时代文明实践站的点单机器人和大喇叭广播助手。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("init")(setup.init)
app.command("menu")(setup.menu)
app.command("demo-data")(setup.demo_data)
app.command("run")(run.run)
app.command("chat")(chat.chat)
app.command("web")(web.web)
app.add_typer(orders.app, name="orders", help="点单、派单、接单、完成、评单。")
app.add_typer(nlu.app, name="nlu", help="Rasa 语言理解:训练、服务、解析、评测。")
app.add_typer(broadcasts.app, name="broadcasts", help="大喇叭广播:公告、节目、生成、播放。")
app.add_typer(reports.report_app, name="report", help="月报和报表:PDF、Excel、CSV,存档。")
app.add_typer(reports.points_app, name="points", help="志愿者积分:入账、明细、排行、兑换、登记时长。")

if __name__ == "__main__":
    app()
