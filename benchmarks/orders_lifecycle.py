"""Full 四单 lifecycles per second (create → dispatch → accept → done → rate), and p95 per
transition, on SQLite and (if reachable) PostgreSQL. Run by hand:

    taskset -c 0 .venv/bin/python benchmarks/orders_lifecycle.py [-n 2000] [--pg URL]
    .venv/bin/python benchmarks/orders_lifecycle.py -n 1000 --processes 2   # PostgreSQL only

One process, one thread (one core). Prints medians of 3 runs. With `--processes P`, P
processes (as P instances of the application would) run n lifecycles each at the same time
on the PostgreSQL database; the aggregate rate is P·n over the wall time, and the run checks
that every order ended rated with exactly one event per transition. The PostgreSQL run drops and
recreates the public schema of its database: by default `xiangyin_bench` on the server of
scripts/pg_test_server.sh (created if missing), never the test suite's `xiangyin_test`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.actors import Actor  # noqa: E402
from core.clock import ManualClock  # noqa: E402
from core.config import load_config  # noqa: E402
from core.db import Database  # noqa: E402
from orders.service import OrderRequest, OrderService  # noqa: E402

STEPS = ("create", "accept", "done", "rate")
BENCH_DB = "xiangyin_bench"


def one_run(db: Database, n: int, tag: str = "", day: int = 1) -> tuple[float, dict[str, float]]:
    config = load_config(ROOT / "config.yml", environ={})
    clock = ManualClock()
    service = OrderService(db, config, clock)
    volunteer = Actor.volunteer("jjz_zhang")
    timings: dict[str, list[float]] = {s: [] for s in STEPS}
    start = clock.now + timedelta(days=day)
    began = time.perf_counter()
    for i in range(n):
        resident = Actor.resident(f"bench{tag}:{i}")
        t0 = time.perf_counter()
        request = OrderRequest(
            resident.id, "haircut", "dongshan", start, start + timedelta(hours=2), request_key=f"b{tag}{i}-{began}"
        )
        order = service.create(request, resident)
        t1 = time.perf_counter()
        service.accept(order.id, volunteer)
        t2 = time.perf_counter()
        service.complete(order.id, volunteer, 1)
        t3 = time.perf_counter()
        service.rate(order.id, resident, 5)
        t4 = time.perf_counter()
        for step, d in zip(STEPS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            timings[step].append(d)
    elapsed = time.perf_counter() - began
    p95 = {s: statistics.quantiles(v, n=20)[18] * 1000 for s, v in timings.items()}
    return n / elapsed, p95


def bench(name: str, url: str, n: int, runs: int = 3) -> None:
    rates, p95s = [], []
    for _ in range(runs):
        db = Database(url)
        if db.engine.dialect.name == "postgresql":
            from sqlalchemy import text

            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.migrate()
        rate, p95 = one_run(db, n)
        rates.append(rate)
        p95s.append(p95)
        db.dispose()
    med = {s: statistics.median(p[s] for p in p95s) for s in STEPS}
    steps = "  ".join(f"{s} {med[s]:.2f}ms" for s in STEPS)
    print(f"{name:10s} n={n}  lifecycles/s median {statistics.median(rates):7.0f}  (runs: "
          f"{', '.join(f'{r:.0f}' for r in rates)})  p95 per transition: {steps}")  # fmt: skip


def _worker(url: str, n: int, tag: str, day: int = 1) -> tuple[float, dict[str, float]]:
    db = Database(url)
    try:
        return one_run(db, n, tag, day)
    finally:
        db.dispose()


def bench_parallel(url: str, n: int, processes: int, runs: int = 3) -> None:
    """P processes at once on one PostgreSQL database (a fresh schema each run)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from sqlalchemy import func, select, text

    from orders.models import Order, OrderEvent

    totals, p95s = [], []
    for run in range(runs):
        db = Database(url)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.migrate()
        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
            pool.submit(_worker, url, 2, "warm").result()  # interpreter and imports ready before timing
            began = time.perf_counter()
            # Each process on another day: its deliveries are its own activities (one process
            # alone counts all its deliveries, same service, village and time, as one activity).
            futures = [pool.submit(_worker, url, n, f"r{run}p{k}", k + 2) for k in range(processes)]
            results = [f.result() for f in futures]
            totals.append(processes * n / (time.perf_counter() - began))
        p95s += [p95 for _, p95 in results]
        with db.session() as s:  # every order rated, one event per transition
            orders = s.scalar(select(func.count()).select_from(Order).where(Order.status == "rated"))
            events = s.scalar(select(func.count()).select_from(OrderEvent))
        # One event per step: placed, dispatched, accepted, done, rated.
        assert orders == processes * n + 2 and events == 5 * orders, (orders, events)
        db.dispose()
    med = {s: statistics.median(p[s] for p in p95s) for s in STEPS}
    steps = "  ".join(f"{s} {med[s]:.2f}ms" for s in STEPS)
    print(f"postgresql, {processes} processes  n={n} each  lifecycles/s (all processes) median "
          f"{statistics.median(totals):7.0f}  (runs: {', '.join(f'{r:.0f}' for r in totals)})  "
          f"p95 per transition: {steps}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument(
        "--pg", help="PostgreSQL URL, its public schema is dropped (default: xiangyin_bench on the test server)"
    )
    parser.add_argument("--processes", type=int, default=1, help="P processes at once (PostgreSQL only)")
    args = parser.parse_args()
    if args.processes > 1:
        bench_parallel(args.pg or pg_bench_url(), args.n, args.processes)
        return
    with tempfile.TemporaryDirectory() as tmp:
        bench("sqlite", f"sqlite:///{tmp}/bench.db", args.n)
    pg = args.pg
    if pg is None:
        try:
            out = subprocess.run(["bash", str(ROOT / "scripts/pg_test_server.sh"), "start"],
                                 capture_output=True, text=True, check=True)  # fmt: skip
        except (subprocess.SubprocessError, OSError) as exc:
            print(f"postgresql skipped: no server ({exc})")
            return
        pg = bench_database(out.stdout.strip().splitlines()[-1])
    bench("postgresql", pg, args.n)


def pg_bench_url() -> str:
    out = subprocess.run(["bash", str(ROOT / "scripts/pg_test_server.sh"), "start"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return bench_database(out.stdout.strip().splitlines()[-1])


def bench_database(test_url: str) -> str:
    """A database of its own on the test server: dropping the schema of the test database
    would break a test run going on at the same time."""
    from sqlalchemy import create_engine, make_url, text

    url = make_url(test_url).set(database=BENCH_DB)
    engine = create_engine(test_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": BENCH_DB}) is None:
            conn.execute(text(f"CREATE DATABASE {BENCH_DB}"))
    engine.dispose()
    return url.render_as_string(hide_password=False)


if __name__ == "__main__":
    main()
