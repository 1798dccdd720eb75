"""Text normalisation for speech, sentence splitting, the library and the voice list."""

from __future__ import annotations

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
