"""Who is acting: the domain checks permissions against this, front ends build it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.config import AppConfig, Role


class ActorKind(StrEnum):
    resident = "resident"
    volunteer = "volunteer"
    staff = "staff"
    system = "system"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str  # resident key ("tg:123"), member id, staff id, or "scheduler"

    @property
    def label(self) -> str:
        """Stored in histories: kind and id, never a name or phone."""
        return f"{self.kind.value}:{self.id}"

    @classmethod
    def resident(cls, key: str) -> Actor:
        return cls(ActorKind.resident, key)

    @classmethod
    def volunteer(cls, member_id: str) -> Actor:
        return cls(ActorKind.volunteer, member_id)

    @classmethod
    def staff(cls, staff_id: str) -> Actor:
        return cls(ActorKind.staff, staff_id)

    @classmethod
    def system(cls, name: str = "scheduler") -> Actor:
        return cls(ActorKind.system, name)


def staff_roles(config: AppConfig, actor: Actor) -> set[Role]:
    if actor.kind is not ActorKind.staff or actor.id not in config.staff_by_id:
        return set()
    return set(config.staff_by_id[actor.id].roles)


def staff_covers(config: AppConfig, actor: Actor, village_id: str, role: Role) -> bool:
    """True when the actor is staff with `role` whose areas include the village."""
    if role not in staff_roles(config, actor):
        return False
    return village_id in config.staff_villages(config.staff_by_id[actor.id])


def identify_telegram_user(config: AppConfig, telegram_id: int) -> list[Actor]:
    """Every role a Telegram user holds: staff, volunteer, and always resident."""
    actors = [Actor.staff(s.id) for s in config.staff if s.telegram_id == telegram_id]
    actors += [Actor.volunteer(m.id) for _, m in config.members() if m.telegram_id == telegram_id]
    actors.append(Actor.resident(f"tg:{telegram_id}"))
    return actors
