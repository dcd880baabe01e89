"""Rules of live chat: who may say what in which conversation, hand-off, routing, presence.

Every function works inside the caller's transaction and never commits; what must be announced
(new messages, state changes) goes out through `events` once the transaction commits.

Ordering and idempotency: a message takes the next `seq` of its conversation while the
conversation row is locked, so numbers are gap-free and in commit order; a retry with the same
`client_msg_id` from the same sender finds the stored message and returns it unchanged.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from knowdesk.chat import events
from knowdesk.chat.attachments import MAX_ATTACHMENT_BYTES, sniff
from knowdesk.chat.handoff import Candidate, asks_for_human, pick_agent
from knowdesk.chat.hours import is_open
from knowdesk.chat.identity import (
    identity_is_valid,
    new_identity_secret,
    new_widget_token,
    read_contact_token,
)
from knowdesk.chat.models import (
    AgentState,
    AgentStatus,
    Attachment,
    Channel,
    Contact,
    Conversation,
    ConversationState,
    Message,
    Participant,
    Routing,
    SenderKind,
    Team,
)
from knowdesk.chat.notices import notice
from knowdesk.chat.repository import (
    AgentStateRepository,
    AttachmentRepository,
    ChannelRepository,
    ContactRepository,
    ConversationRepository,
    MemberRepository,
    MessageRepository,
    ParticipantRepository,
    TeamRepository,
    channel_by_widget_token,
)
from knowdesk.chat.schemas import (
    MAX_TEXT,
    AgentRead,
    Button,
    ChannelCreate,
    ChannelUpdate,
    ContactUpdate,
    IdentityIn,
    TeamRead,
)
from knowdesk.errors import (
    ConflictError,
    InvalidInputError,
    KnowdeskError,
    NotFoundError,
    PermissionDeniedError,
    TooLargeError,
)
from knowdesk.jobs.queue import defer
from knowdesk.kb.repository import CollectionRepository
from knowdesk.text.tokenize import detect_language
from knowdesk.tickets.models import Ticket, TicketComment
from knowdesk.tickets.tasks import after_handoff_without_agent, check_message_intent
from knowdesk.webhooks.service import emit

# An agent counts as online while a socket of theirs refreshes this often (see runtime.py).
PRESENCE_TTL = timedelta(seconds=60)
BOT_ID = uuid.UUID(int=0)  # the bot's member id among participants
HISTORY_TURNS = 6  # earlier customer messages the answer path sees
ROUTING_BATCH = 50
# Built once: a customer's first message and every new conversation take it.
_ADVISORY_LOCK = select(func.pg_advisory_xact_lock(func.hashtextextended(bindparam("name"), 0)))


class UnsupportedFileError(KnowdeskError):
    """A file type chats may not carry."""

    status_code = 415


class UnauthenticatedError(KnowdeskError):
    """No valid credentials: a wrong widget token, identity signature or expired token."""

    status_code = 401


@dataclass(frozen=True)
class ContactActor:
    """A customer in a chat window of one channel."""

    contact_id: uuid.UUID
    channel_id: uuid.UUID
    name: str


@dataclass(frozen=True)
class AgentActor:
    """A member acting on chats; `user_id` is None for an API key (which may not send)."""

    user_id: uuid.UUID | None
    name: str


Actor = ContactActor | AgentActor


def now() -> datetime:
    return datetime.now(UTC)


async def widget_sign_in(
    session: AsyncSession,
    *,
    widget_token: str,
    identity: IdentityIn | None,
    contact_token: str | None,
    secret: str,
) -> tuple[Channel, Contact]:
    """The channel of a chat window and the contact behind it.

    A signed identity finds (or makes) the company's customer; a contact token brings back an
    earlier visitor; neither makes a new anonymous contact.
    """
    channel = await channel_by_widget_token(session, widget_token)
    if channel is None:
        raise UnauthenticatedError("Unknown widget token.")
    contacts = ContactRepository(session, channel.workspace_id)
    contact: Contact | None
    if identity is not None:
        if not identity_is_valid(identity.external_id, identity.signature, channel.identity_secret):
            raise UnauthenticatedError("The identity's signature does not match.")
        contact = await contacts.by_external_id(identity.external_id)
        if contact is None:
            contact = contacts.add(Contact(external_id=identity.external_id, attributes={}))
        _describe(contact, identity.name, identity.email, identity.attributes)
        if contact_token:
            await session.flush()  # the customer has an id to take the visitor's history
            await _merge_visitor(session, contacts, channel, contact_token, contact, secret)
    elif contact_token:
        claims = read_contact_token(contact_token, secret)
        if claims is None or claims.channel_id != channel.id:
            raise UnauthenticatedError("The contact token is invalid or expired.")
        contact = await contacts.get(claims.contact_id)
        if contact is None:
            raise UnauthenticatedError("The contact token is invalid or expired.")
    else:
        contact = contacts.add(Contact(name="", email="", attributes={}))
    contact.last_seen_at = now()
    await session.flush()
    return channel, contact


async def _merge_visitor(
    session: AsyncSession,
    contacts: ContactRepository,
    channel: Channel,
    contact_token: str,
    customer: Contact,
    secret: str,
) -> None:
    """A visitor who chatted anonymously and then signed in is the signed-in customer: their
    conversations, files, tickets and ticket replies move over, attributes the customer lacks
    are kept, and the anonymous contact goes. A token that is invalid, or of another identified
    customer (someone else signed in on this browser before), is ignored: the identity alone
    decides."""
    claims = read_contact_token(contact_token, secret)
    if claims is None or claims.channel_id != channel.id or claims.contact_id == customer.id:
        return
    visitor = await contacts.get(claims.contact_id)
    if visitor is None or visitor.external_id is not None:
        return
    await contacts.move_history(visitor.id, customer.id)
    await session.execute(
        update(Ticket)
        .where(Ticket.workspace_id == channel.workspace_id, Ticket.requester_id == visitor.id)
        .values(requester_id=customer.id)
    )
    await session.execute(
        update(TicketComment)
        .where(
            TicketComment.workspace_id == channel.workspace_id,
            TicketComment.author_contact_id == visitor.id,
        )
        .values(author_contact_id=customer.id)
    )
    customer.attributes = {**(visitor.attributes or {}), **(customer.attributes or {})}
    await session.delete(visitor)


def _describe(
    contact: Contact, name: str | None, email: str | None, attributes: dict[str, Any] | None
) -> None:
    if name is not None:
        contact.name = name
    if email is not None:
        contact.email = email
    if attributes:
        contact.attributes = {**(contact.attributes or {}), **attributes}


@dataclass
class Chat:
    """Live chat of one workspace: repositories bound to the caller's session."""

    session: AsyncSession
    workspace_id: uuid.UUID
    # Whether a webhook takes `message.created`, when this transaction has found out (see
    # send): then appending a message need not ask again.
    _message_webhooks: bool | None = dataclasses.field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        ws = self.workspace_id
        self.channels = ChannelRepository(self.session, ws)
        self.teams = TeamRepository(self.session, ws)
        self.members = MemberRepository(self.session, ws)
        self.agent_states = AgentStateRepository(self.session, ws)
        self.contacts = ContactRepository(self.session, ws)
        self.conversations = ConversationRepository(self.session, ws)
        self.messages = MessageRepository(self.session, ws)
        self.participants = ParticipantRepository(self.session, ws)
        self.attachments = AttachmentRepository(self.session, ws)

    # -- channels -----------------------------------------------------------------------------

    async def _check_channel_refs(
        self, team_id: uuid.UUID | None, collection_ids: Sequence[uuid.UUID] | None
    ) -> None:
        if team_id is not None:
            await self.teams.get_or_raise(team_id)
        collections = CollectionRepository(self.session, self.workspace_id)
        for collection_id in collection_ids or ():
            await collections.get_or_raise(collection_id)

    async def create_channel(self, body: ChannelCreate) -> Channel:
        await self._check_channel_refs(body.team_id, body.collection_ids)
        fields = body.model_dump(exclude={"business_hours"})
        channel = self.channels.add(
            Channel(
                **fields,
                business_hours=_hours(body),
                widget_token=new_widget_token(),
                identity_secret=new_identity_secret(),
            )
        )
        await self.session.flush()
        return channel

    async def update_channel(self, channel_id: uuid.UUID, body: ChannelUpdate) -> Channel:
        channel = await self.channels.get_or_raise(channel_id)
        changes = body.model_dump(exclude_unset=True)
        await self._check_channel_refs(changes.get("team_id"), changes.get("collection_ids"))
        for field, value in changes.items():
            setattr(channel, field, value)
        if "business_hours" in changes:
            channel.business_hours = _hours(body)
        return channel

    async def rotate_channel_secrets(self, channel_id: uuid.UUID) -> Channel:
        """New widget token and identity secret: the old ones stop working at once."""
        channel = await self.channels.get_or_raise(channel_id)
        channel.widget_token = new_widget_token()
        channel.identity_secret = new_identity_secret()
        return channel

    # -- teams and agents ---------------------------------------------------------------------

    async def _check_agents(self, user_ids: Sequence[uuid.UUID]) -> None:
        agents = {user_id for user_id, _ in await self.members.agents(user_ids)}
        missing = [str(u) for u in user_ids if u not in agents]
        if missing:
            raise InvalidInputError(f"Not agents of this workspace: {', '.join(missing)}")

    async def create_team(
        self, *, name: str, routing: Routing, member_ids: Sequence[uuid.UUID]
    ) -> Team:
        if await self.teams.list(self.teams.select().where(Team.name == name)):
            raise ConflictError(f"A team named {name!r} already exists.")
        await self._check_agents(member_ids)
        team = self.teams.add(Team(name=name, routing=routing))
        await self.session.flush()
        await self.teams.set_members(team.id, member_ids)
        return team

    async def update_team(
        self,
        team_id: uuid.UUID,
        *,
        name: str | None,
        routing: Routing | None,
        member_ids: Sequence[uuid.UUID] | None,
    ) -> Team:
        team = await self.teams.get_or_raise(team_id)
        if name is not None:
            team.name = name
        if routing is not None:
            team.routing = routing
        if member_ids is not None:
            await self._check_agents(member_ids)
            await self.teams.set_members(team.id, member_ids)
        return team

    async def team_read(self, team: Team) -> TeamRead:
        return TeamRead(
            id=team.id,
            name=team.name,
            routing=team.routing,
            member_ids=await self.teams.member_ids(team.id),
        )

    async def _agent_state(self, user_id: uuid.UUID) -> AgentState:
        state = await self.agent_states.for_user(user_id)
        if state is None:
            state = self.agent_states.add(AgentState(user_id=user_id, status=AgentStatus.OFFLINE))
            await self.session.flush()
        return state

    async def set_presence(
        self, agent: AgentActor, *, status: AgentStatus, capacity: int | None
    ) -> AgentState:
        """Set an agent's availability (and capacity); going online may take waiting chats."""
        if agent.user_id is None:
            raise PermissionDeniedError("Presence belongs to a person, not an API key.")
        state = await self._agent_state(agent.user_id)
        state.status = status
        if capacity is not None:
            state.capacity = capacity
        state.last_seen_at = now()
        await self.session.flush()
        events.publish(self.session, events.agents_topic(self.workspace_id), _presence(state))
        if status == AgentStatus.ONLINE:
            await self.assign_waiting()
        return state

    async def agent_seen(self, user_id: uuid.UUID) -> AgentState:
        """An agent's socket opened: their presence is fresh (status stays what they chose)."""
        state = await self._agent_state(user_id)
        state.last_seen_at = now()
        events.publish(self.session, events.agents_topic(self.workspace_id), _presence(state))
        return state

    async def agent_gone(self, user_id: uuid.UUID) -> None:
        """An agent's last socket on this node closed: routing stops counting them at once."""
        state = await self._agent_state(user_id)
        state.last_seen_at = None
        events.publish(self.session, events.agents_topic(self.workspace_id), _presence(state))

    async def agents(self) -> list[AgentRead]:
        people = await self.members.agents()
        states = {s.user_id: s for s in await self.agent_states.all()}
        counts = await self.conversations.active_counts()
        fresh_after = now() - PRESENCE_TTL
        out = []
        for user_id, name in people:
            state = states.get(user_id)
            out.append(
                AgentRead(
                    user_id=user_id,
                    name=name,
                    status=state.status if state else AgentStatus.OFFLINE,
                    online=state is not None and _online(state, fresh_after),
                    capacity=state.capacity if state else 5,
                    active=counts.get(user_id, 0),
                    last_seen_at=state.last_seen_at if state else None,
                )
            )
        return out

    # -- contacts -----------------------------------------------------------------------------

    async def upsert_contact(
        self,
        *,
        external_id: str,
        name: str | None,
        email: str | None,
        attributes: dict[str, Any] | None,
    ) -> Contact:
        contact = await self.contacts.by_external_id(external_id)
        if contact is None:
            contact = self.contacts.add(Contact(external_id=external_id, attributes={}))
        _describe(contact, name, email, attributes)
        await self.session.flush()
        return contact

    async def update_contact(self, contact_id: uuid.UUID, body: ContactUpdate) -> Contact:
        contact = await self.contacts.get_or_raise(contact_id)
        _describe(contact, body.name, body.email, body.attributes)
        return contact

    # -- conversations ------------------------------------------------------------------------

    async def conversation_for(
        self, actor: Actor, conversation_id: uuid.UUID, *, lock: bool = False
    ) -> Conversation:
        """The conversation if `actor` may see it (a customer only their own), else NotFound."""
        conversation = (
            await self.conversations.get_for_update(conversation_id)
            if lock
            else await self.conversations.get(conversation_id)
        )
        return _visible(actor, conversation, conversation_id)

    async def _conversation_for_message(
        self, actor: Actor, conversation_id: uuid.UUID
    ) -> Conversation:
        """`conversation_for(lock=True)`, learning along the way whether webhooks take new
        messages."""
        conversation, self._message_webhooks = await self.conversations.get_for_message(
            conversation_id
        )
        return _visible(actor, conversation, conversation_id)

    async def open_conversation(self, actor: ContactActor) -> Conversation:
        """The customer's current conversation on the channel, or a new one."""
        # Two windows of one customer opening at once must find one conversation, not make two.
        await self._lock(f"open:{actor.contact_id}:{actor.channel_id}")
        existing = await self.conversations.open_for(actor.contact_id, actor.channel_id)
        if existing is not None:
            return existing
        channel = await self.channels.get_or_raise(actor.channel_id)
        conversation = self.conversations.add(
            Conversation(
                channel_id=channel.id,
                contact_id=actor.contact_id,
                state=ConversationState.BOT,
                team_id=channel.team_id,
                tags=[],
                last_seq=0,
            )
        )
        await self.session.flush()
        self.participants.add(
            Participant(
                conversation_id=conversation.id, kind=SenderKind.CONTACT, member_id=actor.contact_id
            )
        )
        self.participants.add(
            Participant(conversation_id=conversation.id, kind=SenderKind.BOT, member_id=BOT_ID)
        )
        if channel.welcome_message:
            await self.append(conversation, SenderKind.BOT, text=channel.welcome_message)
        events.publish(
            self.session,
            events.agents_topic(self.workspace_id),
            events.conversation_event(conversation),
        )
        return conversation

    async def append(
        self,
        conversation: Conversation,
        kind: SenderKind,
        *,
        text: str,
        sender_id: uuid.UUID | None = None,
        sender_name: str = "",
        client_msg_id: str | None = None,
        buttons: Sequence[dict[str, Any]] = (),
        attachments: Sequence[dict[str, Any]] = (),
        meta: dict[str, Any] | None = None,
        read_by: tuple[SenderKind, uuid.UUID] | None = None,
    ) -> Message:
        """Store the next message of a conversation the caller has locked, and announce it;
        `read_by` (the sender) has then read up to it."""
        at = now()
        message = Message(
            id=uuid.uuid4(),
            conversation_id=conversation.id,
            seq=conversation.last_seq + 1,
            client_msg_id=client_msg_id,
            sender_kind=kind,
            sender_id=sender_id,
            sender_name=sender_name,
            text=text,
            buttons=list(buttons),
            attachments=list(attachments),
            meta=meta or {},
            rating=None,
            created_at=at,
        )
        await self.session.flush()  # what is pending (a new conversation, say) goes first
        position = await self.messages.insert_next(message, read_by=read_by)
        # Stored by that statement: the unit of work must not write them again.
        for field, value in (
            ("last_seq", message.seq),
            ("last_message_at", at),
            ("updated_at", at),
        ):
            set_committed_value(conversation, field, value)
        make_transient_to_detached(message)
        self.session.add(message)
        if read_by is not None and position is None:
            self._join(conversation, *read_by, last_read_seq=message.seq)
        event = events.message_event(message)
        events.publish(self.session, events.conversation_topic(conversation.id), event)
        await emit(
            self.session,
            self.workspace_id,
            "message.created",
            {"conversation_id": conversation.id, "message": event["message"]},
            subscribed=self._message_webhooks is not False,
        )
        return message

    async def _attachments_of(
        self, actor: Actor, attachment_ids: Sequence[uuid.UUID]
    ) -> list[dict[str, Any]]:
        if not attachment_ids:
            return []
        found = {a.id: a for a in await self.attachments.many(attachment_ids)}
        out = []
        for attachment_id in attachment_ids:
            attachment = found.get(attachment_id)
            owner = (
                (attachment.contact_id if isinstance(actor, ContactActor) else attachment.user_id)
                if attachment
                else None
            )
            mine = actor.contact_id if isinstance(actor, ContactActor) else actor.user_id
            if attachment is None or owner != mine:
                raise NotFoundError("Attachment", attachment_id)
            out.append(
                {
                    "id": str(attachment.id),
                    "filename": attachment.filename,
                    "content_type": attachment.content_type,
                    "size": attachment.size,
                }
            )
        return out

    async def store_attachment(self, actor: Actor, *, filename: str, data: bytes) -> Attachment:
        """Keep a file for a message to carry; only harmless types, up to the size limit."""
        if len(data) > MAX_ATTACHMENT_BYTES:
            raise TooLargeError(f"A file holds at most {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB.")
        content_type = sniff(data)
        if content_type is None:
            raise UnsupportedFileError(
                "Chats carry images (PNG, JPEG, GIF, WebP), PDF and plain text only."
            )
        if isinstance(actor, ContactActor):
            channel_id, contact_id, user_id = actor.channel_id, actor.contact_id, None
        else:
            channel_id, contact_id, user_id = None, None, actor.user_id
        attachment = self.attachments.add(
            Attachment(
                channel_id=channel_id,
                contact_id=contact_id,
                user_id=user_id,
                filename=filename[:300] or "file",
                content_type=content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                data=data,
                created_at=now(),
            )
        )
        await self.session.flush()
        return attachment

    async def attachment_for(self, actor: Actor, attachment_id: uuid.UUID) -> Attachment:
        """A file `actor` may download: agents any of the workspace's, customers their own and
        those sent in their conversations."""
        attachment = await self.attachments.get_or_raise(attachment_id)
        if isinstance(actor, ContactActor) and attachment.contact_id != actor.contact_id:
            if not await self.attachments.shown_to_contact(attachment_id, actor.contact_id):
                raise NotFoundError("Attachment", attachment_id)
        return attachment

    async def send(
        self,
        actor: Actor,
        conversation_id: uuid.UUID,
        *,
        client_msg_id: str | None,
        text: str,
        buttons: Sequence[Button] = (),
        attachment_ids: Sequence[uuid.UUID] = (),
    ) -> tuple[Message, bool]:
        """Store a customer's or an agent's message; returns it and whether it was a retry."""
        sender_id = actor.contact_id if isinstance(actor, ContactActor) else actor.user_id
        if sender_id is None:
            raise PermissionDeniedError("Sending needs a person's session, not an API key.")
        conversation = await self._conversation_for_message(actor, conversation_id)
        if client_msg_id is not None:
            stored = await self.messages.by_client_msg_id(conversation.id, sender_id, client_msg_id)
            if stored is not None:
                return stored, True
        if len(text) > MAX_TEXT:
            raise TooLargeError(f"A message holds at most {MAX_TEXT} characters.")
        if not text.strip() and not attachment_ids:
            raise InvalidInputError("A message needs text or an attachment.")
        if conversation.state == ConversationState.RESOLVED:
            raise ConflictError("This conversation is resolved: open a new one.")
        if isinstance(actor, ContactActor):
            if buttons:
                raise InvalidInputError("Customers send text, not buttons.")
            kind = SenderKind.CONTACT
        else:
            if conversation.state != ConversationState.ASSIGNED or (
                conversation.assignee_id != actor.user_id
            ):
                raise ConflictError("Take the conversation (assign it to yourself) to reply.")
            kind = SenderKind.AGENT
        message = await self.append(
            conversation,
            kind,
            text=text,
            sender_id=sender_id,
            sender_name=actor.name,
            client_msg_id=client_msg_id,
            buttons=[b.model_dump() for b in buttons],
            attachments=await self._attachments_of(actor, attachment_ids),
            read_by=(kind, sender_id),
        )
        if kind == SenderKind.CONTACT:
            await self._after_customer_message(conversation, message)
        elif conversation.state != ConversationState.BOT:
            self._announce_to_agents(conversation)
        return message, False

    async def _after_customer_message(self, conversation: Conversation, message: Message) -> None:
        if message.text.strip():
            conversation.language = detect_language(message.text)
        if conversation.state != ConversationState.BOT:
            self._announce_to_agents(conversation)
            return
        channel = await self.channels.get_or_raise(conversation.channel_id)
        if asks_for_human(message.text):
            await self.hand_off(conversation, reason="customer_asked")
        elif not channel.bot_enabled:
            await self.hand_off(conversation, reason="no_bot")
        elif not message.text.strip():
            await self.hand_off(conversation, reason="attachment")  # the bot reads text only
        else:
            events.start_bot(self.session, self.workspace_id, conversation.id, message.id)
        if message.text.strip():
            # A refund, complaint or bug report becomes a ticket whatever the bot replies.
            await defer(
                self.session,
                check_message_intent,
                workspace_id=str(self.workspace_id),
                conversation_id=str(conversation.id),
                text=message.text,
            )

    def _announce_to_agents(self, conversation: Conversation) -> None:
        events.publish(
            self.session,
            events.agents_topic(self.workspace_id),
            events.conversation_event(conversation),
        )

    def _announce_state(self, conversation: Conversation) -> None:
        event = events.conversation_event(conversation)
        events.publish(self.session, events.conversation_topic(conversation.id), event)
        events.publish(self.session, events.agents_topic(self.workspace_id), event)

    async def messages_after(
        self, actor: Actor, conversation_id: uuid.UUID, after_seq: int, limit: int
    ) -> Sequence[Message]:
        conversation = await self.conversation_for(actor, conversation_id)
        return await self.messages.after(conversation.id, after_seq, until_seq=None, limit=limit)

    async def _read_up_to(
        self, conversation: Conversation, kind: SenderKind, member_id: uuid.UUID, seq: int
    ) -> int:
        """Where the participant's read position stands after reading up to `seq`."""
        position = await self.participants.read_up_to(conversation.id, kind, member_id, seq)
        if position is None:  # e.g. an owner who reads without having joined
            self._join(conversation, kind, member_id, last_read_seq=seq)
            position = seq
        return position

    def _join(
        self,
        conversation: Conversation,
        kind: SenderKind,
        member_id: uuid.UUID,
        *,
        last_read_seq: int,
    ) -> None:
        self.participants.add(
            Participant(
                conversation_id=conversation.id,
                kind=kind,
                member_id=member_id,
                last_read_seq=last_read_seq,
            )
        )

    async def mark_read(self, actor: Actor, conversation_id: uuid.UUID, seq: int) -> int:
        """Record how far `actor` has read (never backwards), tell the others, and return the
        read position."""
        conversation = await self.conversation_for(actor, conversation_id)
        if seq > conversation.last_seq:
            raise InvalidInputError(
                f"seq {seq} is past the last message ({conversation.last_seq})."
            )
        kind, member_id = _member(actor)
        position = await self._read_up_to(conversation, kind, member_id, seq)
        events.publish(
            self.session,
            events.conversation_topic(conversation.id),
            {
                "type": "read",
                "conversation_id": str(conversation.id),
                "reader": {"kind": kind.value, "id": str(member_id)},
                "seq": position,
            },
        )
        return position

    async def typing(self, actor: Actor, conversation_id: uuid.UUID, typing: bool) -> None:
        """Tell the conversation's other side that `actor` is typing (nothing is stored)."""
        _member(actor)  # a person (not an API key) types
        conversation = await self.conversation_for(actor, conversation_id)
        await events.publish_now(
            events.conversation_topic(conversation.id), typing_event(actor, conversation.id, typing)
        )

    async def rate(
        self, actor: ContactActor, conversation_id: uuid.UUID, seq: int, rating: str
    ) -> Message:
        """The customer's verdict on one bot reply (helpful / not helpful); may be changed."""
        conversation = await self.conversation_for(actor, conversation_id)
        message = await self.messages.by_seq(conversation.id, seq)
        if message is None or message.sender_kind != SenderKind.BOT:
            raise NotFoundError("Bot reply", seq)
        message.rating = rating
        events.publish(
            self.session,
            events.conversation_topic(conversation.id),
            {
                "type": "rated",
                "conversation_id": str(conversation.id),
                "seq": seq,
                "rating": rating,
            },
        )
        return message

    # -- hand-off and routing -----------------------------------------------------------------

    async def hand_off(self, conversation: Conversation, *, reason: str) -> None:
        """Queue a (locked) conversation for the team, and assign it at once if someone is free.

        Outside the channel's business hours the customer is told so, and the conversation
        waits for the team without being assigned.
        """
        channel = await self.channels.get_or_raise(conversation.channel_id)
        conversation.state = ConversationState.QUEUED
        conversation.queued_at = now()
        conversation.assignee_id = None
        conversation.team_id = conversation.team_id or channel.team_id
        open_now = is_open(channel.business_hours, now())
        if open_now:
            text = channel.queued_message or notice("queued", conversation.language)
        else:
            text = channel.closed_message or notice("closed", conversation.language)
        await self.append(
            conversation,
            SenderKind.SYSTEM,
            text=text,
            meta={"event": "handoff", "reason": reason, "open": open_now},
        )
        if open_now:
            agent = await self._route(conversation)
            if agent is not None:
                await self._assign_to(conversation, *agent)
        if conversation.state == ConversationState.QUEUED:
            # Nobody can take it now (closed, or every agent full): it must not fall through
            # the cracks, so it becomes a ticket (or joins the customer's open one on the same
            # issue), at once or after a wait (see after_handoff_without_agent).
            await self.session.flush()
            await after_handoff_without_agent(
                self.session, self.workspace_id, conversation.id, open_now=open_now
            )
            self._announce_state(conversation)
        await self._emit_conversation("conversation.handoff", conversation, reason=reason)

    async def _emit_conversation(
        self, event: str, conversation: Conversation, **extra: Any
    ) -> None:
        """Tell the workspace's webhooks about a conversation's change."""
        body = events.conversation_event(conversation)["conversation"]
        payload = {"conversation_id": conversation.id, "conversation": body, **extra}
        await emit(self.session, self.workspace_id, event, payload)

    async def _lock(self, name: str) -> None:
        """A lock held until the transaction ends, shared by every node on the database."""
        await self.session.execute(_ADVISORY_LOCK, {"name": f"chat:{self.workspace_id}:{name}"})

    async def _lock_routing(self) -> None:
        """Assignments in a workspace take turns (across nodes), so capacity is counted once."""
        await self._lock("routing")

    async def _route(self, conversation: Conversation) -> tuple[uuid.UUID, str] | None:
        """The free, online agent of the conversation's team who should take it next."""
        await self._lock_routing()
        team = await self.teams.get(conversation.team_id) if conversation.team_id else None
        member_ids = await self.teams.member_ids(team.id) if team else None
        names = dict(await self.members.agents(member_ids))
        states = await self.agent_states.online(list(names), now() - PRESENCE_TTL)
        counts = await self.conversations.active_counts()
        candidates = [
            Candidate(s.user_id, counts.get(s.user_id, 0), s.capacity, s.last_assigned_at)
            for s in states
        ]
        chosen = pick_agent(
            candidates,
            team.routing if team else Routing.LEAST_BUSY,
            team.last_assigned_user_id if team else None,
        )
        if chosen is None:
            return None
        if team is not None:
            team.last_assigned_user_id = chosen.user_id
        return chosen.user_id, names[chosen.user_id]

    async def _assign_to(self, conversation: Conversation, user_id: uuid.UUID, name: str) -> None:
        previous = conversation.assignee_id
        if previous is not None and previous != user_id:
            await self._leave(conversation, previous)
        conversation.state = ConversationState.ASSIGNED
        conversation.assignee_id = user_id
        conversation.assigned_at = now()
        state = await self._agent_state(user_id)
        state.last_assigned_at = now()
        participant = await self.participants.find(conversation.id, SenderKind.AGENT, user_id)
        if participant is None:
            self.participants.add(
                Participant(
                    conversation_id=conversation.id, kind=SenderKind.AGENT, member_id=user_id
                )
            )
        else:
            participant.left_at = None
        await self.append(
            conversation,
            SenderKind.SYSTEM,
            text=notice("assigned", conversation.language, name=name),
            meta={"event": "assigned", "agent_id": str(user_id), "agent_name": name},
        )
        self._announce_state(conversation)

    async def _leave(self, conversation: Conversation, user_id: uuid.UUID) -> None:
        participant = await self.participants.find(conversation.id, SenderKind.AGENT, user_id)
        if participant is not None:
            participant.left_at = now()

    async def assign(
        self, conversation_id: uuid.UUID, *, user_id: uuid.UUID | None, by: AgentActor
    ) -> Conversation:
        """Give a conversation to an agent (yourself by default): taking over from the bot,
        picking from the queue or transferring. Capacity does not stop a person's choice."""
        target = user_id or by.user_id
        if target is None:
            raise InvalidInputError("Name the agent (user_id): an API key cannot take chats.")
        conversation = await self.conversation_for(by, conversation_id, lock=True)
        if conversation.state == ConversationState.RESOLVED:
            raise ConflictError("This conversation is resolved.")
        names = dict(await self.members.agents([target]))
        if target not in names:
            raise InvalidInputError(f"{target} is not an agent of this workspace.")
        await self._lock_routing()
        if conversation.state != ConversationState.ASSIGNED or conversation.assignee_id != target:
            await self._assign_to(conversation, target, names[target])
        return conversation

    async def hand_back(self, conversation_id: uuid.UUID, *, by: AgentActor) -> Conversation:
        """Return a conversation to the bot; the agent's capacity goes to whoever waits."""
        conversation = await self.conversation_for(by, conversation_id, lock=True)
        if conversation.state not in (ConversationState.QUEUED, ConversationState.ASSIGNED):
            raise ConflictError(f"The conversation is {conversation.state}, not with people.")
        if conversation.assignee_id is not None:
            await self._leave(conversation, conversation.assignee_id)
        conversation.state = ConversationState.BOT
        conversation.assignee_id = None
        await self.append(
            conversation,
            SenderKind.SYSTEM,
            text=notice("handback", conversation.language),
            meta={"event": "handback", "by": by.name},
        )
        self._announce_state(conversation)
        await self.assign_waiting()
        return conversation

    async def resolve(self, conversation_id: uuid.UUID, *, by: AgentActor) -> Conversation:
        conversation = await self.conversation_for(by, conversation_id, lock=True)
        if conversation.state == ConversationState.RESOLVED:
            return conversation
        if conversation.assignee_id is not None:
            await self._leave(conversation, conversation.assignee_id)
        conversation.state = ConversationState.RESOLVED
        conversation.resolved_at = now()
        await self.append(
            conversation,
            SenderKind.SYSTEM,
            text=notice("resolved", conversation.language),
            meta={"event": "resolved", "by": by.name},
        )
        self._announce_state(conversation)
        await self._emit_conversation("conversation.resolved", conversation, by=by.name)
        await self.assign_waiting()
        return conversation

    async def update_conversation(
        self, conversation_id: uuid.UUID, *, by: AgentActor, changes: dict[str, Any]
    ) -> Conversation:
        conversation = await self.conversation_for(by, conversation_id, lock=True)
        if changes.get("team_id") is not None:
            await self.teams.get_or_raise(changes["team_id"])
        for field, value in changes.items():
            setattr(conversation, field, value)
        self._announce_to_agents(conversation)
        return conversation

    async def _anyone_free(self) -> bool:
        """Whether any agent of the workspace is online with room for one more chat."""
        states = await self.agent_states.online(None, now() - PRESENCE_TTL)
        if not states:
            return False
        counts = await self.conversations.active_counts()
        return any(counts.get(s.user_id, 0) < s.capacity for s in states)

    async def assign_waiting(self) -> int:
        """Give queued conversations (oldest first) to free online agents while their
        channels are open. Returns how many were assigned."""
        if not await self._anyone_free():
            return 0  # the usual case while a queue waits: no need to lock it
        await self._lock_routing()
        assigned = 0
        channels: dict[uuid.UUID, Channel] = {}
        for conversation in await self.conversations.waiting_for_update(ROUTING_BATCH):
            channel = channels.get(conversation.channel_id)
            if channel is None:
                channel = await self.channels.get_or_raise(conversation.channel_id)
                channels[channel.id] = channel
            if not is_open(channel.business_hours, now()):
                continue
            agent = await self._route(conversation)
            if agent is not None:
                await self._assign_to(conversation, *agent)
                assigned += 1
        return assigned


def _hours(body: ChannelCreate | ChannelUpdate) -> dict[str, Any] | None:
    return body.business_hours.model_dump(mode="json") if body.business_hours else None


def _visible(
    actor: Actor, conversation: Conversation | None, conversation_id: uuid.UUID
) -> Conversation:
    """The conversation if `actor` may see it (a customer only their own), else NotFound."""
    if conversation is None or (
        isinstance(actor, ContactActor)
        and (
            conversation.contact_id != actor.contact_id
            or conversation.channel_id != actor.channel_id
        )
    ):
        raise NotFoundError("Conversation", conversation_id)
    return conversation


def _member(actor: Actor) -> tuple[SenderKind, uuid.UUID]:
    if isinstance(actor, ContactActor):
        return SenderKind.CONTACT, actor.contact_id
    if actor.user_id is None:
        raise PermissionDeniedError("Reading and typing are a person's, not an API key's.")
    return SenderKind.AGENT, actor.user_id


def _online(state: AgentState, fresh_after: datetime) -> bool:
    return (
        state.status == AgentStatus.ONLINE
        and state.last_seen_at is not None
        and state.last_seen_at > fresh_after
    )


def _presence(state: AgentState) -> dict[str, Any]:
    return {
        "type": "presence",
        "user_id": str(state.user_id),
        "status": state.status.value,
        "online": _online(state, now() - PRESENCE_TTL),
        "capacity": state.capacity,
    }


def typing_event(actor: Actor, conversation_id: uuid.UUID, typing: bool) -> dict[str, Any]:
    kind, member_id = _member(actor)
    return {
        "type": "typing",
        "conversation_id": str(conversation_id),
        "sender": {"kind": kind.value, "id": str(member_id), "name": actor.name},
        "typing": typing,
    }
