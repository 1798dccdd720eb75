"""`xiangyin report` and `xiangyin points` in a real subprocess against a database holding the
hand-computed November."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from core.config import AppConfig
from core.db import Database
from tests.reports.scenario import build_november

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow  # a `xiangyin` process per command


@pytest.fixture
def env(config: AppConfig, tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    db = Database(url)
    db.migrate()
    build_november(db, config)
    db.dispose()
    return {**os.environ, "XIANGYIN_DATABASE_URL": url, "XIANGYIN_BULLETIN_DIR": str(tmp_path / "archive")}


def xiangyin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_report_month_writes_the_excel_file(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "qingshi.xlsx"
    done = xiangyin(env, "report", "month", "2026-11", "--area", "qingshi", "--format", "xlsx", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"已生成 {out}" in done.stdout.replace("\n", "")
    book = load_workbook(io.BytesIO(out.read_bytes()))
    summary = {row[0]: row[1] for row in book["概况"].iter_rows(min_row=2, values_only=True)}
    assert (summary["群众点单"], summary["完成服务"]) == (5, 4)


def test_points_commands_and_their_errors(env: dict[str, str]) -> None:
    assert xiangyin(env, "points", "award").stdout.strip() == "新记积分 14 笔。"
    shown = xiangyin(env, "points", "show", "jjz_zhang")
    assert shown.returncode == 0 and "积分余额 75" in shown.stdout
    board = xiangyin(env, "points", "board", "2026-11", "--area", "qingshi", "--as", "qingshi_head")
    assert board.returncode == 0 and board.stdout.index("张师傅") < board.stdout.index("王电工")
    spent = xiangyin(env, "points", "redeem", "jjz_zhang", "70", "--reason", "电饭锅", "--as", "qingshi_head")
    assert spent.returncode == 0 and "余额 5 分" in spent.stdout
    too_much = xiangyin(env, "points", "redeem", "jjz_zhang", "6", "--reason", "毛巾", "--as", "qingshi_head")
    assert too_much.returncode == 2 and "积分不够" in too_much.stderr
    outsider = xiangyin(env, "report", "month", "2026-11", "--area", "liuhe", "--as", "qingshi_head")
    assert outsider.returncode == 4 and "不归您管" in outsider.stderr
    bad_month = xiangyin(env, "report", "month", "2026-13", "--format", "csv")
    assert bad_month.returncode == 2 and "月份" in bad_month.stderr and "Traceback" not in bad_month.stderr
    bad_format = xiangyin(env, "report", "month", "2026-11", "--format", "docx")
    assert bad_format.returncode == 2 and "不支持这种格式" in bad_format.stderr
