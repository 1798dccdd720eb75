"""The review inbox: resident messages the NLU missed become training data.

    queue = ReviewQueue(db, config)
    queue.note(text, result, village_id=...)          # after every parse: keeps the misses
    queue.note_correction(text, result, corrected_service, village_id=...)   # 不对 → another service
    queue.items(status="new")                          # the inbox (masked texts only)
    queue.label(item_id, intent, service, staff_id) / queue.dismiss(item_id, staff_id)
    queue.export()                                     # labelled items → var/nlu-review/examples.pending.yml

A message is kept when it fell back for a reason that is about understanding (not because Rasa
was down), or when the winning intent's confidence was below `LOW_CONFIDENCE`.  The text is
masked before it is stored (nlu/mask.py); logs carry ids and counts, never texts.  The export is
in the format of nlu/data/examples.yml and goes to a *pending* file first
(`var/nlu-review/examples.pending.yml`), which is not training data: the gated retrain
(nlu/retrain.py, `xiangyin nlu retrain`, the console's 重新训练) trains a candidate with it and
merges it into the accepted export `var/nlu-review/examples.yml` (which nlu/generate.py adds to
the training data) only if no cross-validation or held-out score gets worse.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import select

from core.clock import Clock, system_clock
from core.config import AppConfig
from core.db import Database
from core.errors import InvalidInput, NotFound
from nlu import FALLBACK_INTENT, INTENTS
from nlu.examples import NO_SERVICE, REQUEST, reviewed_path
from nlu.mask import Masker
from nlu.models import ReviewItem
from nlu.result import NluResult

log = logging.getLogger(__name__)

LOW_CONFIDENCE = 0.5
# Fallbacks that say nothing about understanding: Rasa was away, or there was nothing to read.
_NOT_A_MISS = frozenset(
    {"empty", "no_words", "timeout", "unreachable", "unavailable", "bad_response", "internal_error"}
)
NEW, LABELLED, IRRELEVANT = "new", "labelled", "irrelevant"
MAX_TEXT = 500


@dataclass(frozen=True)
class ReviewView:
    id: int
    text: str
    reason: str
    predicted_intent: str
    predicted_service: str | None
    confidence: float
    village_id: str | None
    created_at: datetime
    status: str
    label_intent: str | None
    label_service: str | None
    labelled_by: str | None


def pending_path(accepted: Path | None = None) -> Path:
    """Where the inbox exports to: beside the accepted export, not yet training data."""
    accepted = accepted or reviewed_path()
    return accepted.with_name(f"{accepted.stem}.pending{accepted.suffix}")


def _view(row: ReviewItem) -> ReviewView:
    return ReviewView(
        row.id,
        row.text,
        row.reason,
        row.predicted_intent,
        row.predicted_service,
        row.confidence,
        row.village_id,
        row.created_at,
        row.status,
        row.label_intent,
        row.label_service,
        row.labelled_by,
    )


def miss_reason(result: NluResult) -> str | None:
    """Why this parse belongs in the inbox, or None."""
    if result.intent == FALLBACK_INTENT:
        return None if result.fallback_reason in _NOT_A_MISS else "fallback"
    return "low_confidence" if result.confidence < LOW_CONFIDENCE else None


class ReviewQueue:
    def __init__(
        self, db: Database, config: AppConfig, clock: Clock = system_clock, export_path: Path | None = None
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.export_path = export_path or pending_path()
        self._masker = Masker(config)
        self._services = {s.id for s in config.menu.all_services}

    # ------------------------------------------------------------ recording
    def note(self, text: str, result: NluResult, *, village_id: str | None = None) -> int | None:
        """Keep `text` if the parse missed; returns the item id (None: nothing kept)."""
        reason = miss_reason(result)
        return self._add(text, result, reason, village_id) if reason else None

    def note_correction(
        self, text: str, result: NluResult, corrected_service: str, *, village_id: str | None = None
    ) -> int | None:
        """The resident said 不对 at the confirmation and chose another service than the NLU's."""
        if corrected_service == result.entities.service:
            return None
        return self._add(text, result, "corrected", village_id)

    def _add(self, text: str, result: NluResult, reason: str, village_id: str | None) -> int | None:
        masked = self._masker.mask(text.strip())[:MAX_TEXT]
        if not masked:
            return None
        with self.db.session() as s:
            row = ReviewItem(
                text=masked,
                reason=reason,
                predicted_intent=result.intent,
                predicted_service=result.entities.service,
                confidence=float(result.confidence),
                village_id=village_id if village_id in self.config.villages else None,
                created_at=self.clock(),
                status=NEW,
            )
            s.add(row)
            s.flush()
            item_id = row.id
        log.info("nlu review: kept message %d (%s, %d chars)", item_id, reason, len(masked))
        return item_id

    # ------------------------------------------------------------ the inbox
    def items(
        self, status: str | None = NEW, limit: int = 200, villages: frozenset[str] | None = None
    ) -> list[ReviewView]:
        """The inbox, newest first; `villages`: only what an admin of those villages may see
        (a message with no village only for an admin of every village)."""
        with self.db.session() as s:
            q = select(ReviewItem).order_by(ReviewItem.created_at.desc(), ReviewItem.id.desc()).limit(limit)
            if status:
                q = q.where(ReviewItem.status == status)
            rows = [_view(r) for r in s.scalars(q)]
        return [r for r in rows if self.visible(r, villages)]

    def visible(self, item: ReviewView, villages: frozenset[str] | None) -> bool:
        if villages is None:
            return True
        return item.village_id in villages if item.village_id else set(self.config.villages) <= villages

    def counts(self, villages: frozenset[str] | None = None) -> dict[str, int]:
        statuses = [i.status for i in self.items(None, limit=100_000, villages=villages)]
        return {k: statuses.count(k) for k in (NEW, LABELLED, IRRELEVANT)}

    def label(
        self, item_id: int, intent: str, service: str | None, staff_id: str, villages: frozenset[str] | None = None
    ) -> ReviewView:
        """Set the right intent (and service, for a request); a relabel replaces the old label."""
        if intent not in INTENTS:
            raise InvalidInput("意图不对", f"unknown intent {intent!r}")
        if intent == REQUEST and service is not None and service not in self._services:
            raise InvalidInput("菜单里没有这项服务", f"unknown service {service!r}")
        return self._decide(item_id, LABELLED, intent, service if intent == REQUEST else None, staff_id, villages)

    def dismiss(self, item_id: int, staff_id: str, villages: frozenset[str] | None = None) -> ReviewView:
        """Not something the NLU should learn (spam, a test, nonsense)."""
        return self._decide(item_id, IRRELEVANT, None, None, staff_id, villages)

    def _decide(
        self,
        item_id: int,
        status: str,
        intent: str | None,
        service: str | None,
        staff_id: str,
        villages: frozenset[str] | None,
    ) -> ReviewView:
        with self.db.session() as s:
            row = s.get(ReviewItem, item_id)
            if row is None or not self.visible(_view(row), villages):
                raise NotFound("没有这条消息", f"review item {item_id}")
            row.status, row.label_intent, row.label_service = status, intent, service
            row.labelled_by, row.labelled_at = staff_id, self.clock()
            s.flush()
            return _view(row)

    # ------------------------------------------------------------ export
    def export(self) -> tuple[Path, int]:
        """Every labelled message as training examples (examples.yml format), written atomically
        to the pending file (the gated retrain decides whether they become training data)."""
        by_intent: dict[str, list[str]] = {}
        by_service: dict[str, list[str]] = {}
        for item in sorted(self.items(LABELLED, limit=100_000), key=lambda i: i.id):
            text = " ".join(item.text.replace("[", "(").replace("]", ")").split())
            if item.label_intent == REQUEST:
                by_service.setdefault(item.label_service or NO_SERVICE, []).append(text)
            elif item.label_intent:
                by_intent.setdefault(item.label_intent, []).append(text)
        data: dict[str, object] = {}
        if by_service:
            data[REQUEST] = {k: _block(v) for k, v in sorted(by_service.items())}
        data.update({k: _block(v) for k, v in sorted(by_intent.items())})
        self.export_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.export_path.parent, prefix=".examples-", suffix=".yml")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("# Exported from the review inbox (xiangyin nlu review / the console); generated, do not edit.\n")
            yaml.safe_dump(data, out, allow_unicode=True, sort_keys=False, width=1000)
        os.replace(tmp, self.export_path)
        count = sum(map(len, by_service.values())) + sum(map(len, by_intent.values()))
        log.info("nlu review: exported %d labelled messages to %s (pending)", count, self.export_path)
        return self.export_path, count


def _block(lines: list[str]) -> str:
    return "".join(f"- {line}\n" for line in dict.fromkeys(lines))
