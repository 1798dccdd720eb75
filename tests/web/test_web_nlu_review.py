"""The NLU review inbox in the console: admins only, each their own area; one-click labels; export."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from webtest_support import csrf_of

from core.app import AppContext
from nlu.result import Entities, NluResult
from nlu.review import LABELLED, ReviewQueue


@pytest.fixture
def queue(ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ReviewQueue:
    monkeypatch.setenv("XIANGYIN_NLU_REVIEWED", str(tmp_path / "reviewed.yml"))
    return ReviewQueue(ctx.db, ctx.config, ctx.clock)


def _miss(queue: ReviewQueue, text: str, village: str | None) -> int:
    item = queue.note(text, NluResult(text, "nlu_fallback", 0.2, Entities(), "low_confidence"), village_id=village)
    assert item is not None
    return item


def test_inbox_is_for_admins_of_the_village(client_for, anonymous, queue: ReviewQueue) -> None:  # type: ignore[no-untyped-def]
    dongshan = _miss(queue, "俺家驴不吃草 电话13800001234", "dongshan")
    _miss(queue, "杨柳村的老橘子园该咋弄", "yangliu")
    _miss(queue, "不知道哪个村的消息", None)
    county = client_for("admin").get("/nlu/review")
    assert county.status_code == 200
    assert "俺家驴不吃草" in county.text and "杨柳村的老橘子园" in county.text and "不知道哪个村" in county.text
    assert "13800001234" not in county.text and "【电话】" in county.text
    qingshi = client_for("qingshi").get("/nlu/review")  # admin of 青石镇: dongshan, xihe, qiaotou
    assert "俺家驴不吃草" in qingshi.text and "杨柳村" not in qingshi.text and "不知道哪个村" not in qingshi.text
    assert client_for("xihe").get("/nlu/review").status_code == 403  # an operator, not an admin
    assert anonymous.get("/nlu/review", follow_redirects=False).status_code in (302, 303, 401)
    assert f"review-{dongshan}" in qingshi.text


def test_label_with_one_click_and_export(client_for, queue: ReviewQueue) -> None:  # type: ignore[no-untyped-def]
    item = _miss(queue, "俺家驴不吃草了", "dongshan")
    other = _miss(queue, "杨柳村的事", "yangliu")
    qingshi = client_for("qingshi")
    token = csrf_of(qingshi.get("/nlu/review").text)
    done = qingshi.post(f"/nlu/review/{item}", data={"csrf_token": token, "label": "request_service:agri_tech"})
    assert "已标好" in done.text
    refused = qingshi.post(f"/nlu/review/{other}", data={"csrf_token": token, "label": "greet"})
    assert "没有这条消息" in refused.text, refused.text[refused.text.find("<main") :][:600]
    bad = qingshi.post(f"/nlu/review/{item}", data={"csrf_token": token, "label": "request_service:moon"})
    assert "菜单里没有这项服务" in bad.text
    forged = qingshi.post(f"/nlu/review/{item}", data={"csrf_token": "x", "label": "greet"})
    assert forged.status_code == 403
    labelled = queue.items(LABELLED)
    assert [(i.id, i.label_intent, i.label_service, i.labelled_by) for i in labelled] == [
        (item, "request_service", "agri_tech", "qingshi_head")
    ]
    exported = qingshi.post("/nlu/review/export", data={"csrf_token": token})
    assert "已导出 1 条" in exported.text
    data = yaml.safe_load(queue.export_path.read_text(encoding="utf-8"))
    assert data == {"request_service": {"agri_tech": "- 俺家驴不吃草了\n"}}
