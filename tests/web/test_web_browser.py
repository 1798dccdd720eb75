"""The console in a real browser: log in, approve an announcement, hear its MP3, download the
village's M3U, mark an airing as aired, and an operator kept out of another village.
Screenshots (desktop and phone width) go to test-output/screenshots/ for CI artifacts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from browser_support import DESKTOP, PHONE, SCREENSHOTS, chromium, log_in, serve
from playwright.sync_api import Browser, Page, expect
from webtest_support import PASSWORD_ENV, PASSWORDS, make_context, place_order

from broadcasts.announcements import AnnouncementDraft, AnnouncementService
from broadcasts.generate import Generator
from broadcasts.models import PlanKind
from core.actors import Actor
from core.app import AppContext
from web.app import create_app

pytestmark = pytest.mark.browser
TEXT = "明天上午九点在村委会开展义诊,请需要量血压的老人按时参加。"


def offline_context(tmp: Path) -> AppContext:
    """The demo config with the neural voice switched off: the real offline engine (espeak-ng)
    voices the clips, so the run needs no internet."""
    ctx = make_context(tmp)
    broadcasts = ctx.config.broadcasts.model_copy(update={"edge_enabled": False})
    ctx.config = ctx.config.model_copy(update={"broadcasts": broadcasts})
    return ctx


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, AppContext, int]]:
    ctx = offline_context(tmp_path_factory.mktemp("browser"))
    place_order(ctx)
    place_order(ctx, service="appliance_repair", village="xihe", key="tg:7002")
    draft = AnnouncementDraft(
        text=TEXT, audience=["dongshan", "xihe"], title="义诊通知", plan=PlanKind.next_slots, count=1
    )
    announcement = AnnouncementService(ctx).draft(draft, Actor.staff("county_admin"))
    app = create_app(ctx, environ=PASSWORD_ENV, announce=None)
    with serve(app) as url:
        yield url, ctx, announcement.id
    ctx.db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def new_page(browser: Browser, viewport: dict[str, int]) -> Page:
    context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(15_000)
    return context.new_page()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def generate_items(ctx: AppContext, announcement_id: int) -> list[int]:
    """What the broadcast runtime does ahead of air time, run now (in its own event loop)."""
    view = AnnouncementService(ctx).get(announcement_id, Actor.system())
    ids = [i.id for i in view.items]

    async def run() -> None:
        generator = Generator(ctx)
        for item_id in ids:
            await generator.generate(item_id)

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result(timeout=300)
    return ids


def test_admin_approves_and_hears_the_announcement(site, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    base, ctx, announcement_id = site
    page = new_page(browser, DESKTOP)
    page.goto(f"{base}/dashboard")
    expect(page).to_have_url(f"{base}/login?next=/dashboard")
    shot(page, "01-login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    expect(page.locator(".flash.error")).to_have_text("用户名或密码不对。")
    page.fill("input[name=password]", PASSWORDS["admin"])
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/dashboard")
    expect(page.locator("#month-total")).to_have_text("2")
    shot(page, "02-dashboard")

    page.goto(f"{base}/announcements")
    page.click("text=义诊通知")
    expect(page.locator("#status")).to_have_text("待审核")
    page.click("#approve")
    expect(page.locator("#status")).to_have_text("已通过")
    expect(page.locator(".flash")).to_contain_text("已审核通过")

    generate_items(ctx, announcement_id)
    page.reload()
    audio = page.locator("#airings audio").first
    expect(audio).to_be_attached()
    assert page.evaluate("document.querySelector('audio').canPlayType('audio/mpeg')") != ""
    audio.click()  # a user gesture, so the page may start playback
    page.evaluate("document.querySelector('#airings audio').play()")
    page.wait_for_function(
        "() => { const a = document.querySelector('#airings audio'); return a.currentTime > 0.2 && !a.error; }"
    )
    duration = page.evaluate("document.querySelector('#airings audio').duration")
    assert duration > 2  # a real spoken MP3, decoded by the browser
    shot(page, "03-announcement-approved")

    phone = new_page(browser, PHONE)
    log_in(phone, base, "admin")
    shot(phone, "04-dashboard-phone")
    phone.goto(f"{base}/orders")
    shot(phone, "05-orders-phone")


def test_operator_plays_downloads_marks_aired_and_is_kept_out(site, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    base, ctx, announcement_id = site
    view = AnnouncementService(ctx).get(announcement_id, Actor.system())
    xihe_item = next(i for i in view.items if i.village_id == "xihe")
    dongshan_item = next(i for i in view.items if i.village_id == "dongshan")
    assert xihe_item.state.value == "ready" and xihe_item.fallback_voice, "generated in the first test"
    day: date = xihe_item.local_air_at.date()

    page = new_page(browser, PHONE)
    log_in(page, base, "xihe")
    expect(page).to_have_url(f"{base}/playlist")
    page.goto(f"{base}/playlist?village=xihe&day={day.isoformat()}")
    row = page.locator(f"li[data-item='{xihe_item.id}']")
    expect(row).to_contain_text("义诊通知")
    expect(row.locator(".badge.fallback")).to_have_text("备用语音")
    expect(row.locator("audio")).to_have_attribute("src", f"/api/audio/{xihe_item.audio_path}")
    shot(page, "06-operator-playlist-phone")

    with page.expect_download() as info:
        page.click("#m3u")
    m3u = Path(info.value.path()).read_text(encoding="utf-8")
    assert info.value.suggested_filename == "xihe.m3u"
    assert m3u.startswith("#EXTM3U") and xihe_item.audio_path.split("/")[-1] in m3u

    with page.expect_download() as info:
        row.locator("text=下载 MP3").click()
    assert Path(info.value.path()).read_bytes()[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")

    row.locator("button", has_text="已播出").click()
    expect(page.locator(".flash")).to_have_text("已登记播出。")
    expect(page.locator(f"li[data-item='{xihe_item.id}']")).to_have_attribute("data-state", "aired")

    # Another village: the page, the API and the audio file are all refused.
    response = page.goto(f"{base}/playlist?village=dongshan&day={day.isoformat()}")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("没有权限")
    assert "义诊通知" not in page.content()
    shot(page, "07-operator-other-village-phone")
    audio = page.request.get(f"{base}/api/audio/{dongshan_item.audio_path}")
    assert audio.status == 403 and audio.headers["content-type"].startswith("application/json")
    assert page.request.get(f"{base}/api/villages/dongshan/days/{day.isoformat()}").status == 403
    assert page.request.get(f"{base}/api/audio/{day.isoformat()}/xihe/..%2F..%2Fweb.db").status == 404
