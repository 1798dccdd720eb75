"""One definition of every figure: the bot's /stats, the console's dashboard and /api/stats
show the same numbers for the same data (today and this month in Shanghai days, orders still
open, orders needing a hand), for a staff member who sees only their own area."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from webtest_support import PASSWORD_ENV, login

from bot.engine import DialogueEngine
from bot.messages import Inbound, InboundKind
from core.actors import Actor
from core.app import AppContext
from core.clock import ManualClock
from orders import OrderRequest, Orders, OrderView
from tests.peers.keyword_nlu import KeywordNlu
from web.app import create_app

MID_JUNE = datetime(2026, 6, 15, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
FIGURES = re.compile(r"点单 (\d+) 个,完成 (\d+) 个,服务 (\d+) 人,评价 (\d+) 个\(平均 ([\d.]+ 星|还没有)\)")


def seed(ctx: AppContext, clock: ManualClock) -> None:
    """Orders in 东山村 in every state (one from earlier this month), and some elsewhere."""
    orders = Orders(ctx.db, ctx.config, clock)

    def place(village: str = "dongshan", service: str = "haircut", resident: str = "tg:7001") -> OrderView:
        start = clock() + timedelta(days=1)
        request = OrderRequest(
            resident_key=resident, service_id=service, village_id=village, window_start=start,
            window_end=start + timedelta(hours=2), contact_phone="13900000000",
        )  # fmt: skip
        return orders.create(request, Actor.resident(resident))

    zhang, resident = Actor.volunteer("jjz_zhang"), Actor.resident("tg:7001")
    clock.now = MID_JUNE - timedelta(days=3)
    earlier = place()
    orders.accept(earlier.id, zhang)
    orders.complete(earlier.id, zhang, 6)
    orders.rate(earlier.id, resident, 5)
    clock.now = MID_JUNE
    rated, done, cancelled = place(), place(), place()
    for order, served in ((rated, 2), (done, 3)):
        orders.accept(order.id, zhang)
        orders.complete(order.id, zhang, served)
    orders.rate(rated.id, resident, 4, "很好")
    orders.cancel(cancelled.id, resident)
    place()  # will wait past its acceptance deadline
    place("xihe", "appliance_repair", "tg:7002")  # 西河村: not the 东山村 staffer's
    place("yangliu")  # nobody cuts hair in 柳河镇: flagged, elsewhere
    clock.advance(minutes=ctx.config.orders.accept_deadline_minutes + 5)  # 13:05 in Shanghai, same day
    place(service="elderly_visit")  # fresh, still waiting


def numbers_in_bot(text: str) -> tuple[object, ...]:
    today, month = FIGURES.findall(text)
    open_now, needing = re.search(r"现在还有 (\d+) 个单子没办完,其中 (\d+) 个要处理", text).groups()  # type: ignore[union-attr]
    return today, month, open_now, needing


def numbers_on_dashboard(html: str) -> tuple[object, ...]:
    def by_id(name: str) -> str:
        return re.search(rf'id="{name}"[^>]*>([^<]*)<', html).group(1).strip()  # type: ignore[union-attr]

    def figures(period: str) -> tuple[str, ...]:
        line = f"点单 {by_id(period + '-total')} 个,{by_id(period + '-figures')}"
        return FIGURES.search(line).groups()  # type: ignore[union-attr]

    return figures("today"), figures("month"), by_id("open-now"), by_id("overdue-count")


def numbers_in_api(stats: dict) -> tuple[object, ...]:  # type: ignore[type-arg]
    def figures(f: dict) -> tuple[str, ...]:  # type: ignore[type-arg]
        average = f"{f['average_rating']:.1f} 星" if f["average_rating"] is not None else "还没有"
        return str(f["placed"]), str(f["done"]), str(f["people_served"]), str(f["rated"]), average

    return figures(stats["today"]), figures(stats["month"]), str(stats["open_now"]), str(stats["overdue"])


async def test_bot_dashboard_and_api_agree(ctx: AppContext) -> None:
    clock = ManualClock(MID_JUNE)
    ctx = replace(ctx, clock=clock)
    seed(ctx, clock)
    engine = DialogueEngine(ctx, KeywordNlu(ctx.config))
    try:
        outcome = await engine.handle(Inbound("tg:800003", "test:stats", InboundKind.text, clock(), text="/stats"))
    finally:
        engine.close()
    bot = numbers_in_bot("\n".join(r.text for r in outcome.replies))
    staffer = login(TestClient(create_app(ctx, environ=PASSWORD_ENV, announce=None)), "dongshan")
    dashboard = numbers_on_dashboard(staffer.get("/dashboard").text)
    api = numbers_in_api(staffer.get("/api/stats").json())
    # 东山村 today: 5 placed (rated, done, cancelled, the overdue one, the fresh one); with the
    # one from three days ago, 6 this month; 2 open, 1 of them past its deadline.
    expected = (("5", "2", "5", "1", "4.0 星"), ("6", "3", "11", "2", "4.5 星"), "2", "1")
    assert bot == expected
    assert dashboard == expected
    assert api == expected
