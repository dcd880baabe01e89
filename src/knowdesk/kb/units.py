"""What of an entry's published content becomes searchable, and as which units."""

from __future__ import annotations

import hashlib
from typing import Any

from knowdesk.kb.parsing import Block, BlockKind, ParsedDocument, chunk_document
from knowdesk.retrieval.index import UnitSpec


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def faq_units(content: dict[str, Any]) -> list[UnitSpec]:
    """The question, each similar question and the answer, each its own unit: a customer's
    wording is matched against every way the question was asked, and against the answer."""
    questions = [content["question"], *content["similar"]]
    units = [
        UnitSpec(kind="question" if i == 0 else "similar", ordinal=i, text=q, content_hash=_hash(q))
        for i, q in enumerate(questions)
    ]
    answer = content["answer"]
    units.append(
        UnitSpec(kind="answer", ordinal=len(questions), text=answer, content_hash=_hash(answer))
    )
    return units


def document_units(content: dict[str, Any]) -> list[UnitSpec]:
    doc = ParsedDocument(
        filename=content["filename"],
        title=content["title"],
        blocks=tuple(
            Block(
                kind=BlockKind(b["kind"]),
                text=b["text"],
                heading_path=tuple(b["heading_path"]),
                page=b["page"],
            )
            for b in content["blocks"]
        ),
    )
    return [
        UnitSpec(
            kind="chunk",
            ordinal=chunk.ordinal,
            text=chunk.text,
            # The headings are indexed with the text, so a moved passage is a changed unit.
            content_hash=_hash(" / ".join(chunk.heading_path) + "\n" + chunk.content_hash),
            heading_path=tuple(chunk.heading_path),
            page=chunk.page,
        )
        for chunk in chunk_document(doc)
    ]


def entry_units(content: dict[str, Any]) -> list[UnitSpec]:
    return faq_units(content) if "question" in content else document_units(content)
