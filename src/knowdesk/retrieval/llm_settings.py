"""Each workspace's own language model endpoint, with the server's environment as the default.

A workspace that set nothing generates with the server's `KNOWDESK_LLM_*` endpoint (or not at
all when the server has none). One that saved its own uses that one, or none when its owner
switched generation off. The settings live in `Workspace.settings["llm"]`, like the mail
settings: the API key is never returned, is kept when a save leaves it out, and never follows
the settings to another endpoint (a changed base URL drops it).

Every function works inside the caller's transaction and never commits.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.accounts.models import Workspace
from knowdesk.accounts.principal import Principal
from knowdesk.audit.service import record
from knowdesk.config import Settings
from knowdesk.retrieval.llm import (
    LLM,
    LLMError,
    LLMFailure,
    OpenAICompatibleLLM,
    grounded_messages,
    judge_reply,
    llm_from_settings,
)

MIN_TIMEOUT_SECONDS = 1.0
MAX_TIMEOUT_SECONDS = 120.0

# The connection check: a question whose answer the one passage holds, so that a working model
# replies with a citation and the reply can be judged like a customer's answer.
CHECK_PASSAGE = "Test / Colour\nThe knowdesk test lamp shines green."
CHECK_QUESTION = "What colour does the knowdesk test lamp shine?"

log = logging.getLogger(__name__)


def checked_base_url(value: str) -> str:
    """An http(s) URL with a host, without a trailing slash; ValueError otherwise."""
    url = value.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is no number
    except ValueError as exc:
        raise ValueError(f"Not a URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("The endpoint must be an http:// or https:// URL with a host.")
    if parts.username or parts.password:
        raise ValueError("Put the API key in its own field, not in the URL.")
    if parts.fragment:
        raise ValueError("The endpoint's URL has no #fragment.")
    return url.rstrip("/")


class WorkspaceLLMSettings(BaseModel):
    """What is stored (the API key with it)."""

    enabled: bool = True
    base_url: str = Field(max_length=2000)
    model: str = Field(min_length=1, max_length=200)
    timeout_seconds: float = Field(ge=MIN_TIMEOUT_SECONDS, le=MAX_TIMEOUT_SECONDS)
    api_key: str | None = None


class LLMSettingsIn(BaseModel):
    """The workspace's own endpoint; replaces what was saved before."""

    enabled: bool = Field(
        default=True, description="False: this workspace answers from its passages alone."
    )
    base_url: str = Field(
        min_length=1,
        max_length=2000,
        description="OpenAI-compatible base URL (http or https), e.g. http://localhost:11434/v1; "
        "knowdesk posts to <base_url>/chat/completions.",
    )
    model: str = Field(min_length=1, max_length=200, description="The model's name.")
    timeout_seconds: float = Field(
        default=20.0,
        ge=MIN_TIMEOUT_SECONDS,
        le=MAX_TIMEOUT_SECONDS,
        description="How long a customer's answer may wait for the model.",
    )
    api_key: str | None = Field(
        default=None,
        max_length=1000,
        description="Sent as a bearer token. Left out: keep the stored key, unless base_url "
        'changes (then there is none). "": remove it. Never returned.',
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return checked_base_url(value)

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("Name the model.")
        return value.strip()


class ServerLLMRead(BaseModel):
    base_url: str
    model: str
    timeout_seconds: float
    has_api_key: bool


class LLMSettingsRead(BaseModel):
    own: bool = Field(description="The workspace saved its own settings (the fields below).")
    enabled: bool
    base_url: str | None
    model: str | None
    timeout_seconds: float | None
    has_api_key: bool = Field(description="An API key is stored (it is never shown).")
    in_use: Literal["workspace", "server", "none"] = Field(
        description="Whose endpoint writes this workspace's answers: its own, the server's "
        "default (KNOWDESK_LLM_*), or none (answers come from the passages alone)."
    )
    server: ServerLLMRead | None = Field(
        description="The server's default endpoint, used while the workspace has no settings."
    )


class LLMCheck(BaseModel):
    ok: bool = Field(description="The endpoint answered with a chat completion.")
    reason: LLMFailure | Literal["none_configured"] | None = Field(
        description="Why not: timeout, refused (nothing listens there), network, http_status, "
        "malformed (no chat completion), none_configured."
    )
    status: int | None = Field(description="The endpoint's HTTP status, when it gave an error.")
    detail: str
    grounded: bool = Field(
        description="The reply cited the test passage and held to it, as customers' answers "
        "must (a model that does not would leave every answer extractive)."
    )
    reply: str | None
    seconds: float


async def stored(session: AsyncSession, workspace_id: uuid.UUID) -> WorkspaceLLMSettings | None:
    workspace = await session.get(Workspace, workspace_id)
    raw = (workspace.settings if workspace else {}).get("llm")
    if not raw:
        return None
    try:
        return WorkspaceLLMSettings.model_validate(raw)
    except ValidationError:
        # Only a hand-edited row gets here; the customer's answer must not fail for it.
        log.warning("Workspace %s has unreadable LLM settings: the server's apply", workspace_id)
        return None


def _llm(own: WorkspaceLLMSettings) -> LLM:
    return OpenAICompatibleLLM(own.base_url, own.api_key, own.model, own.timeout_seconds)


async def workspace_llm(
    session: AsyncSession, workspace_id: uuid.UUID, settings: Settings
) -> LLM | None:
    """The model that writes this workspace's grounded answers, or None for none."""
    own = await stored(session, workspace_id)
    if own is None:
        return llm_from_settings(settings)
    return _llm(own) if own.enabled else None


def settings_read(own: WorkspaceLLMSettings | None, settings: Settings) -> LLMSettingsRead:
    server = None
    if settings.llm_base_url:
        server = ServerLLMRead(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            timeout_seconds=settings.llm_timeout_seconds,
            has_api_key=bool(settings.llm_api_key),
        )
    if own is None:
        return LLMSettingsRead(
            own=False,
            enabled=False,
            base_url=None,
            model=None,
            timeout_seconds=None,
            has_api_key=False,
            in_use="server" if server else "none",
            server=server,
        )
    return LLMSettingsRead(
        own=True,
        enabled=own.enabled,
        base_url=own.base_url,
        model=own.model,
        timeout_seconds=own.timeout_seconds,
        has_api_key=own.api_key is not None,
        in_use="workspace" if own.enabled else "none",
        server=server,
    )


def _kept_key(new: LLMSettingsIn, old: WorkspaceLLMSettings | None) -> str | None:
    if new.api_key is not None:
        return new.api_key or None  # "" removes it
    # Only for the same endpoint: a key must never be sent to another server.
    if old is not None and old.base_url == new.base_url:
        return old.api_key
    return None


async def update(
    session: AsyncSession, principal: Principal, new: LLMSettingsIn
) -> WorkspaceLLMSettings:
    """Replace the workspace's own endpoint; an API key left out is kept for the same URL."""
    old = await stored(session, principal.workspace_id)
    own = WorkspaceLLMSettings(
        enabled=new.enabled,
        base_url=new.base_url,
        model=new.model,
        timeout_seconds=new.timeout_seconds,
        api_key=_kept_key(new, old),
    )
    workspace = await session.get(Workspace, principal.workspace_id)
    assert workspace is not None
    workspace.settings = {**workspace.settings, "llm": own.model_dump()}
    record(
        session,
        principal,
        "llm.settings",
        target_type="workspace",
        target_id=workspace.id,
        host=urlsplit(own.base_url).hostname,  # the audit log is read more widely than this
        model=own.model,
        enabled=own.enabled,
        api_key_changed=(old.api_key if old else None) != own.api_key,
    )
    return own


async def clear(session: AsyncSession, principal: Principal) -> None:
    """Forget the workspace's own endpoint (and key): the server's default applies again."""
    workspace = await session.get(Workspace, principal.workspace_id)
    assert workspace is not None
    if "llm" in workspace.settings:
        workspace.settings = {k: v for k, v in workspace.settings.items() if k != "llm"}
        record(
            session,
            principal,
            "llm.settings.cleared",
            target_type="workspace",
            target_id=workspace.id,
        )


async def check(llm: LLM | None) -> LLMCheck:
    """Ask `llm` the test question from the test passage, and say how that went."""
    if llm is None:
        return LLMCheck(
            ok=False,
            reason="none_configured",
            status=None,
            detail="No language model is configured for this workspace.",
            grounded=False,
            reply=None,
            seconds=0.0,
        )
    started = time.monotonic()
    try:
        reply = await llm.complete(grounded_messages(CHECK_QUESTION, [CHECK_PASSAGE], "en"))
    except LLMError as exc:
        # Never the body of what answered: the address is the owner's choice, and the check
        # must not become a way to read pages of the server's own network.
        detail = {"http_status": f"HTTP {exc.status}", "malformed": "no chat completion"}
        return LLMCheck(
            ok=False,
            reason=exc.kind,
            status=exc.status,
            detail=detail.get(exc.kind, str(exc))[:300],
            grounded=False,
            reply=None,
            seconds=round(time.monotonic() - started, 3),
        )
    judged = judge_reply(reply, [CHECK_PASSAGE], CHECK_QUESTION)
    return LLMCheck(
        ok=True,
        reason=None,
        status=None,
        detail=judged.reason or judged.outcome,
        grounded=judged.outcome == "answered",
        reply=reply[:500],
        seconds=round(time.monotonic() - started, 3),
    )
