"""Asking the knowledge base, as every channel does: `POST /api/v1/ask`.

result = kd.answers.ask("怎么改密码？", history=["我忘了 App 密码"])
if result.decision in ("direct", "grounded"):
    print(result.answer, [s.title for s in result.sources])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from knowdesk.client.http import ApiSession, Id
from knowdesk.retrieval.schemas import AnswerResult, CalibrationRead


class AnswersAPI:
    """`client.answers`: the answer path and the thresholds it decides with."""

    def __init__(self, api: ApiSession) -> None:
        self._api = api

    def ask(
        self,
        question: str,
        *,
        history: Sequence[str] = (),
        collection_ids: Sequence[Id] | None = None,
        explain: bool = False,
    ) -> AnswerResult:
        """The decision (direct, grounded, clarify or handoff), the answer, its sources and
        scores. `history` holds the customer's earlier turns, oldest first; `explain` adds the
        ten best-ranked entries (`result.ranking`)."""
        body: dict[str, Any] = {"question": question, "history": list(history)}
        if collection_ids is not None:
            body["collection_ids"] = [str(c) for c in collection_ids]
        params = {"explain": "true"} if explain else None
        return self._api.call(AnswerResult, "POST", "/api/v1/ask", json=body, params=params)

    def calibration(self) -> CalibrationRead:
        """The workspace's learnt score scale and thresholds (`calibrated` False until the
        first calibration after indexing has run)."""
        return self._api.call(CalibrationRead, "GET", "/api/v1/retrieval/calibration")
