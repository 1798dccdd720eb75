"""Staff accounts for the console: argon2 password hashes, login with rate limiting,
server-side sessions, API tokens and the cookie-signing secret.

Staff themselves come from config.yml (`staff:` with a `username`); this module only keeps
what the config must not hold: password hashes and tokens (never the tokens themselves).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from core.app import AppContext
from core.config import Staff
from web.models import ApiToken, LoginAttempt, StaffPassword, WebSecret, WebSession

log = logging.getLogger(__name__)

MIN_PASSWORD = 8
MAX_PASSWORD = 128
CLIENT_FAILURE_FACTOR = 4  # a client address may fail this many times more than one username
_hasher = PasswordHasher()
# Verifying against this for unknown usernames keeps their timing like a real account's.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class LoginRefused(Exception):
    """Why a login failed, in plain Chinese; deliberately the same text for an unknown user and a
    wrong password."""

    def __init__(self, message_zh: str, *, locked: bool = False) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh
        self.locked = locked


class PasswordRejected(ValueError):
    def __init__(self, message_zh: str) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def env_password_var(name: str) -> str:
    """XIANGYIN_STAFF_<NAME>_PASSWORD, with NAME upper-cased and punctuation as '_'."""
    return f"XIANGYIN_STAFF_{re.sub(r'[^A-Z0-9]', '_', name.upper())}_PASSWORD"


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise PasswordRejected(f"密码至少要 {MIN_PASSWORD} 位。")
    if len(password) > MAX_PASSWORD:
        raise PasswordRejected(f"密码不能超过 {MAX_PASSWORD} 位。")
    if password.strip() != password:
        raise PasswordRejected("密码前后不能有空格。")


@dataclass(frozen=True)
class InitialPassword:
    username: str
    staff_name: str
    password: str


class Accounts:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.db = ctx.db
        self.settings = ctx.config.web

    # ------------------------------------------------------------------ staff lookup
    def by_username(self, username: str) -> Staff | None:
        username = username.strip().lower()
        return next((s for s in self.config.staff if s.username and s.username == username), None)

    def by_id(self, staff_id: str) -> Staff | None:
        staff = self.config.staff_by_id.get(staff_id)
        # Staff removed from config.yml, or without a username, have no console access.
        return staff if staff is not None and staff.username else None

    # ------------------------------------------------------------------ passwords
    def set_password(self, staff_id: str, password: str, *, initial: bool = False) -> None:
        """Store a new hash and end every session of that person (a changed password logs out
        other browsers)."""
        check_password_rules(password)
        digest = _hasher.hash(password)
        now = self.ctx.clock()
        with self.db.session() as s:
            row = s.get(StaffPassword, staff_id)
            if row is None:
                s.add(StaffPassword(staff_id=staff_id, password_hash=digest, initial=initial, updated_at=now))
            else:
                row.password_hash, row.initial, row.updated_at = digest, initial, now
            s.execute(delete(WebSession).where(WebSession.staff_id == staff_id))

    def has_initial_password(self, staff_id: str) -> bool:
        with self.db.session() as s:
            row = s.get(StaffPassword, staff_id)
            return bool(row and row.initial)

    def bootstrap(self, environ: Mapping[str, str] | None = None) -> list[InitialPassword]:
        """Run at start: apply XIANGYIN_STAFF_<USERNAME>_PASSWORD, and give every console user
        who still has no password a generated one, returned so the caller prints it once."""
        env = os.environ if environ is None else environ
        generated: list[InitialPassword] = []
        for staff in self.config.staff:
            if not staff.username:
                continue
            from_env = env.get(env_password_var(staff.username)) or env.get(env_password_var(staff.id))
            with self.db.session() as s:
                row = s.get(StaffPassword, staff.id)
                current = row.password_hash if row else None
            if from_env:
                if current is None or not _verify(current, from_env):
                    try:
                        self.set_password(staff.id, from_env)
                    except PasswordRejected as exc:
                        log.error("%s is unusable: %s", env_password_var(staff.username), exc)
                continue
            if current is None:
                password = generate_password()
                self.set_password(staff.id, password, initial=True)
                generated.append(InitialPassword(staff.username, staff.name, password))
        return generated

    # ------------------------------------------------------------------ login
    def login(self, username: str, password: str, client: str) -> Staff:
        """Check a login, counting failures; raise LoginRefused with a Chinese reason."""
        username = username.strip().lower()[:64]
        client = client[:64]
        now = self.ctx.clock()
        since = now - timedelta(minutes=self.settings.login_window_minutes)
        limit = self.settings.login_max_failures
        with self.db.session() as s:
            s.execute(delete(LoginAttempt).where(LoginAttempt.at < now - timedelta(days=1)))
            by_user = self._failures(s, LoginAttempt.username == username, since)
            by_client = self._failures(s, LoginAttempt.client == client, since)
        if by_user >= limit or by_client >= limit * CLIENT_FAILURE_FACTOR:
            # Locked tries are not recorded, so the lock ends one window after the last real try.
            raise LoginRefused(f"登录失败次数太多,请 {self.settings.login_window_minutes} 分钟后再试。", locked=True)
        staff = self.by_username(username)
        stored = self._stored_hash(staff.id) if staff else None
        ok = _verify(stored or _DUMMY_HASH, password) and stored is not None
        with self.db.session() as s:
            s.add(LoginAttempt(username=username, client=client, at=now, success=ok))
        if not ok or staff is None:
            raise LoginRefused("用户名或密码不对。")
        if stored and _hasher.check_needs_rehash(stored):
            self.set_password(staff.id, password, initial=self.has_initial_password(staff.id))
        return staff

    @staticmethod
    def _failures(s, condition, since: datetime) -> int:  # type: ignore[no-untyped-def]
        stmt = select(func.count(LoginAttempt.id)).where(
            condition, LoginAttempt.at >= since, LoginAttempt.success.is_(False)
        )
        return int(s.scalar(stmt) or 0)

    def _stored_hash(self, staff_id: str) -> str | None:
        with self.db.session() as s:
            row = s.get(StaffPassword, staff_id)
            return row.password_hash if row else None

    def verify_password(self, staff_id: str, password: str) -> bool:
        stored = self._stored_hash(staff_id)
        return stored is not None and _verify(stored, password)

    # ------------------------------------------------------------------ sessions
    def start_session(self, staff_id: str) -> str:
        token = secrets.token_urlsafe(32)
        now = self.ctx.clock()
        with self.db.session() as s:
            s.execute(delete(WebSession).where(WebSession.expires_at < now))
            s.add(
                WebSession(
                    token_hash=token_digest(token),
                    staff_id=staff_id,
                    created_at=now,
                    expires_at=now + timedelta(hours=self.settings.session_hours),
                )
            )
        return token

    def session_staff(self, token: str) -> Staff | None:
        with self.db.session() as s:
            row = s.get(WebSession, token_digest(token))
            if row is None or row.expires_at <= self.ctx.clock():
                return None
            return self.by_id(row.staff_id)

    def end_session(self, token: str) -> None:
        with self.db.session() as s:
            s.execute(delete(WebSession).where(WebSession.token_hash == token_digest(token)))

    # ------------------------------------------------------------------ API tokens
    def create_token(self, staff_id: str, label: str = "") -> str:
        token = "xy_" + secrets.token_urlsafe(32)
        with self.db.session() as s:
            s.add(
                ApiToken(
                    token_hash=token_digest(token), staff_id=staff_id, label=label[:64],
                    created_at=self.ctx.clock(), revoked_at=None,
                )
            )  # fmt: skip
        return token

    def revoke_tokens(self, staff_id: str) -> int:
        with self.db.session() as s:
            rows = s.scalars(select(ApiToken).where(ApiToken.staff_id == staff_id, ApiToken.revoked_at.is_(None))).all()
            for row in rows:
                row.revoked_at = self.ctx.clock()
            return len(rows)

    def token_staff(self, token: str) -> Staff | None:
        with self.db.session() as s:
            row = s.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
            if row is None or row.revoked_at is not None:
                return None
            return self.by_id(row.staff_id)

    # ------------------------------------------------------------------ cookie secret
    def secret_key(self) -> str:
        if self.settings.secret_key:
            return self.settings.secret_key
        with self.db.session() as s:
            row = s.get(WebSecret, "cookie")
            if row is not None:
                return row.value
        try:
            with self.db.session() as s:
                s.add(WebSecret(name="cookie", value=secrets.token_urlsafe(48), created_at=self.ctx.clock()))
        except IntegrityError:
            pass  # another instance generated it first: use theirs
        with self.db.session() as s:
            return s.get(WebSecret, "cookie").value  # type: ignore[union-attr]


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """Easy to read aloud and type on a phone: three groups of four lower-case letters/digits
    without look-alikes (0/o, 1/l/i)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))
