"""Work that may only happen once a transaction is committed: publishing events, starting the
bot. Readers told about a message must find it stored, and nothing is announced that a rollback
took back.

Services call `after_commit(session, action)`; the actions of a session run, in order, as soon
as its transaction commits, and are dropped if it rolls back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

Action = Callable[[], Awaitable[None]]
_KEY = "knowdesk.chat.after_commit"
_running: set[asyncio.Task[None]] = set()


def after_commit(session: AsyncSession, action: Action) -> None:
    session.info.setdefault(_KEY, []).append(action)


async def _run_in_order(actions: list[Action]) -> None:
    for action in actions:
        try:
            await action()
        except Exception:  # the transaction is committed: log, and let the rest go on
            log.exception("after-commit action failed")


@event.listens_for(Session, "after_commit")
def _on_commit(session: Session) -> None:
    actions: list[Action] = session.info.pop(_KEY, [])
    if actions:
        # Runs in the event loop's thread (SQLAlchemy's async layer calls this from a greenlet).
        task = asyncio.get_running_loop().create_task(_run_in_order(actions))
        _running.add(task)
        task.add_done_callback(_running.discard)


@event.listens_for(Session, "after_rollback")
def _on_rollback(session: Session, *_: Any) -> None:
    session.info.pop(_KEY, None)


async def drain() -> None:
    """Wait for pending after-commit work (at shut-down)."""
    if _running:
        await asyncio.gather(*_running, return_exceptions=True)
