"""Per-service request intents: the client's sum, the service rule, folds, the one source."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest

from core.clock import LOCAL_TZ
from core.config import load_config
from nlu.client import NluClient, classify, has_words
from nlu.crossval import case_of, folds
from nlu.examples import Example, load_examples, parse_examples, split_rasa_intent
from nlu.normalise import ServiceGuess

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=LOCAL_TZ)


def _reply(ranking: dict[str, float], entities: list[dict[str, object]] | None = None) -> dict[str, object]:
    ranked = [{"name": n, "confidence": c} for n, c in sorted(ranking.items(), key=lambda kv: -kv[1])]
    return {"intent": ranked[0], "intent_ranking": ranked, "entities": entities or []}


@pytest.fixture(scope="module")
def client() -> NluClient:
    return NluClient("http://127.0.0.1:9", load_config(environ={}), timeout=1.0, threshold=0.5)


def _read(client: NluClient, text: str, reply: dict[str, object]) -> tuple[str, str | None, str | None]:
    r = client.interpret(text, text, reply, None, NOW)
    return r.intent, r.entities.service, r.fallback_reason


def test_split_mass_is_summed_before_the_threshold(client: NluClient) -> None:
    # No single service reaches 0.5, but the request as a whole does: a request, not a fallback.
    reply = _reply({"request_service+haircut": 0.35, "request_service+free_clinic": 0.3, "greet": 0.35})
    ranked, guess = classify(reply)
    assert ranked[0] == ("request_service", pytest.approx(0.65))
    assert guess == ServiceGuess("haircut", pytest.approx(0.35 / 0.65))
    assert _read(client, "俺想弄弄", reply) == ("request_service", "haircut", None)


def test_low_summed_confidence_falls_back(client: NluClient) -> None:
    low = _reply({"request_service+haircut": 0.3, "greet": 0.25, "thanks": 0.25, "deny": 0.2})
    assert _read(client, "嗯嗯", low)[0::2] == ("nlu_fallback", "low_confidence")


def test_a_correction_read_as_no_is_a_request_for_what_follows(client: NluClient) -> None:
    # 不是A 是B sounds like "no" to the classifier; it asks for B, whatever the classifier said of A.
    said_no = _reply({"deny": 0.6, "request_service+free_clinic": 0.3, "greet": 0.1})
    assert _read(client, "不是看病 是要理发", said_no) == ("request_service", "haircut", None)
    said_cancel = _reply({"cancel_order": 0.7, "request_service+utility_repair": 0.3})
    assert _read(client, "别派电工了 要修冰箱的", said_cancel)[:2] == ("request_service", "appliance_repair")
    # A plain "no" or "no thanks" stays what it is.
    assert _read(client, "不是这个", said_no)[:2] == ("deny", None)
    assert _read(client, "不用了 谢谢", said_no)[:2] == ("deny", None)


def test_a_sure_classifier_beats_a_menu_word_and_an_unsure_one_does_not(client: NluClient) -> None:
    # 电视上说有义诊: the menu word 电视 (appliances) is only where the resident heard of it.
    sure = _reply({"request_service+free_clinic": 0.8, "request_service+appliance_repair": 0.15, "greet": 0.05})
    assert _read(client, "电视上说有义诊", sure)[1] == "free_clinic"
    unsure = _reply(
        {"request_service+free_clinic": 0.3, "request_service+haircut": 0.25, "request_service+health_talk": 0.2}
    )
    assert _read(client, "俺想理发", unsure)[1] == "haircut"  # the menu word decides
    nothing = _reply({"request_service+none": 0.5, "request_service+haircut": 0.3, "greet": 0.2})
    assert _read(client, "我想点个单", nothing)[1] is None


def test_other_intents_ignore_the_service_classifier(client: NluClient) -> None:
    reply = _reply({"cancel_order": 0.9, "request_service+free_clinic": 0.1})
    assert _read(client, "理发那个单子不要了", reply) == ("cancel_order", "haircut", None)


def test_emoji_only_has_no_words() -> None:
    assert not has_words("😀🙏") and not has_words("？？。。") and not has_words("❤️")
    assert has_words("⭐⭐⭐") and has_words("ok") and has_words("理发") and has_words("3")


def test_rasa_intent_names_round_trip() -> None:
    assert split_rasa_intent("request_service+haircut") == ("request_service", "haircut")
    assert split_rasa_intent("request_service+none") == ("request_service", None)
    assert split_rasa_intent("greet") == ("greet", None)
    assert Example("俺想[理发](service)", "request_service", "haircut").rasa_intent == "request_service+haircut"


def test_source_format_errors_are_reported() -> None:
    with pytest.raises(ValueError, match="request_service"):
        parse_examples({"request_service": "- 俺想理发"})
    with pytest.raises(ValueError, match="greet"):
        parse_examples({"greet": ["你好"]})


def test_folds_are_disjoint_complete_and_stratified() -> None:
    examples = list(load_examples())
    parts = folds(examples, 5)
    assert sum(len(p) for p in parts) == len(examples)
    assert len({id(e) for p in parts for e in p}) == len(examples)
    assert folds(examples, 5) == parts  # seeded: the same folds every run
    for label in Counter(e.rasa_intent for e in examples):
        per_fold = [sum(e.rasa_intent == label for e in p) for p in parts]
        assert max(per_fold) - min(per_fold) <= 1, label
    with pytest.raises(ValueError):
        folds(examples, 1)


def test_cross_validation_scores_requests_on_their_service() -> None:
    case = case_of(Example("俺爹头发老长了", "request_service", "haircut"))
    assert (case.intent, case.entities, case.scored) == ("request_service", {"service": "haircut"}, {"service"})
    assert case_of(Example("今天多少度", "out_of_scope")).intent == "nlu_fallback"
    assert case_of(Example("我想点个单", "request_service", None)).entities == {}
