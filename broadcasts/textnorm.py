"""Text → what a voice should say: dates, times, phone numbers, money, percentages, units.

Neural voices guess at "13800000001" or "14:30"; espeak-ng reads digits in English. So
every number is spelt out in Chinese here, the way a broadcaster would read it aloud, and
long text is split at sentence ends into chunks the speech service accepts.
"""

from __future__ import annotations

import re
import unicodedata

import cn2an

from broadcasts.errors import InvalidBroadcast

DIGITS = "零一二三四五六七八九"
PHONE_DIGITS = "零幺二三四五六七八九"  # 1 is 幺 in numbers read digit by digit

UNITS = {
    "km/h": "公里每小时",
    "m³": "立方米",
    "m²": "平方米",
    "㎡": "平方米",
    "km": "公里",
    "kg": "公斤",
    "mm": "毫米",
    "cm": "厘米",
    "mg": "毫克",
    "ml": "毫升",
    "mL": "毫升",
    "℃": "摄氏度",
    "°C": "摄氏度",
    "kW": "千瓦",
    "kWh": "千瓦时",
    "g": "克",
    "L": "升",
    "m": "米",
}
ABBREVIATIONS = {
    "APP": "手机应用",
    "App": "手机应用",
    "app": "手机应用",
    "WiFi": "无线网",
    "Wi-Fi": "无线网",
    "wifi": "无线网",
    "QQ": "扣扣",
    "PM2.5": "PM二点五",
    "No.": "第",
    "&": "和",
    "+": "加",
}
# Numbers read digit by digit: after these words, or an 11-digit mobile, or 0xx-xxxxxxx.
PHONE_CONTEXT = r"(?:电话|热线|拨打|手机|号码|联系|报警|求助|打)"
MOBILE = r"(?<!\d)1[3-9]\d{9}(?!\d)"
LANDLINE = r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)"

PERIODS = "凌晨|早上|早晨|上午|中午|下午|傍晚|晚上"
SENTENCE_END = "。!?;!?;…\n"
# edge-tts sends at most 4096 bytes of escaped SSML text per request; stay well under it.
MAX_CHUNK_BYTES = 3000

# What a Chinese voice can say: CJK, ASCII, CJK/fullwidth punctuation and a few symbols.
_SAYABLE = re.compile(
    r"[\u4e00-\u9fff\u3400-\u4dbf\u3000-\u303f\uff00-\uffef\u2000-\u206f"
    r"\u0020-\u007e\u00b0\u00b7\u00d7\u2103\u33a1\u00b2\u00b3\u00a5\u2014\u2026\n\r\t]"
)


def number_zh(digits: str) -> str:
    """'300' → 三百, '2000' → 两千, '1.5' → 一点五 (a spoken quantity)."""
    text = cn2an.an2cn(digits.replace(",", ""), "low")
    # 两 before a unit of magnitude sounds right (两百, 两千, 两万); 二十 stays.
    return re.sub(r"(?<![一二三四五六七八九十])二(?=[百千万亿])", "两", text)


def digits_zh(digits: str, phone: bool = False) -> str:
    table = PHONE_DIGITS if phone else DIGITS
    return "".join(table[int(c)] for c in digits if c.isdigit())


def _time_zh(hour: int, minute: int, said_period: str | None = None) -> str:
    if said_period in ("下午", "傍晚", "晚上") and hour < 12:
        hour += 12  # "晚上9:00" means 21:00
    if said_period:
        period = said_period
    elif hour < 5:
        period = "凌晨"
    elif hour < 9:
        period = "早上"
    elif hour < 12:
        period = "上午"
    elif hour < 13:
        period = "中午"
    elif hour < 18:
        period = "下午"
    else:
        period = "晚上"
    h12 = hour if hour <= 12 else hour - 12
    hour_zh = "两" if h12 == 2 else number_zh(str(h12))
    if minute == 0:
        return f"{period}{hour_zh}点"
    if minute == 30:
        return f"{period}{hour_zh}点半"
    minute_zh = f"零{DIGITS[minute]}" if minute < 10 else number_zh(str(minute))
    return f"{period}{hour_zh}点{minute_zh}分"


def _date_zh(year: str | None, month: str, day: str | None) -> str:
    out = f"{digits_zh(year)}年" if year else ""
    out += f"{number_zh(str(int(month)))}月"
    if day:
        out += f"{number_zh(str(int(day)))}日"
    return out


def _sub(pattern: str, repl, text: str) -> str:  # type: ignore[no-untyped-def]
    return re.sub(pattern, repl, text)


def normalise(text: str) -> str:
    """The spoken form of `text` (Chinese numerals, units and symbols read out)."""
    t = unicodedata.normalize("NFKC", text).replace("\r\n", "\n")
    # NFKC turns ℃ into °C and ㎡ into m2; put the units back in one spelling.
    t = t.replace("m2", "m²").replace("m3", "m³")
    for abbr in sorted(ABBREVIATIONS, key=len, reverse=True):
        t = t.replace(abbr, ABBREVIATIONS[abbr])
    # Dates: 2026-06-01, 2026/6/1, 2026年6月1日, 6月1日.
    t = _sub(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)", lambda m: _date_zh(*m.groups()), t)
    t = _sub(r"(?<!\d)(\d{4})年(?:(\d{1,2})月(?:(\d{1,2})[日号])?)?", _year_month_day, t)
    t = _sub(r"(?<!\d)(\d{1,2})月(\d{1,2})[日号]", lambda m: _date_zh(None, m[1], m[2]), t)
    t = _sub(r"(?<!\d)(\d{1,2})月(?!\d)", lambda m: f"{number_zh(m[1])}月", t)
    # Times: 14:30, 8:05, 9点30分 (the last is said fine once digits are spelt out below).
    # A period word already said (下午14:30) is not said twice.
    t = _sub(
        rf"({PERIODS})?\s*(?<![\d:])([01]?\d|2[0-3])[::]([0-5]\d)(?![\d:])",
        lambda m: _time_zh(int(m[2]), int(m[3]), m[1]),
        t,
    )
    # Phone numbers, digit by digit with 幺.
    t = _sub(MOBILE, lambda m: digits_zh(m[0], phone=True), t)
    t = _sub(LANDLINE, lambda m: digits_zh(m[0], phone=True), t)
    t = _sub(
        PHONE_CONTEXT + r"([::]?\s*)(\d[\d\- ]{1,}\d)(?!\d)",
        lambda m: m[0][: m.start(1) - m.start(0)] + m[1] + digits_zh(m[2], phone=True),
        t,
    )
    # Money: ¥200, 200元, 1.5万元, 2,000元.
    t = _sub(r"[¥¥]\s*(\d[\d,]*(?:\.\d+)?)", lambda m: f"{number_zh(m[1])}元", t)
    # Percentages and ranges: 15%, 3~5天, 3-5天.
    t = _sub(r"(\d+(?:\.\d+)?)\s*%", lambda m: f"百分之{number_zh(m[1])}", t)
    t = _sub(r"(\d+(?:\.\d+)?)\s*[~～\-—至]\s*(\d+(?:\.\d+)?)", lambda m: f"{m[1]}到{m[2]}", t)
    # Temperatures below zero, then number + unit.
    t = _sub(r"[-−]\s*(\d+(?:\.\d+)?)\s*(℃|°C)", lambda m: f"零下{number_zh(m[1])}摄氏度", t)
    units = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
    t = _sub(
        rf"(\d[\d,]*(?:\.\d+)?)\s*({units})(?![A-Za-z])",
        lambda m: f"{number_zh(m[1])}{UNITS[m[2]]}",
        t,
    )
    # Whatever digits remain are quantities.
    t = _sub(r"\d[\d,]*(?:\.\d+)?", lambda m: number_zh(m[0]), t)
    t = t.replace("×", "乘").replace("·", "").replace("—", ",")
    return re.sub(r"[ \t]+", " ", t).strip()


def _year_month_day(m: re.Match[str]) -> str:
    year, month, day = m.groups()
    if month is None:
        return f"{digits_zh(year)}年"
    return _date_zh(year, month, day)


def unsayable(text: str) -> list[str]:
    """Characters no Chinese voice can say (emoji, symbols from other scripts)."""
    return sorted({c for c in text if not _SAYABLE.match(c)})


def check_text(text: str, max_chars: int) -> str:
    """The stripped text, or a clear error before anything is stored or scheduled."""
    stripped = text.strip() if isinstance(text, str) else ""
    if not stripped:
        raise InvalidBroadcast("广播内容不能为空。", "text is empty")
    if len(stripped) > max_chars:
        raise InvalidBroadcast(
            f"广播内容太长了:{len(stripped)} 个字,最多 {max_chars} 个字。请分成几条。",
            f"text has {len(stripped)} characters, the limit is {max_chars}",
        )
    bad = unsayable(stripped)
    if bad:
        shown = " ".join(bad[:5])
        raise InvalidBroadcast(
            f"广播内容里有念不出来的符号:{shown}。请删掉表情和特殊符号。",
            f"text contains characters the voice cannot say: {[f'U+{ord(c):04X}' for c in bad[:10]]}",
        )
    if not re.search(r"[\u4e00-\u9fff\u3400-\u4dbfA-Za-z0-9]", stripped):
        raise InvalidBroadcast("广播内容里没有可以念的字。", "text has no speakable characters")
    return stripped


def split_for_speech(text: str, max_bytes: int = MAX_CHUNK_BYTES) -> list[str]:
    """Split at sentence ends (then commas, then anywhere) so each chunk fits `max_bytes`."""
    sentences = [s.strip() for s in re.findall(rf"[^{SENTENCE_END}]*[{SENTENCE_END}]?", text) if s.strip()]
    chunks: list[str] = []
    current = ""
    for sentence in sentences:
        for piece in _fit(sentence, max_bytes):
            if len((current + piece).encode()) <= max_bytes:
                current += piece
            else:
                chunks.append(current)
                current = piece
    if current:
        chunks.append(current)
    return chunks


def _fit(sentence: str, max_bytes: int) -> list[str]:
    if len(sentence.encode()) <= max_bytes:
        return [sentence]
    parts = [p for p in re.findall(r"[^,,、::]*[,,、::]?", sentence) if p]
    if len(parts) > 1:
        return [x for p in parts for x in _fit(p, max_bytes)]
    # One enormous clause: cut at character boundaries.
    out, current = [], ""
    for c in sentence:
        if len((current + c).encode()) > max_bytes:
            out.append(current)
            current = ""
        current += c
    return [*out, current] if current else out
