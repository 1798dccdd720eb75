"""Broadcast pages and API through the room's door: editing an announcement (back to review,
approved again, every step in the audit trail), who may edit, and marking a clip aired."""

from __future__ import annotations

from webtest_support import csrf_of

from broadcasts.models import AnnouncementStatus, ItemState, PlanKind
from broadcasts.schedule import ScheduleService
from broadcasts.service import AnnouncementDraft, BroadcastService
from core.actors import Actor
from core.app import AppContext

COUNTY = Actor.staff("county_admin")
SYSTEM = Actor.system("test")
TEXT = "本周六上午八点在村委会开展义诊,请需要量血压的老人按时参加。"


def approved(ctx: AppContext, villages: list[str]) -> int:
    svc = BroadcastService(ctx)
    a = svc.draft(AnnouncementDraft(TEXT, villages, title="义诊通知", plan=PlanKind.next_slots, count=1), COUNTY)
    svc.approve(a.id, COUNTY)
    return a.id


def test_edit_sends_an_approved_announcement_back_to_review(client_for, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    a = approved(ctx, ["dongshan", "xihe"])
    admin = client_for("admin")
    detail = admin.get(f"/announcements/{a}")
    assert 'id="edit"' in detail.text
    form = admin.get(f"/announcements/{a}/edit")
    assert form.status_code == 200 and TEXT in form.text and "要重新审核" in form.text
    fields = {
        "csrf_token": csrf_of(form.text), "title": "", "text": "义诊改到本周日上午八点。",
        "audience": ["dongshan", "xihe"], "plan": "next_slots", "count": "2", "at": "", "priority": "normal",
    }  # fmt: skip
    saved = admin.post(f"/announcements/{a}/edit", data=fields)
    assert saved.status_code == 200 and "等审核员重新审核" in saved.text and 'id="status">待审核' in saved.text
    view = BroadcastService(ctx).announcement(a, COUNTY)
    assert view.status is AnnouncementStatus.draft and view.text == "义诊改到本周日上午八点。" and view.version == 2
    assert {i.state for i in view.items} == {ItemState.cancelled}
    # Approved again: new airings (two slots per village now), the old ones stay cancelled.
    approve = admin.post(f"/announcements/{a}/approve", data={"csrf_token": csrf_of(saved.text)})
    assert "已审核通过" in approve.text
    view = BroadcastService(ctx).announcement(a, COUNTY)
    assert sorted(i.state.value for i in view.items).count("scheduled") == 4
    assert [x.action for x in view.audit if not x.action.startswith("item_")] == [
        "drafted", "approved", "edited", "approved"
    ]  # fmt: skip
    assert "修改(要重新审核)" in approve.text  # the audit trail on the page, in Chinese


def test_bad_edits_change_nothing_and_others_may_not_edit(client_for, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    a = approved(ctx, ["dongshan", "xihe"])
    admin = client_for("admin")
    form = admin.get(f"/announcements/{a}/edit")
    fields = {"csrf_token": csrf_of(form.text), "text": " ", "audience": ["dongshan"], "plan": "next_slots",
              "count": "99", "priority": "normal"}  # fmt: skip
    bad = admin.post(f"/announcements/{a}/edit", data=fields)
    assert bad.status_code == 400 and "请填写广播内容。" in bad.text and "次数要填" in bad.text
    assert BroadcastService(ctx).announcement(a, COUNTY).status is AnnouncementStatus.approved
    # dongshan's admin covers only one of the two villages; an operator edits nothing.
    assert client_for("dongshan").get(f"/announcements/{a}/edit").status_code == 403
    assert client_for("xihe").get(f"/announcements/{a}/edit").status_code == 403
    seen = client_for("dongshan").get(f"/announcements/{a}")
    assert seen.status_code == 200 and "义诊通知" in seen.text and 'id="edit"' not in seen.text


def test_marking_aired_in_the_api_and_the_playlist(client_for, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    a = approved(ctx, ["dongshan", "xihe"])
    items = {i.village_id: i for i in BroadcastService(ctx).announcement(a, COUNTY).items}
    for item in items.values():
        ScheduleService(ctx).move(item.id, ItemState.ready, [ItemState.scheduled], SYSTEM, audio_path="x/y/z.mp3")
    xihe = client_for("xihe")
    assert xihe.post(f"/api/items/{items['dongshan'].id}/aired", headers=_csrf(xihe)).status_code == 404
    assert xihe.post(f"/api/items/{items['xihe'].id}/aired", headers=_csrf(xihe)).status_code == 204
    again = xihe.post(f"/api/items/{items['xihe'].id}/aired", headers=_csrf(xihe))
    assert again.status_code == 409 and again.json()["detail"] == "这条已经登记播出了。"
    # The playlist page's button: an admin of the village may mark it too.
    dongshan = client_for("dongshan")
    day = items["dongshan"].local_air_at.date().isoformat()
    page = dongshan.get(f"/playlist?village=dongshan&day={day}")
    done = dongshan.post(
        f"/playlist/items/{items['dongshan'].id}/aired",
        data={"csrf_token": csrf_of(page.text), "back": f"/playlist?village=dongshan&day={day}"},
    )
    assert "已登记播出。" in done.text
    assert BroadcastService(ctx).item(items["dongshan"].id, SYSTEM).state is ItemState.aired


def _csrf(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"X-CSRF-Token": csrf_of(client.get("/playlist").text)}


def test_the_calendar_page_shows_the_planned_week(client_for, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    a = approved(ctx, ["dongshan"])
    first = BroadcastService(ctx).announcement(a, COUNTY).items[0].local_air_at.date()
    page = client_for("admin").get(f"/calendar?village=dongshan&start={first.isoformat()}")
    assert page.status_code == 200
    assert page.text.count("<tr data-day=") == 7 and page.text.count("预排") >= 7 * 3 - 1
    assert "义诊通知" in page.text and "已排播" in page.text
    assert client_for("xihe").get("/calendar?village=dongshan").status_code == 403
    # A bad date shows the week from today, and says so; the playlist page reads both the same way.
    today = BroadcastService(ctx).today()
    shown = {
        "/calendar?village=dongshan&start=2026-13-01": f'<tr data-day="{today.isoformat()}">',
        "/playlist?village=dongshan&day=yesterday": f'name="day" value="{today.isoformat()}"',
    }
    for path, today_shown in shown.items():
        page = client_for("admin").get(path)
        assert page.status_code == 200 and "日期格式不对,已显示今天。" in page.text and today_shown in page.text, path
    assert client_for("xihe").get("/playlist?village=dongshan").status_code == 403
