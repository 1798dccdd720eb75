"""Score NLU results against a labelled set (intent accuracy, service accuracy, macro-F1,
entity P/R/F1, time windows, confusion tables).

Held-out file format (YAML)::

    now: "2026-06-01T10:00:00+08:00"     # message time for every case (override per case)
    scored: [intent, service, village, count, order_id, rating, phone]   # optional; default all
    cases:
      - text: 后天下午三点能派人来修水管不
        intent: request_service
        entities: {service: utility_repair, time: ["2026-06-03T15:00", "2026-06-03T16:00"]}
      - text: 我想点个单
        intent: request_service
        entities: {service: null}        # a request with no identifiable service

Only the entities named in `scored` are counted (the frozen held-out file leaves `time` out);
a scored entity a case does not list is expected to be absent, and `null` says so explicitly.
A wrong value counts as one false positive and one false negative.  Time-window correctness is
the share of cases with an expected time whose window is exactly right.

**Service accuracy** is measured over the cases labelled `request_service` (whatever intent was
predicted): the share whose predicted `service` equals the labelled one, `null` included (a
request with no identifiable service must come out null, a wrong or missing service is an
error).  **Request accuracy** over the same cases needs both the intent and the service right.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from core.clock import LOCAL_TZ
from core.config import AppConfig
from nlu import ENTITY_NAMES, FALLBACK_INTENT, INTENTS
from nlu.baseline import KeywordBaseline
from nlu.client import NluClient
from nlu.examples import REQUEST
from nlu.result import NluResult


@dataclass(frozen=True)
class Case:
    text: str
    intent: str
    now: datetime
    entities: dict[str, Any] = field(default_factory=dict)
    scored: frozenset[str] = frozenset(ENTITY_NAMES)  # the entities this case is scored on


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


def load_heldout(path: Path) -> list[Case]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("cases"), list):
        raise ValueError("expected a mapping with a 'cases' list")
    default_now = _moment(raw.get("now", "2026-06-01T10:00:00+08:00"))
    scored_raw = raw.get("scored", ["intent", *ENTITY_NAMES])
    if not isinstance(scored_raw, list) or not set(scored_raw) <= {"intent", *ENTITY_NAMES}:
        raise ValueError(f"'scored' must list some of: intent, {', '.join(ENTITY_NAMES)}")
    scored = frozenset(scored_raw) - {"intent"}
    cases = []
    for n, item in enumerate(raw["cases"]):
        intent = item.get("intent")
        if intent not in (*INTENTS, FALLBACK_INTENT):
            raise ValueError(f"cases[{n}]: unknown intent {intent!r}")
        entities = dict(item.get("entities") or {})
        unknown = set(entities) - set(ENTITY_NAMES)
        if unknown:
            raise ValueError(f"cases[{n}]: unknown entities {sorted(unknown)}")
        if entities.get("time") is not None:
            start, end = entities["time"]
            entities["time"] = (_moment(start), _moment(end))
        entities = {k: v for k, v in entities.items() if v is not None}  # null: expected absent
        now = _moment(item["now"]) if "now" in item else default_now
        cases.append(Case(str(item["text"]), intent, now, entities, scored))
    return cases


def _value(result: NluResult, name: str) -> Any:
    value = getattr(result.entities, name)
    if name == "time" and value is not None:
        return (value.start, value.end)
    if name in ("order_id", "phone") and value is not None:
        return str(value)
    return value


def _expected(case: Case, name: str) -> Any:
    value = case.entities.get(name)
    return str(value) if name in ("order_id", "phone") and value is not None else value


def score(cases: list[Case], results: list[NluResult]) -> dict[str, Any]:
    correct = sum(c.intent == r.intent for c, r in zip(cases, results, strict=True))
    labels = sorted({c.intent for c in cases} | {r.intent for r in results})
    per_intent: dict[str, dict[str, float]] = {}
    f1s = []
    for label in labels:
        tp = sum(c.intent == label and r.intent == label for c, r in zip(cases, results, strict=True))
        fp = sum(c.intent != label and r.intent == label for c, r in zip(cases, results, strict=True))
        fn = sum(c.intent == label and r.intent != label for c, r in zip(cases, results, strict=True))
        p, rec, f1 = _prf(tp, fp, fn)
        per_intent[label] = {"precision": p, "recall": rec, "f1": f1, "support": tp + fn}
        if tp + fn:
            f1s.append(f1)
    errors: dict[str, list[dict[str, str]]] = defaultdict(list)
    for c, r in zip(cases, results, strict=True):
        if c.intent != r.intent:
            errors[c.intent].append({"text": c.text, "got": r.intent, "confidence": f"{r.confidence:.2f}"})
    entity_scores = {}
    for name in ENTITY_NAMES:
        counts: Counter[str] = Counter()
        for c, r in zip(cases, results, strict=True):
            if name not in c.scored:
                continue
            want, got = _expected(c, name), _value(r, name)
            if want is not None and got == want:
                counts["tp"] += 1
            else:
                counts["fp"] += got is not None
                counts["fn"] += want is not None
        p, rec, f1 = _prf(counts["tp"], counts["fp"], counts["fn"])
        entity_scores[name] = {"precision": p, "recall": rec, "f1": f1, "support": counts["tp"] + counts["fn"]}
    requests = [(c, r) for c, r in zip(cases, results, strict=True) if c.intent == REQUEST and "service" in c.scored]
    service_ok = [_value(r, "service") == _expected(c, "service") for c, r in requests]
    request_ok = [ok and r.intent == REQUEST for ok, (_, r) in zip(service_ok, requests, strict=True)]
    service_errors = [
        {"text": c.text, "want": str(_expected(c, "service")), "got": str(_value(r, "service")), "intent": r.intent}
        for ok, (c, r) in zip(service_ok, requests, strict=True)
        if not ok
    ]
    intent_confusion = Counter(
        f"{c.intent} → {r.intent}" for c, r in zip(cases, results, strict=True) if c.intent != r.intent
    )
    service_confusion = Counter(f"{e['want']} → {e['got']}" for e in service_errors)
    timed = [(c, r) for c, r in zip(cases, results, strict=True) if "time" in c.entities and "time" in c.scored]
    time_ok = sum(_value(r, "time") == c.entities["time"] for c, r in timed)
    time_errors = [
        {"text": c.text, "want": _fmt_window(c.entities["time"]), "got": _fmt_window(_value(r, "time"))}
        for c, r in timed
        if _value(r, "time") != c.entities["time"]
    ]
    return {
        "cases": len(cases),
        "intent_accuracy": correct / len(cases) if cases else 0.0,
        "intent_macro_f1": sum(f1s) / len(f1s) if f1s else 0.0,
        "per_intent": per_intent,
        "intent_errors": dict(errors),
        "intent_confusion": dict(intent_confusion.most_common()),
        "request_cases": len(requests),
        "service_accuracy": sum(service_ok) / len(requests) if requests else 0.0,
        "request_accuracy": sum(request_ok) / len(requests) if requests else 0.0,
        "service_errors": service_errors,
        "service_confusion": dict(service_confusion.most_common()),
        "entities": entity_scores,
        "time_window_correct": time_ok / len(timed) if timed else 0.0,
        "time_cases": len(timed),
        "time_errors": time_errors,
    }


def _fmt_window(w: tuple[datetime, datetime] | None) -> str:
    return "null" if w is None else f"{w[0].isoformat()} – {w[1].isoformat()}"


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


async def evaluate_client(client: NluClient, config: AppConfig, cases: list[Case]) -> dict[str, Any]:
    results: list[NluResult] = []
    for i in range(0, len(cases), 8):
        batch = cases[i : i + 8]
        results += await asyncio.gather(*(client.parse(c.text, c.now) for c in batch))
    baseline = KeywordBaseline(config)
    return {"rasa": score(cases, results), "baseline": score(cases, [baseline.parse(c.text) for c in cases])}


PER_CASE_KEYS = ("intent_errors", "service_errors", "time_errors")


def summary_only(report: dict[str, Any]) -> dict[str, Any]:
    """The report without anything per case or per label (for the frozen held-out file)."""
    drop = {*PER_CASE_KEYS, "intent_confusion", "service_confusion", "per_intent"}
    return {system: {k: v for k, v in s.items() if k not in drop} for system, s in report.items()}


def format_report(report: dict[str, Any], *, summary: bool = False) -> str:
    """Readable report; `summary` prints aggregate figures only (no texts, no confusions)."""
    lines: list[str] = []
    for system, s in report.items():
        title = {"rasa": "Rasa + normaliser", "baseline": "keyword baseline"}.get(system, system)
        lines += [
            f"== {title} on {s['cases']} utterances ==",
            f"intent accuracy   {s['intent_accuracy']:.3f}",
            f"intent macro-F1   {s['intent_macro_f1']:.3f}",
            f"service accuracy  {s['service_accuracy']:.3f} ({s['request_cases']} requests, null included)",
            f"request accuracy  {s['request_accuracy']:.3f} (intent and service right)",
            f"time windows      {s['time_window_correct']:.3f} correct ({s['time_cases']} cases)",
            "entity            precision  recall  F1     support",
        ]
        for name, e in s["entities"].items():
            lines.append(f"  {name:<15} {e['precision']:.3f}      {e['recall']:.3f}   {e['f1']:.3f}  {e['support']}")
        if summary or system != "rasa":
            lines.append("")
            continue
        lines.append("intent confusion (labelled → predicted: count):")
        lines += [f"  {pair}: {n}" for pair, n in s["intent_confusion"].items()]
        lines.append("service confusion (labelled → predicted: count):")
        lines += [f"  {pair}: {n}" for pair, n in s["service_confusion"].items()]
        lines.append("per-intent errors:")
        for intent, errs in sorted(s["intent_errors"].items()):
            lines.append(f"  {intent} ({len(errs)}):")
            lines += [f"    {e['text']!r} → {e['got']} ({e['confidence']})" for e in errs]
        if s["service_errors"]:
            lines.append("service errors:")
            lines += [f"  {e['text']!r}: want {e['want']}, got {e['got']} ({e['intent']})" for e in s["service_errors"]]
        if s["time_errors"]:
            lines.append("time errors:")
            lines += [f"  {e['text']!r}: want {e['want']}, got {e['got']}" for e in s["time_errors"]]
        lines.append("")
    return "\n".join(lines)
