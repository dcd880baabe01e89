"""Chat over REST: what the WebSocket does, for servers and for clients that poll.

Two audiences:
- `/api/v1/chat/…`: the workspace's people (session token or API key): channels, teams,
  agents' presence, contacts, conversations, hand-off actions.
- `/api/v1/widget/…`: a customer's chat window, by the channel's public widget token
  (`X-Widget-Token`) and the contact token from `POST /api/v1/widget/session`
  (`X-Contact-Token`).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Header, Query, Request, Response, UploadFile, status
from fastapi.responses import FileResponse, JSONResponse

from knowdesk.accounts.models import User
from knowdesk.accounts.principal import Principal
from knowdesk.chat import socket
from knowdesk.chat.attachments import MAX_ATTACHMENT_BYTES
from knowdesk.chat.hours import is_open
from knowdesk.chat.identity import issue_contact_token
from knowdesk.chat.models import Attachment, ConversationState
from knowdesk.chat.runtime import ChatRuntime
from knowdesk.chat.schemas import (
    AgentRead,
    AssignIn,
    AttachmentRead,
    ChannelCreate,
    ChannelRead,
    ChannelSecrets,
    ChannelUpdate,
    ContactRead,
    ContactUpdate,
    ContactUpsert,
    ConversationDetail,
    ConversationRead,
    ConversationUpdate,
    MessageCreate,
    MessageRead,
    ParticipantRead,
    PresenceIn,
    RatingIn,
    ReadIn,
    SendResult,
    TeamCreate,
    TeamRead,
    TeamUpdate,
    TypingIn,
    WidgetChannel,
    WidgetMessageCreate,
    WidgetSessionIn,
    WidgetSessionOut,
)
from knowdesk.chat.service import (
    AgentActor,
    Chat,
    ContactActor,
    UnauthenticatedError,
    now,
    widget_sign_in,
)
from knowdesk.errors import InvalidInputError, TooLargeError
from knowdesk.web.deps import CanManageSettings, CanWorkChats, SessionDep, SettingsDep

chat_router = APIRouter(prefix="/api/v1/chat", tags=["chat"])
widget_router = APIRouter(prefix="/api/v1/widget", tags=["chat widget"])

MAX_PAGE = 500


async def _agent(principal: Principal, chat: Chat) -> AgentActor:
    if principal.user_id is None:
        return AgentActor(user_id=None, name="API")
    user = await chat.session.get(User, principal.user_id)
    return AgentActor(user_id=principal.user_id, name=user.name if user else "")


def _runtime(request: Request) -> ChatRuntime:
    runtime: ChatRuntime = request.app.state.chat
    return runtime


RuntimeDep = Annotated[ChatRuntime, Depends(_runtime)]


def _rate_limited() -> JSONResponse:
    return JSONResponse(
        {"error": {"code": "rate_limited", "message": "Too many messages.", "details": None}},
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": "10"},
    )


async def _upload(file: UploadFile) -> bytes:
    data = await file.read(MAX_ATTACHMENT_BYTES + 1)
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise TooLargeError(f"A file holds at most {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB.")
    return data


def _download(attachment: Attachment) -> Response:
    return Response(
        attachment.data,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(attachment.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


# -- channels -----------------------------------------------------------------------------


@chat_router.get("/channels", response_model=list[ChannelRead], summary="List chat channels")
async def list_channels(principal: CanWorkChats, session: SessionDep) -> list[ChannelRead]:
    rows = await Chat(session, principal.workspace_id).channels.list()
    return [ChannelRead.model_validate(c) for c in sorted(rows, key=lambda c: c.name)]


@chat_router.post(
    "/channels",
    response_model=ChannelSecrets,
    status_code=201,
    summary="Create a channel (returns its identity secret)",
)
async def create_channel(
    body: ChannelCreate, principal: CanManageSettings, session: SessionDep
) -> ChannelSecrets:
    channel = await Chat(session, principal.workspace_id).create_channel(body)
    return ChannelSecrets.model_validate(channel)


@chat_router.get("/channels/{channel_id}", response_model=ChannelRead, summary="One channel")
async def get_channel(
    channel_id: uuid.UUID, principal: CanWorkChats, session: SessionDep
) -> ChannelRead:
    channel = await Chat(session, principal.workspace_id).channels.get_or_raise(channel_id)
    return ChannelRead.model_validate(channel)


@chat_router.get(
    "/channels/{channel_id}/secrets",
    response_model=ChannelSecrets,
    summary="A channel with its identity secret",
)
async def get_channel_secrets(
    channel_id: uuid.UUID, principal: CanManageSettings, session: SessionDep
) -> ChannelSecrets:
    channel = await Chat(session, principal.workspace_id).channels.get_or_raise(channel_id)
    return ChannelSecrets.model_validate(channel)


@chat_router.patch("/channels/{channel_id}", response_model=ChannelRead, summary="Change a channel")
async def update_channel(
    channel_id: uuid.UUID, body: ChannelUpdate, principal: CanManageSettings, session: SessionDep
) -> ChannelRead:
    channel = await Chat(session, principal.workspace_id).update_channel(channel_id, body)
    return ChannelRead.model_validate(channel)


@chat_router.post(
    "/channels/{channel_id}/rotate",
    response_model=ChannelSecrets,
    summary="New widget token and identity secret (the old ones stop working)",
)
async def rotate_channel(
    channel_id: uuid.UUID, principal: CanManageSettings, session: SessionDep
) -> ChannelSecrets:
    channel = await Chat(session, principal.workspace_id).rotate_channel_secrets(channel_id)
    return ChannelSecrets.model_validate(channel)


# -- teams and agents ----------------------------------------------------------------------


@chat_router.get("/teams", response_model=list[TeamRead], summary="List teams")
async def list_teams(principal: CanWorkChats, session: SessionDep) -> list[TeamRead]:
    chat = Chat(session, principal.workspace_id)
    teams = sorted(await chat.teams.list(), key=lambda t: t.name)
    return [await chat.team_read(t) for t in teams]


@chat_router.post("/teams", response_model=TeamRead, status_code=201, summary="Create a team")
async def create_team(
    body: TeamCreate, principal: CanManageSettings, session: SessionDep
) -> TeamRead:
    chat = Chat(session, principal.workspace_id)
    team = await chat.create_team(name=body.name, routing=body.routing, member_ids=body.member_ids)
    return await chat.team_read(team)


@chat_router.patch("/teams/{team_id}", response_model=TeamRead, summary="Change a team")
async def update_team(
    team_id: uuid.UUID, body: TeamUpdate, principal: CanManageSettings, session: SessionDep
) -> TeamRead:
    chat = Chat(session, principal.workspace_id)
    team = await chat.update_team(
        team_id, name=body.name, routing=body.routing, member_ids=body.member_ids
    )
    return await chat.team_read(team)


@chat_router.get("/agents", response_model=list[AgentRead], summary="Agents, presence and load")
async def list_agents(principal: CanWorkChats, session: SessionDep) -> list[AgentRead]:
    return await Chat(session, principal.workspace_id).agents()


@chat_router.put(
    "/agents/me/presence",
    response_model=AgentRead,
    summary="Set your availability (REST clients repeat it within a minute to stay online)",
)
async def set_presence(body: PresenceIn, principal: CanWorkChats, session: SessionDep) -> AgentRead:
    chat = Chat(session, principal.workspace_id)
    agent = await _agent(principal, chat)
    await chat.set_presence(agent, status=body.status, capacity=body.capacity)
    return next(a for a in await chat.agents() if a.user_id == agent.user_id)


# -- contacts ------------------------------------------------------------------------------


@chat_router.get("/contacts", response_model=list[ContactRead], summary="Find contacts")
async def list_contacts(
    principal: CanWorkChats,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200, description="Name, email or id")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ContactRead]:
    contacts = Chat(session, principal.workspace_id).contacts
    rows = await contacts.list(contacts.search(q).limit(limit).offset(offset))
    return [ContactRead.model_validate(c) for c in rows]


@chat_router.post(
    "/contacts", response_model=ContactRead, summary="Find or make a contact by external id"
)
async def upsert_contact(
    body: ContactUpsert, principal: CanWorkChats, session: SessionDep
) -> ContactRead:
    contact = await Chat(session, principal.workspace_id).upsert_contact(
        external_id=body.external_id, name=body.name, email=body.email, attributes=body.attributes
    )
    return ContactRead.model_validate(contact)


@chat_router.get("/contacts/{contact_id}", response_model=ContactRead, summary="One contact")
async def get_contact(
    contact_id: uuid.UUID, principal: CanWorkChats, session: SessionDep
) -> ContactRead:
    contact = await Chat(session, principal.workspace_id).contacts.get_or_raise(contact_id)
    return ContactRead.model_validate(contact)


@chat_router.patch("/contacts/{contact_id}", response_model=ContactRead, summary="Change a contact")
async def update_contact(
    contact_id: uuid.UUID, body: ContactUpdate, principal: CanWorkChats, session: SessionDep
) -> ContactRead:
    contact = await Chat(session, principal.workspace_id).update_contact(contact_id, body)
    return ContactRead.model_validate(contact)


@chat_router.get(
    "/contacts/{contact_id}/conversations",
    response_model=list[ConversationRead],
    summary="A contact's conversations, newest first",
)
async def contact_conversations(
    contact_id: uuid.UUID, principal: CanWorkChats, session: SessionDep
) -> list[ConversationRead]:
    chat = Chat(session, principal.workspace_id)
    await chat.contacts.get_or_raise(contact_id)
    return [
        ConversationRead.model_validate(c) for c in await chat.conversations.of_contact(contact_id)
    ]


# -- conversations -------------------------------------------------------------------------


@chat_router.get(
    "/conversations", response_model=list[ConversationRead], summary="Find conversations"
)
async def list_conversations(
    principal: CanWorkChats,
    session: SessionDep,
    state: ConversationState | None = None,
    assignee: Annotated[str | None, Query(description="A user id, or `me`.", max_length=40)] = None,
    team_id: uuid.UUID | None = None,
    contact_id: uuid.UUID | None = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ConversationRead]:
    assignee_id = principal.user_id if assignee == "me" else _uuid(assignee)
    conversations = Chat(session, principal.workspace_id).conversations
    stmt = conversations.search(
        state=state, assignee_id=assignee_id, team_id=team_id, contact_id=contact_id, tag=tag
    )
    rows = await conversations.list(stmt.limit(limit).offset(offset))
    return [ConversationRead.model_validate(c) for c in rows]


def _uuid(value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidInputError(f"{value!r} is not a user id (or `me`).") from exc


@chat_router.get(
    "/conversations/{conversation_id}",
    response_model=ConversationDetail,
    summary="A conversation with its contact and participants",
)
async def get_conversation(
    conversation_id: uuid.UUID, principal: CanWorkChats, session: SessionDep
) -> ConversationDetail:
    chat = Chat(session, principal.workspace_id)
    conversation = await chat.conversations.get_or_raise(conversation_id)
    contact = await chat.contacts.get_or_raise(conversation.contact_id)
    participants = await chat.participants.of_conversation(conversation.id)
    return ConversationDetail(
        **ConversationRead.model_validate(conversation).model_dump(),
        contact=ContactRead.model_validate(contact),
        participants=[ParticipantRead.model_validate(p) for p in participants],
    )


@chat_router.patch(
    "/conversations/{conversation_id}", response_model=ConversationRead, summary="Tags, team"
)
async def update_conversation(
    conversation_id: uuid.UUID,
    body: ConversationUpdate,
    principal: CanWorkChats,
    session: SessionDep,
) -> ConversationRead:
    chat = Chat(session, principal.workspace_id)
    conversation = await chat.update_conversation(
        conversation_id,
        by=await _agent(principal, chat),
        changes=body.model_dump(exclude_unset=True),
    )
    return ConversationRead.model_validate(conversation)


@chat_router.get(
    "/conversations/{conversation_id}/messages",
    response_model=list[MessageRead],
    summary="Messages after a seq, oldest first (the whole history from 0)",
)
async def list_messages(
    conversation_id: uuid.UUID,
    principal: CanWorkChats,
    session: SessionDep,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> list[MessageRead]:
    chat = Chat(session, principal.workspace_id)
    rows = await chat.messages_after(
        await _agent(principal, chat), conversation_id, after_seq, limit
    )
    return [MessageRead.model_validate(m) for m in rows]


@chat_router.post(
    "/conversations/{conversation_id}/messages",
    response_model=SendResult,
    status_code=201,
    summary="Reply as the assigned agent (a retry with the same client_msg_id is stored once)",
)
async def send_message(
    conversation_id: uuid.UUID,
    body: MessageCreate,
    principal: CanWorkChats,
    session: SessionDep,
    response: Response,
) -> SendResult:
    chat = Chat(session, principal.workspace_id)
    message, duplicate = await chat.send(
        await _agent(principal, chat),
        conversation_id,
        client_msg_id=body.client_msg_id,
        text=body.text,
        buttons=body.buttons,
        attachment_ids=body.attachment_ids,
    )
    if duplicate:
        response.status_code = status.HTTP_200_OK
    return SendResult(message=MessageRead.model_validate(message), duplicate=duplicate)


@chat_router.post(
    "/conversations/{conversation_id}/read", status_code=204, summary="Mark read up to a seq"
)
async def mark_read(
    conversation_id: uuid.UUID, body: ReadIn, principal: CanWorkChats, session: SessionDep
) -> Response:
    chat = Chat(session, principal.workspace_id)
    await chat.mark_read(await _agent(principal, chat), conversation_id, body.seq)
    return Response(status_code=204)


@chat_router.post(
    "/conversations/{conversation_id}/typing", status_code=204, summary="Say you are typing"
)
async def typing(
    conversation_id: uuid.UUID, body: TypingIn, principal: CanWorkChats, session: SessionDep
) -> Response:
    chat = Chat(session, principal.workspace_id)
    await chat.typing(await _agent(principal, chat), conversation_id, body.typing)
    return Response(status_code=204)


@chat_router.post(
    "/conversations/{conversation_id}/assign",
    response_model=ConversationRead,
    summary="Take a conversation (or give it to another agent)",
)
async def assign(
    conversation_id: uuid.UUID, body: AssignIn, principal: CanWorkChats, session: SessionDep
) -> ConversationRead:
    chat = Chat(session, principal.workspace_id)
    conversation = await chat.assign(
        conversation_id, user_id=body.user_id, by=await _agent(principal, chat)
    )
    return ConversationRead.model_validate(conversation)


@chat_router.post(
    "/conversations/{conversation_id}/handback",
    response_model=ConversationRead,
    summary="Hand the conversation back to the bot",
)
async def hand_back(
    conversation_id: uuid.UUID, principal: CanWorkChats, session: SessionDep
) -> ConversationRead:
    chat = Chat(session, principal.workspace_id)
    conversation = await chat.hand_back(conversation_id, by=await _agent(principal, chat))
    return ConversationRead.model_validate(conversation)


@chat_router.post(
    "/conversations/{conversation_id}/resolve",
    response_model=ConversationRead,
    summary="Resolve a conversation",
)
async def resolve(
    conversation_id: uuid.UUID, principal: CanWorkChats, session: SessionDep
) -> ConversationRead:
    chat = Chat(session, principal.workspace_id)
    conversation = await chat.resolve(conversation_id, by=await _agent(principal, chat))
    return ConversationRead.model_validate(conversation)


@chat_router.post(
    "/attachments", response_model=AttachmentRead, status_code=201, summary="Upload a file"
)
async def upload_attachment(
    principal: CanWorkChats, session: SessionDep, file: Annotated[UploadFile, File()]
) -> AttachmentRead:
    chat = Chat(session, principal.workspace_id)
    attachment = await chat.store_attachment(
        await _agent(principal, chat), filename=file.filename or "file", data=await _upload(file)
    )
    return AttachmentRead.model_validate(attachment)


@chat_router.get("/attachments/{attachment_id}", summary="Download a file", response_class=Response)
async def download_attachment(
    attachment_id: uuid.UUID, principal: CanWorkChats, session: SessionDep
) -> Response:
    chat = Chat(session, principal.workspace_id)
    return _download(await chat.attachment_for(await _agent(principal, chat), attachment_id))


# -- the widget ----------------------------------------------------------------------------


class WidgetCaller:
    """A customer's chat window, known by its channel token and contact token."""

    def __init__(self, chat: Chat, actor: ContactActor, messages_per_minute: int) -> None:
        self.chat = chat
        self.actor = actor
        self.messages_per_minute = messages_per_minute


async def _widget_caller(
    session: SessionDep,
    settings: SettingsDep,
    x_widget_token: Annotated[str, Header(max_length=200)],
    x_contact_token: Annotated[str, Header(max_length=2000)],
) -> WidgetCaller:
    if not x_contact_token.strip():
        raise UnauthenticatedError("Send the contact token from POST /api/v1/widget/session.")
    channel, contact = await widget_sign_in(
        session,
        widget_token=x_widget_token,
        identity=None,
        contact_token=x_contact_token,
        secret=settings.secret_key,
    )
    return WidgetCaller(
        Chat(session, channel.workspace_id),
        ContactActor(contact_id=contact.id, channel_id=channel.id, name=contact.name),
        channel.messages_per_minute,
    )


WidgetDep = Annotated[WidgetCaller, Depends(_widget_caller)]


@widget_router.post(
    "/session",
    response_model=WidgetSessionOut,
    summary="Start (or resume) a customer's session: anonymous, by contact token or identity",
)
async def widget_session(
    body: WidgetSessionIn,
    session: SessionDep,
    settings: SettingsDep,
    x_widget_token: Annotated[str, Header(max_length=200)],
) -> WidgetSessionOut:
    channel, contact = await widget_sign_in(
        session,
        widget_token=x_widget_token,
        identity=body.identity,
        contact_token=body.contact_token,
        secret=settings.secret_key,
    )
    conversations = await Chat(session, channel.workspace_id).conversations.of_contact(contact.id)
    return WidgetSessionOut(
        contact_id=contact.id,
        contact_token=issue_contact_token(contact.id, channel.id, settings.secret_key),
        channel=WidgetChannel(
            id=channel.id,
            name=channel.name,
            welcome_message=channel.welcome_message,
            open_now=is_open(channel.business_hours, now()),
        ),
        conversations=[
            ConversationRead.model_validate(c) for c in conversations if c.channel_id == channel.id
        ],
    )


@widget_router.post(
    "/conversations",
    response_model=ConversationRead,
    summary="The customer's current conversation, or a new one",
)
async def widget_open(caller: WidgetDep) -> ConversationRead:
    return ConversationRead.model_validate(await caller.chat.open_conversation(caller.actor))


@widget_router.get(
    "/conversations/{conversation_id}/messages",
    response_model=list[MessageRead],
    summary="Messages after a seq, oldest first",
)
async def widget_messages(
    conversation_id: uuid.UUID,
    caller: WidgetDep,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> list[MessageRead]:
    rows = await caller.chat.messages_after(caller.actor, conversation_id, after_seq, limit)
    return [MessageRead.model_validate(m) for m in rows]


@widget_router.post(
    "/conversations/{conversation_id}/messages",
    response_model=SendResult,
    status_code=201,
    summary="Send as the customer (a retry with the same client_msg_id is stored once)",
    responses={429: {"description": "Too many messages"}},
)
async def widget_send(
    conversation_id: uuid.UUID,
    body: WidgetMessageCreate,
    caller: WidgetDep,
    runtime: RuntimeDep,
    response: Response,
) -> SendResult | JSONResponse:
    if not runtime.limits.allow_contact_message(
        caller.actor.contact_id, caller.messages_per_minute
    ):
        return _rate_limited()
    message, duplicate = await caller.chat.send(
        caller.actor,
        conversation_id,
        client_msg_id=body.client_msg_id,
        text=body.text,
        attachment_ids=body.attachment_ids,
    )
    if duplicate:
        response.status_code = status.HTTP_200_OK
    return SendResult(message=MessageRead.model_validate(message), duplicate=duplicate)


@widget_router.post(
    "/conversations/{conversation_id}/read", status_code=204, summary="Mark read up to a seq"
)
async def widget_read(conversation_id: uuid.UUID, body: ReadIn, caller: WidgetDep) -> Response:
    await caller.chat.mark_read(caller.actor, conversation_id, body.seq)
    return Response(status_code=204)


@widget_router.post(
    "/conversations/{conversation_id}/typing", status_code=204, summary="Say you are typing"
)
async def widget_typing(conversation_id: uuid.UUID, body: TypingIn, caller: WidgetDep) -> Response:
    await caller.chat.typing(caller.actor, conversation_id, body.typing)
    return Response(status_code=204)


@widget_router.post(
    "/conversations/{conversation_id}/messages/{seq}/rating",
    response_model=MessageRead,
    summary="Rate a bot reply: helpful or not helpful",
)
async def widget_rate(
    conversation_id: uuid.UUID, seq: int, body: RatingIn, caller: WidgetDep
) -> MessageRead:
    message = await caller.chat.rate(caller.actor, conversation_id, seq, body.rating)
    return MessageRead.model_validate(message)


@widget_router.post(
    "/attachments", response_model=AttachmentRead, status_code=201, summary="Upload a file"
)
async def widget_upload(caller: WidgetDep, file: Annotated[UploadFile, File()]) -> AttachmentRead:
    attachment = await caller.chat.store_attachment(
        caller.actor, filename=file.filename or "file", data=await _upload(file)
    )
    return AttachmentRead.model_validate(attachment)


@widget_router.get(
    "/attachments/{attachment_id}", summary="Download a file", response_class=Response
)
async def widget_download(attachment_id: uuid.UUID, caller: WidgetDep) -> Response:
    return _download(await caller.chat.attachment_for(caller.actor, attachment_id))


# -- the chat window's files -----------------------------------------------------------------

WIDGET_FILES = Path(__file__).with_name("widget")
page_router = APIRouter(prefix="/widget", tags=["chat widget"], include_in_schema=False)


@page_router.get("/knowdesk-chat.js")
async def widget_script() -> FileResponse:
    """The chat window, for any site: `<script src=… data-widget-token=…>`."""
    return FileResponse(
        WIDGET_FILES / "knowdesk-chat.js",
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


@page_router.get("/demo")
async def widget_demo() -> FileResponse:
    """A page that shows a channel's chat window: /widget/demo?token=wt_…"""
    return FileResponse(WIDGET_FILES / "demo.html", media_type="text/html; charset=utf-8")


router = APIRouter()
router.include_router(page_router)
router.include_router(chat_router)
router.include_router(widget_router)
router.include_router(socket.router)
