"""The gated retrain: labelled inbox messages become training data only if nothing gets worse.

    status = await retrain(config, k=2)        # xiangyin nlu retrain / the console's 重新训练
    load_status()                              # the last (or running) retrain, for the console

The review inbox exports to a *pending* file (nlu/review.py `pending_path`), which is not
training data.  A retrain

1. merges the accepted export (`var/nlu-review/examples.yml`) with the pending one into a
   candidate file (a relabelled message takes its new label) and reads the candidate's training
   examples exactly as `nlu/generate.py` will once the file is in place (so an accepted
   candidate's model is the one the next start finds in the cache: same fingerprint);
2. trains the candidate model (the current one is normally cached);
3. scores both on the decision sets `nlu/tests_data/heldout.yml` and `dev.yml` (never the frozen
   or independent sets) and on K-fold cross-validation — paired: the same folds of the examples
   both have, each model's own extra examples added to every fold's training part, so both are
   tested on the same held-back cases and the difference is what the new examples do to them —
   each on intent accuracy and service accuracy;
4. accepts the candidate only if no figure is worse (`decide`): the candidate file replaces the
   accepted export (temp file + rename), the pending file goes, and the running sidecar loads the
   new model (`PUT /model`; if none answers, the next start trains nothing and serves it).
   Rejected: the pending file stays for review, the figures are shown.

Progress and the before/after figures are kept in `var/nlu-review/retrain.json` (temp file +
rename); one retrain at a time (`retrain.lock`, flock).  Logs carry counts and figures only.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

import yaml

from core.config import PROJECT_ROOT, AppConfig
from nlu.examples import REQUEST, Example, parse_examples, reviewed_path, training_examples

log = logging.getLogger(__name__)

TESTS_DATA = PROJECT_ROOT / "nlu" / "tests_data"
# The sets a retrain decides on.  heldout_frozen.yml and heldout_independent_*.yml are never
# used for a decision.
DECISION_SETS = {"heldout": TESTS_DATA / "heldout.yml", "dev": TESTS_DATA / "dev.yml"}
METRICS = ("intent_accuracy", "service_accuracy")
FIGURES = tuple(f"{part}.{m}" for part in ("cv", *DECISION_SETS) for m in METRICS)
DEFAULT_FOLDS = 2  # XIANGYIN_NLU_RETRAIN_FOLDS overrides (the console); `-k` on the command line
EPSILON = 1e-9  # equal figures computed in another order are equal

RUNNING, ACCEPTED, REJECTED, FAILED, NOTHING = "running", "accepted", "rejected", "failed", "nothing"
FIGURE_LABELS = {
    "cv.intent_accuracy": "交叉验证 · 意图准确率",
    "cv.service_accuracy": "交叉验证 · 服务准确率",
    "heldout.intent_accuracy": "留出集 heldout · 意图准确率",
    "heldout.service_accuracy": "留出集 heldout · 服务准确率",
    "dev.intent_accuracy": "开发集 dev · 意图准确率",
    "dev.service_accuracy": "开发集 dev · 服务准确率",
}


# One case is 0.0004 of a 2-fold CV over the ~2,500 examples, 0.004 of heldout.yml, 0.0075 of
# dev.yml.  Adding one labelled message moves CV by a case or two either way (measured), so a
# strict 0 would reject almost every retrain on noise; 0.002 forgives up to ~5 CV cases and
# nothing on the held-out sets, whose smallest step is larger.
DEFAULT_TOLERANCE = 0.002


def default_tolerance() -> float:
    """How much a figure may drop and still count as not worse: DEFAULT_TOLERANCE
    (XIANGYIN_NLU_RETRAIN_TOLERANCE overrides; `--tolerance` on the command line)."""
    try:
        return max(0.0, float(os.environ.get("XIANGYIN_NLU_RETRAIN_TOLERANCE", DEFAULT_TOLERANCE)))
    except ValueError:
        return DEFAULT_TOLERANCE


def default_folds() -> int:
    try:
        return max(2, int(os.environ.get("XIANGYIN_NLU_RETRAIN_FOLDS", DEFAULT_FOLDS)))
    except ValueError:
        return DEFAULT_FOLDS


class RetrainBusy(RuntimeError):
    """Another retrain holds the lock."""


# ---------------------------------------------------------------- files and status
def accepted_path() -> Path:
    return reviewed_path()


def status_path() -> Path:
    return accepted_path().parent / "retrain.json"


def lock_path() -> Path:
    return accepted_path().parent / "retrain.lock"


@dataclass
class RetrainStatus:
    state: str = RUNNING
    step: str = ""  # what it is doing now (Chinese, shown in the console)
    done: int = 0
    total: int = 0
    folds: int = DEFAULT_FOLDS
    tolerance: float = 0.0
    started_at: str = ""
    finished_at: str | None = None
    pending: int = 0  # examples the candidate has that the current model has not
    before: dict[str, float] = field(default_factory=dict)
    after: dict[str, float] = field(default_factory=dict)
    worse: list[str] = field(default_factory=list)
    message: str = ""  # the outcome, Chinese
    model: str | None = None  # the candidate's fingerprint
    loaded: bool = False  # the running sidecar serves the new model now

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    @property
    def started(self) -> datetime | None:
        return _moment(self.started_at)

    @property
    def finished(self) -> datetime | None:
        return _moment(self.finished_at)

    @property
    def rows(self) -> list[tuple[str, str, float | None, float | None, bool]]:
        """(key, label, before, after, worse) for the console's table."""
        return [
            (k, FIGURE_LABELS[k], self.before.get(k), self.after.get(k), k in self.worse)
            for k in FIGURES
            if k in self.before or k in self.after
        ]


def _moment(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, indent=1)
    os.replace(tmp, path)


def save_status(status: RetrainStatus, path: Path | None = None) -> None:
    _write_json(path or status_path(), asdict(status))


def load_status(path: Path | None = None) -> RetrainStatus | None:
    """The last retrain's status (a `running` one whose process died reads as failed)."""
    path = path or status_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        status = RetrainStatus(**{k: v for k, v in raw.items() if k in RetrainStatus.__dataclass_fields__})
    except (OSError, ValueError, TypeError):
        return None
    if status.running and not is_running():
        status.state, status.message = FAILED, "训练中断了(程序停了),请重新训练。"
    return status


class RetrainLock:
    """One retrain at a time, across processes and threads (flock on retrain.lock)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or lock_path()
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        handle, self._file = self._file, None
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()


def is_running() -> bool:
    probe = RetrainLock()
    if probe.acquire():
        probe.release()
        return False
    return True


# ---------------------------------------------------------------- the decision
@dataclass(frozen=True)
class Decision:
    accepted: bool
    worse: list[str]


def decide(before: dict[str, float], after: dict[str, float], tolerance: float = 0.0) -> Decision:
    """Accept only if no figure of `before` is worse in `after` (by more than `tolerance`);
    a figure missing after is worse."""
    worse = [k for k, v in before.items() if k not in after or after[k] < v - tolerance - EPSILON]
    return Decision(not worse, worse)


def figures_of(report: dict[str, Any], part: str) -> dict[str, float]:
    return {f"{part}.{m}": float(report[m]) for m in METRICS}


# ---------------------------------------------------------------- the examples
def _read_examples(path: Path) -> list[Example]:
    if not path.exists():
        return []
    return parse_examples(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def merge(accepted: list[Example], pending: list[Example]) -> list[Example]:
    """The accepted examples with the pending ones; a text in both takes the pending label."""
    by_text = {ex.text: ex for ex in accepted}
    by_text.update({ex.text: ex for ex in pending})
    return list(by_text.values())


def dump_examples(examples: list[Example]) -> str:
    """Examples in the format of nlu/data/examples.yml (as nlu/review.py exports them)."""
    by_service: dict[str, list[str]] = {}
    by_intent: dict[str, list[str]] = {}
    for ex in examples:
        if ex.intent == REQUEST:
            by_service.setdefault(ex.service or "none", []).append(ex.annotated)
        else:
            by_intent.setdefault(ex.intent, []).append(ex.annotated)
    data: dict[str, Any] = {}
    if by_service:
        data[REQUEST] = {k: "".join(f"- {t}\n" for t in v) for k, v in sorted(by_service.items())}
    data.update({k: "".join(f"- {t}\n" for t in v) for k, v in sorted(by_intent.items())})
    header = "# Review-inbox examples accepted by a gated retrain (nlu/retrain.py); generated, do not edit.\n"
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def _key(ex: Example) -> tuple[str, str]:
    return ex.text, ex.rasa_intent


# ---------------------------------------------------------------- scoring
class Scoring(Protocol):
    """What a retrain needs from Rasa (tests inject a fake to check the decision alone)."""

    async def model(self, examples: list[Example]) -> tuple[Path, str]:
        """The trained model of these training examples: (path, fingerprint)."""
        ...

    async def held_out(self, model: Path) -> dict[str, float]:
        """Intent and service accuracy on DECISION_SETS, keys like 'dev.intent_accuracy'."""
        ...

    async def cross_validation(
        self, common: list[Example], extra: list[Example], k: int, progress: Callable[[str], None]
    ) -> dict[str, float]:
        """'cv.intent_accuracy', 'cv.service_accuracy' of K folds of `common`, `extra` in every
        fold's training part."""
        ...

    async def aclose(self) -> None: ...


class RasaScoring:
    """Real models, one scoring server (a `rasa run` on a free port) loading each in turn.

    Every model scored is loaded with `PUT /model`, the first one too: Rasa 3.6 reads a few
    messages differently with a model loaded into a running server than with the same model
    it started with (measured: 1 of 251 heldout.yml cases), so both sides are scored the way
    the swap serves the winner.  Fold models and replies are cached under var/nlu-cv/retrain,
    apart from `xiangyin nlu eval --cross-validation` (whose servers load each model at start).
    """

    def __init__(self, config: AppConfig, cv_root: Path | None = None) -> None:
        from nlu.crossval import CV_ROOT
        from nlu.sidecar import local_config

        self.config = local_config(config)
        self.cv_root = cv_root or CV_ROOT / "retrain"
        self._server: Any = None
        self._loaded: Path | None = None

    async def model(self, examples: list[Example]) -> tuple[Path, str]:
        from nlu.generate import build
        from nlu.sidecar import ensure_model_for, model_cache_dir

        b = build(self.config, examples=examples)
        path, _ = await ensure_model_for(b, model_cache_dir())
        return path, b.fingerprint

    async def _url(self, model: Path) -> str:
        from nlu.sidecar import RasaSidecar, free_port, put_model

        if self._server is None:
            self._server = RasaSidecar(self.config, port=free_port(), model=model, startup_timeout=600.0)
            await self._server.start()
        if self._loaded != model:
            await put_model(self._server.url, model)
        self._loaded = model
        return str(self._server.url)

    async def held_out(self, model: Path) -> dict[str, float]:
        from nlu.client import NluClient
        from nlu.evaluate import load_heldout, score

        url = await self._url(model)
        client = NluClient.for_scoring(self.config, url)
        figures: dict[str, float] = {}
        try:
            for name, path in DECISION_SETS.items():
                cases = load_heldout(path)
                results = []
                for i in range(0, len(cases), 8):
                    batch = cases[i : i + 8]
                    results += await asyncio.gather(*(client.parse(c.text, c.now) for c in batch))
                figures.update(figures_of(score(cases, results), name))
        finally:
            await client.aclose()
        return figures

    async def cross_validation(
        self, common: list[Example], extra: list[Example], k: int, progress: Callable[[str], None]
    ) -> dict[str, float]:
        from nlu.crossval import cross_validate

        # Fold models are loaded into the scoring server, which must exist first.
        server = self._server.url if self._server is not None else None
        report = await cross_validate(
            self.config, k, examples=common, extra_train=extra, root=self.cv_root, progress=progress, server=server
        )
        self._loaded = None
        return figures_of(report, "cv")

    async def aclose(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.stop()


# ---------------------------------------------------------------- the retrain
Progress = Callable[[RetrainStatus], None]
_FOLD = re.compile(r"^fold (\d+)/(\d+)")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


async def retrain(
    config: AppConfig,
    *,
    k: int = DEFAULT_FOLDS,
    tolerance: float = 0.0,
    scoring: Scoring | None = None,
    progress: Progress | None = None,
    lock: RetrainLock | None = None,
    swap: bool = True,
) -> RetrainStatus:
    """Run one gated retrain (see the module doc).  `lock`: already held by the caller (the web
    app takes it before starting the thread, so a second click is refused at once)."""
    if k < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    own_lock = lock is None
    if lock is None:
        lock = RetrainLock()
        if not lock.acquire():
            raise RetrainBusy("a retrain is already running")
    status = RetrainStatus(folds=k, tolerance=tolerance, started_at=_now(), total=5 + 2 * k)

    def step(text: str, advance: int = 1) -> None:
        status.step, status.done = text, min(status.done + advance, status.total)
        save_status(status)
        if progress:
            progress(status)

    scoring = scoring or RasaScoring(config)
    candidate_file: Path | None = None
    try:
        step("准备训练数据", 0)
        accepted, pending = accepted_path(), _pending_path()
        pending_bytes = pending.read_bytes() if pending.exists() else b""
        merged = merge(_read_examples(accepted), _read_examples(pending))
        accepted.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=accepted.parent, prefix=".examples-candidate-", suffix=".yml")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(dump_examples(merged))
        candidate_file = Path(tmp)
        current = training_examples(accepted)
        candidate = training_examples(candidate_file)
        current_keys, candidate_keys = set(map(_key, current)), set(map(_key, candidate))
        new = [ex for ex in candidate if _key(ex) not in current_keys]
        status.pending = len(new)
        if not new:
            status.state, status.finished_at = NOTHING, _now()
            status.message = "没有新的标注要学:先在收件箱里标好消息并导出。"
            step("完成", status.total)
            log.info("nlu retrain: nothing new to learn")
            return status
        log.info("nlu retrain: %d new examples, %d-fold cross-validation", len(new), k)

        step("训练现用模型(通常已缓存)")
        current_model, current_fp = await scoring.model(current)
        step(f"训练新模型(多了 {len(new)} 条)")
        candidate_model, status.model = await scoring.model(candidate)
        step("留出集打分:现用模型")
        status.before.update(await scoring.held_out(current_model))
        save_status(status)
        step("留出集打分:新模型")
        status.after.update(await scoring.held_out(candidate_model))
        save_status(status)

        common = [ex for ex in current if _key(ex) in candidate_keys]
        extra_current = [ex for ex in current if _key(ex) not in candidate_keys]

        def fold_progress(which: str) -> Callable[[str], None]:
            def say(msg: str) -> None:
                match = _FOLD.match(msg)
                if match:
                    step(f"交叉验证({which}):第 {match.group(1)}/{match.group(2)} 折")
                log.info("nlu retrain cv (%s): %s", "current" if which == "现用模型" else "candidate", msg)

            return say

        status.before.update(await scoring.cross_validation(common, extra_current, k, fold_progress("现用模型")))
        save_status(status)
        status.after.update(await scoring.cross_validation(common, new, k, fold_progress("新模型")))
        await scoring.aclose()

        decision = decide(status.before, status.after, tolerance)
        status.worse = decision.worse
        if decision.accepted:
            os.replace(candidate_file, accepted)  # the accepted export is now the candidate's
            candidate_file = None
            with contextlib.suppress(OSError):
                if pending.read_bytes() == pending_bytes:  # not re-exported meanwhile
                    pending.unlink()
            status.loaded = await _swap(config, candidate_model) if swap else False
            status.state = ACCEPTED
            status.message = f"新模型不比现用的差,已换上({len(new)} 条新标注成了训练数据)。" + (
                "" if status.loaded else "正在运行的识别服务下次启动时用新模型。"
            )
            log.info("nlu retrain: accepted model %s (was %s); loaded: %s", status.model, current_fp, status.loaded)
        else:
            status.state = REJECTED
            names = "、".join(FIGURE_LABELS[k] for k in decision.worse)
            status.message = f"新模型在这些成绩上变差了,没有换上:{names}。标注还留着,可以改了再训练。"
            log.info("nlu retrain: rejected model %s (worse: %s)", status.model, ", ".join(decision.worse))
        status.finished_at = _now()
        step("完成", status.total)
        return status
    except Exception as exc:
        status.state, status.finished_at = FAILED, _now()
        status.message = "训练出错了,现用模型不变;详情见服务器日志。"
        log.exception("nlu retrain failed: %s", type(exc).__name__)
        step("出错", 0)
        raise
    finally:
        if candidate_file is not None:
            candidate_file.unlink(missing_ok=True)
        with contextlib.suppress(Exception):
            await scoring.aclose()
        if own_lock:
            lock.release()


def _pending_path() -> Path:
    from nlu.review import pending_path

    return pending_path(accepted_path())


async def _swap(config: AppConfig, model: Path) -> bool:
    """Make the running sidecar (nlu.url, else the local port) serve `model`; False if none answers."""
    import httpx

    from nlu.sidecar import RasaSidecar, SidecarError, put_model

    loaded = False
    for base in RasaSidecar(config).url.split(","):
        try:
            async with httpx.AsyncClient(timeout=2.0, trust_env=False) as http:
                alive = (await http.get(f"{base}/status")).status_code == 200
        except httpx.HTTPError:
            alive = False
        if not alive:
            continue
        try:
            await put_model(base, model)
            loaded = True
        except (httpx.HTTPError, SidecarError) as exc:
            log.warning("nlu retrain: the running Rasa did not load the new model (%s)", type(exc).__name__)
    return loaded


def start_in_background(
    config: AppConfig, *, k: int = DEFAULT_FOLDS, tolerance: float = 0.0, scoring: Scoring | None = None
) -> threading.Thread | None:
    """Start a retrain in a thread (its own event loop); None if one is already running."""
    lock = RetrainLock()
    if not lock.acquire():
        return None
    save_status(RetrainStatus(step="开始", started_at=_now(), folds=k, tolerance=tolerance, total=5 + 2 * k))

    def run() -> None:
        try:
            asyncio.run(retrain(config, k=k, tolerance=tolerance, scoring=scoring, lock=lock))
        except Exception:  # already logged and in the status
            pass
        finally:
            lock.release()

    thread = threading.Thread(target=run, name="nlu-retrain", daemon=True)
    thread.start()
    return thread


def elapsed(status: RetrainStatus) -> float:
    """Seconds since the retrain started (for the progress line)."""
    try:
        started = datetime.fromisoformat(status.started_at)
    except ValueError:
        return 0.0
    end = datetime.fromisoformat(status.finished_at) if status.finished_at else datetime.now(UTC)
    return max(0.0, (end - started).total_seconds())
