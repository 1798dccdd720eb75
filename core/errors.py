"""Domain errors shared by every room: a plain Chinese message for people (`message_zh`), an
English detail for logs (`detail`), a stable `code` for APIs and an `exit_code` for the CLI."""

from __future__ import annotations


class DomainError(Exception):
    code = "error"
    exit_code = 1

    def __init__(self, message_zh: str, detail: str = "") -> None:
        super().__init__(detail or message_zh)
        self.message_zh = message_zh
        self.detail = detail or message_zh


class InvalidInput(DomainError):
    """Bad input from a person; nothing was changed."""

    code = "invalid"
    exit_code = 2


class NotFound(DomainError):
    code = "not_found"
    exit_code = 3


class PermissionDenied(DomainError):
    code = "forbidden"
    exit_code = 4


class IllegalTransition(DomainError):
    code = "illegal_transition"
    exit_code = 5
