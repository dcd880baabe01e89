"""The workspace's language model endpoint, managed by its owners."""

from __future__ import annotations

from fastapi import APIRouter, status

from knowdesk.retrieval import llm_settings
from knowdesk.retrieval.llm_settings import LLMCheck, LLMSettingsIn, LLMSettingsRead
from knowdesk.web.deps import CanManageSettings, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/settings/llm", tags=["settings"])


@router.get(
    "",
    response_model=LLMSettingsRead,
    summary="The workspace's language model endpoint",
    description="The workspace's own OpenAI-compatible endpoint (never its API key, only "
    "whether one is stored), the server's default, and which of them writes answers.",
)
async def get_llm_settings(
    principal: CanManageSettings, session: SessionDep, settings: SettingsDep
) -> LLMSettingsRead:
    own = await llm_settings.stored(session, principal.workspace_id)
    return llm_settings.settings_read(own, settings)


@router.put(
    "",
    response_model=LLMSettingsRead,
    summary="Replace the workspace's language model endpoint",
    description="Grounded answers of this workspace are then written by this endpoint (or by "
    "none, with enabled false) instead of the server's default. An API key left out is kept "
    "while base_url stays the same; a new base_url drops it.",
)
async def put_llm_settings(
    body: LLMSettingsIn, principal: CanManageSettings, session: SessionDep, settings: SettingsDep
) -> LLMSettingsRead:
    own = await llm_settings.update(session, principal, body)
    return llm_settings.settings_read(own, settings)


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Forget the workspace's endpoint and key: the server's default applies again",
)
async def delete_llm_settings(principal: CanManageSettings, session: SessionDep) -> None:
    await llm_settings.clear(session, principal)


@router.post(
    "/test",
    response_model=LLMCheck,
    summary="Ask the endpoint in use a tiny grounded question",
    description="Checks the endpoint that writes this workspace's answers (its own, else the "
    "server's): ok when it replies with a chat completion, else why not (timeout, refused, "
    "network, http_status, malformed, none_configured); grounded tells whether the reply "
    "cited the test passage as answers must.",
)
async def test_llm_settings(
    principal: CanManageSettings, session: SessionDep, settings: SettingsDep
) -> LLMCheck:
    return await llm_settings.check(
        await llm_settings.workspace_llm(session, principal.workspace_id, settings)
    )
