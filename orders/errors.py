"""Order workflow errors (the shared kinds live in core.errors)."""

from __future__ import annotations

from core.errors import DomainError as OrderError
from core.errors import IllegalTransition, NotFound, PermissionDenied
from core.errors import InvalidInput as InvalidOrder

__all__ = ["AlreadyTaken", "IllegalTransition", "InvalidOrder", "NotFound", "OrderError", "PermissionDenied"]


class AlreadyTaken(IllegalTransition):
    """Another volunteer won the race for 接单."""

    code = "already_taken"

    def __init__(self, message_zh: str, detail: str, taken_by: str | None) -> None:
        super().__init__(message_zh, detail)
        self.taken_by = taken_by
