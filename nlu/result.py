"""The value types of the NLU contract (DESIGN.md): what `NluClient.parse` returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TimeWindow:
    """A resolved time expression: [start, end), aware datetimes in Asia/Shanghai."""

    start: datetime
    end: datetime

    def to_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True)
class Entities:
    """Normalised entity values; None when absent."""

    service: str | None = None  # a menu service id (config.yml), e.g. "haircut"
    village: str | None = None  # a configured village id, e.g. "dongshan"
    time: TimeWindow | None = None
    count: int | None = None  # number of people
    order_id: str | None = None  # six digits, see orders.numbers
    rating: int | None = None  # 1..5
    phone: str | None = None  # digits only

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "village": self.village,
            "time": self.time.to_json() if self.time else None,
            "count": self.count,
            "order_id": self.order_id,
            "rating": self.rating,
            "phone": self.phone,
        }


@dataclass(frozen=True)
class NluResult:
    text: str
    intent: str  # one of nlu.INTENTS or "nlu_fallback"
    confidence: float
    entities: Entities
    # Why the result is nlu_fallback: "empty", "low_confidence", "rasa_fallback",
    # "timeout", "unreachable", "bad_response". None for a confident answer.
    fallback_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The exact DESIGN.md shape printed by `xiangyin nlu parse`."""
        return {
            "text": self.text,
            "intent": self.intent,
            "confidence": round(float(self.confidence), 4),
            "entities": self.entities.to_json(),
        }
