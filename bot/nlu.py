"""The NLU contract the engine relies on (DESIGN.md); `nlu.client.NluClient` implements it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from nlu.result import Entities, NluResult, TimeWindow

__all__ = ["Entities", "Nlu", "NluResult", "TimeWindow"]

# Fallback reasons that mean "the understanding service is not there", not "I didn't get it".
DOWN_REASONS = frozenset({"timeout", "unreachable", "unavailable", "bad_response", "internal_error"})


class Nlu(Protocol):
    async def parse(self, text: str, received_at: datetime | None = None) -> NluResult: ...
