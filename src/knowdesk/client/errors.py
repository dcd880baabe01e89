"""The error every failed API call raises, read from the server's one error shape."""

from __future__ import annotations

from typing import Any

import httpx


class KnowdeskAPIError(Exception):
    """The server answered with an error: `{"error": {"code", "message", "details"}}`.

    `status` is the HTTP status, `code` the server's machine-readable kind (`notfound`,
    `conflict`, `validation`, `http`, …), `message` what a person should read, and `details` the
    structured extra (for a validation error: the list of fields that failed).
    Network failures are not turned into this error: they stay `httpx.TransportError`.
    """

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{message} ({status} {code})")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    @classmethod
    def from_response(cls, response: httpx.Response) -> KnowdeskAPIError:
        """Read the error shape; anything else (a proxy's HTML page, say) keeps its text."""
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and "message" in error:
            return cls(
                response.status_code,
                str(error.get("code") or "error"),
                str(error["message"]),
                error.get("details"),
            )
        text = response.text.strip()[:500] or response.reason_phrase
        return cls(response.status_code, "http", text)
