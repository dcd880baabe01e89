"""The events a workspace can subscribe its webhooks to.

An event that chat or tickets emit must be listed here: `emit` refuses names it does not know,
so that a misspelt event fails in the emitter's tests instead of silently reaching nobody.
"""

from __future__ import annotations

EVENTS: dict[str, str] = {
    "message.created": "A message was added to a conversation (customer, bot or agent).",
    "conversation.handoff": "A conversation was handed over to people.",
    "conversation.resolved": "A conversation was resolved.",
    "ticket.created": "A ticket was created.",
    "ticket.updated": "A ticket changed: status, assignee, priority, fields or a new reply.",
    "ticket.sla_warning": "A ticket is about to breach its SLA.",
    "ticket.sla_breached": "A ticket breached its SLA.",
}

# Subscribing to ALL receives every event, including ones added later.
ALL = "*"
# Sent only by "test" on one webhook, whatever it subscribes to.
PING = "ping"
