"""The gated retrain's decision, with the scores injected (no Rasa): a worse figure keeps the
current model and the pending labels; equal or better figures make the pending labels
training data.  Also the status file, the lock and the nothing-to-do case."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from core.config import AppConfig
from nlu.examples import Example, parse_examples, training_examples
from nlu.retrain import (
    ACCEPTED,
    DEFAULT_TOLERANCE,
    FIGURES,
    NOTHING,
    REJECTED,
    RetrainBusy,
    RetrainLock,
    RetrainStatus,
    decide,
    load_status,
    retrain,
)
from nlu.review import pending_path

NEW_TEXT = "俺家那头驴不吃草了 净打响鼻"
PENDING = {"request_service": {"agri_tech": f"- {NEW_TEXT}\n"}}


class FakeScoring:
    """Scores by model: the current model gets `base`, the candidate `base` + `delta`."""

    def __init__(self, delta: dict[str, float] | None = None) -> None:
        self.base = dict.fromkeys(FIGURES, 0.9)
        self.delta = delta or {}
        self.trained: list[int] = []
        self.cv_extra: list[list[str]] = []
        self.closed = False

    def _figures(self, candidate: bool, part: str) -> dict[str, float]:
        keys = [k for k in FIGURES if k.startswith(f"{part}.") or (part == "held" and not k.startswith("cv."))]
        return {k: self.base[k] + (self.delta.get(k, 0.0) if candidate else 0.0) for k in keys}

    async def model(self, examples: list[Example]) -> tuple[Path, str]:
        self.trained.append(len(examples))
        candidate = any(ex.text == NEW_TEXT for ex in examples)
        return Path("candidate.tar.gz" if candidate else "current.tar.gz"), "cand" if candidate else "curr"

    async def held_out(self, model: Path) -> dict[str, float]:
        return self._figures(model.name.startswith("candidate"), "held")

    async def cross_validation(
        self, common: list[Example], extra: list[Example], k: int, progress: Callable[[str], None]
    ) -> dict[str, float]:
        assert NEW_TEXT not in {ex.text for ex in common}  # the new example is never tested
        self.cv_extra.append([ex.text for ex in extra])
        for i in range(k):
            progress(f"fold {i + 1}/{k}: training on …")
        return self._figures(bool(extra), "cv")

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture
def reviewed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    accepted = tmp_path / "review" / "examples.yml"
    monkeypatch.setenv("XIANGYIN_NLU_REVIEWED", str(accepted))
    accepted.parent.mkdir()
    pending_path(accepted).write_text(yaml.safe_dump(PENDING, allow_unicode=True), encoding="utf-8")
    return accepted


def test_decide() -> None:
    before = {"cv.intent_accuracy": 0.95, "dev.service_accuracy": 0.98}
    assert decide(before, dict(before)).accepted
    assert decide(before, {"cv.intent_accuracy": 0.96, "dev.service_accuracy": 0.98}).accepted
    worse = decide(before, {"cv.intent_accuracy": 0.96, "dev.service_accuracy": 0.977})
    assert not worse.accepted and worse.worse == ["dev.service_accuracy"]
    assert decide(before, {"cv.intent_accuracy": 0.95, "dev.service_accuracy": 0.975}, tolerance=0.01).accepted
    assert decide(before, {"cv.intent_accuracy": 0.99}).worse == ["dev.service_accuracy"]  # missing is worse
    # The default tolerance: a CV case or two is noise, one held-out case (0.004 or more) is not.
    noise = {"cv.intent_accuracy": 0.9492, "dev.service_accuracy": 0.98}
    assert decide(before, noise, tolerance=DEFAULT_TOLERANCE).accepted
    one_case = {"cv.intent_accuracy": 0.95, "dev.service_accuracy": 0.976}
    assert decide(before, one_case, tolerance=DEFAULT_TOLERANCE).worse == ["dev.service_accuracy"]


async def test_a_worse_score_rejects_and_keeps_the_pending_labels(config: AppConfig, reviewed: Path) -> None:
    scoring = FakeScoring({"dev.service_accuracy": -0.01})
    seen: list[str] = []
    status = await retrain(config, k=2, scoring=scoring, swap=False, progress=lambda s: seen.append(s.step))
    assert status.state == REJECTED and status.worse == ["dev.service_accuracy"]
    assert "开发集 dev · 服务准确率" in status.message
    assert not reviewed.exists()  # nothing became training data
    assert pending_path(reviewed).exists()  # kept for review
    assert NEW_TEXT not in {ex.text for ex in training_examples()}
    assert scoring.cv_extra == [[], [NEW_TEXT]] and scoring.closed
    assert set(status.before) == set(status.after) == set(FIGURES)
    assert "交叉验证(新模型):第 2/2 折" in seen and status.done == status.total
    stored = load_status()
    assert stored is not None and stored.state == REJECTED and stored.after == status.after
    assert [row[0] for row in stored.rows if row[4]] == ["dev.service_accuracy"]
    assert list(reviewed.parent.glob(".examples-*")) == []  # the candidate file is gone


@pytest.mark.parametrize("delta", [{}, {"cv.intent_accuracy": 0.01, "heldout.service_accuracy": 0.02}])
async def test_equal_or_better_accepts(config: AppConfig, reviewed: Path, delta: dict[str, float]) -> None:
    (reviewed.parent / "examples.yml").write_text(
        yaml.safe_dump({"greet": "- 老哥们好啊\n"}, allow_unicode=True), encoding="utf-8"
    )
    status = await retrain(config, k=3, scoring=FakeScoring(delta), swap=False)
    assert status.state == ACCEPTED and status.worse == [] and status.pending == 1 and status.model == "cand"
    assert not pending_path(reviewed).exists()
    accepted = parse_examples(yaml.safe_load(reviewed.read_text(encoding="utf-8")))
    assert {(e.text, e.intent, e.service) for e in accepted} == {
        ("老哥们好啊", "greet", None),  # what was accepted before stays
        (NEW_TEXT, "request_service", "agri_tech"),
    }
    assert NEW_TEXT in {ex.text for ex in training_examples()}  # the next build learns it
    stored = load_status()
    assert stored is not None and stored.state == ACCEPTED and stored.folds == 3


async def test_nothing_new_and_one_at_a_time(config: AppConfig, reviewed: Path) -> None:
    lock = RetrainLock()
    assert lock.acquire()
    try:
        with pytest.raises(RetrainBusy):
            await retrain(config, scoring=FakeScoring(), swap=False)
    finally:
        lock.release()
    pending_path(reviewed).unlink()
    scoring = FakeScoring()
    status = await retrain(config, scoring=scoring, swap=False)
    assert status.state == NOTHING and scoring.trained == []
    assert isinstance(load_status(), RetrainStatus)


def test_cli_retrain_with_nothing_exported(reviewed: Path) -> None:
    from typer.testing import CliRunner

    from cli.nlu import app

    pending_path(reviewed).unlink()
    result = CliRunner().invoke(app, ["retrain", "-k", "2"])
    assert result.exit_code == 0, result.output
    assert "没有新的标注要学" in result.output
    assert CliRunner().invoke(app, ["retrain", "-k", "1"]).exit_code == 2
