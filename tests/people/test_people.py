"""The people room's door: who a user key is on any channel, how volunteers and staff are
reached, sign-ups reviewed only by the admins of the village, hand-offs to the staff on duty."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.actors import Actor
from core.clock import ManualClock
from core.config import AppConfig
from core.db import Database
from core.errors import IllegalTransition, NotFound
from people.identities import Channel, account, contact_hint, user_key
from people.models import StaffHandoff
from people.service import People
from people.views import APPROVED, PENDING

COUNTY = Actor.staff("county_admin")
QINGSHI = Actor.staff("qingshi_head")
DONGSHAN = Actor.staff("dongshan_staffer")
XIHE_OPERATOR = Actor.staff("xihe_operator")


@pytest.fixture
def people(db: Database, config: AppConfig, clock: ManualClock) -> People:
    return People(db, config, clock)


def test_identify_on_every_channel(sqlite_db: Database, config: AppConfig) -> None:
    people = People(sqlite_db, config)
    staff = people.identify("tg:800003")
    assert staff.staff is not None and staff.staff.id == "dongshan_staffer" and not staff.memberships
    assert staff.resident == Actor.resident("tg:800003")  # staff may order for themselves too
    volunteer = people.identify("tg:900001")
    assert volunteer.member_ids == {"jjz_zhang"} and volunteer.member_in("jinjianzi") is not None
    assert volunteer.member_in("qingshi_volunteers") is None and not volunteer.has_role(*config.staff[0].roles)
    # Other channels' keys (and a Telegram id nobody configured) are residents only.
    for key in ("wx:o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "cli:wang", "tg:555001", "tg:"):
        who = people.identify(key)
        assert who.staff is None and who.memberships == () and who.resident.id == key


def test_user_keys_and_contact_hints() -> None:
    assert user_key(Channel.telegram, 42) == "tg:42" and user_key(Channel.wechat, "oAb") == "wx:oAb"
    assert account("tg:42", Channel.telegram) == "42" and account("wx:oAb", Channel.telegram) is None
    assert account("tg:", Channel.telegram) is None
    assert contact_hint("tg:42") == "tg://user?id=42"
    assert "wx:oAb" in contact_hint("wx:oAb") and "微信" in contact_hint("wx:oAb")
    assert contact_hint("cli:wang") == "(终端用户 cli:wang)"


def test_reaching_teams_and_staff(sqlite_db: Database, config: AppConfig) -> None:
    people = People(sqlite_db, config)
    assert people.team_chat_keys("jinjianzi") == ["tg:900001", "tg:900002"]
    assert people.team_chat_keys("jinjianzi", exclude="jjz_zhang") == ["tg:900002"]
    assert people.team_chat_keys("jinjianzi", only="jjz_li") == ["tg:900002"]
    assert people.team_chat_keys(None) == [] and people.team_chat_keys("nobody") == []
    # Admins covering the village, the closest first; an operator is not on duty for residents.
    assert [s.id for s in people.staff_on_duty("dongshan")] == ["dongshan_staffer", "qingshi_head", "county_admin"]
    assert [s.id for s in people.staff_on_duty("xihe")] == ["qingshi_head", "county_admin"]
    assert people.member("qs_wang").name == "王电工" and people.member("nobody") is None


def test_teams_visible_to_staff_of_their_area_only(sqlite_db: Database, config: AppConfig) -> None:
    people = People(sqlite_db, config)
    everything = {t.id for t in config.teams}
    assert {t.id for t in people.teams_visible_to(COUNTY)} == everything
    dongshan = {t.id for t in people.teams_visible_to(DONGSHAN)}
    assert {"jinjianzi", "dongshan_care", "qingshi_volunteers", "county_health"} <= dongshan
    assert not {"laoniangjiu", "meijiameihu", "yangliu_redwhite"} & dongshan
    assert people.teams_visible_to(Actor.resident("tg:1")) == []
    assert people.teams_visible_to(Actor.volunteer("jjz_zhang")) == []


def test_signup_once_and_reviewed_by_the_villages_admins(people: People, clock: ManualClock) -> None:
    assert people.sign_up("tg:42", "dongshan", "  会理发 ")
    assert not people.sign_up("tg:42", "dongshan", "还会修电视")  # one waiting request per resident
    assert people.sign_up("tg:43", None, "")  # no village told: only county-wide staff review it
    assert people.sign_up("tg:44", "nowhere", "会写春联")  # an unknown village is not kept
    dongshan = people.signups(DONGSHAN)
    assert [(s.village_id, s.skills, s.status) for s in dongshan] == [("dongshan", "会理发", PENDING)]
    assert [s.village_id for s in people.signups(QINGSHI)] == ["dongshan"]
    assert sorted(s.village_id or "-" for s in people.signups(COUNTY)) == ["-", "-", "dongshan"]
    assert people.signups(XIHE_OPERATOR) == [] and people.signups(Actor.resident("tg:42")) == []
    (first,) = dongshan
    with pytest.raises(NotFound):
        people.decide_signup(XIHE_OPERATOR, first.id, approve=True)
    unvillaged = next(s for s in people.signups(COUNTY) if s.village_id is None)
    with pytest.raises(NotFound):
        people.decide_signup(QINGSHI, unvillaged.id, approve=True)
    clock.advance(minutes=5)
    decided = people.decide_signup(DONGSHAN, first.id, approve=True)
    assert decided.status == APPROVED and decided.decided_by == "staff:dongshan_staffer"
    assert decided.decided_at == clock() and decided.status_label == "已同意"
    with pytest.raises(IllegalTransition) as refused:
        people.decide_signup(COUNTY, first.id, approve=False)
    assert refused.value.message_zh == "这条报名已经处理过了(已同意)。"
    assert people.signups(COUNTY, PENDING, limit=1)[0].status == PENDING
    assert people.sign_up("tg:42", "dongshan", "再报一次")  # decided: a new request may come


def test_hand_off_records_whom_it_told(people: People, db: Database) -> None:
    handoff = people.hand_off("tg:42", "dongshan", "我家水管漏了" * 100)
    assert [s.id for s in handoff.staff] == ["dongshan_staffer", "qingshi_head", "county_admin"]
    with db.session() as s:
        row = s.scalars(select(StaffHandoff)).one()
        assert row.id == handoff.id and row.status == "open" and row.village_id == "dongshan"
        assert row.notified == "dongshan_staffer,qingshi_head,county_admin" and len(row.message or "") == 500


def test_a_volunteer_on_wechat_is_known_by_the_openid(sqlite_db: Database, config: AppConfig) -> None:
    member = config.teams[0].members[0].model_copy(update={"wechat_openid": "oZhangShiFuOnWeChat0000001"})
    team = config.teams[0].model_copy(update={"members": [member, *config.teams[0].members[1:]]})
    both = AppConfig.model_validate(
        {**config.model_dump(), "teams": [team.model_dump(), *config.model_dump()["teams"][1:]]}
    )
    people = People(sqlite_db, both)
    for key in (f"tg:{member.telegram_id}", "wx:oZhangShiFuOnWeChat0000001"):
        assert people.identify(key).member_ids == {member.id}
    assert "wx:oZhangShiFuOnWeChat0000001" in people.team_chat_keys(team.id)
