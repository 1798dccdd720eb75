"""The app-side normaliser: menu ids, villages, time windows, numbers, phones, order numbers."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.clock import LOCAL_TZ
from core.config import AppConfig, load_config
from nlu.normalise import Normaliser
from nlu.numbers import find_count, find_order_id, find_phone, find_rating, to_int
from nlu.timeparse import resolve_time

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=LOCAL_TZ)  # a Monday morning


@pytest.fixture(scope="module")
def normaliser() -> Normaliser:
    return Normaliser(load_config(environ={}))


def window(text: str, now: datetime = NOW) -> tuple[str, str] | None:
    w = resolve_time(text, now)
    return None if w is None else (w.start.strftime("%m-%d %H:%M"), w.end.strftime("%m-%d %H:%M"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("理个发", "haircut"),
        ("剪头", "haircut"),
        ("推头", "haircut"),
        ("haircut", "haircut"),
        ("里发", "haircut"),  # homophone typo
        ("冰箱不制冷", "appliance_repair"),
        ("修冰相", "appliance_repair"),  # one wrong character
        ("水管漏水", "utility_repair"),
        ("老娘舅", "mediation"),
        ("柑橘换新", "citrus_renewal"),  # a station's local menu item
        ("买猪肉", None),
    ],
)
def test_service_values_map_to_menu_ids(normaliser: Normaliser, text: str, expected: str | None) -> None:
    assert normaliser.service(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("能不能派个人来给俺娘理个发", "haircut"),
        ("冰箱坏了能来修下不", "appliance_repair"),
        ("俺家电灯不亮", "utility_repair"),
        ("俺家电话13800001234", None),  # 家电 inside 俺家电话 is not "appliances"
        ("今天天气咋样", None),
    ],
)
def test_service_found_in_free_text(normaliser: Normaliser, text: str, expected: str | None) -> None:
    assert normaliser.service_in_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("东山村", "dongshan"), ("西河湾", "xihe"), ("桥头堡村", "qiaotou"), ("东三村", "dongshan"), ("北京", None)],
)
def test_village_names_aliases_and_misspellings(normaliser: Normaliser, text: str, expected: str | None) -> None:
    assert normaliser.village(text) == expected


def test_village_in_text(normaliser: Normaliser) -> None:
    assert normaliser.village_in_text("俺是东三村的老李") == "dongshan"
    assert normaliser.village_in_text("俺们石门坎的老人") == "shimen"
    assert normaliser.village_in_text("找村里工作人员") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("明天上午", ("06-02 08:00", "06-02 12:00")),
        ("后天下午三点", ("06-03 15:00", "06-03 16:00")),
        ("下周三", ("06-10 00:00", "06-11 00:00")),
        ("这礼拜六", ("06-06 00:00", "06-07 00:00")),
        ("月底前", ("06-01 10:00", "07-01 00:00")),
        ("重阳节前", ("06-01 10:00", "10-18 00:00")),  # lunar 9/9 of 2026
        ("中秋节", ("09-25 00:00", "09-26 00:00")),
        ("明天下午两点到四点", ("06-02 14:00", "06-02 16:00")),
        ("三点半", ("06-01 15:30", "06-01 16:30")),
        ("晚上七点", ("06-01 19:00", "06-01 20:00")),
        ("明天早上七点以后", ("06-02 07:00", "06-03 00:00")),
        ("周末", ("06-06 00:00", "06-08 00:00")),
        ("下周", ("06-08 00:00", "06-15 00:00")),
        ("6月5号", ("06-05 00:00", "06-06 00:00")),
        ("十五号", ("06-15 00:00", "06-16 00:00")),
        ("过两天", ("06-02 00:00", "06-05 00:00")),
        ("三天后", ("06-04 00:00", "06-05 00:00")),
        ("下个月", ("07-01 00:00", "08-01 00:00")),
        ("马上", ("06-01 10:00", "06-01 12:00")),
        ("今晚", ("06-01 18:00", "06-01 22:00")),
        ("快一点来", None),  # "a bit quicker", not one o'clock
        ("俺娘九十了", None),
    ],
)
def test_time_expressions_resolve_to_windows(text: str, expected: tuple[str, str] | None) -> None:
    assert window(text) == expected


def test_time_window_is_aware_shanghai_and_past_parts_of_today_roll_over() -> None:
    evening = datetime(2026, 6, 1, 20, 0, tzinfo=LOCAL_TZ)
    w = resolve_time("上午", evening)
    assert w is not None and w.start.utcoffset() is not None
    assert (w.start.day, w.start.hour, w.end.hour) == (2, 8, 12)
    # a weekday without 这/下 that has passed means next week's
    assert window("周一", datetime(2026, 6, 3, 9, 0, tzinfo=LOCAL_TZ)) == ("06-08 00:00", "06-09 00:00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("三个人", 3),
        ("二十来个", 20),
        ("十几个老人", 15),
        ("俩人", 2),
        ("30多个", 30),
        ("派一个人来", None),
        ("三点", None),
    ],
)
def test_counts(text: str, expected: int | None) -> None:
    assert find_count(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("五颗星", 5),
        ("打三分", 3),
        ("一星", 1),
        ("给个5星", 5),
        ("满分", 5),
        ("⭐⭐⭐⭐", 4),
        ("十分满意", None),
        ("三分钟", None),
    ],
)
def test_ratings(text: str, expected: int | None) -> None:
    assert find_rating(text) == expected


def test_phones_and_order_numbers() -> None:
    assert find_phone("电话是139 1234 5678") == "13912345678"
    assert find_phone("俺电话幺三八零零零零一二三四") == "13800001234"
    assert find_phone("没有号码") is None
    assert find_order_id("单号 876 543 到哪了") == "876543"
    assert find_order_id("订单#123-456") == "123456"
    assert find_order_id("单号一二三四五六") == "123456"
    assert find_order_id("电话13912345678") is None  # a phone is not two order numbers
    assert find_order_id("012345") is None  # order numbers never start with 0


def test_chinese_numerals() -> None:
    assert [to_int(x) for x in ["3", "三", "二十", "两", "仨", "十几", "一百零五", "啥"]] == [
        3,
        3,
        20,
        2,
        3,
        15,
        105,
        None,
    ]


def test_entities_prefer_rasa_spans_and_fill_the_rest(normaliser: Normaliser) -> None:
    raw = [{"entity": "service", "value": "haircut"}, {"entity": "count", "value": "二十来个"}]
    e = normaliser.entities("明天上午给俺们二十来个老人剪头 电话13800001234 东山村", raw, NOW)
    assert e.service == "haircut"
    assert e.count == 20
    assert e.phone == "13800001234"
    assert e.village == "dongshan"
    assert e.time is not None and e.time.start.isoformat() == "2026-06-02T08:00:00+08:00"
    assert e.to_json()["time"] == {"start": "2026-06-02T08:00:00+08:00", "end": "2026-06-02T12:00:00+08:00"}


def test_unresolvable_rasa_span_falls_back_to_text(normaliser: Normaliser) -> None:
    e = normaliser.entities("俺家冰箱坏了", [{"entity": "service", "value": "坏了"}], NOW)
    assert e.service == "appliance_repair"


def test_lexicon_follows_config(normaliser: Normaliser) -> None:
    base = load_config(environ={})
    raw = base.model_dump()
    raw["menu"]["local"].append(
        {
            "id": "tea_picking",
            "name": "采茶帮工",
            "theme": "农业技术",
            "synonyms": ["摘茶叶"],
            "tier": "station",
            "area": "xihe",
        }
    )
    n = Normaliser(AppConfig.model_validate(raw))
    assert n.service_in_text("想找人帮着摘茶叶") == "tea_picking"
    assert normaliser.service_in_text("想找人帮着摘茶叶") is None
