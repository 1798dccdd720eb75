"""/announce → the broadcast approval flow, through this one adapter function.

The bot only drafts: an approver reviews the text before it airs (党管宣传).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.actors import Actor
from core.app import AppContext
from core.config import Staff


@dataclass(frozen=True)
class Drafted:
    id: int
    status_label: str


class AnnounceUnavailable(Exception):
    """The broadcasts room is not installed."""


def draft_announcement(ctx: AppContext, staff: Staff, text: str) -> Drafted:
    """Draft an announcement for all the staff member's areas, aired at the next two slots.

    Raises the broadcasts room's errors (with `.message_zh`) for bad text or permissions.
    """
    try:
        from broadcasts.models import PlanKind
        from broadcasts.service import AnnouncementDraft, BroadcastService
    except ImportError as exc:  # the broadcasts room is optional for the bot
        raise AnnounceUnavailable(str(exc)) from None
    view = BroadcastService(ctx).draft(
        AnnouncementDraft(text=text, audience=list(staff.areas), plan=PlanKind.next_slots, count=2),
        Actor.staff(staff.id),
    )
    return Drafted(view.id, view.status.label)
