"""The bulletin and its exports: the PDF has its Chinese font embedded (pdffonts) and says the
hand-counted figures (pdftotext); the Excel file has one sheet per table with the same numbers;
the CSV too. The archive keeps one copy per area and month; the 1st-of-month job, with the
clock moved, archives last month's bulletins once."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from core.actors import Actor
from core.app import AppContext
from core.clock import ManualClock
from core.config import AppConfig
from core.db import Database
from core.errors import NotFound, PermissionDenied
from reports.archive import BulletinArchive, monthly_areas, monthly_bulletins
from reports.bulletin import Bulletin
from reports.export import to_csv, to_pdf, to_xlsx
from reports.models import Bulletin as BulletinRow
from reports.period import Period
from reports.service import ReportService
from tests.reports.scenario import build_november, local_time

NOVEMBER = Period.month(2026, 11)
HEAD = Actor.staff("qingshi_head")


@pytest.fixture
def ctx(db: Database, config: AppConfig, tmp_path: Path) -> AppContext:
    reports = config.reports.model_copy(update={"archive_dir": str(tmp_path / "bulletins")})
    context = AppContext(config=config.model_copy(update={"reports": reports}), db=db)
    november = build_november(db, config)
    context.clock = november.clock
    return context


@pytest.fixture(scope="module")
def bulletin(config: AppConfig, tmp_path_factory: pytest.TempPathFactory) -> Bulletin:
    """The 青石镇 November bulletin, made once for the export tests (SQLite; the figures
    themselves are checked on both databases in test_reports_figures.py)."""
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('bulletin') / 'b.db'}")
    db.migrate()
    november = build_november(db, config)
    made = ReportService(AppContext(config=config, db=db, clock=november.clock)).bulletin(HEAD, "qingshi", NOVEMBER)
    db.dispose()
    return made


def pdf_tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} missing: scripts/install_system_deps.sh installs poppler-utils"
    return path


def test_pdf_embeds_the_cjk_font_and_says_the_figures(bulletin: Bulletin, tmp_path: Path) -> None:
    assert bulletin.title == "青石镇新时代文明实践所2026年11月工作月报"
    assert set(bulletin.charts) == {"services", "trend", "teams", "villages"}
    assert all(svg.startswith("<svg") and "<text" not in svg for svg in bulletin.charts.values())  # outlines
    pdf = tmp_path / "b.pdf"
    pdf.write_bytes(to_pdf(bulletin))
    fonts = subprocess.run([pdf_tool("pdffonts"), str(pdf)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk, fonts
    assert all(line.split()[-5] == "yes" for line in cjk), fonts  # the "emb" column
    text = subprocess.run([pdf_tool("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = "".join(text.split())
    assert "群众点单5个,完成服务4个,开展活动3场,服务群众7人次" in flat
    assert "平均3.7星,满意(4–5星)占67%" in flat
    assert "红榜" in flat and "张师傅" in flat and "需要关注" in flat
    assert "桥头村关爱探访" in flat and "超时没人接" in flat
    assert "本期没有完成服务的村:桥头村" in flat
    assert "只得了2星:“来得太晚”" in flat


def test_excel_has_one_sheet_per_table_with_the_figures(bulletin: Bulletin) -> None:
    book = load_workbook(io.BytesIO(to_xlsx(bulletin)))
    assert book.sheetnames == [t.name for t in bulletin.tables]
    assert {"概况", "按服务", "按村", "按服务队", "志愿者", "评价", "广播", "近12个月", "需关注"} <= set(
        book.sheetnames
    )
    summary = {row[0]: row[1] for row in book["概况"].iter_rows(min_row=2, values_only=True)}
    assert (summary["群众点单"], summary["完成服务"], summary["开展活动"], summary["服务群众(人次)"]) == (5, 4, 3, 7)
    assert summary["志愿服务时长(小时)"] == 9.0 and summary["平均星级"] == 3.67
    villages = {row[0]: row[1:5] for row in book["按村"].iter_rows(min_row=2, values_only=True)}
    assert villages == {"东山村": (3, 3, 2, 6), "西河村": (1, 1, 1, 1), "桥头村": (1, 0, 0, 0)}
    volunteers = {row[0]: row[2:6] for row in book["志愿者"].iter_rows(min_row=2, values_only=True)}
    assert volunteers["张师傅"] == (2, 2, 4.0, 45)


def test_csv_is_one_long_table(bulletin: Bulletin) -> None:
    data = to_csv(bulletin)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["表格", "项目", "指标", "数值"]
    values = {(t, item, metric): value for t, item, metric, value in rows[1:]}
    assert values[("概况", "群众点单", "数值")] == "5"
    assert values[("按村", "东山村", "服务人次")] == "6"
    assert values[("广播", "备用语音占比", "数值")] == "0.6667"


def test_export_is_for_admins_of_the_area_only(ctx: AppContext) -> None:
    service = ReportService(ctx)
    name, data = service.export(Actor.staff("county_admin"), "linxi", NOVEMBER, "xlsx")
    assert name == "linxi-2026-11.xlsx" and data[:2] == b"PK"
    for actor, area in [
        (HEAD, "liuhe"),
        (Actor.staff("xihe_operator"), "xihe"),
        (Actor.volunteer("jjz_zhang"), "dongshan"),
        (Actor.resident("tg:8001"), "dongshan"),
    ]:
        with pytest.raises(PermissionDenied):
            service.export(actor, area, NOVEMBER, "pdf")


def test_archive_keeps_one_copy_and_serves_it_to_its_area(ctx: AppContext) -> None:
    archive = BulletinArchive(ctx)
    service = ReportService(ctx)
    first = service.archive_bulletin(HEAD, "qingshi", NOVEMBER)
    again = service.archive_bulletin(HEAD, "qingshi", NOVEMBER)
    assert first.id == again.id and set(first.files) == {"pdf", "xlsx", "csv"}
    assert first.headline["placed"] == 5 and first.created_by == "staff:qingshi_head"
    root = archive.root
    assert sorted(p.name for p in root.rglob("*") if p.is_file()) == [
        "qingshi-2026-11.csv",
        "qingshi-2026-11.pdf",
        "qingshi-2026-11.xlsx",
    ]  # fmt: skip  (no temporary left)
    assert archive.file(first.id, "pdf", Actor.staff("county_admin")).read_bytes()[:5] == b"%PDF-"
    assert [b.id for b in archive.list(HEAD)] == [first.id]
    assert archive.list(Actor.staff("liuhe_operator")) == []
    with pytest.raises(NotFound):
        archive.get(first.id, Actor.staff("dongshan_staffer"))  # a village admin: not the township's
    with pytest.raises(NotFound):
        archive.file(first.id, "docx", HEAD)


def test_first_of_month_job_archives_last_month_once(ctx: AppContext) -> None:
    reports = ctx.config.reports.model_copy(update={"monthly_areas": ["qingshi"]})
    ctx.config = ctx.config.model_copy(update={"reports": reports})
    clock = ManualClock(local_time("2026-11-30 23:59"))
    ctx.clock = clock
    assert [(b.area_id, b.period.slug) for b in monthly_bulletins(ctx, clock())] == [("qingshi", "2026-10")]
    clock.advance(minutes=2)  # 1 December, 00:01: the job's moment
    made = monthly_bulletins(ctx, clock())
    assert [(b.area_id, b.period.slug) for b in made] == [("qingshi", "2026-11")]
    assert made[0].headline["fulfilled"] == 4 and made[0].sent_at is None
    clock.advance(hours=3)
    again = monthly_bulletins(ctx, clock())  # a restart, or a second instance, runs it again
    assert [b.id for b in again] == [b.id for b in made]
    with ctx.db.session() as s:
        assert s.scalar(select(func.count(BulletinRow.id))) == 2
    archive = BulletinArchive(ctx)
    assert [b.period.slug for b in archive.unsent()] == ["2026-10", "2026-11"]
    assert archive.mark_sent(made[0].id) and not archive.mark_sent(made[0].id)
    assert [b.period.slug for b in archive.unsent()] == ["2026-10"]


def test_monthly_areas_default_to_the_county_and_each_township(config: AppConfig) -> None:
    assert [a.id for a in monthly_areas(config)] == ["linxi", "qingshi", "liuhe"]
