"""The pretrained word vectors inside the Rasa venv (nlu/rasa_components/xiangyin_word_vectors.py):
they load, relate a situation's words to the service's, back off for words they lack, and the
component is part of the generated project and its fingerprint."""

from __future__ import annotations

import json
import subprocess

import pytest

from core.config import load_config
from nlu.generate import COMPONENTS_DIR, fingerprint, render
from nlu.sidecar import rasa_env, rasa_venv

pytestmark = pytest.mark.rasa

PROBE = """
import json, numpy as np
import xiangyin_word_vectors as wv
v = wv.load_vectors()
cos = lambda a, b: float(np.dot(v.vector(a), v.vector(b)) / (np.linalg.norm(v.vector(a)) * np.linalg.norm(v.vector(b))))
print(json.dumps({
    "words": len(v.index), "dim": v.dim,
    "pig_cow": cos("猪", "牛"), "pig_tv": cos("猪", "电视"),
    "cooker_oven": cos("电饭煲", "微波炉"), "cooker_haircut": cos("电饭煲", "理发"),
    "sow_known": "老母猪" in v.index, "sow_norm": float(np.linalg.norm(v.vector("老母猪"))),
    "nothing_norm": float(np.linalg.norm(v.vector("⭐"))),
}))
"""


def test_vectors_relate_situations_and_back_off() -> None:
    python = rasa_venv() / "bin" / "python"
    if not python.exists():
        pytest.fail(f"no Rasa venv at {rasa_venv()}: run scripts/setup_rasa.sh")
    out = subprocess.run(
        [str(python), "-c", PROBE], env=rasa_env(), capture_output=True, text=True, timeout=300, check=True
    )
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["words"] > 100_000 and got["dim"] == 75
    assert got["pig_cow"] > got["pig_tv"] + 0.2
    assert got["cooker_oven"] > got["cooker_haircut"] + 0.2
    # 老母猪 is not in the vocabulary: its parts (老, 母猪) stand in for it; a star has no vector.
    assert not got["sow_known"] and got["sow_norm"] > 0.3
    assert got["nothing_norm"] == 0.0


def test_component_is_in_the_project_and_its_fingerprint() -> None:
    files = render(load_config(environ={}))
    source = (COMPONENTS_DIR / "xiangyin_word_vectors.py").read_text(encoding="utf-8")
    assert files["components/xiangyin_word_vectors.py"] == source
    assert "xiangyin_word_vectors.WordVectorFeaturizer" in files["config.yml"]
    changed = dict(files, **{"components/xiangyin_word_vectors.py": source + "\n# changed\n"})
    assert fingerprint(changed) != fingerprint(files)
