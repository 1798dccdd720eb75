"""Broadcast errors: a plain Chinese message for people and an English detail for logs."""

from __future__ import annotations

from core.errors import DomainError as BroadcastError
from core.errors import IllegalTransition, NotFound, PermissionDenied
from core.errors import InvalidInput as InvalidBroadcast

__all__ = ["BroadcastError", "IllegalTransition", "InvalidBroadcast", "NotFound", "PermissionDenied", "SpeechError"]


class SpeechError(BroadcastError):
    """Neither the online voice nor the offline engine could voice a text."""

    code = "speech_failed"
    exit_code = 6
