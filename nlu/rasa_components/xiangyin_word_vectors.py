"""Pretrained Chinese word vectors as dense features (runs inside the Rasa sidecar).

Why: the service of a request is often told as a situation (俺家老母猪不吃食, 水管子冻裂了)
whose words never occur in the training data.  Word and character n-grams cannot relate 母猪
to 牛 or 电饭煲 to 微波炉; pretrained vectors can, so the classifier generalises from 养牛
examples to a sow that is off its food.

The vectors are the 75-dimension, 129,691-word embedding shipped in the `cnsyn` package on
PyPI (Apache-2.0, installed into the Rasa venv by scripts/setup_rasa.sh; its nearest-neighbour
index is a scikit-learn BallTree over the vectors).  The package's own module is not imported
(it opens a search index at import time with a Windows path); only its data file is read, once
per process, and converted to a float32 matrix cached beside it.

A token the vocabulary lacks (jieba keeps 老母猪 or 理个发 whole) is split into the longest
known words from the left, down to single characters, and their vectors averaged; a token with
no known part gets zeros.  The sentence feature is the mean of the token vectors.

This file is imported by Rasa only (Python 3.10, Rasa 3.6): nlu/sidecar.py puts its folder on
PYTHONPATH, and nlu/generate.py hashes it into the model fingerprint.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES, FEATURIZER_CLASS_ALIAS, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

MAX_WORD = 6  # longest vocabulary word tried when splitting an unknown token


class WordVectors:
    """word → unit-length vector, with a longest-match back-off for unknown tokens."""

    def __init__(self, words: List[str], matrix: np.ndarray) -> None:
        self.index = {w: i for i, w in enumerate(words)}
        self.matrix = matrix
        self.dim = int(matrix.shape[1])
        self._zeros = np.zeros(self.dim, dtype=np.float32)

    def vector(self, token: str) -> np.ndarray:
        i = self.index.get(token)
        if i is not None:
            return self.matrix[i]
        parts = []
        start = 0
        while start < len(token):
            for end in range(min(len(token), start + MAX_WORD), start, -1):
                j = self.index.get(token[start:end])
                if j is not None:
                    parts.append(self.matrix[j])
                    start = end
                    break
            else:
                start += 1  # a character with no vector (punctuation, a rare glyph)
        return np.mean(parts, axis=0) if parts else self._zeros


_LOADED: Dict[str, WordVectors] = {}


def _cnsyn_tree() -> Path:
    spec = importlib.util.find_spec("cnsyn")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the word vectors need the `cnsyn` package in the Rasa venv: run scripts/setup_rasa.sh")
    return Path(next(iter(spec.submodule_search_locations))) / "query" / "words_tree_mini.m"


def load_vectors() -> WordVectors:
    """The vectors, read once per process (a float32 .npz cache is written on first use)."""
    tree = _cnsyn_tree()
    key = str(tree)
    if key in _LOADED:
        return _LOADED[key]
    cache = tree.with_name("xiangyin-vectors-f32.npz")
    if cache.exists():
        with np.load(cache, allow_pickle=False) as data:
            words, matrix = [str(w) for w in data["words"]], data["matrix"]
    else:
        import joblib

        raw = joblib.load(tree)
        words = [str(w) for w in raw["words"]]
        matrix = np.asarray(raw["model"].get_arrays()[0], dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix = matrix / np.where(norms > 0, norms, 1.0)
        # temp file + rename: two trainings may race to write the cache
        fd, tmp = tempfile.mkstemp(prefix=".vectors-", suffix=".npz", dir=tree.parent)
        os.close(fd)
        np.savez(tmp, words=np.array(words), matrix=matrix)
        os.replace(tmp, cache)
    vectors = WordVectors(words, matrix)
    _LOADED[key] = vectors
    logger.info("xiangyin word vectors: %d words x %d dims", len(words), vectors.dim)
    return vectors


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class WordVectorFeaturizer(DenseFeaturizer, GraphComponent):
    """Dense token and sentence features from pretrained Chinese word vectors."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        # `scale` multiplies the (unit-length) vectors: beside tens of thousands of sparse
        # n-gram counts, a linear classifier's regularisation would otherwise all but ignore them.
        return {**DenseFeaturizer.get_default_config(), "pooling": "mean", "scale": 1.0}

    @staticmethod
    def required_packages() -> List[str]:
        # Not "cnsyn": Rasa checks by importing, and cnsyn's module cannot be imported (see above).
        return ["numpy", "joblib"]

    def __init__(self, config: Dict[str, Any], execution_context: ExecutionContext) -> None:
        super().__init__(execution_context.node_name, config)
        self.vectors = load_vectors()

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "WordVectorFeaturizer":
        return cls(config, execution_context)

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        pass

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            for attribute in DENSE_FEATURIZABLE_ATTRIBUTES:
                tokens: Optional[List[Token]] = message.get(TOKENS_NAMES[attribute])
                if tokens:
                    self._add(message, attribute, *self._features(tokens))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def _features(self, tokens: List[Token]) -> Tuple[np.ndarray, np.ndarray]:
        sequence = np.stack([self.vectors.vector(t.text) for t in tokens]) * float(self._config["scale"])
        return sequence, self.aggregate_sequence_features(sequence, self._config["pooling"])

    def _add(self, message: Message, attribute: str, sequence: np.ndarray, sentence: np.ndarray) -> None:
        alias = self._config[FEATURIZER_CLASS_ALIAS]
        message.add_features(Features(sequence, FEATURE_TYPE_SEQUENCE, attribute, alias))
        message.add_features(Features(sentence, FEATURE_TYPE_SENTENCE, attribute, alias))
