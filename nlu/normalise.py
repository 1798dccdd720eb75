"""After Rasa: raw entity spans (and the text itself) → the normalised `Entities`.

Rasa's span, when it resolves, wins; otherwise a deterministic rule over the whole text fills
the gap (a phone number, a time phrase, a menu word Rasa did not tag).  Time is always
resolved from the whole text, because Rasa often tags 明天 but not the 上午 after it.

The service of a request combines two readings: the service classifier, which reads the
whole message (per-service intents, see nlu/examples.py), and the menu words found in it.  The
classifier decides when it is sure; when it is not, a menu word in the text decides, and
without one its best guess stands.  A correction (不是A 是B, 别派A了 要B) is read from B on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from core.clock import LOCAL_TZ
from core.config import AppConfig
from nlu.lexicon import Lexicon, tokenizer
from nlu.numbers import (
    count_value,
    find_count,
    find_order_id,
    find_phone,
    find_rating,
    order_id_value,
    phone_value,
    rating_value,
)
from nlu.result import Entities, TimeWindow
from nlu.timeparse import resolve_time

T = TypeVar("T")

# Where a menu word in the text is not about ordering (大喇叭讲的那个补贴, 辛苦大家了), the
# text scan would only invent a service; Rasa's own span still counts.
_NO_SERVICE_INTENTS = frozenset({"ask_broadcast", "talk_to_staff", "greet", "goodbye", "thanks", "affirm", "deny"})

# The classifier's share of the request's probability above which it overrules menu words.
SURE_SHARE = 0.5


@dataclass(frozen=True)
class ServiceGuess:
    """The service classifier's best reading of a request: a menu id (None: no identifiable
    service) and its share of the request_service probability."""

    service: str | None
    share: float


# 不是修冰箱 是剃头 / 别派电工了 要修电视的 / 刚才说错了 不要理发 要医生: what follows the
# second verb is what the resident wants.
_CORRECTION = re.compile(
    r"(?:不是|别派|别叫|不要|不用)[^是要]{1,12}?(?:了)?[\s,，。!！]*(?:而是|是|要|换成|改成)(?P<wanted>.+)"
)

_VILLAGE_GUESS = re.compile(r"([\u4e00-\u9fff]{2})(村|屯|庄|湾)")


class Normaliser:
    def __init__(self, config: AppConfig) -> None:
        self.config = config
        self.lexicon = Lexicon.from_config(config)
        # Load jieba's dictionary now (~1 s) rather than on the first resident's message.
        tokenizer(tuple(self.lexicon.services.terms)).initialize()

    # ------------------------------------------------------------ single values
    def service(self, text: str) -> str | None:
        """'理个发' / '剪头' / 'haircut' → 'haircut'; None if nothing on the menu fits."""
        if not text.strip():
            return None
        return self.lexicon.services.lookup(text) or self.lexicon.weak_services.lookup(text)

    def service_in_text(self, text: str) -> str | None:
        found = self.lexicon.services.find(text) or self.lexicon.weak_services.find(text)
        return found.id if found else None

    def village(self, text: str) -> str | None:
        return self.lexicon.villages.lookup(text) if text.strip() else None

    def village_in_text(self, text: str) -> str | None:
        found = self.lexicon.villages.find(text)
        if found:
            return found.id
        # One wrong character in a village name (东三村 for 东山村).
        for m in _VILLAGE_GUESS.finditer(text):
            hit = self.lexicon.villages.lookup(m.group(0))
            if hit:
                return hit
        return None

    def corrected_service(self, text: str) -> str | None:
        """The service a correction asks for: 不是看病 是要理发 → haircut; None if no correction."""
        corrected = _CORRECTION.search(text)
        return self.service_in_text(corrected.group("wanted")) if corrected else None

    def _service(
        self,
        text: str,
        raw: Iterable[dict[str, Any]],
        values: list[str] | None,
        intent: str | None,
        guess: ServiceGuess | None = None,
    ) -> str | None:
        if intent not in _NO_SERVICE_INTENTS and (wanted := self.corrected_service(text)):
            return wanted
        from_words = self._service_from_words(text, raw, values, intent)
        if guess is None:
            return from_words
        if guess.share >= SURE_SHARE and guess.service is not None:
            return guess.service
        return from_words or guess.service

    def _service_from_words(
        self, text: str, raw: Iterable[dict[str, Any]], values: list[str] | None, intent: str | None
    ) -> str | None:
        from_rasa = _first(values, self.service)
        if intent in _NO_SERVICE_INTENTS:
            return from_rasa
        found = self.lexicon.services.find(text)
        if from_rasa is None:
            return found.id if found else self.service_in_text(text)
        # Rasa tagged 漏水 in 洗衣机漏水: the longer menu word in the text is the better clue.
        span_len = max((len(_span_text(text, e)) for e in raw if e.get("entity") == "service"), default=0)
        if found and found.id != from_rasa and len(found.term) > span_len:
            return found.id
        return from_rasa

    def time(self, text: str, received_at: datetime) -> TimeWindow | None:
        return resolve_time(text, received_at.astimezone(LOCAL_TZ))

    # ------------------------------------------------------------ a whole message
    def entities(
        self,
        text: str,
        raw: Iterable[dict[str, Any]],
        received_at: datetime,
        *,
        intent: str | None = None,
        guess: ServiceGuess | None = None,
    ) -> Entities:
        spans: dict[str, list[str]] = {}
        for e in raw:
            name, value = e.get("entity"), e.get("value")
            if isinstance(name, str) and value is not None:
                spans.setdefault(name, []).append(str(value))
        return Entities(
            service=self._service(text, raw, spans.get("service"), intent, guess),
            village=_first(spans.get("village"), self.village) or self.village_in_text(text),
            # Rasa's time spans are substrings of the text; the text resolver already saw them.
            time=self.time(text, received_at),
            count=_first(spans.get("count"), count_value) or find_count(text),
            order_id=_first(spans.get("order_id"), order_id_value) or find_order_id(text),
            rating=_first(spans.get("rating"), rating_value) or find_rating(text),
            phone=_first(spans.get("phone"), phone_value) or find_phone(text),
        )


def _span_text(text: str, e: dict[str, Any]) -> str:
    start, end = e.get("start"), e.get("end")
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
        return text[start:end]
    return str(e.get("value", ""))


def _first(values: list[str] | None, convert: Callable[[str], T | None]) -> T | None:
    for v in values or []:
        result = convert(v)
        if result is not None:
            return result
    return None
