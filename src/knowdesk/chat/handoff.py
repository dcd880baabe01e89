"""When a customer asks for a person, and which agent takes a waiting conversation.

Both are pure rules here; the service applies them inside a transaction.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from knowdesk.chat.models import Routing

# Phrases that ask for a person, in Chinese and English. A message that is nothing but one of
# the short words ("人工", "agent") counts too: that is how people type it into a chat box.
_ZH = re.compile(
    r"(转|转接|接|找|要|叫|换|需要|我要)(个|一个|一下)?(人工|真人|客服|坐席|座席)"
    r"|人工(客服|服务|坐席|座席|服务台|接待)"
    r"|真人(客服|服务|回复|回答)"
    r"|(不要|别用|不想和)(机器人|自动回复)"
    r"|客服(人员|小姐姐|妹子|在吗)"
)
_ZH_NEGATED = re.compile(r"(不|别|无需|不用|不需要)(要|用)?(转|转接|找|接)?(人工|真人|客服)")
_EN = re.compile(
    r"\b(talk|speak|chat|connect|transfer|put)\b.{0,25}\b(human|person|agent|representative"
    r"|operator|someone real|somebody real|real person|live agent|staff|support team)\b"
    r"|\b(want|need|get)\b.{0,12}\b(a|an)\s+(human|real person|live agent|representative"
    r"|operator|agent)\b"
    r"|\b(human|real person|live agent|operator|representative)\s+please\b"
    r"|\bstop\s+(the\s+)?bot\b"
)
_EN_NEGATED = re.compile(
    r"\b(don'?t|do not|no need to|never)\b.{0,15}\b(talk|speak|want|need)\b.{0,20}"
    r"\b(human|person|agent|representative|operator)\b"
)
_BARE_WORDS = frozenset(
    {
        "人工",
        "转人工",
        "真人",
        "客服",
        "human",
        "agent",
        "person",
        "operator",
        "representative",
        "live agent",
        "real person",
        "human please",
        "agent please",
    }
)


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().strip()
    return re.sub(r"\s+", " ", text)


def asks_for_human(text: str) -> bool:
    """Whether the customer asks to be put through to a person (Chinese or English)."""
    norm = _normalize(text)
    bare = norm.strip(" .!?,;:~。！？，；：…、")
    if bare in _BARE_WORDS:
        return True
    if "人工智能" in norm:  # "artificial intelligence" contains 人工 but asks for no one
        norm = norm.replace("人工智能", "")
    if _ZH.search(norm) and not _ZH_NEGATED.search(norm):
        return True
    return bool(_EN.search(norm)) and not _EN_NEGATED.search(norm)


_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Candidate:
    """An agent who could take a conversation now."""

    user_id: uuid.UUID
    active: int  # conversations assigned to them and not resolved
    capacity: int
    last_assigned_at: datetime | None


def pick_agent(
    candidates: Sequence[Candidate], routing: Routing, last_assigned_user_id: uuid.UUID | None
) -> Candidate | None:
    """The agent who gets the next conversation, or None when everyone is full.

    Round robin walks the agents in a fixed order (by id), starting after the one who got the
    previous conversation; least busy takes the agent with the fewest open conversations, and
    among equals the one who waited longest since their last assignment.
    """
    free = sorted((c for c in candidates if c.active < c.capacity), key=lambda c: c.user_id)
    if not free:
        return None
    if routing == Routing.LEAST_BUSY:
        return min(
            free,
            key=lambda c: (c.active, c.last_assigned_at or _NEVER),
        )
    if last_assigned_user_id is None:
        return free[0]
    after = [c for c in free if c.user_id > last_assigned_user_id]
    return after[0] if after else free[0]
