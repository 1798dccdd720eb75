"""Personal data out of a resident's message before it is kept for review: phone numbers,
order numbers and names become placeholders (【电话】【单号】【姓名】), using the same detectors
the NLU reads them with (nlu/numbers.py)."""

from __future__ import annotations

import re

from core.config import AppConfig
from nlu.numbers import LANDLINE_RE, ORDER_RE, PHONE_RE, SPOKEN_PHONE_RE

PHONE, ORDER, NAME = "【电话】", "【单号】", "【姓名】"
# 我叫王大山 / 俺姓李 / 我是张桂兰: the one to three characters after it are a name.
_SELF_NAMED = re.compile(r"(?<=[我俺咱])(叫|姓|名叫)[\u4e00-\u9fff]{1,3}")
_ORDER_WORDS = re.compile(r"(?:单号|订单号?|编号)\s*(?:是|为)?\s*[零〇幺一二三四五六七八九]{6}")


class Masker:
    def __init__(self, config: AppConfig) -> None:
        names = {m.name for _, m in config.members()} | {s.name for s in config.staff}
        # Longest first, so 张师傅 is masked whole before 张 would be.
        self._names = sorted((n for n in names if len(n) >= 2), key=len, reverse=True)

    def mask(self, text: str) -> str:
        for rx in (PHONE_RE, LANDLINE_RE, SPOKEN_PHONE_RE):
            text = rx.sub(PHONE, text)
        text = ORDER_RE.sub(ORDER, text)
        text = _ORDER_WORDS.sub(ORDER, text)
        for name in self._names:
            text = text.replace(name, NAME)
        return _SELF_NAMED.sub(lambda m: m.group(1) + NAME, text)
