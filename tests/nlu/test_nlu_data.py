"""The Rasa project: generated from config.yml, enough hand-written data, held-out kept apart."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from core.config import AppConfig, load_config
from nlu import INTENTS
from nlu.evaluate import load_heldout
from nlu.generate import build, fingerprint, render
from nlu.normalise import Normaliser

ROOT = Path(__file__).resolve().parents[2]
_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def _examples() -> dict[str, list[str]]:
    data = yaml.safe_load((ROOT / "nlu" / "data" / "nlu.yml").read_text(encoding="utf-8"))
    out: dict[str, list[str]] = {}
    for block in data["nlu"]:
        lines = [ln.strip()[2:] for ln in block["examples"].splitlines() if ln.strip().startswith("- ")]
        out.setdefault(block["intent"], []).extend(_ANNOTATION.sub(r"\1", ln) for ln in lines)
    return out


@pytest.fixture(scope="module")
def config() -> AppConfig:
    return load_config(environ={})


def test_every_intent_has_forty_hand_written_examples() -> None:
    examples = _examples()
    assert set(INTENTS) <= set(examples)
    assert {i: len(examples[i]) for i in INTENTS if len(examples[i]) < 40} == {}


def test_every_menu_service_is_asked_for_eight_ways(config: AppConfig) -> None:
    normaliser = Normaliser(config)
    ways = Counter(normaliser.service_in_text(t) for t in set(_examples()["request_service"]))
    assert {s.id: ways[s.id] for s in config.menu.services if ways[s.id] < 8} == {}


@pytest.mark.parametrize(("name", "size"), [("heldout.yml", 200), ("heldout_fresh.yml", 50)])
def test_heldout_is_separate_and_large_enough(name: str, size: int) -> None:
    cases = load_heldout(ROOT / "nlu" / "tests_data" / name)
    trained = {t for texts in _examples().values() for t in texts}
    assert len(cases) >= size
    assert [c.text for c in cases if c.text in trained] == []
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
    fallback = next(c for c in rasa_config["pipeline"] if c["name"] == "FallbackClassifier")
    assert fallback["threshold"] == config.nlu.confidence_threshold

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
