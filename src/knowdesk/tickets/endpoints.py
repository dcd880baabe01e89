"""Tickets over REST.

- `/api/v1/tickets/…`: the workspace's people (session token or API key): tickets, replies and
  notes, files, history, merging, escalation, tickets from conversations.
- `/api/v1/ticket-rules`, `/sla-policies`, `/sla-calendars`, `/ticket-categories`,
  `/ticket-examples`, `/ticket-classifier`, `/ticket-teams`, `/ticket-agents`,
  `/ticket-settings`: how the workspace runs tickets (owners change them; agents read).
- `/api/v1/widget/tickets/…`: the customer's own tickets, from the chat window (channel token in
  `X-Widget-Token`, contact token in `X-Contact-Token`, as for chat).
"""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Header, Query, Response, UploadFile

from knowdesk.accounts.models import User
from knowdesk.accounts.principal import Principal
from knowdesk.chat.models import Contact
from knowdesk.chat.service import UnauthenticatedError, widget_sign_in
from knowdesk.errors import NotFoundError, TooLargeError
from knowdesk.tickets import (
    classification,
    mailbox,  # noqa: F401 - registers the inbound mail handler
)
from knowdesk.tickets.configuration import Setup
from knowdesk.tickets.creation import create_from_conversation, find_duplicate, join_duplicate
from knowdesk.tickets.models import Ticket, TicketAttachment, TicketStatus
from knowdesk.tickets.priority import Priority, assess
from knowdesk.tickets.schemas import (
    AttachmentRead,
    CalendarIn,
    CalendarRead,
    CategoryIn,
    CategoryRead,
    ClassifierStatus,
    ClassifyIn,
    ClassifyOut,
    CommentCreate,
    CommentRead,
    CustomerCommentRead,
    CustomerReplyIn,
    CustomerTicketCreate,
    CustomerTicketDetail,
    CustomerTicketRead,
    EscalateIn,
    EventRead,
    ExampleRead,
    ExamplesIn,
    FromConversationIn,
    MergeIn,
    RoutePreviewIn,
    RoutePreviewOut,
    RuleIn,
    RuleOrder,
    RuleRead,
    SettingsIn,
    SettingsRead,
    SkillsIn,
    SkillsRead,
    SlaPolicyIn,
    SlaPolicyRead,
    TeamSettingsIn,
    TeamSettingsRead,
    TicketCreate,
    TicketDetail,
    TicketRead,
    TicketUpdate,
)
from knowdesk.tickets.service import MAX_TICKET_ATTACHMENT_BYTES, Actor, NewTicket, Tickets
from knowdesk.web.deps import CanManageSettings, CanWorkTickets, SessionDep, SettingsDep

tickets_router = APIRouter(prefix="/api/v1", tags=["tickets"])
setup_router = APIRouter(prefix="/api/v1", tags=["ticket setup"])
widget_router = APIRouter(prefix="/api/v1/widget/tickets", tags=["chat widget"])

MAX_PAGE = 500


async def _actor(principal: Principal, tickets: Tickets) -> Actor:
    user = await tickets.session.get(User, principal.user_id) if principal.user_id else None
    return Actor.of_principal(principal, user.name if user else "")


async def _detail(tickets: Tickets, ticket: Ticket) -> TicketDetail:
    thread = await tickets.thread(ticket, public_only=False)
    return TicketDetail(
        **TicketRead.model_validate(ticket).model_dump(),
        conversation_ids=await tickets.links.conversation_ids(ticket.id),
        comments=[
            CommentRead(
                **CommentRead.model_validate(c).model_dump(exclude={"attachments"}),
                attachments=[AttachmentRead.model_validate(a) for a in files],
            )
            for c, files in thread
        ],
    )


async def _upload(file: UploadFile) -> bytes:
    data = await file.read(MAX_TICKET_ATTACHMENT_BYTES + 1)
    if len(data) > MAX_TICKET_ATTACHMENT_BYTES:
        raise TooLargeError(
            f"A file holds at most {MAX_TICKET_ATTACHMENT_BYTES // 1024 // 1024} MB."
        )
    return data


def _download(attachment: TicketAttachment) -> Response:
    return Response(
        attachment.data,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(attachment.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


# -- tickets ------------------------------------------------------------------------------------


@tickets_router.get("/tickets", response_model=list[TicketRead], summary="List and filter tickets")
async def list_tickets(
    principal: CanWorkTickets,
    session: SessionDep,
    number: int | None = None,
    status: Annotated[list[TicketStatus] | None, Query()] = None,
    priority: Priority | None = None,
    team_id: uuid.UUID | None = None,
    assignee_id: uuid.UUID | None = None,
    unassigned: bool = False,
    requester_id: uuid.UUID | None = None,
    category: str | None = None,
    tag: str | None = None,
    needs_triage: bool | None = None,
    breached: bool | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[TicketRead]:
    rows = await Tickets(session, principal.workspace_id).tickets.search(
        number=number,
        status=status or (),
        priority=priority,
        team_id=team_id,
        assignee_id=assignee_id,
        unassigned=unassigned,
        requester_id=requester_id,
        category=category,
        tag=tag,
        needs_triage=needs_triage,
        breached=breached,
        text=q,
        limit=limit,
        offset=offset,
    )
    return [TicketRead.model_validate(t) for t in rows]


@tickets_router.post(
    "/tickets", response_model=TicketDetail, status_code=201, summary="Create a ticket"
)
async def create_ticket(
    body: TicketCreate, principal: CanWorkTickets, session: SessionDep
) -> TicketDetail:
    tickets = Tickets(session, principal.workspace_id)
    requester_id = body.requester_id
    if body.requester is not None:
        contact = await tickets.contact_for_email(body.requester.email, body.requester.name)
        requester_id = contact.id
    ticket = await tickets.create(
        await _actor(principal, tickets),
        NewTicket(
            subject=body.subject,
            description=body.description,
            requester_id=requester_id,
            category=body.category,
            priority=body.priority,
            team_id=body.team_id,
            assignee_id=body.assignee_id,
            tags=body.tags,
            due_at=body.due_at,
            channel=body.channel,
            source="agent" if principal.user_id else "api",
            conversation_ids=body.conversation_ids,
        ),
    )
    return await _detail(tickets, ticket)


@tickets_router.post(
    "/tickets/from-conversation",
    response_model=TicketDetail,
    summary="Make a conversation a ticket (or find the ticket it already feeds)",
)
async def ticket_from_conversation(
    body: FromConversationIn, principal: CanWorkTickets, session: SessionDep
) -> TicketDetail:
    ticket = await create_from_conversation(session, principal, body.conversation_id, body.reason)
    return await _detail(Tickets(session, principal.workspace_id), ticket)


@tickets_router.get(
    "/tickets/{ticket_id}", response_model=TicketDetail, summary="One ticket and thread"
)
async def get_ticket(
    ticket_id: uuid.UUID, principal: CanWorkTickets, session: SessionDep
) -> TicketDetail:
    tickets = Tickets(session, principal.workspace_id)
    return await _detail(tickets, await tickets.get(ticket_id))


@tickets_router.patch(
    "/tickets/{ticket_id}",
    response_model=TicketDetail,
    summary="Change fields; send the version you read (409 when someone changed it since)",
    responses={409: {"description": "Stale version"}},
)
async def update_ticket(
    ticket_id: uuid.UUID, body: TicketUpdate, principal: CanWorkTickets, session: SessionDep
) -> TicketDetail:
    tickets = Tickets(session, principal.workspace_id)
    ticket = await tickets.update(
        await _actor(principal, tickets), ticket_id, body.model_dump(exclude_unset=True)
    )
    return await _detail(tickets, ticket)


@tickets_router.post(
    "/tickets/{ticket_id}/comments",
    response_model=CommentRead,
    status_code=201,
    summary="A public reply (the customer sees it) or an internal note",
)
async def add_comment(
    ticket_id: uuid.UUID, body: CommentCreate, principal: CanWorkTickets, session: SessionDep
) -> CommentRead:
    tickets = Tickets(session, principal.workspace_id)
    comment = await tickets.add_comment(
        await _actor(principal, tickets),
        ticket_id,
        body=body.body,
        public=body.public,
        attachment_ids=body.attachment_ids,
        status=body.status,
        version=body.version,
        channel="web" if principal.user_id else "api",
    )
    files = await tickets.attachments.many(ticket_id, body.attachment_ids)
    return CommentRead(
        **CommentRead.model_validate(comment).model_dump(exclude={"attachments"}),
        attachments=[AttachmentRead.model_validate(a) for a in files],
    )


@tickets_router.get(
    "/tickets/{ticket_id}/history",
    response_model=list[EventRead],
    summary="Everything that happened",
)
async def ticket_history(
    ticket_id: uuid.UUID, principal: CanWorkTickets, session: SessionDep
) -> list[EventRead]:
    tickets = Tickets(session, principal.workspace_id)
    ticket = await tickets.get(ticket_id)
    return [EventRead.model_validate(e) for e in await tickets.events.of_ticket(ticket.id)]


@tickets_router.post(
    "/tickets/{ticket_id}/attachments",
    response_model=AttachmentRead,
    status_code=201,
    summary="Upload a file (images, PDF, text; 10 MB) to attach to a reply or note",
    responses={413: {"description": "File too large"}},
)
async def upload_attachment(
    ticket_id: uuid.UUID,
    principal: CanWorkTickets,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
    public: Annotated[bool, Form()] = False,
) -> AttachmentRead:
    tickets = Tickets(session, principal.workspace_id)
    attachment = await tickets.store_attachment(
        await _actor(principal, tickets),
        ticket_id,
        filename=file.filename or "file",
        data=await _upload(file),
        public=public,
    )
    return AttachmentRead.model_validate(attachment)


@tickets_router.get("/tickets/{ticket_id}/attachments/{attachment_id}", summary="Download a file")
async def download_attachment(
    ticket_id: uuid.UUID, attachment_id: uuid.UUID, principal: CanWorkTickets, session: SessionDep
) -> Response:
    found = await Tickets(session, principal.workspace_id).attachments.many(
        ticket_id, [attachment_id]
    )
    if not found:
        raise NotFoundError("Attachment", attachment_id)
    return _download(found[0])


@tickets_router.post(
    "/tickets/{ticket_id}/merge",
    response_model=TicketDetail,
    summary="Merge this ticket into another (its thread moves; it is closed)",
)
async def merge_ticket(
    ticket_id: uuid.UUID, body: MergeIn, principal: CanWorkTickets, session: SessionDep
) -> TicketDetail:
    tickets = Tickets(session, principal.workspace_id)
    target = await tickets.merge(
        await _actor(principal, tickets),
        ticket_id,
        into_id=body.into_ticket_id,
        version=body.version,
    )
    return await _detail(tickets, target)


@tickets_router.post(
    "/tickets/{ticket_id}/escalate",
    response_model=TicketDetail,
    summary="Escalate: one priority up and to the escalation team",
)
async def escalate_ticket(
    ticket_id: uuid.UUID, body: EscalateIn, principal: CanWorkTickets, session: SessionDep
) -> TicketDetail:
    tickets = Tickets(session, principal.workspace_id)
    ticket = await tickets.get(ticket_id, lock=True)
    tickets.check_version(ticket, body.version)
    await tickets.escalate(await _actor(principal, tickets), ticket, reason=body.reason)
    await tickets.saved(ticket)
    return await _detail(tickets, ticket)


# -- routing rules ------------------------------------------------------------------------------


@setup_router.get("/ticket-rules", response_model=list[RuleRead], summary="Rules, in order")
async def list_rules(principal: CanWorkTickets, session: SessionDep) -> list[RuleRead]:
    rules = await Tickets(session, principal.workspace_id).rules.ordered()
    return [RuleRead.model_validate(r) for r in rules]


def _setup(session: SessionDep, principal: Principal) -> Setup:
    return Setup(Tickets(session, principal.workspace_id), principal)


@setup_router.post(
    "/ticket-rules",
    response_model=RuleRead,
    status_code=201,
    summary="Add a rule (422: unknown team or assignee, contradictory or cyclic rules)",
)
async def create_rule(body: RuleIn, principal: CanManageSettings, session: SessionDep) -> RuleRead:
    return RuleRead.model_validate(await _setup(session, principal).create_rule(body))


@setup_router.put("/ticket-rules/order", response_model=list[RuleRead], summary="Reorder rules")
async def reorder_rules(
    body: RuleOrder, principal: CanManageSettings, session: SessionDep
) -> list[RuleRead]:
    rules = await _setup(session, principal).reorder_rules(body.rule_ids)
    return [RuleRead.model_validate(r) for r in rules]


@setup_router.post(
    "/ticket-rules/preview",
    response_model=RoutePreviewOut,
    summary="What the rules would do with these facts",
)
async def preview_rules(
    body: RoutePreviewIn, principal: CanWorkTickets, session: SessionDep
) -> RoutePreviewOut:
    outcome = await _setup(session, principal).preview(body.facts)
    return RoutePreviewOut(
        team_id=outcome.team_id,
        assignee_id=outcome.assignee_id,
        priority=Priority(outcome.priority) if outcome.priority else None,
        tags=outcome.tags,
        matched=outcome.matched,
    )


@setup_router.put("/ticket-rules/{rule_id}", response_model=RuleRead, summary="Replace a rule")
async def update_rule(
    rule_id: uuid.UUID, body: RuleIn, principal: CanManageSettings, session: SessionDep
) -> RuleRead:
    return RuleRead.model_validate(await _setup(session, principal).update_rule(rule_id, body))


@setup_router.delete("/ticket-rules/{rule_id}", status_code=204, summary="Delete a rule")
async def delete_rule(
    rule_id: uuid.UUID, principal: CanManageSettings, session: SessionDep
) -> Response:
    await _setup(session, principal).delete_rule(rule_id)
    return Response(status_code=204)


# -- teams and agents ---------------------------------------------------------------------------


@setup_router.get(
    "/ticket-teams/{team_id}", response_model=TeamSettingsRead, summary="A team's assignment"
)
async def get_team_settings(
    team_id: uuid.UUID, principal: CanWorkTickets, session: SessionDep
) -> TeamSettingsRead:
    tickets = Tickets(session, principal.workspace_id)
    await tickets.teams.get_or_raise(team_id)
    found = await tickets.team_settings.for_team(team_id)
    return TeamSettingsRead.model_validate(found) if found else TeamSettingsRead(team_id=team_id)


@setup_router.put(
    "/ticket-teams/{team_id}",
    response_model=TeamSettingsRead,
    summary="Set a team's assignment strategy, load limit and escalation team",
)
async def set_team_settings(
    team_id: uuid.UUID, body: TeamSettingsIn, principal: CanManageSettings, session: SessionDep
) -> TeamSettingsRead:
    settings = await _setup(session, principal).set_team_settings(team_id, body)
    return TeamSettingsRead.model_validate(settings)


@setup_router.put(
    "/ticket-agents/{user_id}/skills", response_model=SkillsRead, summary="An agent's skills"
)
async def set_skills(
    user_id: uuid.UUID, body: SkillsIn, principal: CanManageSettings, session: SessionDep
) -> SkillsRead:
    return SkillsRead.model_validate(await _setup(session, principal).set_skills(user_id, body))


# -- SLA ----------------------------------------------------------------------------------------


@setup_router.get("/sla-calendars", response_model=list[CalendarRead], summary="Calendars")
async def list_calendars(principal: CanWorkTickets, session: SessionDep) -> list[CalendarRead]:
    rows = await Tickets(session, principal.workspace_id).calendars.list()
    return [CalendarRead.model_validate(c) for c in rows]


@setup_router.post(
    "/sla-calendars", response_model=CalendarRead, status_code=201, summary="Add a calendar"
)
async def create_calendar(
    body: CalendarIn, principal: CanManageSettings, session: SessionDep
) -> CalendarRead:
    return CalendarRead.model_validate(await _setup(session, principal).create_calendar(body))


@setup_router.put(
    "/sla-calendars/{calendar_id}", response_model=CalendarRead, summary="Replace a calendar"
)
async def update_calendar(
    calendar_id: uuid.UUID, body: CalendarIn, principal: CanManageSettings, session: SessionDep
) -> CalendarRead:
    calendar = await _setup(session, principal).update_calendar(calendar_id, body)
    return CalendarRead.model_validate(calendar)


@setup_router.delete("/sla-calendars/{calendar_id}", status_code=204, summary="Delete one")
async def delete_calendar(
    calendar_id: uuid.UUID, principal: CanManageSettings, session: SessionDep
) -> Response:
    await _setup(session, principal).delete_calendar(calendar_id)
    return Response(status_code=204)


@setup_router.get("/sla-policies", response_model=list[SlaPolicyRead], summary="SLA policies")
async def list_policies(principal: CanWorkTickets, session: SessionDep) -> list[SlaPolicyRead]:
    rows = await Tickets(session, principal.workspace_id).policies.list()
    return [SlaPolicyRead.model_validate(p) for p in rows]


@setup_router.post(
    "/sla-policies",
    response_model=SlaPolicyRead,
    status_code=201,
    summary="Targets for one priority (seconds of business time)",
)
async def create_policy(
    body: SlaPolicyIn, principal: CanManageSettings, session: SessionDep
) -> SlaPolicyRead:
    return SlaPolicyRead.model_validate(await _setup(session, principal).create_policy(body))


@setup_router.put("/sla-policies/{policy_id}", response_model=SlaPolicyRead, summary="Replace")
async def update_policy(
    policy_id: uuid.UUID, body: SlaPolicyIn, principal: CanManageSettings, session: SessionDep
) -> SlaPolicyRead:
    policy = await _setup(session, principal).update_policy(policy_id, body)
    return SlaPolicyRead.model_validate(policy)


@setup_router.delete("/sla-policies/{policy_id}", status_code=204, summary="Delete a policy")
async def delete_policy(
    policy_id: uuid.UUID, principal: CanManageSettings, session: SessionDep
) -> Response:
    await _setup(session, principal).delete_policy(policy_id)
    return Response(status_code=204)


# -- classification -----------------------------------------------------------------------------


@setup_router.get(
    "/ticket-categories", response_model=list[CategoryRead], summary="Ticket categories"
)
async def list_categories(principal: CanWorkTickets, session: SessionDep) -> list[CategoryRead]:
    rows = await Tickets(session, principal.workspace_id).categories.list()
    return [CategoryRead.model_validate(c) for c in sorted(rows, key=lambda c: c.name)]


@setup_router.post(
    "/ticket-categories", response_model=CategoryRead, status_code=201, summary="Add a category"
)
async def create_category(
    body: CategoryIn, principal: CanManageSettings, session: SessionDep
) -> CategoryRead:
    return CategoryRead.model_validate(await _setup(session, principal).create_category(body))


@setup_router.put(
    "/ticket-categories/{category_id}", response_model=CategoryRead, summary="Change a category"
)
async def update_category(
    category_id: uuid.UUID, body: CategoryIn, principal: CanManageSettings, session: SessionDep
) -> CategoryRead:
    category = await _setup(session, principal).update_category(category_id, body)
    return CategoryRead.model_validate(category)


@setup_router.get("/ticket-examples", response_model=list[ExampleRead], summary="Labelled examples")
async def list_examples(
    principal: CanWorkTickets,
    session: SessionDep,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ExampleRead]:
    rows = await Tickets(session, principal.workspace_id).examples.newest(
        category=category, limit=limit, offset=offset
    )
    return [ExampleRead.model_validate(e) for e in rows]


@setup_router.post(
    "/ticket-examples",
    response_model=list[ExampleRead],
    status_code=201,
    summary="Add labelled examples (the classifier retrains in the background)",
)
async def add_examples(
    body: ExamplesIn, principal: CanManageSettings, session: SessionDep
) -> list[ExampleRead]:
    rows = await _setup(session, principal).add_examples(body.examples)
    return [ExampleRead.model_validate(e) for e in rows]


@setup_router.delete("/ticket-examples/{example_id}", status_code=204, summary="Delete one")
async def delete_example(
    example_id: uuid.UUID, principal: CanManageSettings, session: SessionDep
) -> Response:
    await _setup(session, principal).delete_example(example_id)
    return Response(status_code=204)


@setup_router.get(
    "/ticket-classifier", response_model=ClassifierStatus, summary="The trained model"
)
async def classifier_status(principal: CanWorkTickets, session: SessionDep) -> ClassifierStatus:
    return await _setup(session, principal).classifier_status()


@setup_router.post(
    "/ticket-classifier/train", status_code=202, summary="Retrain from the examples (a job)"
)
async def train_classifier(principal: CanManageSettings, session: SessionDep) -> Response:
    await classification.request_training(session, principal.workspace_id)
    return Response(status_code=202)


@setup_router.post(
    "/ticket-classifier/classify",
    response_model=ClassifyOut,
    summary="What category, team and priority a message would get",
)
async def classify(body: ClassifyIn, principal: CanWorkTickets, session: SessionDep) -> ClassifyOut:
    tickets = Tickets(session, principal.workspace_id)
    guess = await classification.predict(session, principal.workspace_id, body.text)
    category = (
        await tickets.categories.by_name(guess.category) if guess and guess.category else None
    )
    assessment = assess(body.text, tier=body.tier)
    return ClassifyOut(
        category=guess.category if guess else None,
        confidence=guess.confidence if guess else None,
        out_of_scope=guess.out_of_scope if guess else False,
        suggested_category=guess.suggested if guess else None,
        team_id=category.team_id if category else None,
        priority=assessment.priority,
        priority_reasons=assessment.reasons,
    )


@setup_router.get("/ticket-settings", response_model=SettingsRead, summary="Ticket settings")
async def get_settings(principal: CanWorkTickets, session: SessionDep) -> SettingsRead:
    settings = await Tickets(session, principal.workspace_id).settings.ensure()
    return SettingsRead.model_validate(settings)


@setup_router.patch("/ticket-settings", response_model=SettingsRead, summary="Change settings")
async def update_settings(
    body: SettingsIn, principal: CanManageSettings, session: SessionDep
) -> SettingsRead:
    return SettingsRead.model_validate(await _setup(session, principal).update_settings(body))


# -- the customer's view ------------------------------------------------------------------------


class CustomerCaller:
    """A customer in the chat window: their contact, and the tickets of its workspace."""

    def __init__(self, tickets: Tickets, contact: Contact) -> None:
        self.tickets = tickets
        self.contact = contact
        self.actor = Actor.of_contact(contact)

    async def ticket(self, ticket_id: uuid.UUID) -> Ticket:
        """The customer's own ticket; anyone else's is not found."""
        ticket = await self.tickets.tickets.get(ticket_id)
        if ticket is None or ticket.requester_id != self.contact.id:
            raise NotFoundError("Ticket", ticket_id)
        return ticket


async def _customer(
    session: SessionDep,
    settings: SettingsDep,
    x_widget_token: Annotated[str, Header(max_length=200)],
    x_contact_token: Annotated[str, Header(max_length=2000)],
) -> CustomerCaller:
    if not x_contact_token.strip():
        raise UnauthenticatedError("Send the contact token from POST /api/v1/widget/session.")
    channel, contact = await widget_sign_in(
        session,
        widget_token=x_widget_token,
        identity=None,
        contact_token=x_contact_token,
        secret=settings.secret_key,
    )
    return CustomerCaller(Tickets(session, channel.workspace_id), contact)


CustomerDep = Annotated[CustomerCaller, Depends(_customer)]


async def _customer_detail(caller: CustomerCaller, ticket: Ticket) -> CustomerTicketDetail:
    thread = await caller.tickets.thread(ticket, public_only=True)
    return CustomerTicketDetail(
        **CustomerTicketRead.model_validate(ticket).model_dump(),
        comments=[
            CustomerCommentRead(
                **CustomerCommentRead.model_validate(c).model_dump(exclude={"attachments"}),
                attachments=[AttachmentRead.model_validate(a) for a in files if a.public],
            )
            for c, files in thread
        ],
    )


@widget_router.get("", response_model=list[CustomerTicketRead], summary="My tickets")
async def my_tickets(caller: CustomerDep) -> list[CustomerTicketRead]:
    rows = await caller.tickets.tickets.of_requester(caller.contact.id)
    return [CustomerTicketRead.model_validate(t) for t in rows]


@widget_router.post(
    "",
    response_model=CustomerTicketDetail,
    status_code=201,
    summary="Report a problem (joins my open ticket about the same issue)",
)
async def report_problem(
    body: CustomerTicketCreate, caller: CustomerDep, response: Response
) -> CustomerTicketDetail:
    report = f"{body.subject}\n{body.description}"
    duplicate = await find_duplicate(caller.tickets, caller.contact, report, None)
    if duplicate is not None:
        await join_duplicate(caller.tickets, duplicate, caller.actor, report, via="widget")
        response.status_code = 200
        return await _customer_detail(caller, duplicate)
    ticket = await caller.tickets.create(
        caller.actor,
        NewTicket(
            subject=body.subject,
            description=body.description,
            requester_id=caller.contact.id,
            channel="widget",
            source="customer",
        ),
    )
    return await _customer_detail(caller, ticket)


@widget_router.get("/{ticket_id}", response_model=CustomerTicketDetail, summary="My ticket")
async def my_ticket(ticket_id: uuid.UUID, caller: CustomerDep) -> CustomerTicketDetail:
    return await _customer_detail(caller, await caller.ticket(ticket_id))


@widget_router.post(
    "/{ticket_id}/replies",
    response_model=CustomerCommentRead,
    status_code=201,
    summary="Reply (reopens a ticket that waits on me or was solved)",
)
async def my_reply(
    ticket_id: uuid.UUID, body: CustomerReplyIn, caller: CustomerDep
) -> CustomerCommentRead:
    ticket = await caller.ticket(ticket_id)
    comment = await caller.tickets.add_comment(
        caller.actor,
        ticket.id,
        body=body.body,
        public=True,
        attachment_ids=body.attachment_ids,
        channel="widget",
    )
    files = await caller.tickets.attachments.many(ticket.id, body.attachment_ids)
    return CustomerCommentRead(
        **CustomerCommentRead.model_validate(comment).model_dump(exclude={"attachments"}),
        attachments=[AttachmentRead.model_validate(a) for a in files],
    )


@widget_router.post(
    "/{ticket_id}/attachments",
    response_model=AttachmentRead,
    status_code=201,
    summary="Upload a file to attach to my next reply",
)
async def my_upload(
    ticket_id: uuid.UUID, caller: CustomerDep, file: Annotated[UploadFile, File()]
) -> AttachmentRead:
    ticket = await caller.ticket(ticket_id)
    attachment = await caller.tickets.store_attachment(
        caller.actor,
        ticket.id,
        filename=file.filename or "file",
        data=await _upload(file),
        public=True,
    )
    return AttachmentRead.model_validate(attachment)


@widget_router.get("/{ticket_id}/attachments/{attachment_id}", summary="Download a file")
async def my_download(
    ticket_id: uuid.UUID, attachment_id: uuid.UUID, caller: CustomerDep
) -> Response:
    ticket = await caller.ticket(ticket_id)
    found = await caller.tickets.attachments.many(ticket.id, [attachment_id])
    if not found or not found[0].public:
        raise NotFoundError("Attachment", attachment_id)
    return _download(found[0])


router = APIRouter()
router.include_router(tickets_router)
router.include_router(setup_router)
router.include_router(widget_router)
