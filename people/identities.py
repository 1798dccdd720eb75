"""Who is behind a user key: every chat user is a resident; some are also a volunteer (a team
member in config.yml) or staff.

A user key names one account on one channel: `tg:123` (Telegram), `wx:<openid>` (WeChat),
`cli:name` (the terminal).  Nothing here assumes a channel beyond the ids config.yml lists for
a person (`telegram_id`, `wechat_openid`); a new channel adds its id to `chat_keys` and its hint to `HINTS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.actors import Actor
from core.config import AppConfig, Member, Role, Staff, Team


class Channel(StrEnum):
    telegram = "tg"
    wechat = "wx"
    terminal = "cli"


def user_key(channel: Channel, account: str | int) -> str:
    return f"{channel.value}:{account}"


def account(key: str, channel: Channel) -> str | None:
    """The account part of a user key on that channel, or None for another channel's key."""
    prefix, _, rest = key.partition(":")
    return rest if prefix == channel.value and rest else None


def chat_keys(person: Member | Staff) -> list[str]:
    """Where a volunteer or staff member can be reached: one user key per channel they use."""
    keys = [user_key(Channel.telegram, person.telegram_id)] if person.telegram_id is not None else []
    return keys + ([user_key(Channel.wechat, person.wechat_openid)] if person.wechat_openid else [])


# How staff reach a resident from their own chat app, per channel.
HINTS = {Channel.telegram: "tg://user?id={account}", Channel.wechat: "(微信用户 {key})"}


def contact_hint(key: str) -> str:
    for channel, hint in HINTS.items():
        found = account(key, channel)
        if found is not None:
            return hint.format(account=found, key=key)
    return f"(终端用户 {key})"


@dataclass(frozen=True)
class Identity:
    user_key: str
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


class Directory:
    """Every configured person by user key, built once from config.yml."""

    def __init__(self, config: AppConfig) -> None:
        self._staff: dict[str, Staff] = {}
        self._memberships: dict[str, list[tuple[Team, Member]]] = {}
        for person in config.staff:
            for key in chat_keys(person):
                self._staff.setdefault(key, person)
        for team, member in config.members():
            for key in chat_keys(member):
                self._memberships.setdefault(key, []).append((team, member))

    def identify(self, key: str) -> Identity:
        return Identity(key, self._staff.get(key), tuple(self._memberships.get(key, ())))
