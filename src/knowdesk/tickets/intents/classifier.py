"""Intent (category / team) classifier with out-of-scope detection.

A linear SVM (one-vs-rest) over `TextFeatures`; a softmax of its scores, at a temperature fitted
on cross-validated predictions, turns them into probabilities. A message is out of scope (`oos`)
when the best class is `oos` (present when the workspace labelled some examples `oos`) or when
the probability of its best real intent falls below a threshold. The threshold is learnt from the
training examples alone, by cross-validation:
- with `oos` examples: out-of-fold probabilities of those examples; the threshold is the lowest
  that flags `oos_recall` of them;
- without: groups of intents are held out in turn and play the unknown messages; the threshold
  flags `heldout_recall` of them. Held-out intents are neighbours of the known ones (the same
  workspace's vocabulary), so they are harder to tell apart than real out-of-scope messages,
  and a lower target on them gives the real recall aimed at (see bench/intents_research.py).
The fitted model is arrays plus JSON (`to_bytes` / `from_bytes`), no pickle.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize_scalar
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from knowdesk.tickets.intents.features import Embedder, FeatureConfig, TextFeatures

OOS_LABEL = "oos"
_FORMAT_VERSION = 1


@dataclass(frozen=True)
class Prediction:
    label: str  # the routed intent, or "oos" when a person should look
    confidence: float  # probability of `best_intent`
    is_oos: bool
    best_intent: str  # the likeliest real intent, also when flagged: a suggestion for the agent


@dataclass(frozen=True)
class OosCalibration:
    """How the out-of-scope threshold was chosen, and what cross-validation expects of it."""

    threshold: float
    source: str  # "oos examples", "held-out intents" or "none" (too few intents to hold out)
    target_recall: float
    cv_oos_recall: float
    cv_inscope_flagged: float  # share of in-scope examples the threshold wrongly flags


@dataclass(frozen=True)
class TrainingConfig:
    features: FeatureConfig = field(default_factory=FeatureConfig)
    regularization: float = 0.5  # LinearSVC's C
    oos_recall: float = 0.9  # target on the workspace's own `oos` examples
    # Target on held-out intents when there are no `oos` examples: on CLINC150 train, 0.8 on
    # held-out intents flagged 0.93 of the real `oos` lines (bench/intents_research.py).
    heldout_recall: float = 0.8
    folds: int = 5
    seed: int = 0


class LinearModel:
    """Softmax over linear scores; holds only arrays so it serialises without pickle."""

    def __init__(
        self,
        classes: NDArray[np.str_],
        coef: NDArray[np.float32],
        intercept: NDArray[np.float32],
        temperature: float = 1.0,
    ) -> None:
        self.classes = classes
        self.coef = coef
        self.intercept = intercept
        self.temperature = temperature

    @classmethod
    def from_estimator(cls, estimator: LinearSVC | LogisticRegression) -> LinearModel:
        coef, intercept = estimator.coef_, np.atleast_1d(estimator.intercept_)
        if len(estimator.classes_) == 2:
            # Binary models keep one row of scores; softmax over ±half of it is the same model.
            coef = np.vstack([-coef / 2, coef / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        return cls(
            np.asarray(estimator.classes_, dtype=np.str_),
            coef.astype(np.float32),
            intercept.astype(np.float32),
        )

    def decisions(self, features: Any) -> NDArray[np.float64]:
        return np.asarray(features @ self.coef.T, dtype=np.float64) + self.intercept

    def probabilities(self, features: Any) -> NDArray[np.float64]:
        return softmax(self.decisions(features), self.temperature)


# Learns a LinearModel from a feature matrix and labels.
Learner = Callable[[Any, NDArray[np.str_]], LinearModel]


def svm_learner(regularization: float) -> Learner:
    def learn(features: Any, labels: NDArray[np.str_]) -> LinearModel:
        # A fixed seed: the dual solver visits the examples in a random order.
        estimator = LinearSVC(C=regularization, random_state=0)
        return LinearModel.from_estimator(estimator.fit(features, labels))

    return learn


def logistic_learner(regularization: float) -> Learner:
    """Multinomial logistic regression: its softmax at temperature 1 is its own probability."""

    def learn(features: Any, labels: NDArray[np.str_]) -> LinearModel:
        estimator = LogisticRegression(C=regularization, max_iter=2000)
        return LinearModel.from_estimator(estimator.fit(features, labels))

    return learn


def softmax(decisions: NDArray[np.float64], temperature: float) -> NDArray[np.float64]:
    logits = decisions / temperature
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


@dataclass(frozen=True)
class Scores:
    """Per message: the best real intent, its probability, and whether the `oos` class won."""

    best_intent: NDArray[np.str_]
    confidence: NDArray[np.float64]
    oos_won: NDArray[np.bool_]

    @classmethod
    def from_probabilities(
        cls, probabilities: NDArray[np.float64], classes: NDArray[np.str_]
    ) -> Scores:
        is_oos_class = classes == OOS_LABEL
        oos_won = is_oos_class[probabilities.argmax(axis=1)]
        best = np.where(is_oos_class, -1.0, probabilities).argmax(axis=1)
        return cls(classes[best], probabilities[np.arange(len(best)), best], oos_won)

    def flag_scores(self) -> NDArray[np.float64]:
        """Confidence, with 0 where the `oos` class won, so one threshold decides both."""
        return np.where(self.oos_won, 0.0, self.confidence)


def threshold_for_recall(oos_scores: NDArray[np.float64], target_recall: float) -> float:
    """Lowest threshold flagging (score < threshold) at least `target_recall` of `oos_scores`."""
    ordered = np.sort(oos_scores)
    needed = min(len(ordered), max(1, math.ceil(target_recall * len(ordered) - 1e-9)))
    if needed == len(ordered):
        return float(np.nextafter(ordered[-1], np.inf))
    # Halfway to the next score, so a slightly different model does not flip that example.
    return float((ordered[needed - 1] + ordered[needed]) / 2)


def stratified_folds(labels: NDArray[np.str_], folds: int, seed: int) -> NDArray[np.int64]:
    """Fold number per example, each label spread evenly over folds (also labels with 1 example)."""
    rng = np.random.default_rng(seed)
    assignment = np.zeros(len(labels), dtype=np.int64)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        assignment[members] = (np.arange(len(members)) + rng.integers(folds)) % folds
    return assignment


@dataclass(frozen=True)
class CrossValRound:
    """Decisions of a model trained without `rows`, on `rows`; `unknown` marks pseudo-oos rows."""

    classes: NDArray[np.str_]
    decisions: NDArray[np.float64]
    rows: NDArray[np.int64]
    unknown: NDArray[np.bool_]


def oos_example_rounds(
    features: Any, labels: NDArray[np.str_], learn: Learner, folds: int, seed: int
) -> list[CrossValRound]:
    """Plain k-fold: every example is predicted once by a model that did not see it."""
    fold_of = stratified_folds(labels, folds, seed)
    rounds = []
    for fold in range(folds):
        held = np.flatnonzero(fold_of == fold)
        if len(np.unique(labels[fold_of != fold])) < 2:
            continue  # a tiny workspace: the rest of its examples hold one label only
        model = learn(features[fold_of != fold], labels[fold_of != fold])
        unknown = labels[held] == OOS_LABEL
        rounds.append(CrossValRound(model.classes, model.decisions(features[held]), held, unknown))
    return rounds


def heldout_intent_rounds(
    features: Any, labels: NDArray[np.str_], learn: Learner, folds: int, seed: int
) -> list[CrossValRound]:
    """Each round hides a group of intents (the unknown messages) and a fold of the others."""
    rng = np.random.default_rng(seed)
    intents = rng.permutation(np.unique(labels))
    # With at least three intents, every round keeps two or more to learn from.
    groups = min(folds, len(intents))
    group_of = dict(zip(intents, np.arange(len(intents)) % groups, strict=True))
    intent_group = np.array([group_of[label] for label in labels])
    fold_of = stratified_folds(labels, groups, seed)
    rounds = []
    for group in range(groups):
        unknown = intent_group == group
        known_test = ~unknown & (fold_of == group)
        train = ~unknown & ~known_test
        if len(np.unique(labels[train])) < 2:
            continue  # the kept intents' examples all fell in the test fold
        model = learn(features[train], labels[train])
        held = np.flatnonzero(unknown | known_test)
        rounds.append(
            CrossValRound(model.classes, model.decisions(features[held]), held, unknown[held])
        )
    return rounds


def fit_temperature(
    rounds: list[CrossValRound], labels: NDArray[np.str_], smoothing: float = 0.05
) -> float:
    """Softmax temperature minimising the cross-entropy of cross-validated in-scope predictions.

    The targets are label-smoothed (1 - `smoothing` on the true intent): a small workspace's
    examples are often all predicted right, and plain log-loss would then drive the temperature
    to zero, every probability to 0 or 1, and leave the threshold nothing to rank by.
    """
    per_round = []
    for round_ in rounds:
        true = labels[round_.rows]
        known = ~round_.unknown & np.isin(true, round_.classes)
        targets = np.full((int(known.sum()), len(round_.classes)), 0.0)
        if len(round_.classes) > 1:
            targets += smoothing / (len(round_.classes) - 1)
        targets[np.arange(len(targets)), np.searchsorted(round_.classes, true[known])] = (
            1 - smoothing
        )
        per_round.append((round_.decisions[known], targets))

    def cross_entropy(temperature: float) -> float:
        total, count = 0.0, 0
        for decisions, targets in per_round:
            log_probabilities = np.log(softmax(decisions, temperature) + 1e-12)
            total -= float((targets * log_probabilities).sum())
            count += len(targets)
        return total / max(count, 1)

    if not any(len(targets) for _, targets in per_round):
        return 1.0
    result = minimize_scalar(cross_entropy, bounds=(0.01, 10.0), method="bounded")
    return float(result.x)


def calibrate_oos(
    rounds: list[CrossValRound], temperature: float, target_recall: float, source: str
) -> OosCalibration:
    """The threshold that flags `target_recall` of the rounds' unknown (pseudo-oos) rows."""
    if source == "none" or not any(round_.unknown.any() for round_ in rounds):
        return OosCalibration(0.0, "none", 0.0, 0.0, 0.0)
    oos_scores, inscope_scores = [], []
    for round_ in rounds:
        scores = Scores.from_probabilities(
            softmax(round_.decisions, temperature), round_.classes
        ).flag_scores()
        oos_scores.append(scores[round_.unknown])
        inscope_scores.append(scores[~round_.unknown])
    oos, inscope = np.concatenate(oos_scores), np.concatenate(inscope_scores)
    threshold = threshold_for_recall(oos, target_recall)
    return OosCalibration(
        threshold=threshold,
        source=source,
        target_recall=target_recall,
        cv_oos_recall=float(np.mean(oos < threshold)),
        cv_inscope_flagged=float(np.mean(inscope < threshold)) if len(inscope) else 0.0,
    )


def cross_validate(
    features: Any, labels: NDArray[np.str_], learn: Learner, config: TrainingConfig
) -> tuple[list[CrossValRound], str, float]:
    """Rounds to calibrate on, where their unknown rows come from, and the recall to aim at."""
    if np.count_nonzero(labels == OOS_LABEL) >= config.folds:
        rounds = oos_example_rounds(features, labels, learn, config.folds, config.seed)
        return rounds, "oos examples", config.oos_recall
    if len(np.unique(labels)) >= 3:
        rounds = heldout_intent_rounds(features, labels, learn, config.folds, config.seed)
        return rounds, "held-out intents", config.heldout_recall
    # Two intents: nothing can be held out; k-fold still gives the softmax temperature.
    rounds = oos_example_rounds(features, labels, learn, config.folds, config.seed)
    return rounds, "none", 0.0


class IntentClassifier:
    """Routes a message to one of a workspace's intents, or flags it out of scope."""

    def __init__(
        self, features: TextFeatures, model: LinearModel, calibration: OosCalibration
    ) -> None:
        self.features = features
        self.model = model
        self.calibration = calibration

    @property
    def intents(self) -> list[str]:
        return [str(label) for label in self.model.classes if label != OOS_LABEL]

    @classmethod
    def fit(
        cls,
        texts: list[str],
        labels: list[str],
        *,
        config: TrainingConfig | None = None,
        embed: Embedder | None = None,
    ) -> IntentClassifier:
        """Learn from labelled examples; `embed` is required when the config uses embeddings."""
        config = config or TrainingConfig()
        if len(texts) != len(labels):
            raise ValueError("one label per text")
        if len(set(labels) - {OOS_LABEL}) < 2:
            raise ValueError("at least two intents are needed to classify")
        label_array = np.asarray(labels, dtype=np.str_)
        features = TextFeatures.fit(texts, config.features, embed)
        matrix = features.transform(texts)
        learn = svm_learner(config.regularization)
        rounds, source, target = cross_validate(matrix, label_array, learn, config)
        temperature = fit_temperature(rounds, label_array)
        calibration = calibrate_oos(rounds, temperature, target, source)
        model = learn(matrix, label_array)
        model.temperature = temperature
        return cls(features, model, calibration)

    def scores(self, texts: list[str]) -> Scores:
        return Scores.from_probabilities(
            self.model.probabilities(self.features.transform(texts)), self.model.classes
        )

    def predict(self, texts: list[str]) -> list[Prediction]:
        if not texts:
            return []
        scores = self.scores(texts)
        flagged = scores.flag_scores() < self.calibration.threshold
        return [
            Prediction(
                label=OOS_LABEL if is_oos else str(intent),
                confidence=float(confidence),
                is_oos=bool(is_oos),
                best_intent=str(intent),
            )
            for intent, confidence, is_oos in zip(
                scores.best_intent, scores.confidence, flagged, strict=True
            )
        ]

    def to_bytes(self) -> bytes:
        """A compressed numpy archive (no pickle) holding arrays and a JSON header."""
        feature_meta, feature_arrays = self.features.state()
        meta = {
            "format": _FORMAT_VERSION,
            "features": feature_meta,
            "classes": [str(label) for label in self.model.classes],
            "temperature": self.model.temperature,
            "calibration": asdict(self.calibration),
        }
        arrays: dict[str, Any] = {
            "meta": np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), dtype=np.uint8),
            "coef": self.model.coef,
            "intercept": self.model.intercept,
            **feature_arrays,
        }
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, embed: Embedder | None = None) -> IntentClassifier:
        """Reload `to_bytes` output; pass an embedder when the model was trained with one."""
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode())
        if meta["format"] != _FORMAT_VERSION:
            raise ValueError(f"unknown intent model format {meta['format']}")
        model = LinearModel(
            np.asarray(meta["classes"], dtype=np.str_),
            arrays["coef"],
            arrays["intercept"],
            float(meta["temperature"]),
        )
        features = TextFeatures.from_state(meta["features"], arrays, embed)
        return cls(features, model, OosCalibration(**meta["calibration"]))
