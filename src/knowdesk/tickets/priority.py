"""A ticket's priority from what the customer wrote and who they are.

Three signals, each worth points: urgency cues ("asap", "urgent", "马上", "紧急"), negative
sentiment (angry words, shouting, a pile of exclamation marks), and the customer's tier (a
contact attribute such as `tier: vip`). The points map to low / normal / high / urgent; a
customer who says there is no hurry gets low unless the other signals outweigh it.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from knowdesk.text.tokenize import normalize


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return list(Priority).index(self)

    def raised(self) -> Priority:
        """One level up (urgent stays urgent): what an escalation does."""
        return list(Priority)[min(self.rank + 1, len(Priority) - 1)]


_URGENT_EN = re.compile(
    r"\b(urgent(ly)?|asap|immediately|right now|right away|emergency|critical|as soon as"
    r" possible|straight away|can'?t wait|time[- ]sensitive|deadline)\b"
)
_URGENT_ZH = re.compile(
    r"紧急|急用|加急|马上|立刻|立即|尽快|赶紧|十万火急|火急|急急|很急|非常急|今天必须"
)
_OUTAGE = re.compile(
    r"\b(outage|down for everyone|data loss|lost (all )?(my )?data|security breach|hacked|fraud"
    r"|charged twice|double charged|stolen)\b|宕机|数据丢失|被盗|盗刷|被黑|扣了两次|重复扣款"
)
_NEGATIVE_EN = re.compile(
    r"\b(angry|furious|unacceptable|terrible|horrible|awful|worst|ridiculous|disgusting"
    r"|scam|fraud|lawyer|lawsuit|sue|complain(t)?|refund now|never again|fed up|outraged"
    r"|disappointed|useless)\b"
)
_NEGATIVE_ZH = re.compile(
    r"生气|愤怒|气死|太差|垃圾|骗子|欺诈|投诉|律师|起诉|曝光|无法接受|不能接受|失望|恶心|坑人|差评|受够了"
)
_CALM = re.compile(
    r"\b(no rush|no hurry|whenever|not urgent|low priority)\b|不急|不着急|有空再|不赶"
)

# What a contact's `tier` attribute is worth. Unknown tiers are worth nothing.
DEFAULT_TIER_POINTS = {
    "vip": 2,
    "enterprise": 2,
    "platinum": 2,
    "premium": 1,
    "gold": 1,
    "business": 1,
    "pro": 1,
}


@dataclass(frozen=True)
class Assessment:
    priority: Priority
    points: int
    reasons: list[str] = field(default_factory=list)


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha() and c.isascii()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7


def assess(
    text: str, *, tier: str | None = None, tier_points: dict[str, int] | None = None
) -> Assessment:
    """The priority that `text` from a customer of `tier` deserves, and why."""
    norm = normalize(text)
    points, reasons = 0, []
    urgent_hits = len(_URGENT_EN.findall(norm)) + len(_URGENT_ZH.findall(norm))
    if urgent_hits:
        points += 2 if urgent_hits == 1 else 3
        reasons.append("urgency cue")
    if _OUTAGE.search(norm):
        points += 2
        reasons.append("outage, money or security at stake")
    negative = len(_NEGATIVE_EN.findall(norm)) + len(_NEGATIVE_ZH.findall(norm))
    if negative or _shouting(text) or text.count("!") + text.count("！") >= 3:
        points += 1 if negative <= 1 else 2
        reasons.append("negative sentiment")
    tier_value = (tier_points or DEFAULT_TIER_POINTS).get((tier or "").strip().casefold(), 0)
    if tier_value:
        points += tier_value
        reasons.append(f"customer tier {tier}")
    calm = bool(_CALM.search(norm))
    if calm:
        points -= 2
        reasons.append("customer says it can wait")
    return Assessment(_priority_for(points, calm), points, reasons)


def _priority_for(points: int, calm: bool) -> Priority:
    if points >= 4:
        return Priority.URGENT
    if points >= 2:
        return Priority.HIGH
    if points < 0 or (calm and points <= 0):
        return Priority.LOW
    return Priority.NORMAL
