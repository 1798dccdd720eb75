"""The console's report pages over HTTP: figures of the admin's own area, exports, the archive,
the leaderboard and redemption; operators and other areas refused."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from webtest_support import csrf_of

from core.app import AppContext
from reports.archive import BulletinArchive
from reports.period import Area, Period
from tests.reports.scenario import build_november


@pytest.fixture(autouse=True)
def november(ctx: AppContext, tmp_path):  # type: ignore[no-untyped-def]
    reports = ctx.config.reports.model_copy(update={"archive_dir": str(tmp_path / "bulletins")})
    ctx.config = ctx.config.model_copy(update={"reports": reports})
    return build_november(ctx.db, ctx.config)


def test_township_admin_sees_their_area_and_downloads(client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for("qingshi")
    page = client.get("/reports?month=2026-11")
    assert page.status_code == 200
    assert "青石镇新时代文明实践所2026年11月工作月报" in page.text
    assert "群众点单 5 个,完成服务 4 个" in page.text and page.text.count('class="chart-img"') == 4
    assert 'data-village="dongshan"' in page.text and 'data-village="yangliu"' not in page.text
    xlsx = client.get("/reports/export?area=qingshi&month=2026-11&format=xlsx")
    assert xlsx.status_code == 200 and 'filename="qingshi-2026-11.xlsx"' in xlsx.headers["content-disposition"]
    book = load_workbook(io.BytesIO(xlsx.content))
    assert {r[0]: r[1] for r in book["概况"].iter_rows(min_row=2, values_only=True)}["完成服务"] == 4
    day = client.get("/reports?area=dongshan&first=2026-11-02&last=2026-11-02")
    assert "群众点单 2 个,完成服务 2 个" in day.text
    assert client.get("/reports?area=liuhe&month=2026-11").status_code == 403
    assert client.get("/reports/export?area=liuhe&month=2026-11&format=pdf").status_code == 403
    assert client.get("/reports?month=2026-13").status_code == 422
    assert client.get("/reports/export?area=qingshi&month=2026-11&format=docx").status_code == 422


def test_operators_see_none_of_it(client_for) -> None:  # type: ignore[no-untyped-def]
    operator = client_for("xihe")
    for url in ("/reports", "/reports/export?format=csv", "/reports/archive", "/points", "/points/jjz_zhang"):
        response = operator.get(url)
        assert response.status_code == 403, url
        assert "张师傅" not in response.text and "群众点单" not in response.text


def test_archive_lists_only_the_admins_areas(ctx: AppContext, client_for) -> None:  # type: ignore[no-untyped-def]
    archive = BulletinArchive(ctx)
    qingshi = archive.make(Area.of(ctx.config, "qingshi"), Period.month(2026, 11))
    liuhe = archive.make(Area.of(ctx.config, "liuhe"), Period.month(2026, 11))
    head = client_for("qingshi")
    listing = head.get("/reports/archive")
    assert f'data-bulletin="{qingshi.id}"' in listing.text and f'data-bulletin="{liuhe.id}"' not in listing.text
    pdf = head.get(f"/reports/archive/{qingshi.id}/pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert head.get(f"/reports/archive/{liuhe.id}/pdf").status_code == 404
    assert client_for("admin").get(f"/reports/archive/{liuhe.id}/xlsx").status_code == 200


def test_leaderboard_history_and_redemption(client_for) -> None:  # type: ignore[no-untyped-def]
    head = client_for("qingshi")
    board = head.get("/points?area=qingshi&month=2026-11")
    assert board.text.index('data-member="jjz_zhang"') < board.text.index('data-member="qs_wang"')
    history = head.get("/points/jjz_zhang")
    assert '<div class="big" id="balance">75</div>' in history.text and "五星好评" in history.text
    token = csrf_of(history.text)
    done = head.post(
        "/points/jjz_zhang/redeem",
        data={"points": "30", "reason": "毛巾两条", "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = head.get("/points/jjz_zhang")
    assert '<div class="big" id="balance">45</div>' in after.text and "已兑换 30 分,余额 45 分。" in after.text
    refused = head.post(
        "/points/jjz_zhang/redeem", data={"points": "99", "reason": "电视", "csrf_token": token}, follow_redirects=False
    )
    assert refused.status_code == 303
    assert "积分不够:现在只有 45 分。" in head.get("/points/jjz_zhang").text
    forged = head.post(
        "/points/jjz_zhang/redeem", data={"points": "5", "reason": "x", "csrf_token": "forged"}, follow_redirects=False
    )
    assert forged.status_code == 403
    # A county team's volunteer: the township admin may not see or spend their points.
    assert head.get("/points/cr_huang").status_code == 403
    # A village admin is not the township's: no redemption form for a township team's volunteer.
    village = client_for("dongshan").get("/points/jjz_zhang")
    assert village.status_code == 200 and 'id="redeem"' in village.text
    assert client_for("dongshan").get("/points/qs_wang").status_code == 403
