"""Errors that services raise and the web layer turns into HTTP statuses (see web/errors.py).

Services raise these instead of HTTP exceptions, so the same rules serve the API, the CLI and jobs.
"""

from __future__ import annotations


class KnowdeskError(Exception):
    """A request that cannot be carried out as asked (HTTP 400 / 422)."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(KnowdeskError):
    status_code = 422


class ConflictError(KnowdeskError):
    """The request clashes with stored state: a duplicate, a stale version, a wrong state."""

    status_code = 409


class PermissionDeniedError(KnowdeskError):
    status_code = 403


class TooLargeError(KnowdeskError):
    status_code = 413


class NotFoundError(KnowdeskError):
    """The row does not exist in the caller's workspace (which is all a caller may know)."""

    status_code = 404

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident} not found")
        self.kind = kind
        self.ident = ident
