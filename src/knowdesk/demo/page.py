"""`/demo`: the demo company's website with its chat window, as a customer would meet it."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from knowdesk.demo.loader import CHANNEL_NAME, WORKSPACE_NAME, demo_channel
from knowdesk.web.deps import SessionDep

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(tags=["demo"], include_in_schema=False)


@router.get("/demo", response_class=HTMLResponse)
async def demo_site(request: Request, session: SessionDep) -> HTMLResponse:
    """Lumio Home's home page with the chat window of its website channel; 404 (with how to
    load it) until `knowdesk demo load` has run."""
    channel = await demo_channel(session)
    if channel is None:
        return templates.TemplateResponse(
            request, "not_loaded.html", {"workspace": WORKSPACE_NAME}, status_code=404
        )
    return templates.TemplateResponse(
        request, "site.html", {"widget_token": channel.widget_token, "channel": CHANNEL_NAME}
    )
