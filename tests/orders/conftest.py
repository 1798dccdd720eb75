from __future__ import annotations

from datetime import timedelta

import pytest

from core.actors import Actor
from core.clock import ManualClock
from core.config import AppConfig
from core.db import Database
from orders.queries import OrderQueries
from orders.service import OrderRequest, OrderService

RESIDENT = Actor.resident("tg:5001")
OTHER_RESIDENT = Actor.resident("tg:5002")
ZHANG = Actor.volunteer("jjz_zhang")  # 金剪子理发队, station dongshan
LI = Actor.volunteer("jjz_li")
WANG = Actor.volunteer("qs_wang")  # 青石镇便民服务队, institute qingshi
HUANG = Actor.volunteer("cr_huang")  # 县家电维修志愿队, centre
COUNTY_ADMIN = Actor.staff("county_admin")
DONGSHAN_ADMIN = Actor.staff("dongshan_staffer")
XIHE_OPERATOR = Actor.staff("xihe_operator")
LIUHE_OPERATOR = Actor.staff("liuhe_operator")


@pytest.fixture
def service(db: Database, config: AppConfig, clock: ManualClock) -> OrderService:
    return OrderService(db, config, clock)


@pytest.fixture
def queries(db: Database, config: AppConfig, clock: ManualClock) -> OrderQueries:
    return OrderQueries(db, config, clock)


@pytest.fixture
def make_request(clock: ManualClock):  # type: ignore[no-untyped-def]
    def make(**overrides: object) -> OrderRequest:
        start = clock.now + timedelta(days=1)
        fields: dict[str, object] = {
            "resident_key": RESIDENT.id,
            "service_id": "haircut",
            "village_id": "dongshan",
            "window_start": start,
            "window_end": start + timedelta(hours=4),
            "people_count": 1,
        }
        fields.update(overrides)
        return OrderRequest(**fields)  # type: ignore[arg-type]

    return make
