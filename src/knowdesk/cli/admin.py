"""Commands that work on the database directly, without a running server: `knowdesk admin …`
for operators, `knowdesk demo load` for the demo workspace.

Each command brings the schema up to date, then does its work through the service layer in one
transaction, exactly as an API request would.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.accounts import service as accounts
from knowdesk.accounts.models import Role, User, Workspace
from knowdesk.accounts.principal import Principal
from knowdesk.config import get_settings
from knowdesk.errors import KnowdeskError, NotFoundError

admin_app = typer.Typer(
    help="Workspaces and API keys, straight in the database (no server needed).",
    no_args_is_help=True,
)
demo_app = typer.Typer(help="The demo workspace.", no_args_is_help=True)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

T = TypeVar("T")


def run_in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Migrate, then run `work` in one committed transaction; a rule it breaks ends the command
    with its message and exit code 1."""
    from knowdesk.db import migrate
    from knowdesk.db.session import dispose_engine, transaction

    migrate.upgrade(get_settings())

    async def main() -> T:
        try:
            async with transaction() as session:
                return await work(session)
        finally:
            await dispose_engine()

    try:
        return asyncio.run(main())
    except KnowdeskError as exc:
        err.print(f"[red]error:[/red] {exc.message}", soft_wrap=True)
        raise typer.Exit(1) from None


async def _owner(session: AsyncSession, email: str, password: str) -> User:
    """The person called `email`: created when new, else signed in with `password`."""
    if await accounts.user_by_email(session, email) is None:
        return await accounts.create_user(
            session, email=email, name=email.split("@")[0], password=password
        )
    user = await accounts.authenticate(session, email=email, password=password)
    if user is None:
        raise accounts.AccountError(f"{email} exists with another password.")
    return user


@admin_app.command("create-workspace")
def create_workspace(
    name: Annotated[str, typer.Option(help="The workspace's name.")],
    owner_email: Annotated[str, typer.Option(help="Its owner; created when new.")],
    owner_password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            envvar="KNOWDESK_OWNER_PASSWORD",
            help="The owner's password (asked for when missing).",
        ),
    ],
) -> None:
    """Create a workspace and its owner."""

    async def work(session: AsyncSession) -> Workspace:
        owner = await _owner(session, owner_email, owner_password)
        return await accounts.create_workspace(session, name=name, owner=owner)

    workspace = run_in_transaction(work)
    out.print(f"created workspace {workspace.name!r}: slug {workspace.slug}, id {workspace.id}")


async def _workspace(session: AsyncSession, slug_or_id: str) -> Workspace:
    try:
        match = Workspace.id == uuid.UUID(slug_or_id)
    except ValueError:
        match = Workspace.slug == slug_or_id
    workspace = (await session.execute(select(Workspace).where(match))).scalar_one_or_none()
    if workspace is None:
        raise NotFoundError("Workspace", slug_or_id)
    return workspace


@admin_app.command("create-api-key")
def create_api_key(
    workspace: Annotated[str, typer.Option(help="Workspace slug or id.")],
    name: Annotated[str, typer.Option(help="What the key is for, e.g. the calling system.")],
    role: Annotated[Role, typer.Option(help="What the key may do.")] = Role.EDITOR,
) -> None:
    """Create an API key and print its secret (shown this once)."""

    async def work(session: AsyncSession) -> str:
        found = await _workspace(session, workspace)
        # An operator at the console acts for no user of the workspace: the audit log shows
        # the key's creation with neither a user nor a key as actor.
        operator = Principal(workspace_id=found.id, role=Role.OWNER)
        _, secret = await accounts.create_api_key(session, operator, name=name, role=role)
        return secret

    secret = run_in_transaction(work)
    err.print(f"API key {name!r} ({role}) created; store the secret now, it is not shown again:")
    out.print(secret)


@demo_app.command("load")
def load() -> None:
    """Create the demo workspace "Lumio Home" (does nothing when it exists)."""
    from knowdesk.demo import loader

    settings = get_settings()

    async def work(session: AsyncSession) -> loader.DemoSummary | None:
        return await loader.load_demo(session, max_upload_bytes=settings.max_upload_bytes)

    summary = run_in_transaction(work)
    if summary is None:
        out.print(f"the demo workspace {loader.WORKSPACE_NAME!r} exists already; nothing to do")
    else:
        out.print(
            f"created the demo workspace {loader.WORKSPACE_NAME!r} with {summary.faq_entries} "
            f"FAQ entries and {summary.documents} documents, all published; they are indexed "
            "by the server's worker (`knowdesk serve`) in the background"
        )
    out.print(f"sign in at http://{settings.host}:{settings.port}/ with:")
    out.print(f"  owner     {loader.OWNER_EMAIL} / {loader.PASSWORD}")
    for email, _, role in loader.MEMBERS:
        out.print(f"  {role:<9} {email} / {loader.PASSWORD}")
    out.print(
        f"the company's site with its chat window: http://{settings.host}:{settings.port}/demo"
    )
