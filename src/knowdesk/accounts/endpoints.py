from __future__ import annotations

import uuid

from fastapi import APIRouter, HTTPException, Response, status

from knowdesk.accounts import service
from knowdesk.accounts.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    LoginIn,
    MemberCreate,
    MemberRead,
    MembershipRead,
    MemberUpdate,
    SessionOut,
    SignupIn,
    UserRead,
    WorkspaceCreate,
    WorkspaceRead,
)
from knowdesk.accounts.security import issue_session_token
from knowdesk.web.deps import (
    CanManageWorkspace,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    UserDep,
)

router = APIRouter(prefix="/api/v1", tags=["accounts"])


async def _session_out(
    session: SessionDep, settings: SettingsDep, user_id: uuid.UUID
) -> SessionOut:
    user = await session.get(service.User, user_id)
    assert user is not None
    memberships = await service.memberships_of(session, user_id)
    return SessionOut(
        token=issue_session_token(user_id, settings.secret_key, settings.session_hours),
        user=UserRead.model_validate(user),
        memberships=[
            MembershipRead(workspace=WorkspaceRead.model_validate(w), role=m.role)
            for m, w in memberships
        ],
    )


@router.post(
    "/auth/signup",
    response_model=SessionOut,
    status_code=201,
    summary="Create a user and a workspace",
)
async def signup(body: SignupIn, session: SessionDep, settings: SettingsDep) -> SessionOut:
    if not settings.allow_signup:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Sign-up is turned off on this server.")
    user = await service.create_user(
        session, email=body.email, name=body.name, password=body.password
    )
    await service.create_workspace(session, name=body.workspace_name, owner=user)
    return await _session_out(session, settings, user.id)


@router.post("/auth/login", response_model=SessionOut, summary="Sign in with email and password")
async def login(body: LoginIn, session: SessionDep, settings: SettingsDep) -> SessionOut:
    user = await service.authenticate(session, email=body.email, password=body.password)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Wrong email or password.")
    return await _session_out(session, settings, user.id)


@router.get(
    "/me", response_model=SessionOut, summary="The signed-in user, a fresh token and memberships"
)
async def me(user: UserDep, session: SessionDep, settings: SettingsDep) -> SessionOut:
    return await _session_out(session, settings, user.id)


@router.post(
    "/workspaces",
    response_model=WorkspaceRead,
    status_code=201,
    summary="Create a workspace you own",
)
async def create_workspace(
    body: WorkspaceCreate, user: UserDep, session: SessionDep
) -> WorkspaceRead:
    workspace = await service.create_workspace(session, name=body.name, owner=user)
    return WorkspaceRead.model_validate(workspace)


@router.get(
    "/workspace", response_model=WorkspaceRead, summary="The workspace this request acts in"
)
async def current_workspace(principal: PrincipalDep, session: SessionDep) -> WorkspaceRead:
    workspace = await session.get(service.Workspace, principal.workspace_id)
    return WorkspaceRead.model_validate(workspace)


@router.get("/workspace/members", response_model=list[MemberRead], summary="Members and roles")
async def list_members(principal: PrincipalDep, session: SessionDep) -> list[MemberRead]:
    rows = await service.MembershipRepository(session, principal.workspace_id).members()
    return [MemberRead(user=UserRead.model_validate(u), role=m.role) for m, u in rows]


@router.post(
    "/workspace/members", response_model=MemberRead, status_code=201, summary="Add a member"
)
async def add_member(
    body: MemberCreate, principal: CanManageWorkspace, session: SessionDep
) -> MemberRead:
    membership, user = await service.add_member(
        session, principal, email=body.email, name=body.name, role=body.role, password=body.password
    )
    return MemberRead(user=UserRead.model_validate(user), role=membership.role)


@router.patch(
    "/workspace/members/{user_id}", response_model=MemberRead, summary="Change a member's role"
)
async def change_role(
    user_id: uuid.UUID, body: MemberUpdate, principal: CanManageWorkspace, session: SessionDep
) -> MemberRead:
    membership = await service.change_role(session, principal, user_id=user_id, role=body.role)
    user = await session.get(service.User, membership.user_id)
    return MemberRead(user=UserRead.model_validate(user), role=membership.role)


@router.delete("/workspace/members/{user_id}", status_code=204, summary="Remove a member")
async def remove_member(
    user_id: uuid.UUID, principal: CanManageWorkspace, session: SessionDep
) -> Response:
    await service.remove_member(session, principal, user_id=user_id)
    return Response(status_code=204)


@router.get("/api-keys", response_model=list[ApiKeyRead], summary="API keys of the workspace")
async def list_api_keys(principal: CanManageWorkspace, session: SessionDep) -> list[ApiKeyRead]:
    keys = await service.ApiKeyRepository(session, principal.workspace_id).list()
    return [ApiKeyRead.model_validate(k) for k in keys]


@router.post(
    "/api-keys", response_model=ApiKeyCreated, status_code=201, summary="Create an API key"
)
async def create_api_key(
    body: ApiKeyCreate, principal: CanManageWorkspace, session: SessionDep
) -> ApiKeyCreated:
    key, secret = await service.create_api_key(session, principal, name=body.name, role=body.role)
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), secret=secret)


@router.delete("/api-keys/{key_id}", status_code=204, summary="Revoke an API key")
async def revoke_api_key(
    key_id: uuid.UUID, principal: CanManageWorkspace, session: SessionDep
) -> Response:
    await service.revoke_api_key(session, principal, key_id=key_id)
    return Response(status_code=204)
