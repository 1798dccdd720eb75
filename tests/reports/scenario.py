"""A hand-computed November 2026 for the reports tests: eight orders through the real
workflow (OrderService on a moving ManualClock), broadcast airings and approvals written as
the broadcasts room leaves them. The expected figures are worked out by hand in EXPECTED."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from broadcasts.models import Announcement, BroadcastAudit, BroadcastItem
from core.actors import Actor
from core.clock import LOCAL_TZ, ManualClock
from core.config import AppConfig
from core.db import Database
from orders.service import OrderRequest, OrderService
from orders.views import OrderView


def local_time(text: str) -> datetime:
    """'2026-11-02 09:00' in Asia/Shanghai."""
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)


@dataclass
class November:
    orders: dict[str, OrderView]
    clock: ManualClock


def build_november(db: Database, config: AppConfig, clock: ManualClock | None = None) -> November:
    clock = clock or ManualClock(local_time("2026-10-30 09:00"))
    service = OrderService(db, config, clock)
    made: dict[str, OrderView] = {}

    def at(text: str) -> None:
        moment = local_time(text)
        assert moment >= clock.now, f"the scenario must move forward: {text}"
        clock.now = moment

    def place(name: str, when: str, service_id: str, village: str, window: tuple[str, str], resident: str) -> None:
        at(when)
        request = OrderRequest(
            resident_key=resident, service_id=service_id, village_id=village,
            window_start=local_time(window[0]), window_end=local_time(window[1]),
            contact_phone="13900000000" if config.villages[village].require_phone else None,
        )  # fmt: skip
        made[name] = service.create(request, Actor.resident(resident))

    def accept(name: str, when: str, volunteer: str) -> None:
        at(when)
        service.accept(made[name].number, Actor.volunteer(volunteer))

    def done(name: str, when: str, volunteer: str, people: int) -> None:
        at(when)
        service.complete(made[name].number, Actor.volunteer(volunteer), people)

    def rate(name: str, when: str, stars: int, comment: str | None = None) -> None:
        at(when)
        made[name] = service.rate(made[name].number, Actor.resident(made[name].resident_key), stars, comment)

    # F: placed in October, delivered in the first hour of November (2 h accept → done).
    place("F", "2026-10-30 10:00", "haircut", "dongshan", ("2026-10-31 22:00", "2026-11-01 03:00"), "tg:8006")
    accept("F", "2026-10-31 23:00", "jjz_zhang")
    done("F", "2026-11-01 01:00", "jjz_zhang", 1)
    # A and B: one haircut afternoon in 东山村 (overlapping windows, same team): one activity.
    place("A", "2026-11-02 09:00", "haircut", "dongshan", ("2026-11-02 10:00", "2026-11-02 14:00"), "tg:8001")
    place("B", "2026-11-02 09:30", "haircut", "dongshan", ("2026-11-02 11:00", "2026-11-02 13:00"), "tg:8002")
    accept("A", "2026-11-02 10:00", "jjz_zhang")
    accept("B", "2026-11-02 11:30", "jjz_li")
    done("A", "2026-11-02 12:00", "jjz_zhang", 3)
    done("B", "2026-11-02 12:30", "jjz_li", 2)
    rate("A", "2026-11-02 15:00", 5, "师傅手艺好")
    rate("B", "2026-11-03 09:00", 4)
    # C: 西河村 appliance repair by the township team: 6 h to accept, 20 h to fix (capped at 4).
    place("C", "2026-11-05 08:00", "appliance_repair", "xihe", ("2026-11-05 09:00", "2026-11-06 18:00"), "tg:8003")
    accept("C", "2026-11-05 14:00", "qs_wang")
    done("C", "2026-11-06 10:00", "qs_wang", 1)
    rate("C", "2026-11-06 12:00", 2, "来得太晚")
    # D: 桥头村 elderly visit nobody takes: township, then county, then expired.
    place("D", "2026-11-10 09:00", "elderly_visit", "qiaotou", ("2026-11-12 09:00", "2026-11-12 12:00"), "tg:8004")
    at("2026-11-10 13:01")
    service.expire_overdue()
    at("2026-11-10 17:02")
    service.expire_overdue()
    # E: a haircut in 龙湾村 (柳河镇): no team cuts hair there → unmatched, flagged.
    place("E", "2026-11-12 10:00", "haircut", "longwan", ("2026-11-13 09:00", "2026-11-13 12:00"), "tg:8005")
    # H: mediation in 杨柳村, cancelled by the resident.
    place("H", "2026-11-15 10:00", "mediation", "yangliu", ("2026-11-16 09:00", "2026-11-16 12:00"), "tg:8008")
    at("2026-11-15 11:00")
    service.cancel(made["H"].number, Actor.resident("tg:8008"), "不用了")
    # G: placed at the end of November, accepted a day later, delivered on 1 December.
    place("G", "2026-11-29 10:00", "haircut", "dongshan", ("2026-11-30 09:00", "2026-12-01 12:00"), "tg:8007")
    accept("G", "2026-11-30 10:00", "jjz_zhang")
    done("G", "2026-12-01 09:00", "jjz_zhang", 1)
    at("2026-12-01 10:00")
    for name in made:
        made[name] = service.get(made[name].number, Actor.system())
    add_broadcasts(db)
    return November(made, clock)


def add_broadcasts(db: Database) -> None:
    """Airings in November (and one in December) as the broadcast runtime leaves them."""
    created = local_time("2026-10-31 08:00")
    items = [
        # village, local air time, state, voiced by the backup engine, has an MP3
        ("dongshan", "2026-11-03 06:30", "aired", False, True),
        ("dongshan", "2026-11-03 12:00", "aired", True, True),
        ("dongshan", "2026-11-04 06:30", "missed", False, False),
        ("dongshan", "2026-11-04 12:00", "failed", False, False),
        ("dongshan", "2026-11-05 06:30", "cancelled", False, False),
        ("xihe", "2026-11-30 19:00", "ready", True, True),
        ("dongshan", "2026-12-01 06:30", "aired", False, True),
        ("yangliu", "2026-11-20 06:30", "aired", False, True),
    ]
    with db.session() as s:
        qingshi = Announcement(
            title="义诊通知", text="义诊。", audience=["qingshi"], plan_kind="next_slots", plan_count=1,
            priority="normal", status="approved", created_by="staff:qingshi_head", created_at=created,
            updated_at=created, version=1,
        )  # fmt: skip
        liuhe = Announcement(
            title="防汛通知", text="防汛。", audience=["yangliu"], plan_kind="next_slots", plan_count=1,
            priority="normal", status="approved", created_by="staff:county_admin", created_at=created,
            updated_at=created, version=1,
        )  # fmt: skip
        s.add_all([qingshi, liuhe])
        s.flush()
        for announcement, when in ((qingshi, "2026-11-02 16:00"), (liuhe, "2026-11-19 16:00")):
            s.add(
                BroadcastAudit(
                    at=local_time(when), actor="staff:county_admin", action="approved",
                    announcement_id=announcement.id, detail="",
                )
            )  # fmt: skip
        for n, (village, when, state, fallback, voiced) in enumerate(items):
            engine = ("espeak" if fallback else "edge") if voiced else None
            s.add(
                BroadcastItem(
                    village_id=village, air_at=local_time(when), position=1 + n, kind="announcement",
                    priority="normal", announcement_id=qingshi.id, title="义诊通知", text="义诊。",
                    voice="zh-CN-XiaoxiaoNeural", state=state, engine=engine,
                    fallback_voice=fallback, audio_path=f"2026-11-03/{village}/{n}.mp3" if voiced else None,
                    created_at=created, updated_at=created,
                )
            )  # fmt: skip


# What the qingshi (青石镇) report for November 2026 must say, worked out by hand in scenario order.
EXPECTED_QINGSHI = {
    "placed": 5,  # A B C D G (F was placed in October; E and H are in 柳河镇)
    "by_status": {"rated": 3, "expired": 1, "done": 1},
    "fulfilled": 4,  # F A B C (G was delivered on 1 December)
    "activities": 3,  # F, A+B (one afternoon), C
    "people_served": 7,  # 1 + 3 + 2 + 1
    "time_to_accept": (4, 4.0, 24.0),  # A 1 h, B 2 h, C 6 h, G 24 h → median 4, p90 24
    "time_to_done": (4, 14.5, 39.0),  # A 3, B 3, C 26, F 39 → median 14.5, p90 39
    "expired": 1,  # D
    "unmatched": 0,
    "hours": 9.0,  # F 2 + A 2 + B 1 + C 4 (20 h capped)
    "ratings": (3, 3.67, 0.6667),  # 5, 4, 2
}
