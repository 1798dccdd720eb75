"""The people room's one door: who a user is, how to reach volunteers and staff, volunteer
sign-ups (当志愿者) and staff hand-offs (找工作人员).  Bot and console call only this."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import select

from core.actors import Actor, ActorKind, staff_roles, visible_villages
from core.clock import Clock, system_clock
from core.config import AppConfig, Member, Role, Staff, Team
from core.db import Database
from core.errors import IllegalTransition, NotFound
from people.identities import Directory, Identity, chat_keys
from people.models import StaffHandoff, VolunteerSignup
from people.views import APPROVED, PENDING, REJECTED, SIGNUP_LABELS, Handoff, SignupView

MAX_TEXT = 500  # what a resident wrote (skills, a message for staff) is kept up to this length


class People:
    def __init__(self, db: Database, config: AppConfig, clock: Clock = system_clock) -> None:
        self.db = db
        self.config = config
        self.clock = clock

    # ------------------------------------------------------------ who and where
    @cached_property
    def _directory(self) -> Directory:
        return Directory(self.config)

    def identify(self, user_key: str) -> Identity:
        return self._directory.identify(user_key)

    def member(self, member_id: str | None) -> Member | None:
        return self.config.members_by_id.get(member_id or "")

    def team_chat_keys(self, team_id: str | None, *, exclude: str | None = None, only: str | None = None) -> list[str]:
        """The chat keys of a team's members (all, all but `exclude`, or `only` one)."""
        team = self.config.teams_by_id.get(team_id or "")
        members = team.members if team else []
        chosen = [m for m in members if m.id != exclude and (only is None or m.id == only)]
        return [key for m in chosen for key in chat_keys(m)]

    def staff_on_duty(self, village_id: str) -> list[Staff]:
        """Admins reachable in chat whose areas include the village, village staff first."""
        found = [
            s
            for s in self.config.staff
            if chat_keys(s) and Role.admin in s.roles and village_id in self.config.staff_villages(s)
        ]
        return sorted(found, key=lambda s: len(self.config.staff_villages(s)))

    def teams_visible_to(self, actor: Actor) -> list[Team]:
        """Teams working in at least one of the actor's villages."""
        villages = visible_villages(self.config, actor)
        return [t for t in self.config.teams if villages is None or set(self.config.villages_in(t.area)) & villages]

    # ------------------------------------------------------------ 当志愿者
    def sign_up(self, resident_key: str, village_id: str | None, skills: str) -> bool:
        """Record a resident's wish to volunteer; False if one is already waiting for review."""
        with self.db.session() as s:
            waiting = s.scalar(
                select(VolunteerSignup.id).where(
                    VolunteerSignup.resident_key == resident_key, VolunteerSignup.status == PENDING
                )
            )
            if waiting is not None:
                return False
            s.add(
                VolunteerSignup(
                    resident_key=resident_key,
                    village_id=village_id if village_id in self.config.villages else None,
                    skills=skills.strip()[:MAX_TEXT] or None,
                    status=PENDING,
                    created_at=self.clock(),
                )
            )
        return True

    def signups(self, actor: Actor, status: str | None = None, limit: int = 200) -> list[SignupView]:
        """The sign-ups the actor may review, newest first."""
        stmt = select(VolunteerSignup).order_by(VolunteerSignup.created_at.desc(), VolunteerSignup.id.desc())
        if status:
            stmt = stmt.where(VolunteerSignup.status == status)
        with self.db.session() as s:
            rows = [SignupView.of(r) for r in s.scalars(stmt.limit(limit * 4))]
        return [r for r in rows if self._may_review(actor, r.village_id)][:limit]

    def decide_signup(self, actor: Actor, signup_id: int, approve: bool) -> SignupView:
        with self.db.session() as s:
            row = s.get(VolunteerSignup, signup_id)
            if row is None or not self._may_review(actor, row.village_id):
                raise NotFound("没有找到这条报名。", f"{actor.label}: no reviewable signup {signup_id}")
            if row.status != PENDING:
                label = SIGNUP_LABELS.get(row.status, row.status)
                raise IllegalTransition(f"这条报名已经处理过了({label})。", f"signup {signup_id} is {row.status}")
            row.status = APPROVED if approve else REJECTED
            row.decided_by = actor.label
            row.decided_at = self.clock()
            return SignupView.of(row)

    def _may_review(self, actor: Actor, village_id: str | None) -> bool:
        if actor.kind is ActorKind.system:
            return True
        if Role.admin not in staff_roles(self.config, actor):
            return False
        villages = visible_villages(self.config, actor) or set()
        if village_id in self.config.villages:
            return village_id in villages
        # No (or an unknown) village: only staff covering the whole county decide.
        return villages >= set(self.config.villages)

    # ------------------------------------------------------------ 找工作人员
    def hand_off(self, resident_key: str, village_id: str, message: str) -> Handoff:
        """Hand a resident's chat to the staff on duty for the village; says whom to tell."""
        staff = self.staff_on_duty(village_id)
        with self.db.session() as s:
            row = StaffHandoff(
                resident_key=resident_key,
                village_id=village_id,
                message=message[:MAX_TEXT] or None,
                notified=",".join(p.id for p in staff),
                status="open",
                created_at=self.clock(),
            )
            s.add(row)
            s.flush()
            return Handoff(row.id, village_id, tuple(staff))
