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


def visible_villages(config: AppConfig, actor: Actor) -> set[str] | None:
    """The villages whose records the actor may read: None = every village (the system), the
    villages of their areas for staff, none for anybody else (residents and volunteers are
    scoped by their own orders and teams instead)."""
    if actor.kind is ActorKind.system:
        return None
    if not staff_roles(config, actor):
        return set()
    return config.staff_villages(config.staff_by_id[actor.id])


def staff_covers(config: AppConfig, actor: Actor, village_id: str, role: Role) -> bool:
    """True when the actor is staff with `role` whose areas include the village."""
    if role not in staff_roles(config, actor):
        return False
    return village_id in config.staff_villages(config.staff_by_id[actor.id])
