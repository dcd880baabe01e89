"""Mail API: inbound mail from a gateway, the mail log, and the workspace's mail settings."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from knowdesk.errors import PermissionDeniedError, TooLargeError
from knowdesk.mail import service
from knowdesk.mail.inbound import parse_inbound
from knowdesk.mail.models import MailDirection, MailStatus
from knowdesk.mail.repository import MailRepository
from knowdesk.mail.schemas import (
    InboundResult,
    MailDetail,
    MailRead,
    SmtpSettingsRead,
    TestMailIn,
    WorkspaceMailSettings,
    WorkspaceMailSettingsRead,
)
from knowdesk.mail.sending import workspace_mail_settings
from knowdesk.web.deps import CanManageSettings, PrincipalDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/mail", tags=["mail"])

TEST_MAIL_TEXT = "knowdesk sent this mail to check the workspace's mail settings. No reply needed."


async def _body(request: Request, limit: int) -> bytes:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise TooLargeError(f"The mail is larger than {limit} bytes.")
    return bytes(raw)


def _settings_read(own: WorkspaceMailSettings) -> WorkspaceMailSettingsRead:
    smtp = None
    if own.smtp is not None:
        smtp = SmtpSettingsRead(
            host=own.smtp.host,
            port=own.smtp.port,
            username=own.smtp.username,
            starttls=own.smtp.starttls,
            has_password=own.smtp.password is not None,
        )
    return WorkspaceMailSettingsRead(
        from_address=own.from_address, reply_address=own.reply_address, smtp=smtp
    )


@router.post(
    "/inbound",
    response_model=InboundResult,
    summary="Receive a raw RFC 822 mail (from a mail gateway, with an API key)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def receive_inbound(
    request: Request, principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> InboundResult:
    if principal.api_key_id is None:
        raise PermissionDeniedError("Inbound mail is posted by a mail gateway with an API key.")
    mail = parse_inbound(await _body(request, settings.max_upload_bytes))
    received = await service.receive_mail(session, principal.workspace_id, mail)
    return InboundResult(mail=MailRead.model_validate(received.mail), duplicate=received.duplicate)


@router.get("/messages", response_model=list[MailRead], summary="The mail log, newest first")
async def list_messages(
    principal: CanManageSettings,
    session: SessionDep,
    direction: MailDirection | None = None,
    status: MailStatus | None = None,
    token: str | None = Query(default=None, max_length=64, description="A reply token."),
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[MailRead]:
    rows = await MailRepository(session, principal.workspace_id).search(
        direction=direction, status=status, token=token, limit=limit
    )
    return [MailRead.model_validate(m) for m in rows]


@router.get("/messages/{mail_id}", response_model=MailDetail, summary="One mail, with its text")
async def get_message(
    mail_id: uuid.UUID, principal: CanManageSettings, session: SessionDep
) -> MailDetail:
    mail = await MailRepository(session, principal.workspace_id).get_or_raise(mail_id)
    return MailDetail.model_validate(mail)


@router.post(
    "/test", response_model=MailRead, status_code=202, summary="Send a test mail to check settings"
)
async def send_test_mail(
    body: TestMailIn, principal: CanManageSettings, session: SessionDep
) -> MailRead:
    queued = await service.send_mail(
        session, principal.workspace_id, body.to, "knowdesk test mail", TEST_MAIL_TEXT
    )
    mail = await MailRepository(session, principal.workspace_id).get_or_raise(queued.id)
    return MailRead.model_validate(mail)


@router.get(
    "/settings",
    response_model=WorkspaceMailSettingsRead,
    summary="The workspace's own sender and SMTP server",
)
async def get_mail_settings(
    principal: CanManageSettings, session: SessionDep
) -> WorkspaceMailSettingsRead:
    return _settings_read(await workspace_mail_settings(session, principal.workspace_id))


@router.put(
    "/settings",
    response_model=WorkspaceMailSettingsRead,
    summary="Replace the workspace's own sender and SMTP server",
)
async def put_mail_settings(
    body: WorkspaceMailSettings, principal: CanManageSettings, session: SessionDep
) -> WorkspaceMailSettingsRead:
    return _settings_read(await service.update_mail_settings(session, principal, body))
