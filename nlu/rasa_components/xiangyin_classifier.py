"""Rasa's logistic-regression intent classifier with its regularisation strength configurable
(runs inside the Rasa sidecar, like xiangyin_word_vectors.py).

Rasa 3.6's `LogisticRegressionClassifier` fixes scikit-learn's C at 1.0.  With ~40,000 sparse
n-gram features and 75 dense word-vector features over ~2,500 short messages, weaker
regularisation (C = 10) generalised better in 5-fold cross-validation (README "nlu").
"""

from __future__ import annotations

from typing import Any, Dict

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class RegularisedLogisticRegression(LogisticRegressionClassifier):
    """LogisticRegressionClassifier plus a `C` setting (inverse regularisation strength)."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "C": 1.0}

    def __init__(
        self,
        config: Dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=float(self.config["C"]))
