"""The Rasa project: generated from config.yml and one source of examples, enough hand-written
data, every held-out file kept apart."""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml

from core.config import AppConfig, load_config
from nlu import INTENTS
from nlu.evaluate import load_heldout
from nlu.examples import REQUEST, load_examples, plain
from nlu.generate import build, fingerprint, render
from nlu.normalise import Normaliser

ROOT = Path(__file__).resolve().parents[2]
HELDOUT_FILES = sorted((ROOT / "nlu" / "tests_data").glob("*.yml"))


def _examples() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for ex in load_examples():
        out.setdefault(ex.intent, []).append(ex.text)
    return out


def _key(text: str) -> str:
    """A sentence without spaces and punctuation: 不用了, 谢谢 and 不用了 谢谢 are one sentence
    (a message of symbols only, ⭐⭐⭐ or 😀, is its own key)."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN") or text.strip()


@pytest.fixture(scope="module")
def config() -> AppConfig:
    return load_config(environ={})


def test_every_intent_has_forty_hand_written_examples() -> None:
    examples = _examples()
    assert set(INTENTS) <= set(examples)
    assert {i: len(examples[i]) for i in INTENTS if len(examples[i]) < 40} == {}


def test_every_menu_service_has_forty_examples_mostly_situations(config: AppConfig) -> None:
    normaliser = Normaliser(config)
    requests = [ex for ex in load_examples() if ex.intent == REQUEST]
    per_service = Counter(ex.service for ex in requests)
    assert {s.id: per_service[s.id] for s in config.menu.all_services if per_service[s.id] < 40} == {}
    # Most describe a situation: per service, most do not use the service's menu name, and
    # overall most use no configured name or synonym of any service.
    names = {s.id: s.name for s in config.menu.all_services}
    by_name = Counter(ex.service for ex in requests if ex.service and names[ex.service] in ex.text)
    assert {sid: by_name[sid] for sid in names if by_name[sid] * 2 > per_service[sid]} == {}
    words = {w for s in config.menu.all_services for w in (s.name, *s.synonyms)}
    plain_words = [ex for ex in requests if not any(w in ex.text for w in words)]
    assert len(plain_words) * 2 > len(requests), (len(plain_words), len(requests))
    assert normaliser.service_in_text("俺想理个发") == "haircut"


def test_no_sentence_is_written_twice() -> None:
    keys = Counter(_key(ex.text) for ex in load_examples())
    assert [k for k, n in keys.items() if n > 1] == []


def test_examples_are_well_formed() -> None:
    for ex in load_examples():
        assert plain(ex.annotated) == ex.text and ex.text.strip() == ex.text and ex.text, ex
        assert ex.text.count("[") == ex.text.count("](") == 0, ex  # every [span](entity) closed


@pytest.mark.parametrize("path", HELDOUT_FILES, ids=lambda p: p.name)
def test_no_held_out_sentence_is_trained_on(path: Path) -> None:
    cases = load_heldout(path)
    trained = {_key(ex.text) for ex in load_examples()}
    # Only a count: the frozen file's sentences are not to be read while developing.
    assert sum(_key(c.text) in trained for c in cases) == 0, f"{path.name}: sentences also in nlu/data/examples.yml"


@pytest.mark.parametrize(("name", "size"), [("heldout.yml", 200), ("heldout_fresh.yml", 50), ("dev.yml", 120)])
def test_heldout_sets_are_large_enough(name: str, size: int) -> None:
    cases = load_heldout(ROOT / "nlu" / "tests_data" / name)
    assert len(cases) >= size
    assert {c.intent for c in cases} >= set(INTENTS)


def test_build_is_generated_from_config(config: AppConfig, tmp_path: Path) -> None:
    files = render(config)
    assert render(config) == files  # deterministic, so the fingerprint is stable
    lexicon = yaml.safe_load(files["data/lexicon.yml"])["nlu"]
    synonyms = {b["synonym"]: b["examples"] for b in lexicon if "synonym" in b}
    lookups = {b["lookup"]: b["examples"] for b in lexicon if "lookup" in b}
    assert "- 剪头" in synonyms["haircut"] and "- 东山屯" in synonyms["dongshan"]
    assert "- 柑橘换新" in lookups["service"] and "- 石门坎" in lookups["village"]
    assert "理个发 2000 n" in files["jieba/userdict.txt"]
    rasa_config = yaml.safe_load(files["config.yml"])
    # The threshold is the client's (on the summed request_service), not Rasa's FallbackClassifier.
    assert "FallbackClassifier" not in {c["name"] for c in rasa_config["pipeline"]}
    domain = yaml.safe_load(files["domain.yml"])["intents"]
    assert {f"request_service+{s.id}" for s in config.menu.all_services} | {"request_service+none"} <= set(domain)
    assert "request_service" not in domain and set(INTENTS) - {"request_service"} <= set(domain)
    data = yaml.safe_load(files["data/nlu.yml"])["nlu"]
    assert {b["intent"] for b in data} <= set(domain)
    assert "[东山村](village)" in files["data/nlu.yml"]  # village names marked by the generator

    b = build(config, root=tmp_path)
    assert b.path == tmp_path / fingerprint(files)
    assert (b.path / "data" / "nlu.yml").is_file() and (b.path / "jieba" / "userdict.txt").is_file()
    assert build(config, root=tmp_path) == b  # second build reuses the first


def test_fingerprint_follows_menu_and_villages(config: AppConfig) -> None:
    raw = config.model_dump()
    raw["centre"]["institutes"][0]["villages"][0]["aliases"].append("东山坡")
    changed = AppConfig.model_validate(raw)
    assert fingerprint(render(changed)) != fingerprint(render(config))
    assert "- 东山坡" in render(changed)["data/lexicon.yml"]
