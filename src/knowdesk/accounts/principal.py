"""The caller of a request: which workspace it acts in and with what role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from knowdesk.accounts.models import Role

# What each role may do. Kept in one table so that permissions are checked in one place.
_PERMISSIONS: dict[str, frozenset[Role]] = {
    "workspace.manage": frozenset({Role.OWNER}),
    "kb.read": frozenset({Role.OWNER, Role.EDITOR, Role.REVIEWER, Role.AGENT}),
    "kb.write": frozenset({Role.OWNER, Role.EDITOR}),
    "kb.review": frozenset({Role.OWNER, Role.REVIEWER}),
    "kb.publish": frozenset({Role.OWNER, Role.REVIEWER}),
    "chat.agent": frozenset({Role.OWNER, Role.EDITOR, Role.REVIEWER, Role.AGENT}),
    "tickets.work": frozenset({Role.OWNER, Role.EDITOR, Role.REVIEWER, Role.AGENT}),
    "settings.manage": frozenset({Role.OWNER}),
    "analytics.read": frozenset({Role.OWNER, Role.EDITOR, Role.REVIEWER, Role.AGENT}),
}


def role_allows(role: Role, permission: str) -> bool:
    return role in _PERMISSIONS[permission]


@dataclass(frozen=True)
class Principal:
    workspace_id: uuid.UUID
    role: Role
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None

    def can(self, permission: str) -> bool:
        return role_allows(self.role, permission)

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}" if self.user_id else f"api_key:{self.api_key_id}"
