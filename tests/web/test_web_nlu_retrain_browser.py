"""The review inbox end to end, in a real browser, with a real Rasa and real training:

a resident's message the model does not understand goes through the bot's dialogue engine into
the console's inbox; the county admin labels it with one click, exports, clicks 重新训练, sees
the progress and then the before/after figures; the candidate passes the gate, the running
sidecar loads it (`PUT /model`), and it now reads the message with the admin's label.

The candidate model is trained into a temporary model cache (the shared one is not filled with
test models); cross-validation fold models are cached by fingerprint in var/nlu-cv as usual, so
a second run with the same data trains only the candidate.

The gate runs with a tolerance of 0.01 here (the default is 0.002): what this test checks is the
flow, and one labelled example moves a few cross-validation cases and, now and then, one case of
heldout.yml (0.004) or dev.yml (0.0075) either way — with the model of the 2026-12-05 afternoon it
cost one heldout.yml case, so at the default the test would be a coin toss.  The decision itself,
at the default and at 0, is tested with injected scores in tests/nlu/test_nlu_retrain_gate.py."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser_support import DESKTOP, SCREENSHOTS, chromium, log_in, serve
from playwright.sync_api import expect
from webtest_support import PASSWORD_ENV, make_context

from bot.engine import DialogueEngine
from bot.messages import Inbound, InboundKind
from core.app import AppContext
from nlu.client import NluClient
from nlu.retrain import ACCEPTED, load_status
from nlu.review import pending_path
from nlu.sidecar import ensure_model
from tests.peers.rasa import ThreadedSidecar
from web.app import create_app

pytestmark = [pytest.mark.rasa, pytest.mark.browser, pytest.mark.timeout(1800)]

# Messages the model of 2026-12-05 falls back on, each with the label the admin gives it (the
# console's button) and what the retrained model must then read: the first one the current
# model still misses is used (checked before anything else).
MISSES = (
    ("给俺家的娃起个名字", "点单,说不清哪项", ("request_service", None)),  # not on the menu
    ("俺家吊扇呼啦呼啦响", "家电维修", ("request_service", "appliance_repair")),
    ("电脑里的照片咋传到手机上", "技能培训", ("request_service", "skills_training")),
)
RETRAIN_WAIT_MS = 25 * 60 * 1000  # cold: candidate + 2×2 fold models at ~100 s each on a busy box


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, AppContext, str]]:
    monkeypatch.setenv("XIANGYIN_NLU_REVIEWED", str(tmp_path / "review" / "examples.yml"))
    monkeypatch.delenv("RASA_URL", raising=False)
    ctx = make_context(tmp_path)
    current, _, _ = asyncio.run(ensure_model(ctx.config))  # the shared cache: normally cached
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy2(current, models / current.name)
    monkeypatch.setenv("XIANGYIN_RASA_MODELS", str(models))
    monkeypatch.setenv("XIANGYIN_NLU_RETRAIN_FOLDS", "2")
    monkeypatch.setenv("XIANGYIN_NLU_RETRAIN_TOLERANCE", "0.01")
    sidecar = ThreadedSidecar(ctx.config, model=models / current.name).start()
    try:
        # The app (and the retrain it starts) talks to this sidecar: that is "the running one".
        ctx.config = ctx.config.model_copy(update={"nlu": ctx.config.nlu.model_copy(update={"url": sidecar.url})})
        app = create_app(ctx, environ=PASSWORD_ENV, announce=None)
        with serve(app) as base:
            yield base, ctx, sidecar.url
    finally:
        sidecar.stop()
        ctx.db.dispose()


async def _resident_says(ctx: AppContext, url: str, text: str) -> None:
    client = NluClient.from_config(ctx.config, url)
    engine = DialogueEngine(ctx, client)
    try:
        inbound = Inbound("tg:990001", "test:retrain:1", InboundKind.text, ctx.clock(), text=text)
        await engine.handle(inbound)
    finally:
        engine.close()
        await client.aclose()


async def _parse(ctx: AppContext, url: str, text: str) -> tuple[str, str | None, str | None]:
    client = NluClient.for_scoring(ctx.config, url)
    try:
        result = await client.parse(text)
    finally:
        await client.aclose()
    return result.intent, result.entities.service, result.fallback_reason


def test_a_missed_message_is_labelled_retrained_and_understood(site: tuple[str, AppContext, str]) -> None:
    base, ctx, rasa = site
    missed = [m for m in MISSES if asyncio.run(_parse(ctx, rasa, m[0]))[0] == "nlu_fallback"]
    assert missed, "the current model understands every message of MISSES: write new ones"
    text, button, expected = missed[0]
    asyncio.run(_resident_says(ctx, rasa, text))  # the bot's engine keeps the miss

    with chromium() as browser:
        context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        context.set_default_timeout(30_000)
        page = context.new_page()
        log_in(page, base, "admin")
        page.goto(f"{base}/nlu/review")
        item = page.locator("#review-inbox li", has_text=text)
        expect(item).to_have_count(1)
        item.locator("summary").click()  # 点单:是哪项服务
        item.get_by_role("button", name=button, exact=True).click()
        expect(page.locator("body")).to_contain_text("已标好")
        page.click("#export")
        expect(page.locator("body")).to_contain_text("已导出 1 条")
        assert pending_path().exists()

        started = time.monotonic()
        page.click("#retrain-start")
        expect(page.locator("body")).to_contain_text("已开始重新训练")
        state = page.locator("#retrain-state")
        expect(state).to_have_attribute("data-state", "running")
        expect(state).to_contain_text("正在重新训练")
        expect(page.locator("progress")).to_have_count(1)
        # The page refreshes itself (meta refresh every 3 s): the progress moves on.
        expect(page.locator("progress")).not_to_have_attribute("value", "0", timeout=60_000)
        page.screenshot(path=str(SCREENSHOTS / "nlu-retrain-progress.png"), full_page=True)
        # … and keeps refreshing until the retrain is done.
        expect(page.locator("#retrain-state")).not_to_have_attribute("data-state", "running", timeout=RETRAIN_WAIT_MS)
        seconds = time.monotonic() - started
        page.screenshot(path=str(SCREENSHOTS / "nlu-retrain-done.png"), full_page=True)
        status = load_status()
        assert status is not None
        assert status.state == ACCEPTED, (status.message, status.before, status.after)
        rows = page.locator("#retrain-figures tbody tr")
        expect(rows).to_have_count(6)
        expect(page.locator("#retrain-figures")).to_contain_text("交叉验证 · 服务准确率")
        expect(page.locator("#retrain-figures")).to_contain_text("留出集 heldout · 意图准确率")
        expect(page.locator("#retrain-state")).to_contain_text("已换上新模型")
        context.close()

    print(f"retrain took {seconds:.0f}s; before {status.before}; after {status.after}")
    assert status.loaded and status.model
    loaded = httpx.get(f"{rasa}/status", timeout=10, trust_env=False).json()["model_file"]
    assert os.path.basename(loaded) == f"{status.model}.tar.gz"
    assert not pending_path().exists() and pending_path().with_name("examples.yml").exists()
    # The retrain picked the message up: the running model now reads it with the admin's label.
    assert asyncio.run(_parse(ctx, rasa, text))[:2] == expected
