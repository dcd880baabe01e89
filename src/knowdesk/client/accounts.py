"""Sign-in, the current workspace, members and API keys."""

from __future__ import annotations

from knowdesk.accounts.models import Role
from knowdesk.accounts.schemas import (
    ApiKeyCreated,
    ApiKeyRead,
    MemberRead,
    SessionOut,
    WorkspaceRead,
)
from knowdesk.client.http import ApiSession, Id


class AccountsAPI:
    """`client.accounts`: who the client acts as, and the workspace's people and keys."""

    def __init__(self, api: ApiSession) -> None:
        self._api = api

    def login(self, email: str, password: str) -> SessionOut:
        """Sign in; the client uses the returned session token for every later call."""
        session = self._api.call(
            SessionOut, "POST", "/api/v1/auth/login", json={"email": email, "password": password}
        )
        self._api.use_token(session.token)
        return session

    def me(self) -> SessionOut:
        """The signed-in person, a fresh token and their workspaces (not for API keys)."""
        return self._api.call(SessionOut, "GET", "/api/v1/me")

    def workspace(self) -> WorkspaceRead:
        """The workspace this client acts in."""
        return self._api.call(WorkspaceRead, "GET", "/api/v1/workspace")

    def members(self) -> list[MemberRead]:
        return self._api.call(list[MemberRead], "GET", "/api/v1/workspace/members")

    def add_member(
        self, *, email: str, name: str, role: Role, password: str | None = None
    ) -> MemberRead:
        """Add a person with `role`; a password is needed only for someone new to the server."""
        body = {"email": email, "name": name, "role": role.value, "password": password}
        return self._api.call(MemberRead, "POST", "/api/v1/workspace/members", json=body)

    def api_keys(self) -> list[ApiKeyRead]:
        return self._api.call(list[ApiKeyRead], "GET", "/api/v1/api-keys")

    def create_api_key(self, name: str, role: Role = Role.EDITOR) -> ApiKeyCreated:
        """A new key; its `secret` is shown this once."""
        body = {"name": name, "role": role.value}
        return self._api.call(ApiKeyCreated, "POST", "/api/v1/api-keys", json=body)

    def revoke_api_key(self, key_id: Id) -> None:
        self._api.request("DELETE", f"/api/v1/api-keys/{key_id}")
