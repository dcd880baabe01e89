"""Draft a ticket from a conversation, and tell whether two reports are about the same issue.

No model writes anything here: the subject is the customer's most telling sentence (greetings
and thanks skipped), the description is what the customer said followed by the transcript, so
an agent reads the problem first and the context after. Two reports are "the same issue" when
their words overlap enough (cosine over stemmed words and Chinese character pairs), or when
they have the same intent and still share some words.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from knowdesk.text.tokenize import index_terms, normalize

MAX_SUBJECT = 120
MAX_DESCRIPTION = 20000
# Cosine of term counts above which two reports are one issue; with the same intent, lower.
SAME_ISSUE = 0.45
SAME_ISSUE_SAME_INTENT = 0.25

_GREETING = re.compile(
    r"^(hi|hello|hey|good (morning|afternoon|evening)|thanks?( you)?|thank you|ok(ay)?|yes|no"
    r"|you there|anyone there|bye|human|agent|person|你好|您好|在吗|在不在|谢谢|好的|嗯|哦|人工|"
    r"转人工|客服)[\s!.,?！。，？~]*$"
)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")
# Words that say nothing about what the issue is; they only dilute the overlap of two reports.
_FUNCTION_WORDS = frozenset(
    "a an the my me i you your we our it its is are was were be been am do does did to of and or"
    " but for on in at with by from this that these those yet still so just please hi hello can"
    " could would will not no any some have has had get got".split()
    + [
        "的",
        "了",
        "吗",
        "呢",
        "吧",
        "啊",
        "我",
        "你",
        "您",
        "是",
        "在",
        "有",
        "和",
        "也",
        "就",
        "还",
        "都",
    ]
)
_REASON_MARK = "\n\nCreated from the conversation because:"


@dataclass(frozen=True)
class Turn:
    """One message of a conversation, as drafting needs it."""

    sender: str  # "contact", "bot", "agent" or "system"
    text: str
    at: datetime | None = None
    name: str = ""


def _meaningful(text: str) -> bool:
    return bool(text.strip()) and not _GREETING.match(normalize(text.strip()))


def _first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    for sentence in _SENTENCE_END.split(flat):
        if len(sentence.strip()) >= 6:
            return sentence.strip()
    return flat


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:，；：") + "…"


def customer_texts(turns: Sequence[Turn]) -> list[str]:
    return [t.text.strip() for t in turns if t.sender == "contact" and _meaningful(t.text)]


def draft_subject(turns: Sequence[Turn], fallback: str = "Conversation needs follow-up") -> str:
    """The first sentence of the customer's first real message (not a greeting)."""
    texts = customer_texts(turns)
    if not texts:
        return fallback
    return _clip(_first_sentence(texts[0]), MAX_SUBJECT)


def _speaker(turn: Turn) -> str:
    labels = {"contact": "Customer", "bot": "Bot", "agent": "Agent", "system": "System"}
    label = labels.get(turn.sender, turn.sender)
    return f"{label} ({turn.name})" if turn.name and turn.sender == "agent" else label


def draft_description(turns: Sequence[Turn], reason: str) -> str:
    """What the customer reported, why it became a ticket, then the whole transcript."""
    said = customer_texts(turns)
    quoted = [f"> {line}" for text in said for line in text.splitlines()] or ["> (nothing)"]
    lines = ["The customer wrote:", *quoted]
    lines[-1] += f"{_REASON_MARK} {reason}.\n\nTranscript:"
    for turn in turns:
        if not turn.text.strip():
            continue
        stamp = f"[{turn.at:%Y-%m-%d %H:%M}] " if turn.at else ""
        lines.append(f"{stamp}{_speaker(turn)}: {' '.join(turn.text.split())}")
    return _clip("\n".join(lines), MAX_DESCRIPTION)


def reported_part(description: str) -> str:
    """What the customer reported, without the transcript a drafted description adds."""
    return description.split(_REASON_MARK, 1)[0]


def _vector(text: str) -> Counter[str]:
    return Counter(t for t in index_terms(text) if t not in _FUNCTION_WORDS)


def similarity(a: str, b: str) -> float:
    """Cosine similarity of two texts' term counts (0 … 1)."""
    va, vb = _vector(a), _vector(b)
    dot = sum(count * vb[term] for term, count in va.items())
    norm = math.sqrt(sum(c * c for c in va.values())) * math.sqrt(sum(c * c for c in vb.values()))
    return dot / norm if norm else 0.0


def same_issue(
    new_report: str,
    open_report: str,
    *,
    new_intent: str | None = None,
    open_intent: str | None = None,
) -> bool:
    """Whether `new_report` repeats an issue already described by `open_report`."""
    score = similarity(new_report, open_report)
    if new_intent and new_intent == open_intent:
        return score >= SAME_ISSUE_SAME_INTENT
    return score >= SAME_ISSUE
