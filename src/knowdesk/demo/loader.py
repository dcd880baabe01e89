"""Load the demo workspace through the same services the API uses.

Everything is created in the caller's transaction and published; the indexing jobs are deferred
into the queue, where the server's worker picks them up when it starts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.accounts import service as accounts
from knowdesk.accounts.models import Role, User, Workspace
from knowdesk.accounts.principal import Principal
from knowdesk.chat.models import Channel, Routing
from knowdesk.chat.repository import ChannelRepository
from knowdesk.chat.schemas import ChannelCreate
from knowdesk.chat.service import Chat
from knowdesk.kb.models import Category, CategoryKind, Collection
from knowdesk.kb.schemas import EntryUpdate, ImportResult
from knowdesk.kb.service import KB

WORKSPACE_NAME = "Lumio Home"
PASSWORD = "demo-password"
OWNER_EMAIL = "demo@lumio.example"
# The other people of the demo, to try the agent desk and the review workflow.
MEMBERS = (
    ("agent@lumio.example", "Ada Agent", Role.AGENT),
    ("reviewer@lumio.example", "Rui Reviewer", Role.REVIEWER),
)
# Product lines with the words that point to them, so entries without a category get one.
PRODUCTS = {
    "Lumio Hub": ["hub", "网关", "zigbee", "matter"],
    "Lumio Cam Pro": ["camera", "cam pro", "摄像头", "录像", "night vision", "夜视"],
    "Lumio Smart Plug": ["plug", "插座", "energy", "功率"],
    "Lumio App": ["app", "login", "account", "登录", "账号", "subscription", "订阅"],
    "Orders & Policies": ["order", "shipping", "return", "warranty", "发货", "退货", "保修"],
}
# The chat window on the demo company's site (/demo), answered by the bot, then by the team.
CHANNEL_NAME = "Lumio Home website"
TEAM_NAME = "Lumio Support"
WELCOME = "您好，我是 Lumio 智能助手，有什么可以帮您？ Hi, I'm Lumio's assistant: ask me anything."
FAQ_FILE = "faq.jsonl"
# Documents say which product line they belong to: the keyword guess suits short FAQ entries
# better than long policies, which mention every product.
DOCUMENT_CATEGORIES = {
    "lumio-cam-pro-manual.md": "Lumio Cam Pro",
    "lumio-hub-manual-zh.md": "Lumio Hub",
    "privacy-policy.html": "Orders & Policies",
    "shipping-and-returns.md": "Orders & Policies",
    "warranty-policy-zh.md": "Orders & Policies",
}


@dataclass(frozen=True)
class DemoSummary:
    workspace: Workspace
    faq_entries: int
    documents: int


def _content() -> Traversable:
    # Not "data/": the repository ignores every folder of that name (the server's data folder).
    return resources.files("knowdesk.demo").joinpath("content")


def _check(result: ImportResult) -> None:
    # The files ship with knowdesk: an error in them is a bug, not something to skip over.
    if result.errors:
        raise RuntimeError(f"demo data is broken: {result.errors}")


async def _demo_workspace(session: AsyncSession, owner: User) -> Workspace | None:
    memberships = await accounts.memberships_of(session, owner.id)
    return next((w for _, w in memberships if w.name == WORKSPACE_NAME), None)


async def _fill_knowledge_base(kb: KB, max_upload_bytes: int) -> tuple[int, int]:
    categories = {
        name: await kb.create_category(
            kind=CategoryKind.PRODUCT, name=name, parent_id=None, keywords=keywords
        )
        for name, keywords in PRODUCTS.items()
    }
    faq = await kb.create_collection(
        name="FAQ", description="Questions customers ask most, in Chinese and English."
    )
    manuals = await kb.create_collection(
        name="Manuals", description="Product manuals and store policies."
    )
    imported = await kb.import_faq_file(
        faq, FAQ_FILE, _content().joinpath(FAQ_FILE).read_bytes(), publish=True
    )
    _check(imported)
    documents = sorted(_content().joinpath("documents").iterdir(), key=lambda f: f.name)
    for document in documents:
        category = categories[DOCUMENT_CATEGORIES[document.name]]
        await _upload(kb, manuals, document, category, max_upload_bytes)
    return imported.created, len(documents)


async def _upload(
    kb: KB, collection: Collection, document: Traversable, category: Category, max_bytes: int
) -> None:
    result = await kb.upload_document(
        collection, document.name, document.read_bytes(), max_bytes=max_bytes, publish=True
    )
    _check(result)
    change = EntryUpdate(expected_version=1, category_id=category.id)
    await kb.update_entry(result.entry_ids[0], change)


async def _open_website_channel(
    session: AsyncSession, workspace_id: uuid.UUID, agent_ids: list[uuid.UUID]
) -> Channel:
    chat = Chat(session, workspace_id)
    team = await chat.create_team(name=TEAM_NAME, routing=Routing.LEAST_BUSY, member_ids=agent_ids)
    return await chat.create_channel(
        ChannelCreate(name=CHANNEL_NAME, team_id=team.id, welcome_message=WELCOME)
    )


async def demo_channel(session: AsyncSession) -> Channel | None:
    """The demo company's website channel, when the demo is loaded."""
    owner = await accounts.user_by_email(session, OWNER_EMAIL)
    workspace = await _demo_workspace(session, owner) if owner is not None else None
    if workspace is None:
        return None
    channels = ChannelRepository(session, workspace.id)
    found = await channels.list(channels.select().where(Channel.name == CHANNEL_NAME))
    return found[0] if found else None


async def load_demo(session: AsyncSession, *, max_upload_bytes: int) -> DemoSummary | None:
    """Create the demo workspace with its people and published knowledge base; None when it
    exists already (loading twice changes nothing)."""
    owner = await accounts.user_by_email(session, OWNER_EMAIL)
    if owner is not None and await _demo_workspace(session, owner) is not None:
        return None
    if owner is None:
        owner = await accounts.create_user(
            session, email=OWNER_EMAIL, name="Lumio Demo", password=PASSWORD
        )
    workspace = await accounts.create_workspace(session, name=WORKSPACE_NAME, owner=owner)
    principal = Principal(workspace_id=workspace.id, role=Role.OWNER, user_id=owner.id)
    agent_ids = [owner.id]
    for email, name, role in MEMBERS:
        _, member = await accounts.add_member(
            session, principal, email=email, name=name, role=role, password=PASSWORD
        )
        if role == Role.AGENT:
            agent_ids.append(member.id)
    faq_entries, documents = await _fill_knowledge_base(KB(session, principal), max_upload_bytes)
    await _open_website_channel(session, workspace.id, agent_ids)
    return DemoSummary(workspace=workspace, faq_entries=faq_entries, documents=documents)
