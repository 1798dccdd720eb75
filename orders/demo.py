"""Demo orders in every state, for trying the CLI, bot and console on a fresh install."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from core.actors import Actor
from core.clock import ManualClock
from core.config import AppConfig
from core.db import Database
from orders.models import Order
from orders.service import OrderRequest, OrderService

DEMO_KEY_PREFIX = "demo-"

# (key, service, village, resident, people, final state)
DEMO_ORDERS = [
    # The expired one first: its deadline sweeps run the clock on, and must not sweep the others.
    ("6", "elderly_visit", "dongshan", "tg:7006", 1, "expired"),
    ("1", "haircut", "dongshan", "tg:7001", 2, "rated"),
    ("2", "haircut", "dongshan", "tg:7002", 1, "done"),
    ("3", "appliance_repair", "xihe", "tg:7003", 1, "accepted"),
    ("4", "free_clinic", "qiaotou", "tg:7004", 12, "dispatched"),
    ("5", "mediation", "yangliu", "tg:7005", 3, "cancelled"),
    ("7", "haircut", "longwan", "tg:7007", 4, "submitted"),  # nobody cuts hair there: flagged
    ("8", "policy_talk", "shimen", "tg:7008", 30, "dispatched"),
]


def seed_demo_orders(db: Database, config: AppConfig, real_now: datetime) -> int:
    """Create the demo orders (once), history ending just before `real_now`. Returns how many."""
    clock = ManualClock(real_now - timedelta(hours=9))
    with db.session() as s:
        if s.scalar(select(Order.id).where(Order.request_key.like(f"{DEMO_KEY_PREFIX}%")).limit(1)):
            return 0
    service = OrderService(db, config, clock)
    admin = Actor.staff(config.staff[0].id) if config.staff else Actor.system("demo")
    window = real_now + timedelta(days=2)
    for key, service_id, village, resident, people, final in DEMO_ORDERS:
        request = OrderRequest(
            resident_key=resident,
            service_id=service_id,
            village_id=village,
            window_start=window,
            window_end=window + timedelta(hours=3),
            people_count=people,
            contact_phone="13900000000" if config.villages[village].require_phone else None,
            note="演示订单",
            request_key=DEMO_KEY_PREFIX + key,
        )
        order = service.create(request, Actor.resident(resident))
        clock.advance(minutes=7)
        member = _first_member(config, order.team_id)
        if final in ("accepted", "done", "rated") and member:
            service.accept(order.number, member)
        if final in ("done", "rated") and member:
            service.complete(order.number, member, people)
        if final == "rated":
            service.rate(order.number, Actor.resident(resident), 5, "师傅很耐心,谢谢!")
        if final == "cancelled":
            service.cancel(order.number, Actor.resident(resident), "家里人已经处理好了")
        if final == "expired":
            service.reassign(order.number, "qingshi_volunteers", admin, "演示:改派到镇里")
            for _ in range(2):
                clock.advance(minutes=config.orders.accept_deadline_minutes + 1)
                service.expire_overdue()
    return len(DEMO_ORDERS)


def _first_member(config: AppConfig, team_id: str | None) -> Actor | None:
    team = config.teams_by_id.get(team_id or "")
    return Actor.volunteer(team.members[0].id) if team else None
