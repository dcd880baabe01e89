"""Request dependencies as `Annotated` aliases, so that endpoints read like prose.

Authentication: `Authorization: Bearer <session token or API key>` or `X-API-Key: <key>`, or the
`knowdesk_session` cookie set by the sign-in page. A person who belongs to several workspaces
names one with the `X-Workspace` header (id or slug); with one membership it is implied.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.accounts.models import ApiKey, Membership, User, Workspace
from knowdesk.accounts.principal import Principal
from knowdesk.accounts.security import API_KEY_PREFIX, hash_api_key, read_session_token
from knowdesk.config import Settings
from knowdesk.db.session import session_factory

SESSION_COOKIE = "knowdesk_session"


async def _session() -> AsyncIterator[AsyncSession]:
    # The request owns the transaction: committed when the endpoint returns, rolled back on error.
    async with session_factory()() as session, session.begin():
        yield session


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(_settings)]

_UNAUTHENTICATED = HTTPException(
    status.HTTP_401_UNAUTHORIZED,
    "Not signed in: send a session token or an API key.",
    headers={"WWW-Authenticate": "Bearer"},
)


def _credential(request: Request, authorization: str | None, x_api_key: str | None) -> str | None:
    if x_api_key:
        return x_api_key.strip()
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return request.cookies.get(SESSION_COOKIE)


async def _principal_for_api_key(session: AsyncSession, secret: str) -> Principal:
    key = (
        await session.execute(select(ApiKey).where(ApiKey.secret_hash == hash_api_key(secret)))
    ).scalar_one_or_none()
    if key is None or key.revoked_at is not None:
        raise _UNAUTHENTICATED
    key.last_used_at = datetime.now(UTC)
    return Principal(workspace_id=key.workspace_id, role=key.role, api_key_id=key.id)


async def _workspace_membership(
    session: AsyncSession, user_id: uuid.UUID, workspace: str | None
) -> Membership:
    stmt = select(Membership).where(Membership.user_id == user_id)
    if workspace:
        try:
            stmt = stmt.where(Membership.workspace_id == uuid.UUID(workspace))
        except ValueError:
            stmt = stmt.join(Workspace, Workspace.id == Membership.workspace_id).where(
                Workspace.slug == workspace
            )
    memberships = (await session.execute(stmt)).scalars().all()
    if len(memberships) == 1:
        return memberships[0]
    if not memberships:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Not a member of that workspace.")
    raise HTTPException(
        status.HTTP_400_BAD_REQUEST, "Member of several workspaces: name one in X-Workspace."
    )


async def current_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
) -> User:
    """The signed-in person (session token or cookie; API keys have no person)."""
    token = _credential(request, authorization, None)
    user_id = read_session_token(token, settings.secret_key) if token else None
    user = await session.get(User, user_id) if user_id else None
    if user is None:
        raise _UNAUTHENTICATED
    return user


async def current_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
    x_workspace: Annotated[str | None, Header()] = None,
) -> Principal:
    credential = _credential(request, authorization, x_api_key)
    if not credential:
        raise _UNAUTHENTICATED
    if credential.startswith(API_KEY_PREFIX):
        return await _principal_for_api_key(session, credential)
    user_id = read_session_token(credential, settings.secret_key)
    if user_id is None:
        raise _UNAUTHENTICATED
    workspace = x_workspace or request.cookies.get("knowdesk_workspace")
    membership = await _workspace_membership(session, user_id, workspace)
    return Principal(workspace_id=membership.workspace_id, role=membership.role, user_id=user_id)


PrincipalDep = Annotated[Principal, Depends(current_principal)]
UserDep = Annotated[User, Depends(current_user)]


def permission(name: str) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: PrincipalDep) -> Principal:
        if not principal.can(name):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"Your role ({principal.role}) may not do this ({name})."
            )
        return principal

    return check


CanReadKb = Annotated[Principal, Depends(permission("kb.read"))]
CanWriteKb = Annotated[Principal, Depends(permission("kb.write"))]
CanReviewKb = Annotated[Principal, Depends(permission("kb.review"))]
CanPublishKb = Annotated[Principal, Depends(permission("kb.publish"))]
CanManageWorkspace = Annotated[Principal, Depends(permission("workspace.manage"))]
CanManageSettings = Annotated[Principal, Depends(permission("settings.manage"))]
CanWorkChats = Annotated[Principal, Depends(permission("chat.agent"))]
CanWorkTickets = Annotated[Principal, Depends(permission("tickets.work"))]
CanReadAnalytics = Annotated[Principal, Depends(permission("analytics.read"))]
