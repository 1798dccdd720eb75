"""Issue 10's classes of failure, one test each, against the real sidecar.

The sentences are written for these tests only: none is in the training data or in a held-out
file (test_nlu_data.py checks the training data against every file under nlu/tests_data, and
test_sentences_are_not_trained_on below checks these).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from core.clock import LOCAL_TZ
from nlu.client import NluClient
from nlu.examples import load_examples

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=LOCAL_TZ)
pytestmark = pytest.mark.rasa

SITUATIONS = [  # no menu word: the service is in the situation
    ("天太冷 自来水管子冻得裂了缝 滋滋往外喷水", "utility_repair"),
    ("洗衣机洗到一半就不动了 还咔咔地响", "appliance_repair"),
    ("电饭煲插上插头一点反应都没有 晚饭都做不成", "appliance_repair"),
    ("俺家老母猪两天没吃食了 光躺着哼哼", "agri_tech"),
    ("俺想趁脑子清楚把身后的财产写个遗嘱 怕孩子们以后争", "legal_consult"),
    ("闺女要出嫁了 俺们想照新风俗办 不讲排场不收大礼", "wedding_funeral"),
    ("有人打电话说俺抽中了一台电视 要先交八百块邮费", "anti_fraud_talk"),
    ("老伴刚走 后事想办得简单些 俺们不懂该咋安排", "wedding_funeral"),
    ("俺爷老伴走了以后一个人住 天天闷着不出门 也没人说句话", "elderly_visit"),
    ("村里的孩子一放学就跑到河沟里钓鱼摸虾", "drowning_safety"),
    ("俺想学开大卡车 拿个驾照出去跑活", "skills_training"),
]

VOLUNTEER_MENTIONS = [  # 志愿者 in a request is who comes, not a sign-up
    ("有没有志愿者能来帮俺家修修漏水的水龙头", "utility_repair"),
    ("能派个志愿者来给俺爹剪剪头发不", "haircut"),
    ("志愿者啥时候能来给俺们村的娃补补课", "homework_help"),
]

ORDER_PHRASES = [  # "我要点单 X" is a new order, not 查单
    ("我要点单 给俺娘量量血压", "free_clinic"),
    ("我要点单 俺家电视坏了", "appliance_repair"),
    ("我想下个单 请人来教跳广场舞", "dance_class"),
]

CORRECTIONS = [  # 不是A 是B / 别派A了 要B: a request for B
    ("不是看病 是要理发", "haircut"),
    ("别派电工了 要修冰箱的", "appliance_repair"),
    ("刚才说错了 不是写对联 是唱戏", "performance"),
]

MEDIA = [  # the medium where the resident heard of it does not win over the need
    ("电视上说有医生下乡义诊 俺们村能不能也来", "free_clinic"),
    ("广播里讲防诈骗 能来俺们村讲一回不", "anti_fraud_talk"),
    ("电视里讲了防溺水 俺们这娃多 也来讲讲吧", "drowning_safety"),
]

VOICE_RUN_ONS = [  # voice input: no punctuation, a greeting first, the request buried
    (
        "喂喂你好 俺是桥头的老张 就是想问问 俺家屋里那个灯啊 开了就闪 闪了就灭 俺也不敢碰 能不能派个电工来瞅瞅",
        "utility_repair",
    ),
    (
        "喂喂你好你好 听得见不 俺娘九十了 腿脚不行出不了门 头发老长老长的 能不能来个人给剪剪",
        "haircut",
    ),
]

TYPOS = [  # homophones and wrong characters
    ("想给俺爹理法 他出不了门", "haircut"),
    ("俺家冰相不制冷了", "appliance_repair"),
    ("想请人来讲讲防炸骗", "anti_fraud_talk"),
]

LOCAL_ITEMS = [  # station and institute menu items must not lose to the nearest county item
    ("想给俺娘报个爱心早餐", "love_breakfast"),
    ("俺家老人早上没人做饭 想要人每天送点早饭", "love_breakfast"),
    ("俺家的老橘树想参加柑橘老树换新", "citrus_renewal"),
    ("老柑橘树结果越来越少 想砍了换新苗", "citrus_renewal"),
]


async def _requests(client: NluClient, cases: list[tuple[str, str]]) -> list[tuple[str, str, str | None]]:
    wrong = []
    for text, service in cases:
        r = await client.parse(text, NOW)
        if (r.intent, r.entities.service) != ("request_service", service):
            wrong.append((text, r.intent, r.entities.service))
    return wrong


async def test_situations_without_a_menu_word(nlu_client: NluClient) -> None:
    assert await _requests(nlu_client, SITUATIONS) == []


async def test_mentioning_volunteers_is_still_a_request(nlu_client: NluClient) -> None:
    assert await _requests(nlu_client, VOLUNTEER_MENTIONS) == []
    signup = await nlu_client.parse("俺会剪头发 想报名当志愿者", NOW)
    assert signup.intent == "volunteer_signup"


async def test_wo_yao_dian_dan_is_a_new_order(nlu_client: NluClient) -> None:
    assert await _requests(nlu_client, ORDER_PHRASES) == []


async def test_a_no_show_complaint_is_a_rating(nlu_client: NluClient) -> None:
    wrong = []
    for text in ("约了昨天下午来 等到天黑也没见着人", "说好来修的 人影都没见着 也不说一声", "给一颗星 根本就没人来"):
        r = await nlu_client.parse(text, NOW)
        if r.intent != "rate_order":
            wrong.append((text, r.intent))
    assert wrong == []


async def test_corrections_ask_for_the_corrected_service(nlu_client: NluClient) -> None:
    assert await _requests(nlu_client, CORRECTIONS) == []


async def test_the_need_wins_over_the_medium(nlu_client: NluClient) -> None:
    assert await _requests(nlu_client, MEDIA) == []


async def test_voice_input_run_ons_are_requests_not_greetings(nlu_client: NluClient) -> None:
    assert await _requests(nlu_client, VOICE_RUN_ONS) == []


async def test_typos_and_homophones_keep_the_service(nlu_client: NluClient) -> None:
    assert await _requests(nlu_client, TYPOS) == []


async def test_no_thanks_is_deny(nlu_client: NluClient) -> None:
    for text in ("不用了 谢谢", "不用了谢谢你们", "谢谢 不需要了"):
        r = await nlu_client.parse(text, NOW)
        assert r.intent == "deny", (text, r.intent)


async def test_local_menu_items(nlu_client: NluClient) -> None:
    assert await _requests(nlu_client, LOCAL_ITEMS) == []


async def test_emoji_only_falls_back(nlu_client: NluClient) -> None:
    for text in ("🙏", "😀😀😀", "👍", "🌸🌸", "❤️❤️", "😭"):
        r = await nlu_client.parse(text, NOW)
        assert (r.intent, r.fallback_reason) == ("nlu_fallback", "no_words"), (text, r)
    stars = await nlu_client.parse("⭐⭐⭐⭐", NOW)
    assert stars.intent != "nlu_fallback" and stars.entities.rating == 4


def test_sentences_are_not_trained_on() -> None:
    trained = {ex.text for ex in load_examples()}
    mine = [
        t
        for group in (
            SITUATIONS,
            VOLUNTEER_MENTIONS,
            ORDER_PHRASES,
            CORRECTIONS,
            MEDIA,
            VOICE_RUN_ONS,
            TYPOS,
            LOCAL_ITEMS,
        )
        for t, _ in group
    ]
    assert [t for t in mine if t in trained] == []
