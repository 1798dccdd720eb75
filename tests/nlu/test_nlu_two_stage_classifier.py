"""The intent classifier inside the Rasa venv (nlu/rasa_components/xiangyin_classifier.py) and
its sentence encoder (xiangyin_sentence_encoder.py): the encoder loads from the installed wheel and
reads meaning, its training cache answers without encoding again, and the two stages give one
distribution whose request shares sum to P(request)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from core.config import load_config
from nlu.generate import fingerprint, render
from nlu.sidecar import rasa_env, rasa_venv

pytestmark = pytest.mark.rasa

ENCODER_PROBE = """
import json, numpy as np
import xiangyin_sentence_encoder as se
enc = se.encoder()
v = enc.encode(["自来水管子冻裂了 满地是水", "水管爆了 到处漏水", "想给俺爹理个发"])
cos = lambda a, b: float(np.dot(a, b))
first = enc.encode_cached(["水管爆了 到处漏水", "想给俺爹理个发"])
calls = []
enc.encode = lambda texts: calls.append(list(texts)) or np.zeros((len(texts), se.DIM), np.float32)
again = enc.encode_cached(["想给俺爹理个发", "水管爆了 到处漏水"])
print(json.dumps({
    "shape": list(v.shape), "norm": float(np.linalg.norm(v[0])),
    "pipes": cos(v[0], v[1]), "pipe_hair": cos(v[0], v[2]),
    "cached_same": bool(np.allclose(first[::-1], again, atol=1e-6)), "encoded_again": calls,
}))
"""

STAGES_PROBE = """
import json, numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from xiangyin_classifier import Neighbours, TwoStages
rng = np.random.default_rng(7)
labels = ["greet", "volunteer_signup", "request_service+haircut", "request_service+free_clinic"]
y = [labels[i % 4] for i in range(200)]
X = csr_matrix(np.array([[1.0 * (labels.index(l) == j) + rng.normal(0, 0.3) for j in range(4)] for l in y]))
stages = TwoStages(lambda: LogisticRegression(max_iter=200, class_weight="balanced")).fit(X, y)
p = stages.predict_proba(X[:8])
names = stages.labels()
asks = [i for i, n in enumerate(names) if n.startswith("request_service+")]
folded = stages.intent.predict_proba(X[:8])[:, list(stages.intent.classes_).index("request_service")]
vectors = np.eye(4, dtype=np.float32)[[labels.index(l) for l in y]]  # one direction per label
stages.neighbours = Neighbours(vectors, np.array(y), k=5)
near = stages.predict_proba(X[:8], vectors[:8], 0.5)
votes, _ = stages.neighbours.votes(vectors[:2], stages.intent.classes_, stages.service.classes_)
try:
    TwoStages(lambda: LogisticRegression()).fit(X[:4], ["greet"] * 4)
    refused = False
except ValueError:
    refused = True
print(json.dumps({
    "names": sorted(names), "sums": p.sum(axis=1).tolist(),
    "request_share": np.allclose(p[:, asks].sum(axis=1), folded),
    "right": [names[i] for i in p.argmax(axis=1)] == y[:8], "refused": refused,
    "near_sums": near.sum(axis=1).tolist(), "near_right": [names[i] for i in near.argmax(axis=1)] == y[:8],
    "near_surer": bool((near.max(axis=1) >= p.max(axis=1) - 1e-9).all()),
    "votes": votes.tolist(), "vote_classes": stages.intent.classes_.tolist(),
}))
"""


def _probe(code: str, tmp_path: Path) -> dict[str, object]:
    python = rasa_venv() / "bin" / "python"
    if not python.exists():
        pytest.fail(f"no Rasa venv at {rasa_venv()}: run scripts/setup_rasa.sh")
    env = dict(rasa_env(), XIANGYIN_SENTENCE_CACHE=str(tmp_path / "vectors.sqlite3"))
    out = subprocess.run([str(python), "-c", code], env=env, capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_sentence_encoder_reads_meaning_and_caches(tmp_path: Path) -> None:
    got = _probe(ENCODER_PROBE, tmp_path)
    assert got["shape"] == [3, 384] and abs(float(got["norm"]) - 1.0) < 1e-3
    assert float(got["pipes"]) > float(got["pipe_hair"]) + 0.03
    # the second call finds both texts in the cache: nothing is encoded again
    assert got["cached_same"] is True and got["encoded_again"] == []
    assert (tmp_path / "vectors.sqlite3").exists()


def test_two_stages_give_one_distribution(tmp_path: Path) -> None:
    got = _probe(STAGES_PROBE, tmp_path)
    labels = ["greet", "volunteer_signup", "request_service+haircut", "request_service+free_clinic"]
    assert got["names"] == sorted(labels)
    assert all(abs(s - 1.0) < 1e-6 for s in got["sums"])  # type: ignore[union-attr]
    assert got["request_share"] is True and got["right"] is True
    assert got["refused"] is True  # no requests at all: a clear error, not a half-trained model
    # Neighbours: all five nearest share the message's label, so the blend leans further its way.
    assert all(abs(s - 1.0) < 1e-6 for s in got["near_sums"])  # type: ignore[union-attr]
    assert got["near_right"] is True and got["near_surer"] is True
    classes: list[str] = got["vote_classes"]  # type: ignore[assignment]
    votes: list[list[float]] = got["votes"]  # type: ignore[assignment]
    assert [classes[row.index(max(row))] for row in votes] == labels[:2] and abs(sum(votes[0]) - 1) < 1e-6


def test_components_are_in_the_project_and_its_fingerprint() -> None:
    files = render(load_config(environ={}))
    assert "xiangyin_classifier.TwoStageClassifier" in files["config.yml"]
    for name in ("xiangyin_classifier.py", "xiangyin_sentence_encoder.py"):
        changed = dict(files, **{f"components/{name}": files[f"components/{name}"] + "\n# changed\n"})
        assert fingerprint(changed) != fingerprint(files)
