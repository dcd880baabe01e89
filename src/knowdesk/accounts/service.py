"""Sign-up, sign-in, workspaces, members and API keys."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.accounts.models import ApiKey, Membership, Role, User, Workspace
from knowdesk.accounts.principal import Principal
from knowdesk.accounts.security import hash_password, new_api_key, verify_password
from knowdesk.audit.service import record
from knowdesk.db.repository import ScopedRepository
from knowdesk.errors import ConflictError, NotFoundError


class AccountError(ConflictError):
    """A request that breaks an accounts rule (duplicate email, last owner, …)."""


class MembershipRepository(ScopedRepository[Membership]):
    model = Membership

    async def members(self) -> Sequence[tuple[Membership, User]]:
        stmt = self.select(Membership, User).join(User, User.id == Membership.user_id)
        return [(m, u) for m, u in (await self.session.execute(stmt.order_by(User.email))).all()]

    async def for_user(self, user_id: uuid.UUID) -> Membership | None:
        stmt = self.select().where(Membership.user_id == user_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()


class ApiKeyRepository(ScopedRepository[ApiKey]):
    model = ApiKey


def _slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
    return f"{slug or 'ws'}-{secrets.token_hex(3)}"


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    stmt = select(User).where(func.lower(User.email) == email.lower())
    return (await session.execute(stmt)).scalar_one_or_none()


async def create_user(session: AsyncSession, *, email: str, name: str, password: str) -> User:
    if await user_by_email(session, email):
        raise AccountError(f"A user with email {email} already exists.")
    user = User(email=email.lower(), name=name, password_hash=hash_password(password))
    session.add(user)
    await session.flush()
    return user


async def create_workspace(session: AsyncSession, *, name: str, owner: User) -> Workspace:
    workspace = Workspace(name=name, slug=_slugify(name), settings={})
    session.add(workspace)
    await session.flush()
    session.add(Membership(workspace_id=workspace.id, user_id=owner.id, role=Role.OWNER))
    await session.flush()
    principal = Principal(workspace_id=workspace.id, role=Role.OWNER, user_id=owner.id)
    record(session, principal, "workspace.create", target_type="workspace", target_id=workspace.id)
    return workspace


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User | None:
    user = await user_by_email(session, email)
    if user is None or not verify_password(user.password_hash, password):
        return None
    return user


async def memberships_of(
    session: AsyncSession, user_id: uuid.UUID
) -> Sequence[tuple[Membership, Workspace]]:
    stmt = (
        select(Membership, Workspace)
        .join(Workspace, Workspace.id == Membership.workspace_id)
        .where(Membership.user_id == user_id)
        .order_by(Workspace.name)
    )
    return [(m, w) for m, w in (await session.execute(stmt)).all()]


async def add_member(
    session: AsyncSession,
    principal: Principal,
    *,
    email: str,
    name: str,
    role: Role,
    password: str | None,
) -> tuple[Membership, User]:
    user = await user_by_email(session, email)
    if user is None:
        if not password:
            raise AccountError("A new user needs a password.")
        user = await create_user(session, email=email, name=name, password=password)
    members = MembershipRepository(session, principal.workspace_id)
    if await members.for_user(user.id):
        raise AccountError(f"{email} is already a member.")
    membership = members.add(Membership(user_id=user.id, role=role))
    await session.flush()
    record(session, principal, "member.add", target_type="user", target_id=user.id, role=role.value)
    return membership, user


async def _owner_count(members: MembershipRepository) -> int:
    stmt = members.select(func.count()).where(Membership.role == Role.OWNER)
    return int((await members.session.execute(stmt)).scalar_one())


async def change_role(
    session: AsyncSession, principal: Principal, *, user_id: uuid.UUID, role: Role
) -> Membership:
    members = MembershipRepository(session, principal.workspace_id)
    membership = await members.for_user(user_id)
    if membership is None:
        raise NotFoundError("Member", user_id)
    if membership.role == Role.OWNER and role != Role.OWNER and await _owner_count(members) == 1:
        raise AccountError("A workspace keeps at least one owner.")
    membership.role = role
    record(session, principal, "member.role", target_type="user", target_id=user_id, role=role)
    return membership


async def remove_member(session: AsyncSession, principal: Principal, *, user_id: uuid.UUID) -> None:
    members = MembershipRepository(session, principal.workspace_id)
    membership = await members.for_user(user_id)
    if membership is None:
        raise NotFoundError("Member", user_id)
    if membership.role == Role.OWNER and await _owner_count(members) == 1:
        raise AccountError("A workspace keeps at least one owner.")
    await members.delete(membership)
    record(session, principal, "member.remove", target_type="user", target_id=user_id)


async def create_api_key(
    session: AsyncSession, principal: Principal, *, name: str, role: Role
) -> tuple[ApiKey, str]:
    made = new_api_key()
    key = ApiKeyRepository(session, principal.workspace_id).add(
        ApiKey(
            name=name,
            prefix=made.prefix,
            secret_hash=made.secret_hash,
            role=role,
            created_by=principal.user_id,
        )
    )
    await session.flush()
    record(session, principal, "api_key.create", target_type="api_key", target_id=key.id)
    return key, made.secret


async def revoke_api_key(session: AsyncSession, principal: Principal, *, key_id: uuid.UUID) -> None:
    key = await ApiKeyRepository(session, principal.workspace_id).get_or_raise(key_id)
    key.revoked_at = datetime.now(UTC)
    record(session, principal, "api_key.revoke", target_type="api_key", target_id=key_id)
