"""What the console adds to the application besides its pages: its static files and the guard
against cross-site requests that a session cookie would otherwise authenticate."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

from knowdesk.console.csrf import SameOriginGuard
from knowdesk.console.pages import HERE, STATIC_URL


class RevalidatedFiles(StaticFiles):
    """Static files that browsers check again on every use (a 304 when unchanged): the page
    scripts import each other by plain relative paths, so a version in the URL would not reach
    them, and an upgraded server must never run with yesterday's scripts."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        return response


def mount_console(app: FastAPI) -> None:
    app.mount(STATIC_URL, RevalidatedFiles(directory=HERE / "static"), name="console-static")
    app.add_middleware(SameOriginGuard)
