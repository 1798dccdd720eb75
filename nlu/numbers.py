"""Numbers as villagers write them: 三个人, 二十来个, 俩, 五颗星, 打三分, 138 0000 0001, 单号123456."""

from __future__ import annotations

import re

import cn2an

from orders.numbers import normalise_order_number

CN_DIGITS = "零〇一二两三四五六七八九十百千万俩仨幺"
_NUM = rf"(?:\d+|[{CN_DIGITS}]+)"
_SPOKEN_DIGITS = str.maketrans("零〇幺一二三四五六七八九", "001123456789")


def to_int(text: str) -> int | None:
    """'3', '三', '二十', '两', '俩', '仨', '十几' → int (十几 → 10+5), else None."""
    text = text.strip().replace("俩", "两").replace("仨", "三")
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if text.endswith("几"):  # 十几 / 二十几: a rough number, take the middle
        base = to_int(text[:-1])
        return None if base is None else base + 5
    try:
        value = cn2an.cn2an(text, "smart")
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    return int(value) if float(value).is_integer() and value >= 0 else None


# ---------------------------------------------------------------- count of people
_PEOPLE = r"(?:人|老人|老头|老太太?|老年人|娃娃?|孩子|小孩|学生|户|家|口人|位老人)"
_COUNT_RE = re.compile(
    rf"(?P<n>{_NUM})(?P<approx>来|多|几|左右)?\s*(?:个|位|名|口|号)?\s*(?P<who>{_PEOPLE})?(?P<approx2>来|左右|上下)?"
)
_COUNT_CONTEXT = re.compile(r"(?:人数|一共|总共|大概|差不多|有)\s*$")


def find_count(text: str) -> int | None:
    """A number of people, only where the text says people (or 来/多/左右) after it."""
    for m in _COUNT_RE.finditer(text):
        n = m.group("n")
        value = to_int(n + "几") if m.group("approx") == "几" else to_int(n)
        if value is None or not 0 < value <= 10_000:
            continue
        after = text[m.end() : m.end() + 2]
        before = text[max(0, m.start() - 2) : m.start()]
        if m.group("who") is None:
            # Without 人/老人… only a rough number with a measure word counts (二十来个);
            # 礼拜一来 and 三点多 are not head counts.
            rough = m.group("approx") or m.group("approx2")
            if not rough or re.match(r"(点|号|月|天|分|星|颗|日|年|岁|块|元|斤|亩|钟|遍|次)", after):
                continue
            if value < 10 and "个" not in m.group(0):
                continue
        if before[-1:] in {"派", "找", "叫", "喊", "来"} or re.search(r"(周|礼拜|星期)$", before):
            continue  # 派一个人来 is the helper, not the people to be served
        if value == 1 and re.match(r"(住|过|在家|生活|带)", after):
            continue  # 一个人住: living alone, not a head count
        return value
    return None


def count_value(span: str) -> int | None:
    """Normalise a Rasa `count` span ('三个人', '二十来个', '十几个', '30')."""
    m = re.search(rf"({_NUM})(几)?", span)
    return to_int(m.group(1) + (m.group(2) or "")) if m else None


# ---------------------------------------------------------------- rating 1..5
_RATING_RE = re.compile(
    rf"(?:(?P<n1>{_NUM})\s*(?:颗|个)?\s*(?:星|⭐)|(?:打|给|评|评个|给个|打个)\s*(?P<n2>{_NUM})\s*分"
    rf"|(?:评分|打分|分数)\s*(?:是|为|给)?\s*(?P<n4>{_NUM})"
    rf"|(?P<n3>{_NUM})\s*分(?![钟钱地之]))"
)
_RATING_WORDS = {"满分": 5, "五星好评": 5}


def find_rating(text: str) -> int | None:
    for word, value in _RATING_WORDS.items():
        if word in text:
            return value
    stars = text.count("⭐")
    if stars:
        return min(stars, 5)
    for m in _RATING_RE.finditer(text):
        value = to_int(m.group("n1") or m.group("n2") or m.group("n3") or m.group("n4"))
        if value is not None and 1 <= value <= 5:
            return value
    return None


def rating_value(span: str) -> int | None:
    # A bare number Rasa tagged as a rating (1+1等于几) is too weak; it needs 星/分/满分.
    return find_rating(span)


# ---------------------------------------------------------------- phones
PHONE_RE = re.compile(r"(?<![\d])(1[3-9]\d(?:[\s-]?\d){8})(?!\d)")
LANDLINE_RE = re.compile(r"(?<![\d])(0\d{2,3}[\s-]?\d{7,8})(?!\d)")
SPOKEN_PHONE_RE = re.compile(r"[幺一][三四五六七八九](?:[零〇幺一二三四五六七八九]\s*){9}")


def find_phone(text: str) -> str | None:
    for rx in (PHONE_RE, LANDLINE_RE):
        m = rx.search(text)
        if m:
            return re.sub(r"\D", "", m.group(1))
    m = SPOKEN_PHONE_RE.search(text)
    if m:
        return re.sub(r"\s", "", m.group(0)).translate(_SPOKEN_DIGITS)
    return None


def phone_value(span: str) -> str | None:
    return find_phone(span) or (digits if len(digits := re.sub(r"\D", "", span)) >= 7 else None)


# ---------------------------------------------------------------- order numbers
ORDER_RE = re.compile(r"(?<![\d])(#?\s*\d{3}[\s-]?\d{3})(?![\d])")
_ORDER_CONTEXT_RE = re.compile(r"(?:单号|订单号?|编号|号码|单子|[第#])\s*(?:是|为)?\s*([零〇幺一二三四五六七八九]{6})")


def find_order_id(text: str) -> str | None:
    # Phones first: their digits would otherwise look like two order numbers.
    masked = PHONE_RE.sub(" ", LANDLINE_RE.sub(" ", text))
    for m in ORDER_RE.finditer(masked):
        number = normalise_order_number(m.group(1))
        if number:
            return number
    m = _ORDER_CONTEXT_RE.search(masked)
    if m:
        return normalise_order_number(m.group(1).translate(_SPOKEN_DIGITS))
    return None


def order_id_value(span: str) -> str | None:
    return normalise_order_number(span.translate(_SPOKEN_DIGITS)) or find_order_id(span)
