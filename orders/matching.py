"""配单: which team serves a service for a village, lowest tier first."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import AppConfig, Team, Tier


@dataclass(frozen=True)
class Match:
    team: Team | None
    tier: Tier | None
    reason: str  # English, stored in the order history


def teams_covering(config: AppConfig, service_id: str, village_id: str, tier: Tier) -> list[Team]:
    area = config.area_of(village_id, tier)
    return [t for t in config.teams if t.tier is tier and t.area == area and service_id in t.services]


def eligible_teams(config: AppConfig, service_id: str, village_id: str) -> list[Team]:
    """Every team that offers the service and covers the village, at any tier, lowest first
    (whom an admin may reassign an order to)."""
    return [t for tier in Tier for t in teams_covering(config, service_id, village_id, tier)]


def find_team(config: AppConfig, service_id: str, village_id: str, above: Tier | None = None) -> Match:
    """The first team at the lowest tier (strictly above `above`, if given) covering the village.

    The reason names every tier that had nobody, so the history tells why it escalated.
    """
    skipped: list[str] = []
    for tier in Tier:
        if above is not None and tier.rank <= above.rank:
            continue
        teams = teams_covering(config, service_id, village_id, tier)
        if teams:
            # Stable choice among equals: the first listed in config.yml.
            why = f"matched at {tier.value}"
            if skipped:
                why += f" (no team at {', '.join(skipped)})"
            return Match(teams[0], tier, why)
        skipped.append(tier.value)
    return Match(None, None, f"no team offers {service_id} at {', '.join(skipped) or 'any higher tier'}")
