"""Each workspace's category classifier: trained from its labelled examples, used on new tickets.

Examples are what the workspace wrote plus agents' corrections (a ticket recategorised by a
person). Adding examples queues one retraining job per workspace; the model is stored in the
database (no pickle) and cached per process by its training time. A message the model finds out
of scope, or below the workspace's minimum confidence, gets no category: a person triages it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.jobs.queue import defer
from knowdesk.tickets.intents.classifier import IntentClassifier, TrainingConfig
from knowdesk.tickets.intents.embeddings import embed_texts
from knowdesk.tickets.intents.features import FeatureConfig
from knowdesk.tickets.models import IntentExample, IntentModel
from knowdesk.tickets.repository import ExampleRepository, ModelRepository, SettingsRepository

OOS = "oos"
_CACHE_SIZE = 32
_cache: OrderedDict[uuid.UUID, tuple[datetime, IntentClassifier]] = OrderedDict()


@dataclass(frozen=True)
class Guess:
    category: str | None  # trusted category, or None: a person should look
    suggested: str  # the likeliest category even when not trusted
    confidence: float
    out_of_scope: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class TrainingError(ValueError):
    """The examples cannot make a classifier (fewer than two categories)."""


def _embedder() -> Any:
    return partial(embed_texts, cache_folder=None)


async def _classifier(session: AsyncSession, workspace_id: uuid.UUID) -> IntentClassifier | None:
    models = ModelRepository(session, workspace_id)
    trained_at = await models.trained_at()
    cached = _cache.get(workspace_id)
    if trained_at is None:
        return None
    if cached is not None and cached[0] == trained_at:
        _cache.move_to_end(workspace_id)
        return cached[1]
    stored = await models.current()
    if stored is None:  # deleted since the first look
        return None
    embed = _embedder() if stored.uses_embeddings else None
    classifier = await asyncio.to_thread(IntentClassifier.from_bytes, stored.data, embed)
    _cache[workspace_id] = (stored.trained_at, classifier)
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return classifier


async def predict(session: AsyncSession, workspace_id: uuid.UUID, text: str) -> Guess | None:
    """The category of `text`, or None when the workspace has no trained model yet."""
    classifier = await _classifier(session, workspace_id)
    if classifier is None or not text.strip():
        return None
    prediction = (await asyncio.to_thread(classifier.predict, [text]))[0]
    settings = await SettingsRepository(session, workspace_id).ensure()
    trusted = not prediction.is_oos and prediction.confidence >= settings.min_confidence
    return Guess(
        category=prediction.best_intent if trusted else None,
        suggested=prediction.best_intent,
        confidence=round(prediction.confidence, 4),
        out_of_scope=prediction.is_oos,
    )


async def add_example(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    text: str,
    category: str,
    source: str,
    ticket_id: uuid.UUID | None = None,
) -> IntentExample:
    example = ExampleRepository(session, workspace_id).add(
        IntentExample(text=text, category=category, source=source, ticket_id=ticket_id)
    )
    await session.flush()
    await request_training(session, workspace_id)
    return example


async def request_training(session: AsyncSession, workspace_id: uuid.UUID) -> bool:
    """Queue a retraining unless one is already waiting; whether a job was queued."""
    from knowdesk.tickets.tasks import train_classifier  # tasks.py imports this module

    waiting = await session.execute(
        sql(
            "select 1 from procrastinate_jobs where task_name = 'tickets.train_classifier' "
            "and status = 'todo' and args->>'workspace_id' = :ws limit 1"
        ),
        {"ws": str(workspace_id)},
    )
    if waiting.first() is not None:
        return False
    await defer(session, train_classifier, workspace_id=str(workspace_id))
    return True


def _fit(texts: list[str], labels: list[str], embeddings: bool) -> IntentClassifier:
    config = TrainingConfig(features=FeatureConfig(use_embeddings=embeddings))
    return IntentClassifier.fit(
        texts, labels, config=config, embed=_embedder() if embeddings else None
    )


async def train(session: AsyncSession, workspace_id: uuid.UUID) -> IntentModel:
    """Fit a classifier on every example of the workspace and store it (replacing the old)."""
    examples = await ExampleRepository(session, workspace_id).list()
    labels = [e.category for e in examples]
    categories = sorted(set(labels) - {OOS})
    if len(categories) < 2:
        raise TrainingError("Training needs examples of at least two categories.")
    settings = await SettingsRepository(session, workspace_id).ensure()
    classifier = await asyncio.to_thread(
        _fit, [e.text for e in examples], labels, settings.classifier_embeddings
    )
    models = ModelRepository(session, workspace_id)
    stored = await models.current()
    if stored is None:
        stored = models.add(IntentModel())
    stored.data = classifier.to_bytes()
    stored.categories = categories
    stored.example_count = len(examples)
    stored.uses_embeddings = settings.classifier_embeddings
    stored.trained_at = datetime.now().astimezone()
    await session.flush()
    return stored
