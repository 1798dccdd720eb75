"""`xiangyin chat`: an order taken in a terminal conversation (menu mode and with Rasa)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from cli.chat import chat
from core.db import Database
from orders.models import Order

app = typer.Typer()
app.command()(chat)


def run_chat(tmp_path: Path, rasa_url: str, lines: list[str], *args: str) -> tuple[str, list[Order]]:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    env = {"XIANGYIN_DATABASE_URL": url, "RASA_URL": rasa_url, "XIANGYIN_CONFIG": str(Path("config.yml").resolve())}
    result = CliRunner().invoke(app, list(args), input="\n".join(lines) + "\n", env=env)
    assert result.exit_code == 0, result.output
    db = Database(url)
    with db.session() as s:
        orders = list(s.scalars(select(Order)))
    db.dispose()
    return result.output, orders


def test_chat_takes_an_order_by_numbers_when_rasa_is_down(tmp_path: Path) -> None:
    # Port 9 on loopback: nothing listens, so the NLU falls back and the menu still works.
    output, orders = run_chat(
        tmp_path, "http://127.0.0.1:9", ["我想理个发", "1", "1", "2", "1", "退出"], "--user", "cli:wang"
    )
    assert "语言理解服务没有启动" in output and "单子下好了" in output
    (order,) = orders
    assert (order.service_id, order.village_id, order.people_count) == ("haircut", "dongshan", 2)
    assert order.resident_key == "cli:wang"


@pytest.mark.rasa
def test_chat_with_rasa_and_a_preset_village(tmp_path: Path, rasa_url: str) -> None:
    lines = ["冰箱坏了,后天上午能来修下不", "就我一个人", "对的", "退出"]
    output, orders = run_chat(tmp_path, rasa_url, lines, "--village", "xihe")
    assert "单子下好了" in output, output
    (order,) = orders
    assert (order.service_id, order.village_id, order.people_count) == ("appliance_repair", "xihe", 1)


def test_chat_rejects_unknown_village(tmp_path: Path) -> None:
    env = {"XIANGYIN_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = CliRunner().invoke(app, ["--village", "atlantis"], env=env)
    assert result.exit_code == 2 and "unknown village" in result.output
