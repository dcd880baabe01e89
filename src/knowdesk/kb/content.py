"""Entry content snapshots: hashing, rendering to text for diffs, and descriptive fields."""

from __future__ import annotations

import difflib
import hashlib
import json
from typing import Any

from knowdesk.kb.parsing import ParsedDocument


def content_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def faq_content(
    *, question: str, similar: list[str], answer: str, title: str | None = None
) -> dict[str, Any]:
    cleaned = [s.strip() for s in similar if s.strip()]
    # Keep the order people wrote them in, but each paraphrase once, and never the question itself.
    unique = [s for i, s in enumerate(cleaned) if s not in cleaned[:i] and s != question.strip()]
    return {
        "title": (title or question).strip(),
        "question": question.strip(),
        "similar": unique,
        "answer": answer.strip(),
    }


def document_content(doc: ParsedDocument, *, file_sha256: str) -> dict[str, Any]:
    return {
        "title": doc.title,
        "filename": doc.filename,
        "file_sha256": file_sha256,
        "blocks": [
            {
                "kind": str(b.kind),
                "text": b.text,
                "heading_path": list(b.heading_path),
                "page": b.page,
            }
            for b in doc.blocks
        ],
    }


def searchable_text(content: dict[str, Any]) -> str:
    """All the words of a version, for keywords and classification."""
    if "question" in content:
        return "\n".join([content["question"], *content["similar"], content["answer"]])
    return "\n".join([content.get("title", "")] + [b["text"] for b in content.get("blocks", [])])


def render_lines(content: dict[str, Any]) -> list[str]:
    """A version as lines of text, the form in which two versions are compared."""
    if "question" in content:
        lines = [f"Q: {content['question']}"]
        lines += [f"~ {s}" for s in content["similar"]]
        lines += ["A:", *content["answer"].splitlines()]
        return lines
    lines = [f"# {content.get('title', '')}"]
    for block in content.get("blocks", []):
        prefix = "## " if block["kind"] == "heading" else ""
        lines += [prefix + line for line in block["text"].splitlines()]
    return lines


def diff(old: dict[str, Any], new: dict[str, Any], *, old_label: str, new_label: str) -> str:
    return "\n".join(
        difflib.unified_diff(
            render_lines(old), render_lines(new), old_label, new_label, lineterm=""
        )
    )
