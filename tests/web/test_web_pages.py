"""Orders pages and forms: filters with Chinese messages, reassign with history, signups,
and audio downloads that cannot leave audio_out/."""

from __future__ import annotations

from datetime import UTC, datetime

from webtest_support import csrf_of, place_order

from core.app import AppContext
from orders.service import OrderService
from people.models import VolunteerSignup


def test_order_filters_detail_and_reassign(client_for, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    order = place_order(ctx)
    admin = client_for("admin")
    page = admin.get("/orders?status=bogus&village=nowhere")
    assert page.status_code == 200
    assert "没有这个订单状态。" in page.text and "这个村不在您管理的范围里。" in page.text
    assert order.display_number in admin.get("/orders?status=dispatched&village=dongshan").text
    assert order.display_number not in admin.get("/orders?village=xihe").text
    detail = admin.get(f"/orders/{order.number}")
    assert "金剪子理发队" in detail.text and "经过" in detail.text
    token = csrf_of(detail.text)
    empty = admin.post(f"/orders/{order.number}/reassign", data={"csrf_token": token, "team_id": ""})
    assert "请选择要改派的服务队。" in empty.text
    wrong = admin.post(f"/orders/{order.number}/reassign", data={"csrf_token": token, "team_id": "laoniangjiu"})
    assert "不提供这项服务" in wrong.text
    forged = admin.post(f"/orders/{order.number}/reassign", data={"csrf_token": "x", "team_id": "qingshi_volunteers"})
    assert forged.status_code == 403
    assert OrderService(ctx.db, ctx.config, ctx.clock).get(order.number, _system()).team_id == "jinjianzi"
    ok = admin.post(
        f"/orders/{order.number}/reassign", data={"csrf_token": token, "team_id": "qingshi_volunteers", "reason": "忙"}
    )
    assert "已改派给青石镇便民服务队。" in ok.text and "县中心管理员" in ok.text


def test_volunteer_signup_approval(client_for, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    with ctx.db.session() as s:
        row = VolunteerSignup(
            resident_key="tg:42", village_id="dongshan", skills="会理发", created_at=datetime.now(UTC)
        )
        s.add(row)
    dongshan = client_for("dongshan")
    page = dongshan.get("/teams")
    assert "会理发" in page.text
    r = dongshan.post(f"/signups/{row.id}", data={"csrf_token": csrf_of(page.text), "decision": "approve"})
    assert "已同意" in r.text
    again = dongshan.post(f"/signups/{row.id}", data={"csrf_token": csrf_of(page.text), "decision": "approve"})
    assert again.status_code == 409 and "这条报名已经处理过了(已同意)。" in again.text
    assert client_for("qingshi").get("/api/volunteer-signups").json()[0]["status"] == "approved"
    assert client_for("liuhe").get("/teams").status_code == 403


def test_audio_downloads_stay_inside_audio_out(client_for, ctx: AppContext, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "audio_out" / "2026-06-01" / "xihe"
    folder.mkdir(parents=True)
    (folder / "0700_notice1.mp3").write_bytes(b"ID3fake")
    (tmp_path / "audio_out" / "2026-06-01" / "xihe.m3u").write_text("#EXTM3U\n", encoding="utf-8")
    (tmp_path / "secret.mp3").write_bytes(b"secret")
    xihe = client_for("xihe")
    assert xihe.get("/api/audio/2026-06-01/xihe/0700_notice1.mp3").content == b"ID3fake"
    m3u = xihe.get("/api/audio/2026-06-01/xihe.m3u?download=1")
    assert m3u.status_code == 200 and "attachment" in m3u.headers["content-disposition"]
    for bad in (
        "2026-06-01/xihe/../../../secret.mp3", "2026-06-01/xihe/..%2F..%2F..%2Fsecret.mp3",
        "..%2Fsecret.mp3", "2026-06-01/xihe/.0700_notice1.mp3", "/etc/passwd", "2026-13-01/xihe.m3u",
        "2026-06-01/xihe/0700_notice1.MP3", "2026-06-01/../../web.db",
    ):  # fmt: skip
        r = xihe.get(f"/api/audio/{bad}")
        assert r.status_code == 404, bad
        assert r.content != b"secret"
    assert client_for("liuhe").get("/api/audio/2026-06-01/xihe/0700_notice1.mp3").status_code == 403


def _system():  # type: ignore[no-untyped-def]
    from core.actors import Actor

    return Actor.system()
