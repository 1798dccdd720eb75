"""Who is talking: every chat user is a resident; some are also volunteers or staff."""

from __future__ import annotations

from dataclasses import dataclass

from core.actors import Actor
from core.config import AppConfig, Member, Role, Staff, Team


@dataclass(frozen=True)
class Identity:
    user_key: str  # "tg:123" or "cli:demo"
    staff: Staff | None = None
    memberships: tuple[tuple[Team, Member], ...] = ()

    @property
    def resident(self) -> Actor:
        return Actor.resident(self.user_key)

    @property
    def member_ids(self) -> set[str]:
        return {m.id for _, m in self.memberships}

    def member_in(self, team_id: str | None) -> Member | None:
        return next((m for t, m in self.memberships if t.id == team_id), None)

    def has_role(self, *roles: Role) -> bool:
        return self.staff is not None and any(r in self.staff.roles for r in roles)


def telegram_key(telegram_id: int) -> str:
    return f"tg:{telegram_id}"


def telegram_id(user_key: str) -> int | None:
    """The Telegram chat id of a user key, or None for other channels."""
    kind, _, rest = user_key.partition(":")
    return int(rest) if kind == "tg" and rest.lstrip("-").isdigit() else None


def identify(config: AppConfig, user_key: str) -> Identity:
    tid = telegram_id(user_key)
    if tid is None:
        return Identity(user_key)
    staff = next((s for s in config.staff if s.telegram_id == tid), None)
    memberships = tuple((t, m) for t, m in config.members() if m.telegram_id == tid)
    return Identity(user_key, staff, memberships)


def contact_hint(user_key: str) -> str:
    """How staff can reach a resident from their own chat app."""
    tid = telegram_id(user_key)
    return f"tg://user?id={tid}" if tid is not None else f"(终端用户 {user_key})"
