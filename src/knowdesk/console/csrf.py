"""Cross-site request forgery guard for requests that a browser authenticates with a cookie.

The console keeps the session token in an HttpOnly, SameSite=Lax cookie, which the REST API
accepts as well as a bearer token. Lax already stops most cross-site POSTs from carrying it, but
not older browsers nor same-site subdomains, and a multipart form needs no preflight. So every
unsafe request that a cookie could authenticate must prove it comes from our own pages: either
an `Origin` (or, lacking it, `Referer`) of this very host, or the `X-Knowdesk-Console` header,
which another site cannot add without a CORS preflight this server never grants. Callers that
authenticate with `Authorization` or `X-API-Key` carry no ambient credential and pass unchecked.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

CONSOLE_HEADER = b"x-knowdesk-console"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COOKIE_NAMES = (b"knowdesk_session=",)


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope.get("headers", [])}


def _authenticated_by_cookie(headers: dict[bytes, bytes]) -> bool:
    if b"authorization" in headers or b"x-api-key" in headers:
        return False
    cookie = headers.get(b"cookie", b"")
    return any(name in cookie for name in COOKIE_NAMES)


def _same_origin(headers: dict[bytes, bytes]) -> bool:
    host = headers.get(b"host", b"").decode("latin-1").lower()
    source = headers.get(b"origin") or headers.get(b"referer")
    if not host or not source or source == b"null":
        return False
    return urlsplit(source.decode("latin-1")).netloc.lower() == host


def request_is_forged(scope: Scope) -> bool:
    """True for an unsafe browser request that cannot show it comes from this server's pages.

    Console form posts (sign-in included: a forged sign-in would plant the attacker's session)
    are always checked; API calls only when a cookie is what would authenticate them.
    """
    if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
        return False
    headers = _headers(scope)
    path: str = scope["path"]
    if not (path.startswith("/console/") or _authenticated_by_cookie(headers)):
        return False
    return headers.get(CONSOLE_HEADER) != b"1" and not _same_origin(headers)


class SameOriginGuard:
    """ASGI middleware refusing forged requests with 403 in the API's error shape."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not request_is_forged(scope):
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {
                "error": {
                    "code": "forbidden",
                    "message": "Cross-site request refused: send it from the console, or "
                    "authenticate with an Authorization header.",
                    "details": None,
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
