"""Domain errors: each carries a plain Chinese message for people and an English one for logs."""

from __future__ import annotations


class OrderError(Exception):
    code = "order_error"
    exit_code = 1

    def __init__(self, message_zh: str, detail: str = "") -> None:
        super().__init__(detail or message_zh)
        self.message_zh = message_zh
        self.detail = detail or message_zh


class InvalidOrder(OrderError):
    code = "invalid"
    exit_code = 2


class NotFound(OrderError):
    code = "not_found"
    exit_code = 3


class PermissionDenied(OrderError):
    code = "forbidden"
    exit_code = 4


class IllegalTransition(OrderError):
    code = "illegal_transition"
    exit_code = 5


class AlreadyTaken(IllegalTransition):
    """Another volunteer won the race for 接单."""

    code = "already_taken"

    def __init__(self, message_zh: str, detail: str, taken_by: str | None) -> None:
        super().__init__(message_zh, detail)
        self.taken_by = taken_by
