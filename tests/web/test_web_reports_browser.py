"""The report pages in a real browser (Debian's Chromium through Playwright): an institute
admin logs in, opens the dashboard (charts visible, screenshot), downloads the PDF and the
Excel file, and their figures are checked against the database."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import DESKTOP, PHONE, SCREENSHOTS, chromium, serve
from openpyxl import load_workbook
from playwright.sync_api import Browser, expect
from webtest_support import PASSWORD_ENV, PASSWORDS, make_context

from core.app import AppContext
from reports.figures import ReportQueries
from reports.period import Area, Period
from tests.reports.scenario import build_november
from web.app import create_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, AppContext]]:
    tmp = tmp_path_factory.mktemp("reports-browser")
    ctx = make_context(tmp)
    reports = ctx.config.reports.model_copy(update={"archive_dir": str(tmp / "bulletins")})
    ctx.config = ctx.config.model_copy(update={"reports": reports})
    build_november(ctx.db, ctx.config)
    with serve(create_app(ctx, environ=PASSWORD_ENV, announce=None)) as url:
        yield url, ctx
    ctx.db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def test_institute_admin_dashboard_pdf_and_excel(site, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    base, ctx = site
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(120_000)  # a PDF is laid out on a shared, busy machine
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "qingshi")
    page.fill("input[name=password]", PASSWORDS["qingshi"])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.click("text=月报")
    page.fill("input[name=month]", "2026-11")
    page.click("#pickers button[type=submit]")
    expect(page.locator("#report-title")).to_have_text("青石镇新时代文明实践所2026年11月工作月报")
    # The figures on the page are the database's, through the reports room.
    figures = ReportQueries(ctx.db, ctx.config).figures(Area.of(ctx.config, "qingshi"), Period.month(2026, 11))
    expect(page.locator("#summary")).to_contain_text(
        f"群众点单 {figures.placed} 个,完成服务 {figures.fulfilled} 个,开展活动 {figures.activities} 场,"
        f"服务群众 {figures.people_served} 人次"
    )
    charts = page.locator("img.chart-img")
    expect(charts).to_have_count(4)
    for n in range(4):
        chart = charts.nth(n)
        chart.scroll_into_view_if_needed()
        assert chart.evaluate("img => img.complete && img.naturalWidth > 300"), "chart not drawn"
        assert chart.bounding_box()["height"] > 80  # type: ignore[index]
    expect(page.locator("#attention")).to_contain_text("超时没人接")
    page.screenshot(path=str(SCREENSHOTS / "20-reports-dashboard.png"), full_page=True)

    with page.expect_download() as info:
        page.click("#download-pdf")
    assert info.value.suggested_filename == "qingshi-2026-11.pdf"
    pdf = Path(info.value.path())
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "poppler-utils missing (scripts/install_system_deps.sh)"
    text = "".join(
        subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split()
    )
    assert f"群众点单{figures.placed}个,完成服务{figures.fulfilled}个" in text
    assert f"服务群众{figures.people_served}人次" in text

    with page.expect_download() as info:
        page.click("#download-xlsx")
    book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    summary = {r[0]: r[1] for r in book["概况"].iter_rows(min_row=2, values_only=True)}
    assert (summary["群众点单"], summary["完成服务"], summary["开展活动"]) == (
        figures.placed, figures.fulfilled, figures.activities,
    )  # fmt: skip
    villages = {r[0]: r[2] for r in book["按村"].iter_rows(min_row=2, values_only=True)}
    assert villages == {v.name: v.fulfilled for v in figures.villages}

    page.click("text=积分榜")
    expect(page.locator("#leaderboard tr[data-member]").first).to_have_attribute("data-member", "jjz_zhang")
    phone = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
    phone.goto(f"{base}/login")
    phone.fill("input[name=username]", "qingshi")
    phone.fill("input[name=password]", PASSWORDS["qingshi"])
    phone.click("button[type=submit]")
    phone.goto(f"{base}/reports?month=2026-11")
    phone.screenshot(path=str(SCREENSHOTS / "21-reports-dashboard-phone.png"), full_page=True)
    # Another township's report: refused.
    response = page.goto(f"{base}/reports?area=liuhe&month=2026-11")
    assert response is not None and response.status == 403
