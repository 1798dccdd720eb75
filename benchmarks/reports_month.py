"""A month of a 200-village county: the figures (target ≤ 2 s), the bulletin's charts, its PDF
and Excel file, and the award pass over the year's history. Run by hand:

    .venv/bin/python benchmarks/reports_month.py [--orders 10000] [--history 3000] [--runs 5] [--pg URL]

The county (10 townships × 20 villages, a team per township and per village) is built in
memory from the demo config; the database gets `--orders` orders in November 2026 and
`--history` in each of the 11 months before (bulk-inserted rows shaped as the workflow leaves
them: history events, activities, ratings), and 3 loudspeaker airings per village per day.
Prints medians of `--runs` runs. The PostgreSQL run recreates the public schema of its
database (default `xiangyin_bench` on the server of scripts/pg_test_server.sh).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from broadcasts.models import BroadcastItem  # noqa: E402
from core.config import AppConfig, load_config  # noqa: E402
from core.db import Database  # noqa: E402
from orders.models import Activity, Order, OrderEvent  # noqa: E402
from reports.bulletin import make_bulletin  # noqa: E402
from reports.export import to_pdf, to_xlsx  # noqa: E402
from reports.figures import ReportQueries  # noqa: E402
from reports.period import Area, Period  # noqa: E402
from reports.points import PointsLedger  # noqa: E402

BENCH_DB = "xiangyin_bench"
MONTH = Period.month(2026, 11)
SERVICES = ["haircut", "appliance_repair", "utility_repair", "elderly_visit", "free_clinic", "policy_talk"]


def county_config() -> AppConfig:
    base = load_config(ROOT / "config.yml", environ={}).model_dump(mode="json")
    institutes, teams = [], []
    for i in range(10):
        villages = [{"id": f"v{i:02d}_{j:02d}", "name": f"第{i}镇{j}村"} for j in range(20)]
        institutes.append({"id": f"town{i:02d}", "name": f"第{i}镇实践所", "villages": villages})
        teams.append(
            {"id": f"team{i:02d}", "name": f"第{i}镇服务队", "tier": "institute", "area": f"town{i:02d}",
             "services": SERVICES, "members": [{"id": f"m{i:02d}_{k}", "name": f"志愿者{i}-{k}"} for k in range(5)]}
        )  # fmt: skip
        for j in range(20):
            teams.append(
                {"id": f"st{i:02d}_{j:02d}", "name": f"第{i}镇{j}村服务队", "tier": "station",
                 "area": f"v{i:02d}_{j:02d}", "services": SERVICES[:3],
                 "members": [{"id": f"s{i:02d}_{j:02d}", "name": f"村志愿者{i}-{j}"}]}
            )  # fmt: skip
    base["centre"] = {"id": "county", "name": "某县新时代文明实践中心", "institutes": institutes}
    base["menu"]["local"], base["teams"], base["staff"] = [], teams, []
    return AppConfig.model_validate(base)


def fill(db: Database, config: AppConfig, month_orders: int, history: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    villages = list(config.villages)
    periods = MONTH.months_back(12)
    orders, events, activities, items = [], [], [], []
    order_id = event_id = 0
    for period in periods:
        since, until = period.bounds()
        span = (until - since).total_seconds()
        for _ in range(month_orders if period == MONTH else history):
            order_id += 1
            village = rng.choice(villages)
            town = int(village[1:3])
            station = rng.random() < 0.6
            team = f"st{village[1:]}" if station else f"team{town:02d}"
            volunteer = f"s{village[1:]}" if station else f"m{town:02d}_{rng.randrange(5)}"
            created = since + timedelta(seconds=rng.uniform(0, span * 0.95))
            fate = rng.random()
            status = "dispatched"
            life = [("submitted", created), ("dispatched", created)]
            accepted = created + timedelta(minutes=rng.uniform(5, 300))
            done = accepted + timedelta(minutes=rng.uniform(20, 600))
            row: dict[str, Any] = {"people_served": None, "activity_id": None, "rating": None, "volunteer_id": None}
            if fate < 0.05:
                status, life = "expired", [*life, ("expired", created + timedelta(hours=4))]
            elif fate < 0.1:
                status, life = "cancelled", [*life, ("cancelled", created + timedelta(hours=1))]
            elif fate < 0.9:
                status, life = "done", [*life, ("accepted", accepted), ("done", done)]
                served = rng.randint(1, 12)
                activities.append(
                    {"id": order_id, "service_id": "haircut", "village_id": village, "team_id": team,
                     "volunteer_id": volunteer, "window_start": created, "window_end": done,
                     "people_served": served, "done_at": done}
                )  # fmt: skip
                row.update(people_served=served, activity_id=order_id, volunteer_id=volunteer)
                if rng.random() < 0.6:
                    status, rating = "rated", rng.choice([5, 5, 5, 4, 4, 3, 2, 1])
                    life.append(("rated", done + timedelta(hours=rng.uniform(1, 48))))
                    row["rating"] = rating
            orders.append(
                {"id": order_id, "number": f"{order_id:06d}", "resident_key": f"tg:{rng.randrange(10**6)}",
                 "service_id": rng.choice(SERVICES), "village_id": village, "window_start": created,
                 "window_end": created + timedelta(hours=3), "people_count": 1, "status": status, "team_id": team,
                 "tier": "station" if station else "institute", "created_at": created, "updated_at": life[-1][1],
                 "version": len(life), "flagged": "expired" if status == "expired" else None, **row,
                 "rating_comment": "很好" if row["rating"] == 5 else None}
            )  # fmt: skip
            before = None
            for to, at in life:
                event_id += 1
                actor = f"volunteer:{volunteer}" if to in ("accepted", "done") else "system:bench"
                events.append(
                    {"id": event_id, "order_id": order_id, "at": at, "actor": actor, "from_status": before,
                     "to_status": to, "reason": ""}
                )  # fmt: skip
                before = to
    since, _ = MONTH.bounds()
    for day in range(30):
        for village in villages:
            for slot, hour in enumerate((6, 12, 18)):
                state = rng.choice(["aired"] * 8 + ["missed", "failed"])
                voiced = state == "aired"
                items.append(
                    {"village_id": village, "air_at": since + timedelta(days=day, hours=hour), "position": 100 + slot,
                     "kind": "programme", "priority": "normal", "title": "节目", "text": "节目。", "voice": "v",
                     "state": state, "fallback_voice": voiced and rng.random() < 0.1,
                     "audio_path": "x.mp3" if voiced else None, "created_at": since, "updated_at": since}
                )  # fmt: skip
    with db.engine.begin() as conn:
        for table, rows in ((Activity, activities), (Order, orders), (OrderEvent, events), (BroadcastItem, items)):
            for chunk in range(0, len(rows), 5000):
                conn.execute(insert(table.__table__), rows[chunk : chunk + 5000])
    return len(orders)


def median_seconds(work: Any, runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def bench(db: Database, args: argparse.Namespace, label: str) -> None:
    config = county_config()
    t0 = time.perf_counter()
    total = fill(db, config, args.orders, args.history)
    print(
        f"[{label}] {total} orders over 12 months ({args.orders} in {MONTH.label}), "
        f"loaded in {time.perf_counter() - t0:.1f} s"
    )
    ledger = PointsLedger(db, config)
    t0 = time.perf_counter()
    written = ledger.award_pass(batch=5000)
    print(f"[{label}] award pass over the whole history: {written} ledger rows in {time.perf_counter() - t0:.2f} s")
    queries = ReportQueries(db, config)
    county = Area.of(config, "county")
    town = Area.of(config, "town03")
    figures = queries.figures(county, MONTH)
    med, runs = median_seconds(lambda: queries.figures(county, MONTH), args.runs)
    print(f"[{label}] county month figures: median {med:.3f} s  runs {[round(r, 3) for r in runs]}  (target ≤ 2 s)")
    print(f"          placed {figures.placed}, fulfilled {figures.fulfilled}, villages {len(figures.villages)}, "
          f"volunteers {len(figures.volunteers)}, airings {figures.broadcasts.planned}")  # fmt: skip
    med, runs = median_seconds(lambda: queries.figures(town, MONTH), args.runs)
    print(f"[{label}] township month figures: median {med:.3f} s  runs {[round(r, 3) for r in runs]}")
    from datetime import UTC, datetime

    med, runs = median_seconds(lambda: make_bulletin(config, figures, datetime.now(UTC)), max(1, args.runs // 2))
    print(f"[{label}] bulletin with 4 charts: median {med:.2f} s")
    bulletin = make_bulletin(config, figures, datetime.now(UTC))
    med, _ = median_seconds(lambda: to_xlsx(bulletin), max(1, args.runs // 2))
    print(f"[{label}] Excel file: median {med:.2f} s")
    med, _ = median_seconds(lambda: to_pdf(bulletin), max(1, args.runs // 2))
    print(f"[{label}] PDF: median {med:.2f} s ({len(to_pdf(bulletin)) // 1024} KB)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=3_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pg", nargs="?", const="", default=None, help="also PostgreSQL (URL, or the test server)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        db.migrate()
        bench(db, args, "SQLite")
        db.dispose()
    if args.pg is not None:
        url = (
            args.pg
            or subprocess.run(
                ["bash", str(ROOT / "scripts/pg_test_server.sh"), "start"], capture_output=True, text=True, check=True
            )
            .stdout.strip()
            .rsplit("/", 1)[0]
            + f"/{BENCH_DB}"
        )
        admin = Database(url.rsplit("/", 1)[0] + "/postgres")
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": BENCH_DB}).first():
                conn.execute(text(f"CREATE DATABASE {BENCH_DB}"))
        admin.dispose()
        db = Database(url)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.migrate()
        bench(db, args, "PostgreSQL")
        db.dispose()


if __name__ == "__main__":
    main()
