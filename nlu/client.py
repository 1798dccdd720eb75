"""The app's client for the Rasa sidecar: text in, normalised `NluResult` out, never an exception.

Usage (bot, web, CLI)::

    client = NluClient(url, config, timeout=config.nlu.timeout_seconds,
                       threshold=config.nlu.confidence_threshold)
    result = await client.parse("冰箱坏了能来修下不")
    result.intent               # "request_service"
    result.entities.service     # "appliance_repair"
    result.entities.time        # TimeWindow(start, end) in Asia/Shanghai, or None
    await client.aclose()

`parse` posts to Rasa's `POST /model/parse`, sums the per-service request intents
(`request_service+haircut`, … see nlu/examples.py) back into `request_service`, applies the
confidence threshold to that sum, then runs the `Normaliser` (service/village ids, time windows,
numbers, phones, order numbers; it also fills entities Rasa missed where a deterministic rule is
reliable, and combines the classifier's service with the menu words in the text).  Whatever goes wrong – empty text,
sidecar down or slow, a garbled reply – the result is intent `nlu_fallback` with a
`fallback_reason`, and the deterministic entities are still filled, so a dialogue that asked
"哪天?" can still use "明天上午" when Rasa is away.  Logs carry reasons and lengths, never the
text (it may hold names and phones).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import unicodedata
from datetime import datetime
from typing import Any

import aiohttp

from core.clock import LOCAL_TZ
from core.config import AppConfig
from nlu import FALLBACK_INTENT, INTENTS
from nlu.examples import REQUEST, split_rasa_intent
from nlu.normalise import Normaliser, ServiceGuess
from nlu.result import Entities, NluResult, TimeWindow

__all__ = ["Entities", "NluClient", "NluResult", "TimeWindow", "clean_text"]

log = logging.getLogger(__name__)

# Rasa's cost grows with length and nobody types a request longer than this; the tail of a
# 10,000-character paste carries no intent we could act on.
MAX_CHARS = 500
# Trained (nlu/data/examples.yml) so off-topic chat has a home; never shown outside the client.
OUT_OF_SCOPE = "out_of_scope"
SCORING_TIMEOUT = 30.0  # seconds per parse when accuracy, not speed, is measured
# Intents a correction (不是A 是B, 别派A了 要B) is mistaken for; it is a request for B.
_CORRECTABLE = frozenset({"deny", "cancel_order", FALLBACK_INTENT})
# Rating stars are the only symbols that mean something on their own (⭐⭐⭐⭐ → rate_order).
_MEANINGFUL_SYMBOLS = frozenset("⭐★☆")


def has_words(text: str) -> bool:
    """Letters, digits or rating stars: an emoji-only or punctuation-only message has none."""
    return any(unicodedata.category(ch)[0] in "LN" or ch in _MEANINGFUL_SYMBOLS for ch in text)


def unreadable(text: str, cleaned: str) -> NluResult | None:
    """The fallback for a message not worth sending to Rasa, else None."""
    if not cleaned:
        return NluResult(text, FALLBACK_INTENT, 0.0, Entities(), "empty")
    if not has_words(cleaned):  # 😀🙏: no way to tell thanks from anything else
        return NluResult(text, FALLBACK_INTENT, 0.0, Entities(), "no_words")
    return None


def _confidence(item: dict[str, Any]) -> float:
    try:
        return float(item.get("confidence") or 0.0)
    except (TypeError, ValueError):
        return 0.0


def classify(reply: dict[str, Any]) -> tuple[list[tuple[str, float]], ServiceGuess | None]:
    """Rasa's ranking → contract intents by summed confidence (best first), and the service
    classifier's guess when the best is `request_service` (its share of the request mass)."""
    ranking = reply.get("intent_ranking")
    if not isinstance(ranking, list) or not ranking:
        ranking = [reply.get("intent")]
    totals: dict[str, float] = {}
    services: dict[str | None, float] = {}
    for item in ranking:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        confidence = _confidence(item)
        intent, service = split_rasa_intent(item["name"])
        totals[intent] = totals.get(intent, 0.0) + confidence
        if intent == REQUEST:
            services[service] = services.get(service, 0.0) + confidence
    ordered = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)
    guess = None
    if ordered and ordered[0][0] == REQUEST and services:
        best = max(services, key=lambda k: services[k])
        guess = ServiceGuess(best, services[best] / ordered[0][1] if ordered[0][1] > 0 else 0.0)
    return ordered, guess


def clean_text(text: str) -> str:
    """Drop control/format characters, fold full-width forms, collapse whitespace, cap length."""
    text = unicodedata.normalize("NFKC", text)
    kept = [" " if ch.isspace() else ch for ch in text if ch.isspace() or unicodedata.category(ch)[0] != "C"]
    return " ".join("".join(kept).split())[:MAX_CHARS]


class NluClient:
    """Async client of the Rasa server(s): the sidecar or RASA_URL.

    `url` may list several servers separated by commas (the sidecar's workers, see
    nlu/sidecar.py); each parse goes to the one with the fewest parses in flight."""

    def __init__(
        self,
        url: str,
        config: AppConfig,
        *,
        timeout: float,
        threshold: float,
        cooldown: float = 3.0,
    ) -> None:
        self.urls = [u.strip().rstrip("/") for u in url.split(",") if u.strip()] or [url]
        self.url = ",".join(self.urls)
        self._in_flight = [0] * len(self.urls)
        self.timeout = timeout
        self.threshold = threshold
        self.normaliser = Normaliser(config)
        # aiohttp, not httpx: a parse costs ~0.2 ms of client CPU instead of ~1 ms, and the
        # bot parses every message (benchmarks/bot_throughput.py).  Made on first use: a
        # session belongs to the event loop that runs it.
        self._session: aiohttp.ClientSession | None = None
        # After a timeout or refused connection we answer fallback at once for `cooldown`
        # seconds instead of making every message of a busy chat wait for the timeout again.
        self._cooldown = cooldown
        self._down_until = 0.0

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # Loopback sidecar: no proxies from the environment, connections kept warm.
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32), trust_env=False)
        return self._session

    @classmethod
    def from_config(cls, config: AppConfig, url: str | None = None) -> NluClient:
        url = url or config.nlu.url or f"http://127.0.0.1:{config.nlu.port}"
        return cls(url, config, timeout=config.nlu.timeout_seconds, threshold=config.nlu.confidence_threshold)

    @classmethod
    def for_scoring(cls, config: AppConfig, url: str) -> NluClient:
        """A client that scores accuracy, not latency (evaluation, cross-validation, the retrain's
        gate, tests): a parse slowed by a busy machine must not count as a timeout fallback."""
        return cls(url, config, timeout=SCORING_TIMEOUT, threshold=config.nlu.confidence_threshold)

    async def parse(self, text: str, received_at: datetime | None = None) -> NluResult:
        """Understand one message.  Never raises (except cancellation)."""
        try:
            return await self._parse(text, received_at)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug of ours must not take the bot down; say so in the log
            log.exception("nlu: unexpected error while parsing (%d chars)", len(text or ""))
            return NluResult(str(text or ""), FALLBACK_INTENT, 0.0, Entities(), "internal_error")

    async def _parse(self, text: str, received_at: datetime | None) -> NluResult:
        text = text if isinstance(text, str) else str(text)
        received_at = received_at or datetime.now(LOCAL_TZ)
        # A naive time is taken as local (Asia/Shanghai), never as the server's zone.
        received_at = (received_at if received_at.tzinfo else received_at.replace(tzinfo=LOCAL_TZ)).astimezone(LOCAL_TZ)
        cleaned = clean_text(text)
        early = unreadable(text, cleaned)
        if early is not None:
            return early
        reply, reason = await self._ask_rasa(cleaned)
        return self.interpret(text, cleaned, reply, reason, received_at)

    def interpret(
        self, text: str, cleaned: str, reply: dict[str, Any] | None, reason: str | None, received_at: datetime
    ) -> NluResult:
        """Rasa's raw reply (or None and why) → the contract result; pure, so evaluation can
        replay stored replies."""
        raw_entities: list[dict[str, Any]] = []
        guess: ServiceGuess | None = None
        if reply is None:
            intent, confidence = FALLBACK_INTENT, 0.0
        else:
            intent, confidence, raw_entities, reason, guess = self._read_reply(reply)
            # 不是看病 是要理发 reads as a "no" to the classifier, but it asks for B.
            if intent in _CORRECTABLE and self.normaliser.corrected_service(cleaned):
                intent, reason = REQUEST, None
        entities = self.normaliser.entities(cleaned, raw_entities, received_at, intent=intent, guess=guess)
        if reason:
            log.info("nlu: fallback (%s), confidence %.2f, %d chars", reason, confidence, len(cleaned))
        return NluResult(text, intent, confidence, entities, reason)

    async def _ask_rasa(self, text: str) -> tuple[dict[str, Any] | None, str | None]:
        if time.monotonic() < self._down_until:
            return None, "unavailable"
        slot = min(range(len(self.urls)), key=self._in_flight.__getitem__)
        self._in_flight[slot] += 1
        try:
            async with (
                asyncio.timeout(self.timeout),
                self._http().post(f"{self.urls[slot]}/model/parse", json={"text": text}) as response,
            ):
                response.raise_for_status()
                reply = json.loads(await response.read())
        except TimeoutError:
            self._down_until = time.monotonic() + self._cooldown
            log.warning("nlu: Rasa did not answer within %.1fs at %s", self.timeout, self.url)
            return None, "timeout"
        except aiohttp.ClientResponseError as exc:
            log.warning("nlu: bad reply from Rasa at %s: HTTP %s", self.url, exc.status)
            return None, "bad_response"
        except aiohttp.ClientError as exc:
            self._down_until = time.monotonic() + self._cooldown
            log.warning("nlu: Rasa unreachable at %s (%s)", self.url, type(exc).__name__)
            return None, "unreachable"
        except ValueError as exc:  # not JSON
            log.warning("nlu: bad reply from Rasa at %s: %s", self.url, str(exc)[:200])
            return None, "bad_response"
        finally:
            self._in_flight[slot] -= 1
        if not isinstance(reply, dict):
            return None, "bad_response"
        return reply, None

    def _read_reply(
        self, reply: dict[str, Any]
    ) -> tuple[str, float, list[dict[str, Any]], str | None, ServiceGuess | None]:
        if not isinstance(reply.get("intent"), dict):
            return FALLBACK_INTENT, 0.0, [], "bad_response", None
        raw = reply.get("entities")
        entities = [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []
        ranked, guess = classify(reply)
        if not ranked:
            return FALLBACK_INTENT, 0.0, entities, "bad_response", None
        name, confidence = ranked[0]
        if reply["intent"].get("name") == FALLBACK_INTENT:  # a model with Rasa's FallbackClassifier
            return FALLBACK_INTENT, _confidence(reply["intent"]), entities, "rasa_fallback", None
        if name == OUT_OF_SCOPE:
            return FALLBACK_INTENT, confidence, entities, "out_of_scope", None
        if name not in INTENTS:
            return FALLBACK_INTENT, confidence, entities, "bad_response", None
        if confidence < self.threshold:
            return FALLBACK_INTENT, confidence, entities, "low_confidence", guess
        return name, confidence, entities, None, guess

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def __aenter__(self) -> NluClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
