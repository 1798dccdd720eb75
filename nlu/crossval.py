"""K-fold cross-validation of the whole pipeline: Rasa model + NluClient + Normaliser.

    report = await cross_validate(config, k=5)

Why our own fold loop rather than `rasa test nlu --cross-validation`: Rasa's scores its own
per-service intents and raw spans, while what the bot sees is the client's reading (the summed
`request_service`, the threshold, the service rule combining classifier and menu words).  Each
fold trains a real model on the other folds' examples (the lexicon, synonyms and templated menu
words stay in every fold: they come from config.yml, not from the examples), serves it with a
real `rasa run`, and parses its held-back examples through `NluClient`.

Folds are stratified by Rasa intent (each service's examples spread over all folds) and fixed
by a seed.  Models are cached by fingerprint in `var/nlu-cv/models` (never in the shared model
cache), and the raw Rasa replies of each fold are kept in `var/nlu-cv/replies-<fp>.json`, so
the scores can be recomputed after a change to the client's rules without retraining.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from core.clock import LOCAL_TZ
from core.config import PROJECT_ROOT, AppConfig
from nlu import FALLBACK_INTENT
from nlu.client import NluClient, clean_text, unreadable
from nlu.evaluate import Case, score
from nlu.examples import REQUEST, Example, training_examples
from nlu.generate import build
from nlu.result import NluResult
from nlu.sidecar import RasaSidecar, ensure_model_for, free_port, local_config, put_model

log = logging.getLogger(__name__)

CV_ROOT = PROJECT_ROOT / "var" / "nlu-cv"
CV_NOW = datetime(2026, 6, 1, 10, 0, tzinfo=LOCAL_TZ)
Progress = Callable[[str], None]


def folds(examples: list[Example], k: int, seed: int = 20260601) -> list[list[Example]]:
    """k disjoint folds, each Rasa intent dealt round-robin after a seeded shuffle."""
    if k < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    by_label: dict[str, list[Example]] = {}
    for ex in examples:
        by_label.setdefault(ex.rasa_intent, []).append(ex)
    rng = random.Random(seed)
    out: list[list[Example]] = [[] for _ in range(k)]
    n = 0
    for label in sorted(by_label):
        group = by_label[label][:]
        rng.shuffle(group)
        for ex in group:
            out[n % k].append(ex)
            n += 1
    return out


def case_of(ex: Example) -> Case:
    """What a training example is scored on: its intent, and for a request its service."""
    intent = FALLBACK_INTENT if ex.intent == "out_of_scope" else ex.intent
    if ex.intent == REQUEST:
        return Case(ex.text, intent, CV_NOW, {"service": ex.service} if ex.service else {}, frozenset({"service"}))
    return Case(ex.text, intent, CV_NOW, {}, frozenset())


async def _fold_replies(
    config: AppConfig,
    train: list[Example],
    test: list[Example],
    root: Path,
    say: Progress,
    server: str | None = None,
) -> list[dict[str, Any] | None]:
    b = build(config, root=root / "builds", examples=train)
    replies_path = root / f"replies-{b.fingerprint}.json"
    texts = [clean_text(ex.text) for ex in test]
    if replies_path.exists():
        stored = json.loads(replies_path.read_text(encoding="utf-8"))
        if stored.get("texts") == texts:
            return list(stored["replies"])
    started = time.monotonic()
    model, seconds = await ensure_model_for(b, root / "models")
    say(f"model {b.fingerprint}: " + (f"trained in {seconds:.0f}s" if seconds else "cached"))
    if server is not None:  # a running scoring server: load the fold model into it
        await put_model(server, model)
        replies = await _ask_all(config, server, texts)
    else:
        # A loaded machine can take minutes to import TensorFlow: wait as the test peer does.
        sidecar = RasaSidecar(local_config(config), port=free_port(), model=model, startup_timeout=600.0)
        await sidecar.start()
        try:
            replies = await _ask_all(config, sidecar.url, texts)
        finally:
            await sidecar.stop()
    tmp = replies_path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"texts": texts, "replies": replies}, ensure_ascii=False), encoding="utf-8")
    tmp.replace(replies_path)
    say(f"fold done in {time.monotonic() - started:.0f}s")
    return replies


async def _ask_all(config: AppConfig, url: str, texts: list[str]) -> list[dict[str, Any] | None]:
    client = NluClient.for_scoring(config, url)
    try:
        replies: list[dict[str, Any] | None] = []
        for text in texts:
            reply, _ = await client._ask_rasa(text)  # the raw reply: rules are applied afterwards
            replies.append(reply)
        return replies
    finally:
        await client.aclose()


async def cross_validate(
    config: AppConfig,
    k: int = 5,
    *,
    examples: list[Example] | None = None,
    root: Path = CV_ROOT,
    progress: Progress | None = None,
    extra_train: list[Example] | None = None,
    server: str | None = None,
) -> dict[str, Any]:
    """Train k models, parse each fold's held-back examples, score them all together.

    `extra_train`: examples added to every fold's training part and never tested (the gated
    retrain, nlu/retrain.py, compares two models on the same held-back cases this way).
    `server`: a running Rasa to load each fold model into (`PUT /model`) instead of starting one."""
    say = progress or (lambda msg: log.info("nlu cv: %s", msg))
    examples = training_examples() if examples is None else examples
    parts = folds(examples, k)
    cases: list[Case] = []
    results: list[NluResult] = []
    client = NluClient("http://127.0.0.1:9", config, timeout=1.0, threshold=config.nlu.confidence_threshold)
    for i, test in enumerate(parts):
        say(f"fold {i + 1}/{k}: training on {len(examples) - len(test)}, testing {len(test)}")
        held = set(map(id, test))
        train = [ex for ex in examples if id(ex) not in held] + list(extra_train or [])
        replies = await _fold_replies(config, train, test, root, say, server)
        for ex, reply in zip(test, replies, strict=True):
            case, cleaned = case_of(ex), clean_text(ex.text)
            reason = None if reply is not None else "unreachable"
            cases.append(case)
            results.append(unreadable(ex.text, cleaned) or client.interpret(ex.text, cleaned, reply, reason, case.now))
    report = score(cases, results)
    report["folds"] = k
    return report
