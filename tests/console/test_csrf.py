"""Which requests the cross-site guard refuses (console/csrf.py), decided from the request alone."""

from __future__ import annotations

from typing import Any

import pytest

from knowdesk.console.csrf import request_is_forged

COOKIE = (b"cookie", b"knowdesk_session=eyJ; knowdesk_workspace=w")


def scope(method: str, path: str, *headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(b"host", b"desk.example.com"), *headers],
    }


@pytest.mark.parametrize(
    ("request_scope", "forged"),
    [
        # Reading is always allowed.
        (scope("GET", "/api/v1/kb/entries", COOKIE), False),
        # A cookie alone cannot change anything…
        (scope("POST", "/api/v1/kb/collections", COOKIE), True),
        (scope("DELETE", "/api/v1/api-keys/x", COOKIE), True),
        (
            scope("POST", "/api/v1/kb/collections", COOKIE, (b"origin", b"https://evil.example")),
            True,
        ),
        (scope("POST", "/api/v1/kb/collections", COOKIE, (b"origin", b"null")), True),
        (
            scope(
                "POST", "/api/v1/x", COOKIE, (b"referer", b"https://evil.example/desk.example.com")
            ),
            True,
        ),
        (scope("POST", "/api/v1/x", COOKIE, (b"x-knowdesk-console", b"0")), True),
        # …unless the request shows it comes from the console's own pages.
        (scope("POST", "/api/v1/x", COOKIE, (b"origin", b"https://desk.example.com")), False),
        (
            scope("POST", "/api/v1/x", COOKIE, (b"referer", b"https://desk.example.com/console/")),
            False,
        ),
        (scope("POST", "/api/v1/x", COOKIE, (b"x-knowdesk-console", b"1")), False),
        # Bearer tokens and API keys are not sent by browsers on their own.
        (scope("POST", "/api/v1/x", COOKIE, (b"authorization", b"Bearer eyJ")), False),
        (scope("POST", "/api/v1/x", COOKIE, (b"x-api-key", b"kd_x")), False),
        (scope("POST", "/api/v1/widget/session"), False),
        # Console forms (sign-in too) always need their origin.
        (scope("POST", "/console/sign-in"), True),
        (scope("POST", "/console/sign-in", (b"origin", b"https://desk.example.com")), False),
        (scope("POST", "/console/sign-out", (b"origin", b"http://desk.example.com:8080")), True),
    ],
)
def test_forged_requests(request_scope: dict[str, Any], forged: bool) -> None:
    assert request_is_forged(request_scope) is forged


def test_websockets_are_not_http_requests() -> None:
    assert request_is_forged({"type": "websocket", "path": "/api/v1/chat/socket"}) is False
