"""Leases: one instance at a time does a named piece of work, PostgreSQL is the coordinator.

A lease is a row of the `leases` table: its name, who holds it, until when, and an epoch that
grows each time it changes hands. Taking and renewing are one compare-and-set `UPDATE`:

    UPDATE leases SET holder = me, expires_at = now + ttl, epoch = epoch + (holder <> me)
     WHERE name = :name AND (holder = me OR expires_at <= now)

so of several instances trying at once exactly one gets it (PostgreSQL re-checks the WHERE
on the row another transaction just changed). The holder renews it well within `ttl`; when
the holder dies (kill -9, a lost machine) nobody renews it and another instance takes it
over once it has expired; a holder that stops cleanly releases it at once. Holders are named
by host and process, so a service restarted in the same process keeps its lease.

Time is the injected clock (tests move it); instances on several machines need their clocks
kept by NTP, far closer than `ttl`.

SQLite is the single-instance default: there a lease is always held and nothing is written.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Integer, String, case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import Clock, system_clock
from core.db import Base, Database, UTCDateTime

if TYPE_CHECKING:
    from core.app import AppContext

log = logging.getLogger(__name__)
DEFAULT_TTL = 30.0


class LeaseRow(Base):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    epoch: Mapped[int] = mapped_column(Integer)  # +1 each time another holder takes it
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


def this_process() -> str:
    """The default holder name: host and process id (no personal data)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def lease_for(ctx: AppContext, name: str) -> Lease:
    """The named lease held as this instance (`ctx.instance`), for `cluster.lease_seconds`."""
    return Lease(ctx.db, name, holder=ctx.instance, ttl=ctx.config.cluster.lease_seconds, clock=ctx.clock)


class Lease:
    """A named lease for one holder. `acquire()` takes or renews it; `release()` gives it up.
    Both are one short transaction (call them from a worker thread in async code)."""

    def __init__(
        self,
        db: Database,
        name: str,
        *,
        holder: str | None = None,
        ttl: float = DEFAULT_TTL,
        clock: Clock = system_clock,
    ) -> None:
        self.db = db
        self.name = name
        self.holder = holder or this_process()
        self.ttl = timedelta(seconds=ttl)
        self.clock = clock
        self.shared = db.engine.dialect.name == "postgresql"
        self.epoch = 0  # the epoch of the last successful acquire (a fencing token)
        self._valid_until: datetime | None = None

    @property
    def ttl_seconds(self) -> float:
        return self.ttl.total_seconds()

    def acquire(self) -> bool:
        """Take the lease if it is free or expired, renew it if it is ours. True if held."""
        if not self.shared:
            return True
        now = self.clock()
        until = now + self.ttl
        table = LeaseRow.__table__
        with self.db.session() as s:
            won = s.execute(
                update(table)
                .where(table.c.name == self.name, or_(table.c.holder == self.holder, table.c.expires_at <= now))
                .values(
                    holder=self.holder,
                    expires_at=until,
                    # Same holder: a renewal. Another: a takeover, a new epoch from now on.
                    epoch=table.c.epoch + case((table.c.holder == self.holder, 0), else_=1),
                    acquired_at=case((table.c.holder == self.holder, table.c.acquired_at), else_=now),
                )
                .returning(table.c.epoch)
            ).scalar()
            if won is None:
                row = {"name": self.name, "holder": self.holder, "epoch": 1, "acquired_at": now, "expires_at": until}
                won = s.execute(
                    postgresql_insert(table).values(row).on_conflict_do_nothing().returning(table.c.epoch)
                ).scalar()
        if won is None:
            if self._valid_until is not None:
                log.warning("lease %s lost by this instance", self.name)
            self._valid_until = None
            return False
        if won != self.epoch and self._valid_until is None:
            log.info("lease %s taken by this instance (epoch %d)", self.name, won)
        self.epoch = int(won)
        self._valid_until = until
        return True

    def held(self) -> bool:
        """Whether the last acquire is still valid by the clock (no database round trip)."""
        if not self.shared:
            return True
        return self._valid_until is not None and self.clock() < self._valid_until

    def release(self) -> None:
        """Give the lease up now (a clean stop), so another instance takes over at once."""
        if not self.shared or self._valid_until is None:
            return
        self._valid_until = None
        table = LeaseRow.__table__
        with self.db.session() as s:
            s.execute(
                update(table)
                .where(table.c.name == self.name, table.c.holder == self.holder)
                .values(expires_at=self.clock() - timedelta(microseconds=1))
            )
        log.info("lease %s released", self.name)

    def current(self) -> tuple[str, int, datetime] | None:
        """Who holds it, its epoch and until when (None: never taken); for tests and status."""
        if not self.shared:
            return (self.holder, 0, datetime.max)
        with self.db.session() as s:
            row = s.execute(
                select(LeaseRow.holder, LeaseRow.epoch, LeaseRow.expires_at).where(LeaseRow.name == self.name)
            ).one_or_none()
        return None if row is None else (row[0], row[1], row[2])


__all__ = ["DEFAULT_TTL", "Lease", "LeaseRow", "lease_for", "this_process"]
