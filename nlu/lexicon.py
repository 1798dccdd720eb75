"""Words → ids, built from config.yml (menu, villages) plus nlu/service_cues.yml.

One lexicon feeds both the Rasa build (lookup tables, synonyms, jieba dictionary, see
nlu/generate.py) and the app-side normaliser, so the two never disagree about what
"剪头" means.  Matching is exact first, then by pinyin (homophone typos: 里发 → 理发), then
fuzzy (one wrong character in a village name: 东三村 → 东山村).
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jieba
import yaml
from pypinyin import lazy_pinyin

from core.config import AppConfig

CUES_PATH = Path(__file__).with_name("service_cues.yml")
jieba.setLogLevel(logging.WARNING)  # its start-up chatter is not ours to log


@cache
def _pinyin(ch: str) -> str:
    return lazy_pinyin(ch)[0] if "\u4e00" <= ch <= "\u9fff" else ch.lower()


def pinyin_key(text: str) -> tuple[str, ...]:
    return tuple(_pinyin(ch) for ch in text)


@cache
def load_cues(path: Path = CUES_PATH) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """(strong cues, weak cues), each service id → words."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    weak = raw.pop("weak", None) or {}

    def words(d: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
        return {str(k): tuple(str(w) for w in v or []) for k, v in d.items()}

    return words(raw), words(weak)


@dataclass(frozen=True)
class Match:
    id: str
    term: str
    start: int
    end: int


class TermIndex:
    """Terms (≥2 characters) mapped to ids; finds them in free text."""

    def __init__(self, terms: dict[str, str], *, fuzzy_cutoff: float) -> None:
        self.terms = {t: i for t, i in terms.items() if len(t) >= 2}
        self.ids = set(terms.values())
        self._by_length = sorted(self.terms, key=len, reverse=True)
        self._pinyin = {pinyin_key(t): i for t, i in self.terms.items() if len(t) >= 2}
        self._fuzzy_cutoff = fuzzy_cutoff

    def lookup(self, value: str) -> str | None:
        """An entity value Rasa extracted (or an id after Rasa's synonym mapping) → id."""
        value = value.strip()
        if value in self.ids:
            return value
        if value in self.terms:
            return self.terms[value]
        found = self.find(value)
        if found:
            return found.id
        close = difflib.get_close_matches(value, self.terms, n=1, cutoff=self._fuzzy_cutoff)
        return self.terms[close[0]] if close else None

    def find(self, text: str) -> Match | None:
        """The best term in free text: the longest exact one, else the longest homophone.

        Two-character terms must also be whole jieba words, so 家电 does not fire inside
        俺家电话 (俺/家/电话)."""
        words: list[tuple[int, int]] | None = None

        def whole_word(start: int, end: int) -> bool:
            # Whole words, or the head/start of one word (露天电影 → 电影), never a span
            # straddling two words (俺/家/电话 → not 家电).
            nonlocal words
            if end - start > 2:
                return True
            if words is None:
                words = word_spans(text, tuple(self.terms))
            cuts = {b for span in words for b in span}
            if start in cuts and end in cuts:
                return True
            return any(ws <= start and end <= we and (ws == start or we == end) for ws, we in words)

        best: Match | None = None
        for term in self._by_length:
            if best is not None and len(term) < len(best.term):
                break
            pos = text.find(term)
            while pos >= 0 and not whole_word(pos, pos + len(term)):
                pos = text.find(term, pos + 1)
            if pos >= 0 and (best is None or pos < best.start):
                best = Match(self.terms[term], term, pos, pos + len(term))
        return best or self._find_homophone(text, whole_word)

    def _find_homophone(self, text: str, whole_word: Callable[[int, int], bool]) -> Match | None:
        keys = pinyin_key(text)
        lengths = sorted({len(k) for k in self._pinyin}, reverse=True)
        known = tokenizer(tuple(self.terms)).FREQ
        for n in lengths:
            for start in range(len(keys) - n + 1):
                hit = self._pinyin.get(keys[start : start + n])
                if not hit or not whole_word(start, start + n):
                    continue
                # A real word that merely sounds alike (大家 ~ 打架) is not a typo.
                if n == 2 and known.get(text[start : start + n], 0) > 0:
                    continue
                return Match(hit, text[start : start + n], start, start + n)
        return None


_TOKENIZERS: dict[tuple[str, ...], jieba.Tokenizer] = {}


def tokenizer(terms: tuple[str, ...]) -> jieba.Tokenizer:
    """A jieba tokenizer (not the global one) that knows the menu and village words."""
    tok = _TOKENIZERS.get(terms)
    if tok is None:
        tok = jieba.Tokenizer()
        for t in terms:
            tok.add_word(t, freq=2000)
        _TOKENIZERS[terms] = tok
    return tok


def word_spans(text: str, terms: tuple[str, ...]) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for word in tokenizer(terms).cut(text, HMM=False):
        spans.append((pos, pos + len(word)))
        pos += len(word)
    return spans


@dataclass(frozen=True)
class Lexicon:
    services: TermIndex
    weak_services: TermIndex  # only when `services` finds nothing
    villages: TermIndex
    service_terms_by_id: dict[str, tuple[str, ...]]
    village_terms_by_id: dict[str, tuple[str, ...]]

    @classmethod
    def from_config(cls, config: AppConfig) -> Lexicon:
        configured = {s.id: _dedupe([s.name, *s.synonyms]) for s in config.menu.all_services}
        strong, weak = load_cues()
        cues = {sid: list(words) for sid, words in strong.items() if sid in configured}
        weak_cues = {sid: list(words) for sid, words in weak.items() if sid in configured}
        # Configured names and synonyms claim a word before any cue word does.
        service_index = {**_invert(cues), **_invert(configured)}
        weak_index = {w: sid for w, sid in _invert(weak_cues).items() if w not in service_index}
        service_terms = {
            sid: _dedupe([*terms, *cues.get(sid, []), *weak_cues.get(sid, [])]) for sid, terms in configured.items()
        }
        village_terms = {v.id: _dedupe([v.name, *v.aliases]) for v in config.villages.values()}
        return cls(
            services=TermIndex(service_index, fuzzy_cutoff=0.75),
            weak_services=TermIndex(weak_index, fuzzy_cutoff=1.0),
            villages=TermIndex(_invert(village_terms), fuzzy_cutoff=0.6),
            service_terms_by_id={k: tuple(v) for k, v in service_terms.items()},
            village_terms_by_id={k: tuple(v) for k, v in village_terms.items()},
        )


def _dedupe(words: list[str]) -> list[str]:
    return list(dict.fromkeys(w.strip() for w in words if w.strip()))


def _invert(terms_by_id: dict[str, list[str]]) -> dict[str, str]:
    # A word claimed by two services keeps its first owner (config order).
    inverted: dict[str, str] = {}
    for ident, terms in terms_by_id.items():
        for t in terms:
            inverted.setdefault(t, ident)
    return inverted
