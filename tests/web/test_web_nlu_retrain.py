"""The console's 重新训练 button: admins only (operators refused), runs in the background, the
page shows progress and then the before/after figures.  Scores injected: no Rasa here (the real
retrain in a browser is tests/web/test_web_nlu_retrain_browser.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from webtest_support import csrf_of

from nlu.examples import Example
from nlu.retrain import FIGURES, RUNNING, load_status
from nlu.review import pending_path


class SlowFakeScoring:
    """The candidate is 0.01 better on cv intent accuracy; every step takes a moment."""

    async def model(self, examples: list[Example]) -> tuple[Path, str]:
        return Path(f"m{len(examples)}.tar.gz"), f"fp{len(examples)}"

    async def held_out(self, model: Path) -> dict[str, float]:
        time.sleep(0.3)
        return {k: 0.9 for k in FIGURES if not k.startswith("cv.")}

    async def cross_validation(
        self, common: list[Example], extra: list[Example], k: int, progress: Callable[[str], None]
    ) -> dict[str, float]:
        for i in range(k):
            progress(f"fold {i + 1}/{k}: …")
        return {"cv.intent_accuracy": 0.9 + (0.01 if extra else 0.0), "cv.service_accuracy": 0.9}

    async def aclose(self) -> None:
        pass


@pytest.fixture
def reviewed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app: FastAPI) -> Path:
    accepted = tmp_path / "review" / "examples.yml"
    monkeypatch.setenv("XIANGYIN_NLU_REVIEWED", str(accepted))
    accepted.parent.mkdir()
    pending = {"request_service": {"agri_tech": "- 俺家那头驴不吃草了 净打响鼻\n"}}
    pending_path(accepted).write_text(yaml.safe_dump(pending, allow_unicode=True), encoding="utf-8")
    app.state.retrain_scoring = SlowFakeScoring()
    return accepted


def test_operators_cannot_retrain(client_for, anonymous, reviewed: Path) -> None:  # type: ignore[no-untyped-def]
    operator = client_for("xihe")
    token = csrf_of(operator.get("/").text)
    assert operator.post("/nlu/review/retrain", data={"csrf_token": token}).status_code == 403
    assert operator.get("/nlu/review/retrain").status_code == 403
    assert anonymous.post("/nlu/review/retrain", follow_redirects=False).status_code in (302, 303, 401, 403)
    assert load_status() is None  # nothing was started
    admin = client_for("admin")
    assert admin.post("/nlu/review/retrain", data={"csrf_token": "forged"}).status_code == 403
    assert load_status() is None


def test_admin_retrains_and_sees_before_and_after(client_for, reviewed: Path) -> None:  # type: ignore[no-untyped-def]
    admin = client_for("qingshi")  # an admin of one town: same rule as the inbox
    page = admin.get("/nlu/review")
    assert 'id="retrain-start"' in page.text and "还没有重新训练过" in page.text
    started = admin.post("/nlu/review/retrain", data={"csrf_token": csrf_of(page.text)})
    assert started.status_code == 200 and "已开始重新训练" in started.text
    if 'data-state="running"' in started.text:
        assert 'http-equiv="refresh"' in started.text and "<progress" in started.text
    deadline = time.monotonic() + 20
    while (status := load_status()) is None or status.state == RUNNING:
        assert time.monotonic() < deadline, "the retrain did not finish"
        time.sleep(0.1)
    done = admin.get("/nlu/review/retrain")
    assert 'data-state="accepted"' in done.text and 'http-equiv="refresh"' not in done.text
    assert "交叉验证 · 意图准确率" in done.text and "0.900" in done.text and "0.910" in done.text
    assert "已换上新模型" in done.text
    assert reviewed.exists() and not pending_path(reviewed).exists()
    inbox = admin.get("/nlu/review")
    assert 'data-state="accepted"' in inbox.text and 'id="retrain-figures"' in inbox.text
