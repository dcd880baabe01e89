"""The HTTP session that every part of the SDK shares: base URL, credentials, error handling."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import httpx
from pydantic import TypeAdapter

from knowdesk import __version__
from knowdesk.client.errors import KnowdeskAPIError

DEFAULT_TIMEOUT = 120.0

T = TypeVar("T")
# Ids as the server returns them (UUID) or as a person types them (text).
Id = uuid.UUID | str


class ApiSession:
    """One `httpx.Client` with the caller's credentials; raises `KnowdeskAPIError` on failure.

    Credentials: an API key (`kd_…`, sent as `X-API-Key`) or a session token (sent as a bearer
    token; `accounts.login` sets one). `workspace` (id or slug) goes out as `X-Workspace`, which
    a person who belongs to several workspaces needs.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        token: str | None,
        workspace: str | None,
        timeout: float,
    ) -> None:
        if api_key and token:
            raise ValueError("Give an API key or a session token, not both.")
        headers = {"User-Agent": f"knowdesk-client/{__version__}"}
        if workspace:
            headers["X-Workspace"] = workspace
        self.http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)
        if api_key:
            self.http.headers["X-API-Key"] = api_key
        if token:
            self.use_token(token)

    def use_token(self, token: str) -> None:
        self.http.headers.pop("X-API-Key", None)
        self.http.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        if response.is_error:
            raise KnowdeskAPIError.from_response(response)
        return response

    def call(self, model: type[T], method: str, path: str, **kwargs: Any) -> T:
        """Make a request and read its JSON body as `model` (a pydantic model or `list[...]`)."""
        return TypeAdapter(model).validate_python(self.request(method, path, **kwargs).json())

    def close(self) -> None:
        self.http.close()
