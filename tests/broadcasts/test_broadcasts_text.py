"""Text normalisation for speech, sentence splitting, the library and the voice list."""

from __future__ import annotations

from datetime import date

import pytest

from broadcasts.errors import InvalidBroadcast
from broadcasts.library import default_library
from broadcasts.textnorm import check_text, normalise, split_for_speech
from broadcasts.voices import check_voice


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("2026年6月1日下午14:30开会", "二零二六年六月一日下午两点半开会"),
        ("2026-06-01", "二零二六年六月一日"),
        ("晚上9:00放电影", "晚上九点放电影"),
        ("8:05集合", "早上八点零五分集合"),
        ("请拨打13800000001", "请拨打幺三八零零零零零零零幺"),
        ("报警请打110", "报警请打幺幺零"),
        ("电话0731-84123456", "电话零七三幺八四幺二三四五六"),
        ("补贴300元", "补贴三百元"),
        ("¥2,000", "两千元"),
        ("涨了15%", "涨了百分之十五"),
        ("气温-5℃", "气温零下五摄氏度"),
        ("走5km,重20kg,雨量50mm", "走五公里,重二十公斤,雨量五十毫米"),
        ("用APP报名", "用手机应用报名"),
        ("3~5天", "三到五天"),
    ],
)
def test_spoken_form(text: str, spoken: str) -> None:
    assert normalise(text) == spoken


def test_long_text_splits_at_sentence_ends_within_the_limit() -> None:
    text = "第一句话比较短。" + "这是很长的一句话,中间有逗号," * 150 + "结束了!最后一句。"
    chunks = split_for_speech(text, max_bytes=3000)
    assert len(chunks) > 1 and "".join(chunks) == text
    assert all(len(c.encode()) <= 3000 for c in chunks)
    assert chunks[-1].endswith("最后一句。")


def test_check_text_refuses_bad_input() -> None:
    for bad in ["", "   ", "字" * 20001, "开会啦😀", "♫♫"]:
        with pytest.raises(InvalidBroadcast):
            check_text(bad, 1000)


def test_library_is_a_real_starter_set() -> None:
    lib = default_library()
    assert len(lib.scripts) >= 30
    assert {"政策传达", "法制宣传", "移风易俗", "家风家训", "平安建设", "文明创建", "我们的节日"} <= {
        s.category for s in lib.scripts
    }
    assert all(120 <= len(s.text) <= 350 for s in lib.scripts)
    assert lib.calendar.month_themes[3] == "学雷锋志愿服务月"


def test_voices() -> None:
    assert check_voice("zh-CN-shaanxi-XiaoniNeural").offline_language == "cmn"
    with pytest.raises(InvalidBroadcast):
        check_voice("zh-CN-Unknown")


# The dates the 2025–2028 table held, now computed; and years the table never had.
KNOWN = {
    2025: {"chunjie": "2025-01-29", "yuanxiao": "2025-02-12", "qingming": "2025-04-04", "duanwu": "2025-05-31",
           "zhongqiu": "2025-10-06", "chongyang": "2025-10-29"},
    2026: {"chunjie": "2026-02-17", "yuanxiao": "2026-03-03", "qingming": "2026-04-05", "duanwu": "2026-06-19",
           "zhongqiu": "2026-09-25", "chongyang": "2026-10-18"},
    2027: {"chunjie": "2027-02-06", "yuanxiao": "2027-02-20", "qingming": "2027-04-05", "duanwu": "2027-06-09",
           "zhongqiu": "2027-09-15", "chongyang": "2027-10-08"},
    2028: {"chunjie": "2028-01-26", "yuanxiao": "2028-02-09", "qingming": "2028-04-04", "duanwu": "2028-05-28",
           "zhongqiu": "2028-10-03", "chongyang": "2028-10-26"},
    2031: {"chunjie": "2031-01-23", "qingming": "2031-04-05", "zhongqiu": "2031-10-01"},
    2040: {"chunjie": "2040-02-12", "qingming": "2040-04-04", "duanwu": "2040-06-14"},
}  # fmt: skip


@pytest.mark.parametrize("year", sorted(KNOWN))
def test_festival_dates_are_computed_for_any_year(year: int) -> None:
    festivals = default_library().calendar.festivals
    for key, expected in KNOWN[year].items():
        assert festivals[key].on(year) == date.fromisoformat(expected), key


def test_festivals_near_and_between() -> None:
    calendar = default_library().calendar
    assert calendar.festivals_near(date(2031, 1, 20)) == {"chunjie"}  # three days before 春节 2031
    assert calendar.festivals_near(date(2031, 3, 1)) == set()
    week = calendar.festivals_between(date(2030, 9, 10), date(2030, 9, 16))
    assert [(d.isoformat(), f.name) for d, f in week] == [("2030-09-12", "中秋节")]
