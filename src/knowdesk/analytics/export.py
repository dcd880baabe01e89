"""Every table of the dashboard as CSV: one row model per line, its fields as the header.

Files start with a UTF-8 byte-order mark, so that spreadsheet programs that guess encodings
(Excel on Windows) show Chinese text as written. An empty table still has its header. Text
that a spreadsheet would run as a formula (customers write the questions) is quoted with a
leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from knowdesk.analytics.schemas import (
    AgentRow,
    BacklogRow,
    BreakdownRow,
    CategoryRow,
    DecisionRow,
    DurationStats,
    GapReport,
    HandoffReasonRow,
    MetricsReport,
    SeriesRow,
    Summary,
    SummaryRow,
)

ROW_MODELS: dict[str, type[BaseModel]] = {
    "summary": SummaryRow,
    "series": SeriesRow,
    "decisions": DecisionRow,
    "handoff_reasons": HandoffReasonRow,
    "channels": BreakdownRow,
    "teams": BreakdownRow,
    "categories": CategoryRow,
    "agents": AgentRow,
    "backlog": BacklogRow,
}
GAP_COLUMNS = (
    "label",
    "count",
    "conversations",
    "growth",
    "rising",
    "representative",
    "keywords",
    "language",
    "first_asked",
    "last_asked",
    "answered_by_agents",
    "drafted_entry_ids",
    "series",
)
TABLES = (*ROW_MODELS, "gaps")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def summary_rows(summary: Summary) -> list[dict[str, Any]]:
    """The summary as metric/value lines; duration figures get one line per statistic."""
    rows: list[dict[str, Any]] = []
    for name, value in summary:
        if isinstance(value, DurationStats):
            rows += [{"metric": f"{name}.{stat}", "value": v} for stat, v in value]
        else:
            rows.append({"metric": name, "value": value})
    return rows


def metrics_csv(report: MetricsReport, table: str) -> str:
    if table == "summary":
        rows = summary_rows(report.summary)
    else:
        rows = [r.model_dump(mode="json") for r in getattr(report, table)]
    return to_csv(rows, list(ROW_MODELS[table].model_fields))


def gaps_csv(report: GapReport) -> str:
    rows = [
        {
            "label": t.label,
            "count": t.count,
            "conversations": t.conversations,
            "growth": t.growth,
            "rising": t.rising,
            "representative": t.representative,
            "keywords": " ".join(t.keywords),
            "language": t.language,
            "first_asked": t.first_asked.isoformat(),
            "last_asked": t.last_asked.isoformat(),
            "answered_by_agents": t.answered_by_agents,
            "drafted_entry_ids": " ".join(str(e) for e in t.drafted_entry_ids),
            "series": " ".join(str(n) for n in t.series),
        }
        for t in report.topics
    ]
    return to_csv(rows, GAP_COLUMNS)


def _inert(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(rows: Sequence[dict[str, Any]], header: Sequence[str]) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=list(header), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: _inert(v) for k, v in row.items()} for row in rows)
    return out.getvalue()
