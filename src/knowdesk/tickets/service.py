"""Rules of tickets: creation with classification, priority, routing and assignment; changes
under optimistic versioning; replies and notes; the SLA clock; escalation and merging.

Every function works inside the caller's transaction and never commits. A change to a ticket
locks its row (so concurrent writers inside knowdesk queue up instead of failing) and checks
the version the caller read (so a person who edits what they have not seen gets 409). SLA
timers are jobs scheduled at the moment a warning or a breach is due, deferred in the same
transaction; the periodic sweep in tasks.py catches any that were lost.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from knowdesk.accounts.models import Membership, User
from knowdesk.accounts.principal import Principal
from knowdesk.chat.attachments import MAX_ATTACHMENT_BYTES, sniff
from knowdesk.chat.models import Contact
from knowdesk.chat.repository import ContactRepository, ConversationRepository, TeamRepository
from knowdesk.errors import ConflictError, InvalidInputError, NotFoundError, TooLargeError
from knowdesk.text.tokenize import detect_language
from knowdesk.tickets import classification, notifications
from knowdesk.tickets.models import (
    AuthorKind,
    RoutingRule,
    SlaPolicy,
    TeamSettings,
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketConversation,
    TicketEvent,
    TicketStatus,
)
from knowdesk.tickets.priority import Priority, assess
from knowdesk.tickets.repository import (
    ACTIVE,
    AttachmentRepository,
    CalendarRepository,
    CategoryRepository,
    CommentRepository,
    EventRepository,
    ExampleRepository,
    LinkRepository,
    PolicyRepository,
    RuleRepository,
    SettingsRepository,
    SkillsRepository,
    TeamSettingsRepository,
    TicketRepository,
)
from knowdesk.tickets.routing import (
    Actions,
    AgentLoad,
    Condition,
    Rule,
    Strategy,
    apply_rules,
    choose_assignee,
)
from knowdesk.tickets.sla import Calendar, SlaClock

MAX_TICKET_ATTACHMENT_BYTES = MAX_ATTACHMENT_BYTES


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Actor:
    """Who acts on a ticket, as its history and its thread name them."""

    kind: AuthorKind
    ref: str  # user:…, api_key:…, contact:…, system, rule:…
    name: str = ""
    user_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None

    @classmethod
    def system(cls, ref: str = "system") -> Actor:
        return cls(AuthorKind.SYSTEM, ref, "knowdesk")

    @classmethod
    def of_principal(cls, principal: Principal, name: str = "") -> Actor:
        return cls(AuthorKind.AGENT, principal.actor, name or "API", user_id=principal.user_id)

    @classmethod
    def of_contact(cls, contact: Contact) -> Actor:
        return cls(
            AuthorKind.CONTACT,
            f"contact:{contact.id}",
            contact.name or contact.email,
            contact_id=contact.id,
        )


@dataclass
class NewTicket:
    """What a ticket starts from, whichever way it comes in (API, chat, e-mail, widget)."""

    subject: str
    description: str = ""
    requester_id: uuid.UUID | None = None
    category: str | None = None
    priority: Priority | None = None
    team_id: uuid.UUID | None = None
    # The team when no rule and no category decides (a conversation's team, say).
    fallback_team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    tags: Sequence[str] = ()
    due_at: datetime | None = None
    channel: str = "web"
    language: str | None = None
    source: str = "agent"
    conversation_ids: Sequence[uuid.UUID] = ()


@dataclass
class Changes:
    """Field changes of one act, for history and webhooks: {field: [before, after]}."""

    fields: dict[str, list[Any]] = field(default_factory=dict)

    def note(self, name: str, before: Any, after: Any) -> None:
        if before == after:
            return
        first = self.fields.get(name, [before])[0]
        self.fields[name] = [_plain(first), _plain(after)]

    def __bool__(self) -> bool:
        return bool(self.fields)


def _plain(value: Any) -> Any:
    """`value` as JSON can store it (ids and times as text; enums are already strings)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def rule_of(row: RoutingRule) -> Rule:
    return Rule(
        name=row.name,
        conditions=tuple(Condition(c["field"], c["op"], c.get("value")) for c in row.conditions),
        actions=Actions(
            team_id=row.team_id,
            assignee_id=row.assignee_id,
            priority=row.priority.value if row.priority else None,
            tags=tuple(row.tags or ()),
        ),
        stop=row.stop,
        id=row.id,
    )


def facts_of(ticket: Ticket, requester: Contact | None) -> dict[str, Any]:
    """What routing rules may test about a ticket (see routing.py)."""
    facts: dict[str, Any] = {
        "category": ticket.category,
        "channel": ticket.channel,
        "language": ticket.language,
        "priority": ticket.priority.value,
        "team": str(ticket.team_id) if ticket.team_id else None,
        "intent": ticket.predicted_category,
        "subject": ticket.subject,
        "tags": list(ticket.tags or []),
    }
    if requester is not None:
        facts["contact.email"] = requester.email
        for key, value in (requester.attributes or {}).items():
            facts[f"contact.{key}"] = value
    return facts


# Status changes a person may make: closed is final; new is where tickets start.
def _allowed(before: TicketStatus, after: TicketStatus) -> bool:
    if before == TicketStatus.CLOSED:
        return after == TicketStatus.CLOSED
    if after == TicketStatus.NEW:
        return before == TicketStatus.NEW
    return True


@dataclass
class Tickets:
    """The tickets of one workspace: repositories bound to the caller's session."""

    session: AsyncSession
    workspace_id: uuid.UUID

    def __post_init__(self) -> None:
        ws = self.workspace_id
        self.tickets = TicketRepository(self.session, ws)
        self.links = LinkRepository(self.session, ws)
        self.comments = CommentRepository(self.session, ws)
        self.attachments = AttachmentRepository(self.session, ws)
        self.events = EventRepository(self.session, ws)
        self.rules = RuleRepository(self.session, ws)
        self.team_settings = TeamSettingsRepository(self.session, ws)
        self.skills = SkillsRepository(self.session, ws)
        self.calendars = CalendarRepository(self.session, ws)
        self.policies = PolicyRepository(self.session, ws)
        self.categories = CategoryRepository(self.session, ws)
        self.examples = ExampleRepository(self.session, ws)
        self.settings = SettingsRepository(self.session, ws)
        self.contacts = ContactRepository(self.session, ws)
        self.teams = TeamRepository(self.session, ws)
        self._versioned: set[uuid.UUID] = set()  # tickets whose version this act has bumped

    # -- references -------------------------------------------------------------------------

    async def check_team(self, team_id: uuid.UUID | None) -> None:
        if team_id is not None and await self.teams.get(team_id) is None:
            raise InvalidInputError(f"Unknown team {team_id}.")

    async def check_assignee(self, user_id: uuid.UUID | None) -> None:
        if user_id is None:
            return
        stmt = select(Membership.user_id).where(
            Membership.workspace_id == self.workspace_id, Membership.user_id == user_id
        )
        if (await self.session.execute(stmt)).scalar_one_or_none() is None:
            raise InvalidInputError(f"Unknown assignee {user_id}: not a member of this workspace.")

    async def check_category(self, name: str | None) -> None:
        if name is not None and await self.categories.by_name(name) is None:
            raise InvalidInputError(f"Unknown category {name!r}: add it first.")

    async def requester(self, contact_id: uuid.UUID | None) -> Contact | None:
        if contact_id is None:
            return None
        contact = await self.contacts.get(contact_id)
        if contact is None:
            raise InvalidInputError(f"Unknown requester {contact_id}.")
        return contact

    async def contact_for_email(self, email: str, name: str = "") -> Contact:
        """The workspace's contact with this e-mail address, added when there is none."""
        stmt = self.contacts.select().where(func.lower(Contact.email) == email.lower())
        found = (await self.session.execute(stmt.order_by(Contact.created_at).limit(1))).scalar()
        if found is not None:
            if name and not found.name:
                found.name = name
            return found
        contact = self.contacts.add(Contact(email=email.lower(), name=name, attributes={}))
        await self.session.flush()
        return contact

    async def _user_name(self, user_id: uuid.UUID) -> str:
        user = await self.session.get(User, user_id)
        return user.name if user else ""

    # -- history and announcements ----------------------------------------------------------

    def record_event(self, ticket: Ticket, actor: Actor, kind: str, **data: Any) -> TicketEvent:
        return self.events.add(
            TicketEvent(ticket_id=ticket.id, actor=actor.ref, kind=kind, data=_plain(data))
        )

    async def get(self, ticket_id: uuid.UUID, *, lock: bool = False) -> Ticket:
        ticket = await (self.tickets.get_for_update if lock else self.tickets.get)(ticket_id)
        if ticket is None:
            raise NotFoundError("Ticket", ticket_id)
        return ticket

    async def saved(self, ticket: Ticket) -> Ticket:
        """Count this act in the ticket's version (once, however many flushes it takes) and
        flush, turning a concurrent writer's win into a clear conflict."""
        if ticket.id not in self._versioned:
            ticket.version += 1
            self._versioned.add(ticket.id)
        try:
            await self.session.flush()
        except StaleDataError as exc:
            raise ConflictError(
                f"Ticket #{ticket.number} was changed meanwhile: reload it and try again."
            ) from exc
        return ticket

    @staticmethod
    def check_version(ticket: Ticket, version: int) -> None:
        if version != ticket.version:
            raise ConflictError(
                f"Ticket #{ticket.number} is at version {ticket.version}, you sent {version}: "
                "someone changed it since you read it. Reload and apply your change again."
            )

    # -- creation -----------------------------------------------------------------------------

    async def create(self, actor: Actor, new: NewTicket) -> Ticket:
        await self.check_team(new.team_id)
        await self.check_assignee(new.assignee_id)
        await self.check_category(new.category)
        requester = await self.requester(new.requester_id)
        settings = await self.settings.ensure()
        text = f"{new.subject}\n{new.description}".strip()
        guess = (
            None
            if new.category
            else await classification.predict(self.session, self.workspace_id, text)
        )
        category = new.category or (guess.category if guess else None)
        tier = (requester.attributes or {}).get(settings.tier_attribute) if requester else None
        assessment = assess(text, tier=str(tier) if tier is not None else None)
        number = await self.settings.next_number()
        ticket = self.tickets.add(
            Ticket(
                id=uuid.uuid4(),
                number=number,
                subject=new.subject,
                description=new.description,
                requester_id=requester.id if requester else None,
                status=TicketStatus.NEW,
                priority=new.priority or assessment.priority,
                category=category,
                predicted_category=guess.suggested if guess else None,
                prediction_confidence=guess.confidence if guess else None,
                needs_triage=bool(guess and guess.category is None),
                tags=list(dict.fromkeys(new.tags)),
                channel=new.channel,
                language=new.language or detect_language(text),
                source=new.source,
                due_at=new.due_at,
                # Unguessable, lower case and with a digit: what mail reply tokens must be.
                thread_token=f"t{number}-{secrets.token_hex(10)}",
                sla_elapsed_seconds=0.0,
                sla_running_since=now(),
                escalation_level=0,
                version=1,
            )
        )
        self._versioned.add(ticket.id)
        await self.session.flush()
        self.record_event(
            ticket,
            actor,
            "created",
            source=new.source,
            priority=ticket.priority,
            priority_reasons=[] if new.priority else assessment.reasons,
            category=category,
            prediction=guess.as_dict() if guess else None,
        )
        await self._route(ticket, requester, new, actor)
        for conversation_id in new.conversation_ids:
            await self.link_conversation(ticket, conversation_id, actor)
        await self._refresh_sla(ticket)
        await self.saved(ticket)
        await notifications.ticket_created(self.session, ticket, requester)
        return ticket

    async def _route(
        self, ticket: Ticket, requester: Contact | None, new: NewTicket, actor: Actor
    ) -> None:
        """Rules first, then the category's team, then the workspace default; explicit
        choices of the creator win over all of them."""
        rules = [rule_of(r) for r in await self.rules.ordered(enabled_only=True)]
        outcome = apply_rules(rules, facts_of(ticket, requester))
        category = await self.categories.by_name(ticket.category) if ticket.category else None
        settings = await self.settings.ensure()
        ticket.team_id = (
            new.team_id
            or outcome.team_id
            or (category.team_id if category else None)
            or new.fallback_team_id
            or settings.default_team_id
        )
        if new.priority is None and outcome.priority:
            ticket.priority = Priority(outcome.priority)
        ticket.tags = list(dict.fromkeys([*ticket.tags, *outcome.tags]))
        if outcome.matched:
            self.record_event(
                ticket,
                Actor.system("rules"),
                "routed",
                rules=outcome.matched,
                team_id=ticket.team_id,
                priority=ticket.priority,
                tags=outcome.tags,
            )
        assignee = new.assignee_id or outcome.assignee_id
        if assignee is not None:
            await self._assign(ticket, assignee, actor)
        elif ticket.team_id is not None:
            await self.auto_assign(ticket)

    async def _assign(self, ticket: Ticket, user_id: uuid.UUID | None, actor: Actor) -> None:
        if ticket.assignee_id == user_id:
            return
        ticket.assignee_id = user_id
        self.record_event(ticket, actor, "assigned", assignee_id=user_id)

    async def auto_assign(self, ticket: Ticket) -> None:
        """Give the ticket to someone of its team, by the team's strategy and the skills its
        category needs (or leave it in the team's queue when nobody fits)."""
        assert ticket.team_id is not None
        category = await self.categories.by_name(ticket.category) if ticket.category else None
        required_skills = category.skills if category else []
        settings = await self._team_settings(ticket.team_id)
        members = await self.teams.member_ids(ticket.team_id)
        if not members:
            return
        counts = await self.tickets.open_counts(members)
        skills = await self.skills.of_users(members)
        last = await self.tickets.last_assigned(members)
        agents = [
            AgentLoad(u, counts.get(u, 0), frozenset(skills.get(u, [])), last.get(u))
            for u in members
        ]
        chosen = choose_assignee(
            agents,
            settings.strategy,
            last_assigned_user_id=settings.last_assigned_user_id,
            required_skills=frozenset(required_skills),
            max_open=settings.max_open_per_agent,
        )
        if chosen is None:
            return
        settings.last_assigned_user_id = chosen
        await self._assign(ticket, chosen, Actor.system(f"assignment:{settings.strategy.value}"))

    async def _team_settings(self, team_id: uuid.UUID) -> TeamSettings:
        """The team's assignment settings, locked: assignments to one team take turns."""
        found = await self.team_settings.for_team(team_id, lock=True)
        if found is None:
            found = self.team_settings.add(
                TeamSettings(team_id=team_id, strategy=Strategy.ROUND_ROBIN)
            )
            await self.session.flush()
        return found

    async def link_conversation(
        self, ticket: Ticket, conversation_id: uuid.UUID, actor: Actor
    ) -> None:
        conversation = await ConversationRepository(self.session, self.workspace_id).get(
            conversation_id
        )
        if conversation is None:
            raise InvalidInputError(f"Unknown conversation {conversation_id}.")
        linked = await self.links.ticket_of(conversation_id)
        if linked == ticket.id:
            return
        if linked is not None:
            raise ConflictError(f"Conversation {conversation_id} already feeds another ticket.")
        self.links.add(TicketConversation(ticket_id=ticket.id, conversation_id=conversation_id))
        self.record_event(ticket, actor, "conversation_linked", conversation_id=conversation_id)

    # -- changes ------------------------------------------------------------------------------

    async def update(self, actor: Actor, ticket_id: uuid.UUID, body: dict[str, Any]) -> Ticket:
        """Apply the fields in `body` (as sent: only those present change) if `version` is
        the ticket's current version."""
        ticket = await self.get(ticket_id, lock=True)
        self.check_version(ticket, body.pop("version"))
        changes = Changes()
        if "team_id" in body:
            await self.check_team(body["team_id"])
        if "assignee_id" in body:
            await self.check_assignee(body["assignee_id"])
        for name in ("subject", "description", "tags"):
            if name in body and body[name] is None:
                raise InvalidInputError(f"{name} cannot be empty (null).")
        for name in ("subject", "description", "tags", "due_at"):
            if name in body:
                value = list(dict.fromkeys(body[name])) if name == "tags" else body[name]
                changes.note(name, getattr(ticket, name), value)
                setattr(ticket, name, value)
        if "category" in body:
            await self._recategorize(ticket, body["category"], changes)
        if "priority" in body and body["priority"] is not None:
            changes.note("priority", ticket.priority, body["priority"])
            ticket.priority = Priority(body["priority"])
        if "team_id" in body:
            changes.note("team_id", ticket.team_id, body["team_id"])
            ticket.team_id = body["team_id"]
        if "assignee_id" in body:
            changes.note("assignee_id", ticket.assignee_id, body["assignee_id"])
            await self._assign(ticket, body["assignee_id"], actor)
        elif "team_id" in changes.fields and ticket.team_id is not None:
            previous = ticket.assignee_id  # the history keeps who had it, even if nobody takes it
            ticket.assignee_id = None
            await self.auto_assign(ticket)
            changes.note("assignee_id", previous, ticket.assignee_id)
        if body.get("status") is not None:
            await self._set_status(ticket, TicketStatus(body["status"]), changes)
        if not changes:
            return ticket
        if "priority" in changes.fields:
            ticket.sla_policy_id = None  # a new priority may have another policy
        await self._refresh_sla(ticket)
        self.record_event(ticket, actor, "updated", changes=changes.fields)
        await self.saved(ticket)
        await notifications.ticket_updated(self.session, ticket, actor.ref, changes.fields)
        return ticket

    async def _recategorize(self, ticket: Ticket, category: str | None, changes: Changes) -> None:
        """A person's category is right by definition: when it differs from the classifier's
        guess, the ticket's text becomes a training example for the next model."""
        await self.check_category(category)
        changes.note("category", ticket.category, category)
        ticket.category = category
        ticket.needs_triage = False if category else ticket.needs_triage
        if category and category != ticket.predicted_category and ticket.source != "example":
            await classification.add_example(
                self.session,
                self.workspace_id,
                text=f"{ticket.subject}\n{ticket.description}".strip(),
                category=category,
                source="correction",
                ticket_id=ticket.id,
            )

    async def _set_status(self, ticket: Ticket, status: TicketStatus, changes: Changes) -> None:
        """Move the ticket; the SLA clock pauses while it waits on the customer or is done."""
        before = ticket.status
        if before == status:
            return
        if not _allowed(before, status):
            raise ConflictError(f"A {before.value} ticket cannot become {status.value}.")
        moment = now()
        _, calendar = await self._load_calendar(ticket)
        clock = SlaClock(ticket.sla_elapsed_seconds, ticket.sla_running_since)
        if status in (TicketStatus.PENDING, TicketStatus.SOLVED, TicketStatus.CLOSED):
            clock = clock.paused(calendar, moment)
        else:
            clock = clock.resumed(moment)
        ticket.sla_elapsed_seconds, ticket.sla_running_since = clock.elapsed, clock.running_since
        if status == TicketStatus.SOLVED:
            ticket.solved_at = moment
        elif status == TicketStatus.CLOSED:
            ticket.closed_at = moment
            ticket.solved_at = ticket.solved_at or moment
        elif before == TicketStatus.SOLVED:
            ticket.solved_at = None
        ticket.status = status
        changes.note("status", before, status)

    # -- replies and notes --------------------------------------------------------------------

    async def add_comment(
        self,
        actor: Actor,
        ticket_id: uuid.UUID,
        *,
        body: str,
        public: bool,
        attachment_ids: Sequence[uuid.UUID] = (),
        status: TicketStatus | None = None,
        version: int | None = None,
        channel: str = "web",
        email_message_id: str | None = None,
    ) -> TicketComment:
        """A public reply or an internal note. A customer's reply reopens a ticket that waits
        on them or was solved; an agent's first public reply stops the first-response clock."""
        ticket = await self.get(ticket_id, lock=True)
        if status is not None:
            if version is None:
                raise InvalidInputError("Send the ticket's version with a status change.")
            self.check_version(ticket, version)
        if ticket.status == TicketStatus.CLOSED:
            raise ConflictError(f"Ticket #{ticket.number} is closed: open a follow-up ticket.")
        if actor.kind == AuthorKind.CONTACT and not public:
            raise InvalidInputError("Customers write public replies only.")
        comment = self.comments.add(
            TicketComment(
                ticket_id=ticket.id,
                public=public,
                author_kind=actor.kind,
                author_user_id=actor.user_id,
                author_contact_id=actor.contact_id,
                author_name=actor.name,
                body=body,
                channel=channel,
                email_message_id=email_message_id,
            )
        )
        await self.session.flush()
        for attachment in await self._unattached(ticket.id, attachment_ids):
            attachment.comment_id = comment.id
            attachment.public = public
        changes = Changes()
        if actor.kind == AuthorKind.AGENT and public and ticket.first_responded_at is None:
            ticket.first_responded_at = now()
            changes.note("first_responded_at", None, ticket.first_responded_at)
        if status is not None:
            await self._set_status(ticket, status, changes)
        elif actor.kind == AuthorKind.CONTACT and ticket.status in (
            TicketStatus.PENDING,
            TicketStatus.SOLVED,
        ):
            await self._set_status(ticket, TicketStatus.OPEN, changes)
        elif actor.kind == AuthorKind.AGENT and public and ticket.status == TicketStatus.NEW:
            await self._set_status(ticket, TicketStatus.OPEN, changes)
        self.record_event(
            ticket,
            actor,
            "reply" if public else "note",
            comment_id=comment.id,
            attachments=len(attachment_ids),
            changes=changes.fields,
        )
        if changes:
            await self._refresh_sla(ticket)
            await self.saved(ticket)
        requester = await self.contacts.get(ticket.requester_id) if ticket.requester_id else None
        await notifications.comment_added(self.session, ticket, comment, requester)
        return comment

    async def _unattached(
        self, ticket_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> Sequence[TicketAttachment]:
        if not ids:
            return []
        found = await self.attachments.many(ticket_id, ids)
        if len(found) != len(set(ids)) or any(a.comment_id is not None for a in found):
            raise InvalidInputError("Attach files uploaded to this ticket and not used yet.")
        return found

    async def store_attachment(
        self, actor: Actor, ticket_id: uuid.UUID, *, filename: str, data: bytes, public: bool
    ) -> TicketAttachment:
        """Keep a file on the ticket (images, PDF, plain text, at most 10 MB)."""
        ticket = await self.get(ticket_id)
        if len(data) > MAX_TICKET_ATTACHMENT_BYTES:
            raise TooLargeError(
                f"A file holds at most {MAX_TICKET_ATTACHMENT_BYTES // 1024 // 1024} MB; "
                f"{filename!r} has {len(data)} bytes."
            )
        content_type = sniff(data)
        if content_type is None:
            raise InvalidInputError(
                f"{filename!r}: only images, PDF and plain text files can be attached."
            )
        attachment = self.attachments.add(
            TicketAttachment(
                ticket_id=ticket.id,
                public=public or actor.kind == AuthorKind.CONTACT,
                filename=(filename or "file")[:300],
                content_type=content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                data=data,
            )
        )
        await self.session.flush()
        self.record_event(
            ticket, actor, "attachment", attachment_id=attachment.id, filename=filename
        )
        return attachment

    # -- merging and escalation ---------------------------------------------------------------

    async def merge(
        self, actor: Actor, ticket_id: uuid.UUID, *, into_id: uuid.UUID, version: int
    ) -> Ticket:
        """Fold a duplicate into another ticket: its thread, files and conversations move over,
        and it is closed with a pointer to where the work goes on."""
        if ticket_id == into_id:
            raise InvalidInputError("A ticket cannot be merged into itself.")
        source = await self.get(ticket_id, lock=True)
        self.check_version(source, version)
        target = await self.get(into_id, lock=True)
        if TicketStatus.CLOSED in (source.status, target.status):
            raise ConflictError("Closed tickets cannot be merged.")
        await self.comments.move_thread(source.id, target.id)
        await self.links.move(source.id, target.id)
        self.comments.add(
            TicketComment(
                ticket_id=target.id,
                public=False,
                author_kind=AuthorKind.SYSTEM,
                author_name="knowdesk",
                body=f"Ticket #{source.number} ({source.subject}) was merged into this one.\n\n"
                f"{source.description}",
            )
        )
        changes = Changes()
        await self._set_status(source, TicketStatus.CLOSED, changes)
        self.record_event(
            source, actor, "merged", into_ticket_id=target.id, into_number=target.number
        )
        self.record_event(target, actor, "merged_in", ticket_id=source.id, number=source.number)
        await self.saved(source)
        await notifications.ticket_updated(self.session, source, actor.ref, changes.fields)
        return target

    async def escalate(self, actor: Actor, ticket: Ticket, *, reason: str) -> None:
        """One level up: a higher priority and, when configured, the escalation team."""
        changes = Changes()
        raised = ticket.priority.raised()
        changes.note("priority", ticket.priority, raised)
        ticket.priority = raised
        ticket.escalation_level += 1
        policy = await self.policies.get(ticket.sla_policy_id) if ticket.sla_policy_id else None
        team_settings = (
            await self.team_settings.for_team(ticket.team_id) if ticket.team_id else None
        )
        target = (policy.escalation_team_id if policy else None) or (
            team_settings.escalation_team_id if team_settings else None
        )
        if target is not None and target != ticket.team_id:
            changes.note("team_id", ticket.team_id, target)
            ticket.team_id = target
            previous = ticket.assignee_id
            ticket.assignee_id = None
            await self.auto_assign(ticket)
            changes.note("assignee_id", previous, ticket.assignee_id)
        self.record_event(
            ticket,
            actor,
            "escalated",
            reason=reason,
            level=ticket.escalation_level,
            changes=changes.fields,
        )
        await notifications.ticket_updated(self.session, ticket, actor.ref, changes.fields)

    # -- SLA ----------------------------------------------------------------------------------

    async def _load_calendar(self, ticket: Ticket) -> tuple[SlaPolicy | None, Calendar | None]:
        policy = await self._policy(ticket)
        calendar = None
        if policy is not None and policy.calendar_id is not None:
            stored = await self.calendars.get(policy.calendar_id)
            calendar = Calendar.from_schedule(stored.schedule) if stored else None
        return policy, calendar

    async def _policy(self, ticket: Ticket) -> SlaPolicy | None:
        """The ticket's policy: chosen by priority when first needed (and again when a person
        changes the priority), kept through escalations so targets do not jump."""
        if ticket.sla_policy_id is not None:
            policy = await self.policies.get(ticket.sla_policy_id)
            if policy is not None:
                return policy
        policy = await self.policies.for_priority(ticket.priority)
        ticket.sla_policy_id = policy.id if policy else None
        return policy

    async def _refresh_sla(self, ticket: Ticket) -> None:
        """Due times from the clock and the policy, and a timer job for each moment ahead."""
        policy, calendar = await self._load_calendar(ticket)
        if policy is None or ticket.status not in ACTIVE:
            return
        clock = SlaClock(ticket.sla_elapsed_seconds, ticket.sla_running_since)
        if policy.first_response_seconds and ticket.first_responded_at is None:
            ticket.first_response_due_at = clock.due_at(calendar, policy.first_response_seconds)
        if policy.resolution_seconds:
            ticket.resolution_due_at = clock.due_at(calendar, policy.resolution_seconds)
        moments = []
        for target, done in (
            (policy.first_response_seconds, ticket.first_responded_at is not None),
            (policy.resolution_seconds, False),
        ):
            if not target or done:
                continue
            for seconds in (target - policy.warn_before_seconds, target):
                due = clock.due_at(calendar, seconds)
                if due is not None and due > now():
                    moments.append(due)
        # tasks.py runs this service, so it is imported here rather than at the top.
        from knowdesk.tickets.tasks import schedule_sla_check

        for moment in sorted(set(moments)):
            await schedule_sla_check(self.session, ticket, moment)

    async def check_sla(self, ticket_id: uuid.UUID) -> list[str]:
        """Fire what is due: warnings before, breaches (with escalation) at the targets.
        Each fires once; returns what fired (for the job's log and tests)."""
        ticket = await self.tickets.get_for_update(ticket_id)
        if ticket is None or ticket.status not in ACTIVE:
            return []
        policy, calendar = await self._load_calendar(ticket)
        if policy is None:
            return []
        clock = SlaClock(ticket.sla_elapsed_seconds, ticket.sla_running_since)
        moment, fired = now(), []
        targets = [("first_response", policy.first_response_seconds, "response")]
        targets.append(("resolution", policy.resolution_seconds, "resolution"))
        for name, target, column in targets:
            if not target or (name == "first_response" and ticket.first_responded_at):
                continue
            remaining = clock.remaining(calendar, moment, target)
            warned, breached = f"{column}_warned_at", f"{column}_breached_at"
            if remaining <= 0 and getattr(ticket, breached) is None:
                setattr(ticket, breached, moment)
                setattr(ticket, warned, getattr(ticket, warned) or moment)
                fired.append(f"{name}_breached")
                self.record_event(ticket, Actor.system("sla"), "sla_breached", target=name)
                await notifications.sla(self.session, ticket, "ticket.sla_breached", name)
                await self.escalate(Actor.system("sla"), ticket, reason=f"{name} SLA breached")
            elif remaining <= policy.warn_before_seconds and getattr(ticket, warned) is None:
                setattr(ticket, warned, moment)
                fired.append(f"{name}_warning")
                self.record_event(
                    ticket, Actor.system("sla"), "sla_warning", target=name, seconds_left=remaining
                )
                await notifications.sla(self.session, ticket, "ticket.sla_warning", name)
        if fired:
            await self.saved(ticket)
        return fired

    # -- reading ------------------------------------------------------------------------------

    async def thread(
        self, ticket: Ticket, *, public_only: bool
    ) -> list[tuple[TicketComment, list[TicketAttachment]]]:
        comments = await self.comments.of_ticket(ticket.id, public_only=public_only)
        files: dict[uuid.UUID, list[TicketAttachment]] = {}
        for attachment in await self.attachments.of_ticket(ticket.id):
            if attachment.comment_id is not None:
                files.setdefault(attachment.comment_id, []).append(attachment)
        return [(c, files.get(c.id, [])) for c in comments]
