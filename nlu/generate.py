"""Build the Rasa project from nlu/ + config.yml (one source of truth for menu and villages).

    python -m nlu.generate            # prints the build dir

The build dir `var/nlu-build/<fingerprint>/` holds:
    config.yml            nlu/config.yml, copied
    domain.yml            nlu/domain.yml plus one `request_service+<id>` intent per menu service
    data/nlu.yml          the hand-written examples of nlu/data/examples.yml as Rasa data: requests
                          under per-service intents, village names marked as `village` spans
    data/lexicon.yml      lookup tables + synonyms (service words → menu id, village names → id)
    data/generated.yml    one templated request per configured menu name/synonym (so a station's
                          local menu items are understood without anyone writing examples)
    jieba/userdict.txt    the jieba user dictionary (menu, cue and village words)
    components/*.py       the custom Rasa components (nlu/rasa_components/), copied so the
                          fingerprint changes with them (Rasa imports them via PYTHONPATH)
The fingerprint hashes every file of the build plus the Rasa version, so the trained model can be
cached by it: same data, same model, no retraining.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.config import PROJECT_ROOT, AppConfig, load_config
from nlu.examples import NO_SERVICE, REQUEST, Example, rasa_intent, training_examples
from nlu.lexicon import Lexicon, TermIndex

SOURCE_DIR = Path(__file__).resolve().parent
COMPONENTS_DIR = SOURCE_DIR / "rasa_components"
BUILD_ROOT = PROJECT_ROOT / "var" / "nlu-build"
RASA_VERSION = "3.6.21"

log = logging.getLogger(__name__)

# Plain request sentences; {t} is a configured service name or synonym.  Rotated so each
# template gets a share of the words.
_TEMPLATES = (
    "能不能派人来[{t}](service)",
    "俺想[{t}](service)",
    "想请人来[{t}](service) 中不中",
    "[{t}](service)能安排不",
    "俺们村想要[{t}](service)",
    "给俺整个[{t}](service)",
    "想点个[{t}](service)",
    "[{t}](service)的能来一趟不",
    "帮俺找人[{t}](service)",
)


@dataclass(frozen=True)
class Build:
    path: Path
    fingerprint: str


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, the way Rasa training files are written by hand."""


_Dumper.add_representer(
    str,
    lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style="|" if "\n" in s else None),
)


def _dump(data: object) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)


def _owned(index: dict[str, str]) -> dict[str, list[str]]:
    """id → the words that map to it (each word once, to its one owner)."""
    by_id: dict[str, list[str]] = {}
    for word, ident in index.items():
        by_id.setdefault(ident, []).append(word)
    return by_id


def _block(lines: list[str]) -> str:
    return "".join(f"- {line}\n" for line in lines)


_SPAN = re.compile(r"\[[^\]]*\]\([^)]*\)")


def _mark_village(annotated: str, villages: TermIndex) -> str:
    """Mark the first village name outside existing spans: 俺是东山村的 → 俺是[东山村](village)的."""
    if "(village)" in annotated:
        return annotated
    found = villages.find(annotated)
    if found is None or any(m.start() < found.end and found.start < m.end() for m in _SPAN.finditer(annotated)):
        return annotated
    return f"{annotated[: found.start]}[{found.term}](village){annotated[found.end :]}"


def _training_data(
    examples: list[Example], config: AppConfig, lexicon: Lexicon
) -> tuple[list[dict[str, str]], list[str]]:
    """Rasa `nlu:` blocks (one per Rasa intent, in source order) and the intents they use."""
    menu = {s.id for s in config.menu.all_services}
    by_intent: dict[str, list[str]] = {}
    dropped = 0
    for ex in examples:
        if ex.intent == REQUEST and ex.service is not None and ex.service not in menu:
            dropped += 1  # a station took the service off its menu: nothing to learn it for
            continue
        by_intent.setdefault(ex.rasa_intent, []).append(_mark_village(ex.annotated, lexicon.villages))
    if dropped:
        log.info("nlu: %d examples of services not on the configured menu left out", dropped)
    blocks = [{"intent": name, "examples": _block(lines)} for name, lines in by_intent.items()]
    return blocks, list(by_intent)


def render(config: AppConfig, examples: list[Example] | None = None) -> dict[str, str]:
    """The build's files (relative path → text), deterministic for a given config and source.

    `examples` replaces the source's examples (cross-validation trains on a subset)."""
    lexicon = Lexicon.from_config(config)
    rasa_config = yaml.safe_load((SOURCE_DIR / "config.yml").read_text(encoding="utf-8"))
    examples = training_examples() if examples is None else examples
    blocks, used = _training_data(examples, config, lexicon)

    # A literal block style keeps the training files readable for whoever debugs them.
    lexicon_nlu: list[dict[str, str]] = []
    for index in (lexicon.services.terms, lexicon.villages.terms):
        for ident, words in _owned(index).items():
            lexicon_nlu.append({"synonym": ident, "examples": _block(words)})
    lexicon_nlu.append(
        {
            "lookup": "service",
            "examples": _block(sorted({t for ts in lexicon.service_terms_by_id.values() for t in ts})),
        }
    )
    lexicon_nlu.append(
        {
            "lookup": "village",
            "examples": _block(sorted({t for ts in lexicon.village_terms_by_id.values() for t in ts})),
        }
    )
    lexicon_nlu.append({"regex": "phone", "examples": _block([r"1[3-9]\d{9}"])})
    lexicon_nlu.append({"regex": "order_id", "examples": _block([r"[1-9]\d{5}"])})

    generated: dict[str, list[str]] = {}
    n = 0
    for service in config.menu.all_services:
        for term in dict.fromkeys([service.name, *service.synonyms]):
            generated.setdefault(rasa_intent(REQUEST, service.id), []).append(
                _TEMPLATES[n % len(_TEMPLATES)].format(t=term)
            )
            n += 1
    domain = yaml.safe_load((SOURCE_DIR / "domain.yml").read_text(encoding="utf-8"))
    contract = [i for i in domain["intents"] if i != REQUEST]
    services = [rasa_intent(REQUEST, s.id) for s in config.menu.all_services] + [rasa_intent(REQUEST, NO_SERVICE)]
    domain["intents"] = [*services, *contract]
    missing = set(used) - set(domain["intents"])
    if missing:
        raise ValueError(f"nlu/data/examples.yml: intents not in nlu/domain.yml: {sorted(missing)}")

    words = sorted({t for ts in lexicon.service_terms_by_id.values() for t in ts})
    words += sorted({t for ts in lexicon.village_terms_by_id.values() for t in ts} - set(words))
    return {
        "config.yml": _dump(rasa_config),
        "domain.yml": _dump(domain),
        "data/nlu.yml": _dump({"version": "3.1", "nlu": blocks}),
        "data/lexicon.yml": _dump({"version": "3.1", "nlu": lexicon_nlu}),
        "data/generated.yml": _dump(
            {"version": "3.1", "nlu": [{"intent": k, "examples": _block(v)} for k, v in generated.items()]}
        ),
        "jieba/userdict.txt": "".join(f"{w} 2000 n\n" for w in words),
        **{f"components/{f.name}": f.read_text(encoding="utf-8") for f in sorted(COMPONENTS_DIR.glob("*.py"))},
    }


def fingerprint(files: dict[str, str]) -> str:
    digest = hashlib.sha256(f"rasa=={RASA_VERSION}\n".encode())
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return digest.hexdigest()[:24]


def build(config: AppConfig, root: Path = BUILD_ROOT, examples: list[Example] | None = None) -> Build:
    """Write the build dir (atomically: concurrent test sessions may race) and return it."""
    files = render(config, examples)
    fp = fingerprint(files)
    target = root / fp
    if target.is_dir():
        return Build(target, fp)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{fp}-", dir=root))
    try:
        for name, text in files.items():
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        try:
            os.rename(tmp, target)
        except OSError:  # someone else finished the same build first
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Build(target, fp)


if __name__ == "__main__":
    print(build(load_config()).path)
