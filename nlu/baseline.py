"""A plain keyword-matching baseline, the yardstick `xiangyin nlu eval` compares Rasa with.

Intent: the first rule whose keyword occurs in the text.  Entities: only what exact string
matching gives – menu names/synonyms and village names/aliases from config.yml as written,
11-digit phones, 6-digit order numbers; no time, count or rating understanding.
"""

from __future__ import annotations

import re

from core.config import AppConfig
from nlu import FALLBACK_INTENT
from nlu.result import Entities, NluResult

_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cancel_order", ("取消", "不要了", "撤", "别来了", "不用来")),
    ("check_order", ("单子", "有人接", "咋还没", "查", "进度", "啥时候来")),
    ("rate_order", ("星", "分", "满意", "好评", "差评", "不错", "点赞")),
    ("volunteer_signup", ("志愿者", "报名", "加入", "义工")),
    ("talk_to_staff", ("工作人员", "人工", "村干部", "站长", "领导", "真人")),
    ("ask_broadcast", ("喇叭", "广播", "村村响")),
    ("ask_menu", ("菜单", "啥服务", "能干啥", "有哪些", "都有啥")),
    ("thanks", ("谢", "辛苦", "麻烦你们")),
    ("goodbye", ("再见", "拜拜", "走了", "回头")),
    ("greet", ("你好", "在不在", "在吗", "有人吗", "喂")),
    ("deny", ("不用", "不是", "不要", "算了", "不对", "不行")),
    ("affirm", ("对", "好的", "行", "中", "是", "可以", "嗯")),
)


class KeywordBaseline:
    def __init__(self, config: AppConfig) -> None:
        self.services = {w: s.id for s in config.menu.all_services for w in [s.name, *s.synonyms]}
        self.villages = {w: v.id for v in config.villages.values() for w in [v.name, *v.aliases]}

    def _first(self, text: str, words: dict[str, str]) -> str | None:
        for word in sorted(words, key=len, reverse=True):
            if word in text:
                return words[word]
        return None

    def parse(self, text: str) -> NluResult:
        service = self._first(text, self.services)
        intent = next((name for name, keys in _RULES if any(k in text for k in keys)), None)
        if intent is None:
            intent = "request_service" if service else FALLBACK_INTENT
        phone = re.search(r"(?<!\d)1\d{10}(?!\d)", text)
        order = re.search(r"(?<!\d)[1-9]\d{5}(?!\d)", text)
        entities = Entities(
            service=service,
            village=self._first(text, self.villages),
            phone=phone.group(0) if phone else None,
            order_id=order.group(0) if order else None,
        )
        return NluResult(text, intent, 1.0 if intent != FALLBACK_INTENT else 0.0, entities)
