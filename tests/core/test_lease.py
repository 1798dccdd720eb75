"""core.lease on the real PostgreSQL server: one holder at a time, renewal, takeover after
expiry with a new epoch, release, and many instances racing for it; always held on SQLite."""

from __future__ import annotations

import threading
from datetime import timedelta

from core.clock import ManualClock
from core.db import Database
from core.lease import Lease


def test_one_holder_renewals_and_takeover_after_expiry(pg_db: Database, clock: ManualClock) -> None:
    a = Lease(pg_db, "work", holder="a", ttl=30, clock=clock)
    b = Lease(pg_db, "work", holder="b", ttl=30, clock=clock)
    assert a.acquire() and a.epoch == 1
    assert not b.acquire() and not b.held()
    clock.advance(seconds=20)
    assert a.acquire() and a.epoch == 1  # a renewal: same epoch, 30 s from now
    clock.advance(seconds=29)
    assert a.held() and not b.acquire()  # 49 s after a's first take, but renewed at 20 s
    clock.advance(seconds=2)  # a died: no renewal for 31 s
    assert not a.held()
    assert b.acquire() and b.epoch == 2 and b.held()
    assert not a.acquire()  # the old holder comes back: it is b's now
    holder, epoch, until = b.current() or ("", 0, clock())
    assert (holder, epoch, until) == ("b", 2, clock() + timedelta(seconds=30))


def test_release_lets_another_take_over_at_once(pg_db: Database, clock: ManualClock) -> None:
    a = Lease(pg_db, "work", holder="a", ttl=30, clock=clock)
    b = Lease(pg_db, "work", holder="b", ttl=30, clock=clock)
    assert a.acquire()
    a.release()
    assert not a.held()
    assert b.acquire() and b.epoch == 2
    a.release()  # not held: changes nothing
    assert not a.acquire()


def test_leases_are_independent_by_name(pg_db: Database, clock: ManualClock) -> None:
    assert Lease(pg_db, "outbox:telegram", holder="a", clock=clock).acquire()
    assert Lease(pg_db, "reminders", holder="b", clock=clock).acquire()
    assert not Lease(pg_db, "reminders", holder="a", clock=clock).acquire()


def take(lease: Lease, start: threading.Barrier, won: list[str]) -> None:
    start.wait()
    if lease.acquire():
        won.append(lease.holder)


def test_many_instances_racing_for_a_free_or_expired_lease_one_wins(pg_db: Database, clock: ManualClock) -> None:
    for round_ in range(3):  # a fresh lease (insert race), then twice an expired one (update race)
        leases = [Lease(pg_db, "race", holder=f"r{round_}-i{n}", ttl=30, clock=clock) for n in range(8)]
        start = threading.Barrier(len(leases))
        won: list[str] = []

        threads = [threading.Thread(target=take, args=(lease, start, won)) for lease in leases]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(won) == 1, won
        assert (Lease(pg_db, "race", clock=clock).current() or ("", 0))[:2] == (won[0], round_ + 1)
        clock.advance(seconds=31)


def test_on_sqlite_a_lease_is_always_held_and_nothing_is_written(sqlite_db: Database, clock: ManualClock) -> None:
    a = Lease(sqlite_db, "broadcasts", holder="a", clock=clock)
    b = Lease(sqlite_db, "broadcasts", holder="b", clock=clock)
    assert a.acquire() and b.acquire() and a.held()
    with sqlite_db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM leases").scalar() == 0


def test_instances_starting_at_once_migrate_once(pg_db: Database) -> None:
    """Several instances start on an empty database together: one migrates, the others wait."""
    from sqlalchemy import inspect, text

    with pg_db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    pg_db.engine.dispose()  # connections may hold cached plans of the dropped tables
    instances = [Database(pg_db.url) for _ in range(3)]
    start = threading.Barrier(len(instances))
    failures: list[BaseException] = []

    def migrate(db: Database) -> None:
        start.wait()
        try:
            db.migrate()
        except BaseException as exc:  # collected: the assertion below shows it
            failures.append(exc)

    threads = [threading.Thread(target=migrate, args=(db,)) for db in instances]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for db in instances:
        db.dispose()
    assert failures == []
    assert {"leases", "orders", "broadcast_items"} <= set(inspect(pg_db.engine).get_table_names())
