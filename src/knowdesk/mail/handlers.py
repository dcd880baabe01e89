"""Who takes inbound mail: domains register a handler when their module is imported.

A handler gets the caller's session (the transaction of the request or of the SMTP listener),
the workspace the mail arrived in, and the parsed mail. It returns True when it took the mail
(e.g. tickets threaded the reply into a ticket); handlers are asked in registration order until
one does. A handler that raises rolls the whole receipt back, so the sender's server retries.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.mail.inbound import InboundMail

InboundHandler = Callable[[AsyncSession, uuid.UUID, InboundMail], Awaitable[bool]]

_handlers: dict[str, InboundHandler] = {}


def register_inbound_handler(name: str, handler: InboundHandler) -> None:
    """Ask `handler` about every inbound mail. Registering a name again replaces its handler
    (and keeps its place), so re-importing a module does not ask twice."""
    _handlers[name] = handler


def inbound_handlers() -> list[tuple[str, InboundHandler]]:
    return list(_handlers.items())
