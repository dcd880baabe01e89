"""An SMTP server that takes replies to knowdesk mail straight from the mail exchanger (point
an MX, or a forwarding rule, at it): `python -m knowdesk.mail.listener --port 2525`, or the
`mail_listener` Typer command wherever the `knowdesk` CLI registers it.

It accepts only mail it can place: a reply whose token or quoted Message-ID belongs to a mail
some workspace sent. Everything else is refused at DATA with a 550, so the sending server tells
its user. New conversations (mail that answers nothing) come in through POST /api/v1/mail/inbound,
where the API key names the workspace.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Annotated, Any

import typer
from aiosmtpd.smtp import SMTP, Envelope, Session

from knowdesk.config import get_settings
from knowdesk.db.session import dispose_engine, transaction
from knowdesk.jobs.queue import close_queue, open_queue
from knowdesk.mail.inbound import MalformedMailError, parse_inbound
from knowdesk.mail.reply_tokens import token_in_addresses
from knowdesk.mail.repository import workspace_of_reply
from knowdesk.mail.service import receive_mail

log = logging.getLogger(__name__)


class InboundSmtpHandler:
    """aiosmtpd handler: parse, place and receive each mail in one transaction."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        try:
            mail = parse_inbound(raw)
        except MalformedMailError as exc:
            return f"550 5.6.0 {exc.message}"
        if mail.token is None:  # the token may be only in the envelope (Bcc, forwarding)
            recipients = [str(r) for r in envelope.rcpt_tos]
            mail = dataclasses.replace(mail, token=token_in_addresses(recipients))
        answered = [i for i in [mail.in_reply_to, *mail.references] if i]
        try:
            async with transaction() as db:
                workspace_id = await workspace_of_reply(db, mail.token, answered)
                if workspace_id is None:
                    return "550 5.1.1 Not a reply to a mail of this knowdesk"
                received = await receive_mail(db, workspace_id, mail)
        except Exception:  # a handler or the database failed: the sender must try again later
            log.exception("mail from %s could not be received", mail.sender)
            return "451 4.3.0 Cannot take the mail now, try again later"
        log.info("mail %s from %s: %s", received.mail.id, mail.sender, received.mail.status)
        return "250 2.0.0 OK"


async def serve(host: str, port: int) -> None:
    settings = get_settings()
    await open_queue(settings)  # handlers may defer jobs
    loop = asyncio.get_running_loop()
    handler = InboundSmtpHandler()
    data_limit = settings.max_upload_bytes

    def protocol() -> Any:
        return SMTP(handler, data_size_limit=data_limit, enable_SMTPUTF8=True)

    server = await loop.create_server(protocol, host, port)
    log.info("mail listener on %s:%s", host, port)
    try:
        await server.serve_forever()
    finally:
        server.close()
        await close_queue()
        await dispose_engine()


def mail_listener(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="SMTP port.")] = None,
) -> None:
    """Receive replies to knowdesk mail over SMTP and hand them to the inbound handlers."""
    from knowdesk.db import migrate
    from knowdesk.web import routers  # noqa: F401 - imports every domain, so handlers register

    settings = get_settings()
    migrate.upgrade(settings)
    logging.basicConfig(level=logging.INFO)
    asyncio.run(serve(host or settings.mail_listener_host, port or settings.mail_listener_port))


if __name__ == "__main__":
    typer.run(mail_listener)
