"""The review inbox: what is kept, masked; labels; the export becomes training data."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from core.config import AppConfig
from core.db import Database
from core.errors import InvalidInput, NotFound
from nlu.examples import parse_examples, training_examples
from nlu.generate import render
from nlu.mask import Masker
from nlu.result import Entities, NluResult
from nlu.review import IRRELEVANT, LABELLED, NEW, ReviewQueue, miss_reason


def _result(intent: str, confidence: float, reason: str | None = None, service: str | None = None) -> NluResult:
    return NluResult("x", intent, confidence, Entities(service=service), reason)


def test_what_counts_as_a_miss() -> None:
    assert miss_reason(_result("nlu_fallback", 0.2, "low_confidence")) == "fallback"
    assert miss_reason(_result("nlu_fallback", 0.6, "out_of_scope")) == "fallback"
    assert miss_reason(_result("request_service", 0.42)) == "low_confidence"
    assert miss_reason(_result("request_service", 0.9)) is None
    for down in ("unreachable", "timeout", "unavailable", "empty", "no_words"):
        assert miss_reason(_result("nlu_fallback", 0.0, down)) is None  # not the NLU's miss


def test_phones_order_numbers_and_names_are_masked(config: AppConfig) -> None:
    masker = Masker(config)
    text = "俺叫王大山 电话13800001234 单号 123-456 上回张师傅来过 订单号是一二三四五六 幺三九一二三四五六七八九"
    masked = masker.mask(text)
    for secret in ("王大山", "13800001234", "123-456", "张师傅", "一二三四五六", "幺三九"):
        assert secret not in masked
    assert masked.count("【电话】") == 2 and masked.count("【单号】") == 2 and masked.count("【姓名】") == 2
    assert masker.mask("俺家电视坏了") == "俺家电视坏了"


def test_misses_are_kept_masked_and_labelled(
    db: Database, config: AppConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    queue = ReviewQueue(db, config, export_path=tmp_path / "examples.yml")
    caplog.set_level(logging.INFO, logger="nlu.review")
    fell_back = queue.note("俺家的驴不吃草了 俺电话13800001234", _result("nlu_fallback", 0.2, "low_confidence"))
    assert queue.note("冰箱坏了能来修下不", _result("request_service", 0.95, service="appliance_repair")) is None
    nlu_said = _result("request_service", 0.8, service="free_clinic")
    corrected = queue.note_correction("俺想找人来看看", nlu_said, "haircut")
    assert queue.note_correction("理发", _result("request_service", 0.8, service="haircut"), "haircut") is None
    assert fell_back and corrected
    inbox = queue.items()
    assert {i.id for i in inbox} == {fell_back, corrected}
    kept = next(i for i in inbox if i.id == fell_back)
    assert "13800001234" not in kept.text and "【电话】" in kept.text and kept.reason == "fallback"
    assert "13800001234" not in caplog.text and "驴" not in caplog.text  # logs: ids and lengths only

    queue.label(fell_back, "request_service", "agri_tech", "county_admin")
    queue.dismiss(corrected, "county_admin")
    assert queue.counts() == {NEW: 0, LABELLED: 1, IRRELEVANT: 1}
    with pytest.raises(InvalidInput):
        queue.label(fell_back, "request_service", "moon_landing", "county_admin")
    with pytest.raises(InvalidInput):
        queue.label(fell_back, "make_coffee", None, "county_admin")
    with pytest.raises(NotFound):
        queue.dismiss(99_999, "county_admin")

    path, count = queue.export()
    assert count == 1
    exported = parse_examples(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert [(e.intent, e.service) for e in exported] == [("request_service", "agri_tech")]
    assert "【电话】" in exported[0].text
    # The export is training data: the next build has it under its per-service intent.
    examples = training_examples(path)
    assert examples[-1].text == exported[0].text
    files = render(config, examples)
    assert exported[0].text in files["data/nlu.yml"]
