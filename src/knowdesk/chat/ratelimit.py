"""Flood control for chat, on this node: per connection and per customer.

Kept in memory, so a customer spread over several nodes gets each node's allowance. Fixed
windows (opened by a key's first hit), not moving ones: the memory storage sweeps every key
that ever held a moving window a hundred times a second, which with thousands of connections
costs a node most of its CPU; fixed windows keep only the keys of live windows.
"""

from __future__ import annotations

import uuid
from functools import lru_cache

from limits import RateLimitItem, parse, storage, strategies

# Every frame (typing, read, ping, …). An agent's console follows many conversations and
# resumes them all after a reconnect; a customer's window has little to say.
FRAMES_PER_CONNECTION = parse("30/second")
FRAMES_PER_AGENT_CONNECTION = parse("200/second")
SENDS_PER_CONNECTION = parse("10/second")


@lru_cache(maxsize=64)
def _per_minute(count: int) -> RateLimitItem:
    return parse(f"{count}/minute")


class RateLimits:
    def __init__(self) -> None:
        self._limiter = strategies.FixedWindowRateLimiter(storage.MemoryStorage())

    def allow_frame(self, connection: str, *, agent: bool) -> bool:
        limit = FRAMES_PER_AGENT_CONNECTION if agent else FRAMES_PER_CONNECTION
        return self._limiter.hit(limit, "frame", connection)

    def allow_send(self, connection: str) -> bool:
        return self._limiter.hit(SENDS_PER_CONNECTION, "send", connection)

    def allow_contact_message(self, contact_id: uuid.UUID, per_minute: int) -> bool:
        """A customer's messages over all their connections (the channel sets the rate)."""
        return self._limiter.hit(_per_minute(per_minute), "contact", str(contact_id))
