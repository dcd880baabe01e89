"""This node's side of the bus: which local connections follow which topics.

The hub hears every bus event once and hands it to the connections subscribed to its topic;
connections do their own (cheap, non-blocking) queueing. It also counts each agent's sockets on
this node, for the presence heartbeat.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any, Protocol

from knowdesk.chat.bus import RESYNC_TOPIC


class Subscriber(Protocol):
    def deliver(self, topic: str, event: dict[str, Any]) -> None:
        """Take an event without blocking."""

    def resync(self) -> None:
        """Events may have been lost: catch up from the database."""


AgentKey = tuple[uuid.UUID, uuid.UUID]  # (workspace id, user id)


class Hub:
    def __init__(self) -> None:
        self._topics: dict[str, set[Subscriber]] = {}
        self._agents: Counter[AgentKey] = Counter()

    def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        self._topics.setdefault(topic, set()).add(subscriber)

    def unsubscribe(self, topic: str, subscriber: Subscriber) -> None:
        followers = self._topics.get(topic)
        if followers is not None:
            followers.discard(subscriber)
            if not followers:
                del self._topics[topic]

    def on_event(self, topic: str, event: dict[str, Any]) -> None:
        if topic == RESYNC_TOPIC:
            for subscriber in {s for followers in self._topics.values() for s in followers}:
                subscriber.resync()
            return
        for subscriber in list(self._topics.get(topic, ())):
            subscriber.deliver(topic, event)

    def agent_connected(self, key: AgentKey) -> None:
        self._agents[key] += 1

    def agent_disconnected(self, key: AgentKey) -> bool:
        """Count a closed agent socket; True when it was the agent's last one on this node."""
        self._agents[key] -= 1
        if self._agents[key] <= 0:
            del self._agents[key]
            return True
        return False

    def connected_agents(self) -> list[AgentKey]:
        return list(self._agents)
