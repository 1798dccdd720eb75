"""The one source of training examples, the files of `nlu/data/` (`examples.yml`, the first
set, and `situations_*.yml`, situations added later by other writers), and how it maps to Rasa
intents.  Every file has the same format; a sentence is written once across all of them.

Format (YAML)::

    request_service:
      haircut: |              # a menu id, or `none` for a request with no identifiable service
        - 俺爹头发老长了 能来个人帮着弄弄不
    check_order: |
      - 我点的单有人接没

Each `request_service` group becomes the Rasa intent `request_service+<id>`: the classifier
predicts the service from the whole message, and the client (nlu/client.py) sums the groups
back into the DESIGN.md intent `request_service`.  `[text](entity)` marks an entity span.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

EXAMPLES_DIR = Path(__file__).resolve().parent / "data"
# Labelled messages exported from the review inbox (nlu/review.py), same format; generated.
DEFAULT_REVIEWED = Path(__file__).resolve().parent.parent / "var" / "nlu-review" / "examples.yml"


def reviewed_path() -> Path:
    """Where the review inbox exports to (XIANGYIN_NLU_REVIEWED overrides; tests use a tmp dir)."""
    return Path(os.environ.get("XIANGYIN_NLU_REVIEWED", DEFAULT_REVIEWED))


REQUEST = "request_service"
NO_SERVICE = "none"
SEPARATOR = "+"
_ANNOTATION = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")


@dataclass(frozen=True)
class Example:
    annotated: str  # as written, with [span](entity) marks
    intent: str  # a contract intent, or the internal out_of_scope
    service: str | None = None  # request_service only: a menu id, None for `none`

    @property
    def text(self) -> str:
        return plain(self.annotated)

    @property
    def rasa_intent(self) -> str:
        return rasa_intent(self.intent, self.service) if self.intent == REQUEST else self.intent


def plain(annotated: str) -> str:
    """'俺想[理发](service)' → '俺想理发'."""
    return _ANNOTATION.sub(r"\1", annotated)


def rasa_intent(intent: str, service: str | None) -> str:
    return f"{intent}{SEPARATOR}{service or NO_SERVICE}" if intent == REQUEST else intent


def split_rasa_intent(name: str) -> tuple[str, str | None]:
    """'request_service+haircut' → ('request_service', 'haircut'); 'greet' → ('greet', None)."""
    intent, _, service = name.partition(SEPARATOR)
    return intent, (service if service and service != NO_SERVICE else None)


def _lines(block: object, where: str) -> list[str]:
    if not isinstance(block, str):
        raise ValueError(f"{where}: expected a block of '- example' lines")
    return [ln.strip()[2:].strip() for ln in block.splitlines() if ln.strip().startswith("- ")]


def parse_examples(raw: object) -> list[Example]:
    if not isinstance(raw, dict):
        raise ValueError("expected a mapping of intents")
    examples: list[Example] = []
    for intent, body in raw.items():
        if intent == "version":
            continue
        if intent == REQUEST:
            if not isinstance(body, dict):
                raise ValueError(f"{REQUEST}: expected a mapping of service ids")
            for service, block in body.items():
                sid = None if service == NO_SERVICE else str(service)
                examples += [Example(t, REQUEST, sid) for t in _lines(block, f"{REQUEST}.{service}")]
        else:
            examples += [Example(t, str(intent)) for t in _lines(body, str(intent))]
    return examples


@cache
def load_examples(folder: Path = EXAMPLES_DIR) -> tuple[Example, ...]:
    """Every example of every `*.yml` file in the folder, files in name order."""
    examples: list[Example] = []
    for path in sorted(folder.glob("*.yml")):
        try:
            examples += parse_examples(yaml.safe_load(path.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise ValueError(f"{path.name}: {exc}") from None
    return tuple(examples)


def training_examples(reviewed: Path | None = None) -> list[Example]:
    """The source's examples plus the review inbox's export, if any (a sentence once)."""
    reviewed = reviewed or reviewed_path()
    examples = list(load_examples())
    if reviewed.exists():
        seen = {ex.text for ex in examples}
        for ex in parse_examples(yaml.safe_load(reviewed.read_text(encoding="utf-8")) or {}):
            if ex.text not in seen:
                seen.add(ex.text)
                examples.append(ex)
    return examples
