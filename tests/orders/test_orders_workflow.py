"""The 四单 workflow on SQLite and PostgreSQL: transitions, matching, deadlines, activities."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from orders.errors import IllegalTransition, InvalidOrder, NotFound, PermissionDenied
from orders.models import Order, OrderEvent, OrderStatus
from orders.service import OrderService
from tests.orders.conftest import (
    COUNTY_ADMIN,
    DONGSHAN_ADMIN,
    HUANG,
    LI,
    OTHER_RESIDENT,
    RESIDENT,
    WANG,
    XIHE_OPERATOR,
    ZHANG,
)

S = OrderStatus


def event_count(service: OrderService) -> int:
    with service.db.session() as s:
        return s.scalar(select(func.count(OrderEvent.id))) or 0


def test_create_dispatches_to_lowest_tier_team(service, make_request):
    order = service.create(make_request(), RESIDENT)
    assert order.status is S.dispatched
    assert (order.team_id, order.tier) == ("jinjianzi", "station")
    assert order.accept_deadline == order.created_at + timedelta(minutes=240)
    assert len(order.number) == 6 and order.number[0] != "0"
    history = service.get(order.number, RESIDENT).events
    assert [(e.from_status, e.to_status) for e in history] == [(None, "submitted"), ("submitted", "dispatched")]
    assert history[1].actor == "system:dispatcher"


def test_escalates_to_institute_when_village_has_no_team(service, make_request):
    order = service.create(make_request(village_id="xihe"), RESIDENT)
    assert (order.team_id, order.tier) == ("qingshi_volunteers", "institute")
    reason = service.get(order.id, RESIDENT).events[-1].reason
    assert "no team at station" in reason


def test_escalates_to_centre(service, make_request):
    order = service.create(make_request(service_id="appliance_repair", village_id="yangliu"), RESIDENT)
    assert (order.team_id, order.tier) == ("county_repair", "centre")
    assert "station, institute" in service.get(order.id, RESIDENT).events[-1].reason


def test_no_team_anywhere_stays_submitted_and_flagged(service, make_request):
    order = service.create(make_request(village_id="yangliu"), RESIDENT)  # nobody cuts hair in 柳河镇
    assert order.status is S.submitted
    assert order.team_id is None
    assert "no team offers haircut" in (order.flagged or "")


def test_local_menu_item_only_in_its_area(service, make_request):
    ok = service.create(make_request(service_id="citrus_renewal", village_id="yangliu"), RESIDENT)
    assert ok.team_id == "yangliu_redwhite"
    with pytest.raises(InvalidOrder):
        service.create(make_request(service_id="citrus_renewal", village_id="dongshan"), RESIDENT)


def test_idempotent_create_returns_first_order(service, make_request):
    first = service.create(make_request(request_key="tg-update-77"), RESIDENT)
    again = service.create(make_request(request_key="tg-update-77", people_count=3), RESIDENT)
    assert again.id == first.id and again.people_count == 1
    with service.db.session() as s:
        assert s.scalar(select(func.count(Order.id))) == 1


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"village_id": "atlantis"}, "unknown village"),
        ({"service_id": "space_travel"}, "not on the menu"),
        ({"people_count": 0}, "people_count"),
        ({"people_count": 10_000}, "people_count"),
        ({"contact_phone": "12345"}, "phone"),
        ({"note": "很" * 501}, "note"),
        ({"village_id": "shimen"}, "phone required"),
    ],
)
def test_bad_requests_are_refused_and_store_nothing(service, make_request, overrides, fragment):
    with pytest.raises(InvalidOrder) as err:
        service.create(make_request(**overrides), RESIDENT)
    assert fragment in err.value.detail
    assert err.value.message_zh  # a Chinese sentence for the resident
    assert event_count(service) == 0


def test_window_in_the_past_or_reversed_is_refused(service, make_request, clock):
    past = clock.now - timedelta(days=2)
    with pytest.raises(InvalidOrder):
        service.create(make_request(window_start=past, window_end=past + timedelta(hours=1)), RESIDENT)
    start = clock.now + timedelta(days=1)
    with pytest.raises(InvalidOrder):
        service.create(make_request(window_start=start, window_end=start), RESIDENT)


def test_resident_cannot_order_for_someone_else(service, make_request):
    with pytest.raises(PermissionDenied):
        service.create(make_request(resident_key=OTHER_RESIDENT.id), RESIDENT)


def test_full_lifecycle(service, queries, make_request):
    order = service.create(make_request(people_count=2), RESIDENT)
    accepted = service.accept(order.number, ZHANG)
    assert (accepted.status, accepted.volunteer_id) == (S.accepted, "jjz_zhang")
    done = service.complete(order.number, ZHANG, people_served=2)
    assert done.status is S.done and done.people_served == 2 and done.activity_id
    rated = service.rate(order.number, RESIDENT, 5, "师傅手艺好")
    assert (rated.status, rated.rating, rated.rating_comment) == (S.rated, 5, "师傅手艺好")
    steps = [e.to_status for e in service.get(order.id, RESIDENT).events]
    assert steps == ["submitted", "dispatched", "accepted", "done", "rated"]
    assert [x.key for x in queries.satisfaction(COUNTY_ADMIN, by="team")] == ["jinjianzi"]
    assert queries.satisfaction(COUNTY_ADMIN, by="service")[0].average == 5.0


def test_only_team_members_accept(service, make_request):
    order = service.create(make_request(), RESIDENT)
    before = event_count(service)
    for intruder in (WANG, HUANG, RESIDENT, COUNTY_ADMIN):
        with pytest.raises(PermissionDenied):
            service.accept(order.number, intruder)
    assert event_count(service) == before
    assert service.get(order.id, RESIDENT).status is S.dispatched


def test_second_taker_is_told_it_was_taken(service, make_request):
    order = service.create(make_request(), RESIDENT)
    service.accept(order.number, ZHANG)
    with pytest.raises(IllegalTransition) as err:
        service.accept(order.number, LI)
    assert getattr(err.value, "taken_by", None) == "jjz_zhang"


def test_only_the_taker_completes_and_only_the_resident_rates(service, make_request):
    order = service.create(make_request(), RESIDENT)
    service.accept(order.number, ZHANG)
    with pytest.raises(PermissionDenied):
        service.complete(order.number, LI, people_served=1)
    service.complete(order.number, ZHANG, people_served=1)
    for outsider in (ZHANG, OTHER_RESIDENT, COUNTY_ADMIN):
        with pytest.raises(PermissionDenied):
            service.rate(order.number, outsider, 5)
    for bad in (0, 6, -1):
        with pytest.raises(InvalidOrder):
            service.rate(order.number, RESIDENT, bad)
    assert service.get(order.id, RESIDENT).status is S.done


def test_orders_in_same_window_share_one_activity(service, make_request, queries):
    a = service.create(make_request(), RESIDENT)
    b = service.create(make_request(resident_key=OTHER_RESIDENT.id), OTHER_RESIDENT)
    later = make_request(resident_key=OTHER_RESIDENT.id)
    shift = timedelta(days=3)
    later = replace(later, window_start=later.window_start + shift, window_end=later.window_end + shift)
    c = service.create(later, OTHER_RESIDENT)
    for order, served in ((a, 1), (b, 3), (c, 2)):
        service.accept(order.number, ZHANG)
        service.complete(order.number, ZHANG, people_served=served)
    ids = [service.get(o.id, COUNTY_ADMIN).activity_id for o in (a, b, c)]
    assert ids[0] == ids[1] != ids[2]
    assert queries.activity_count(COUNTY_ADMIN) == 2
    month = queries.figures(COUNTY_ADMIN, a.created_at - timedelta(days=1), a.created_at + timedelta(days=1))
    assert (month.activities, month.people_served, month.orders_by_status) == (2, 6, {"done": 3})


def test_cancel_rules(service, make_request):
    mine = service.create(make_request(), RESIDENT)
    with pytest.raises(PermissionDenied):
        service.cancel(mine.number, OTHER_RESIDENT)
    with pytest.raises(PermissionDenied):
        service.cancel(mine.number, ZHANG)
    service.accept(mine.number, ZHANG)
    assert service.cancel(mine.number, RESIDENT, "不用了").status is S.cancelled
    with pytest.raises(IllegalTransition):
        service.cancel(mine.number, RESIDENT)
    done = service.create(make_request(), RESIDENT)
    service.accept(done.number, ZHANG)
    service.complete(done.number, ZHANG, 1)
    with pytest.raises(IllegalTransition):
        service.cancel(done.number, RESIDENT)
    other = service.create(make_request(), RESIDENT)
    assert service.cancel(other.number, DONGSHAN_ADMIN, "村里统一安排").status is S.cancelled


def test_deadline_escalates_tier_by_tier_then_flags(service, make_request, clock, config):
    order = service.create(make_request(), RESIDENT)  # haircut, dongshan: station team first
    assert service.expire_overdue() == []  # not yet due
    clock.advance(minutes=config.orders.accept_deadline_minutes + 1)
    [escalated] = service.expire_overdue()
    assert (escalated.status, escalated.team_id, escalated.tier) == (S.dispatched, "qingshi_volunteers", "institute")
    assert "escalated" in service.get(order.id, COUNTY_ADMIN).events[-1].reason
    with pytest.raises(PermissionDenied):
        service.accept(order.number, ZHANG)  # no longer their team
    clock.advance(minutes=config.orders.accept_deadline_minutes + 1)
    [expired] = service.expire_overdue()
    assert expired.status is S.expired and "flagged" in (expired.flagged or "")
    assert service.expire_overdue() == []


def test_accepted_orders_do_not_expire(service, make_request, clock):
    order = service.create(make_request(), RESIDENT)
    service.accept(order.number, ZHANG)
    clock.advance(days=2)
    assert service.expire_overdue() == []
    assert service.get(order.id, RESIDENT).status is S.accepted


def test_reassign_by_admin_only_within_their_area(service, make_request):
    order = service.create(make_request(village_id="xihe", service_id="utility_repair"), RESIDENT)
    assert order.team_id == "qingshi_volunteers"
    with pytest.raises(PermissionDenied):
        service.reassign(order.number, "county_repair", DONGSHAN_ADMIN)  # manages dongshan only
    with pytest.raises(PermissionDenied):
        service.reassign(order.number, "county_repair", XIHE_OPERATOR)  # operator, not admin
    with pytest.raises(InvalidOrder):
        service.reassign(order.number, "county_arts", COUNTY_ADMIN)  # does not offer it
    with pytest.raises(InvalidOrder):
        service.reassign(order.number, "dongshan_care", COUNTY_ADMIN)  # does not cover xihe
    moved = service.reassign(order.number, "county_repair", COUNTY_ADMIN, "王电工生病")
    assert (moved.status, moved.team_id, moved.tier) == (S.dispatched, "county_repair", "centre")
    assert service.get(order.id, COUNTY_ADMIN).events[-1].actor == "staff:county_admin"


def test_expired_order_can_be_reassigned(service, make_request, clock, config):
    order = service.create(make_request(service_id="mediation", village_id="yangliu"), RESIDENT)
    assert order.tier == "institute"  # 老娘舅 at 柳河镇
    clock.advance(minutes=config.orders.accept_deadline_minutes + 1)
    service.expire_overdue()  # → county_repair at centre
    clock.advance(minutes=config.orders.accept_deadline_minutes + 1)
    [expired] = service.expire_overdue()
    assert expired.status is S.expired
    again = service.reassign(order.number, "laoniangjiu", COUNTY_ADMIN)
    assert again.status is S.dispatched and again.flagged is None
    assert service.accept(order.number, HUANG.__class__.volunteer("lnj_sun")).status is S.accepted


def test_visibility(service, make_request, queries):
    mine = service.create(make_request(village_id="xihe"), RESIDENT)
    service.create(make_request(resident_key=OTHER_RESIDENT.id, village_id="dongshan"), OTHER_RESIDENT)
    with pytest.raises(NotFound):
        service.get(mine.number, OTHER_RESIDENT)
    with pytest.raises(NotFound):
        service.get(mine.number, ZHANG)  # not their team
    assert service.get(mine.number, WANG).id == mine.id
    assert [o.id for o in queries.list(RESIDENT)] == [mine.id]
    assert [o.village_id for o in queries.list(XIHE_OPERATOR)] == ["xihe"]
    assert len(queries.list(COUNTY_ADMIN)) == 2
    with pytest.raises(NotFound):
        service.get("999-999", COUNTY_ADMIN)


def test_order_number_is_accepted_in_spoken_forms(service, make_request):
    order = service.create(make_request(), RESIDENT)
    for form in (order.number, order.display_number, f"#{order.number[:3]} {order.number[3:]}"):
        assert service.get(form, RESIDENT).id == order.id
