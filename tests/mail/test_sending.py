"""Mail queued by a service reaches a real SMTP server with headers that let replies find it."""

from __future__ import annotations

import secrets
import uuid

import pytest

from knowdesk.errors import InvalidInputError
from tests.conftest import Tenant, free_port
from tests.mail.conftest import SERVER_SENDER, SmtpSink
from tests.mail.helpers import send_now, set_sender, wait_mail_done
from tests.webhooks.server import OwnServer


def test_sent_mail_arrives_with_sender_reply_address_and_message_id(
    tenant: Tenant, mail_server: OwnServer, smtp_sink: SmtpSink
) -> None:
    set_sender(tenant.client)
    token = secrets.token_hex(12)
    to = f"zhang-{uuid.uuid4().hex[:8]}@example.com"

    queued = send_now(
        mail_server,
        tenant.workspace_id,
        f"张三 <{to}>",
        "您的工单 #42 已更新",
        "您好，路由器已经寄出。",
        html="<p>您好，路由器已经寄出。</p>",
        reply_token=token,
    )

    delivered = smtp_sink.wait_for(queued.message_id)
    message = delivered.message
    assert delivered.mail_from == "help@example.com"
    assert delivered.rcpt_tos == [to]
    assert message["From"] == "Acme Support <help@example.com>"
    assert message["To"] == f"张三 <{to}>"
    assert message["Subject"] == "您的工单 #42 已更新"
    assert queued.message_id.startswith(f"<kd.{token}.")
    assert queued.message_id.endswith("@example.com>")
    assert message["Reply-To"] == f"Acme Support <support+{token}@example.com>"
    assert message["In-Reply-To"] is None
    assert message.get_body(("plain",)).get_content().strip() == "您好，路由器已经寄出。"
    assert "路由器" in message.get_body(("html",)).get_content()

    logged = wait_mail_done(tenant.client, queued.id)
    assert (logged["status"], logged["attempts"], logged["error"]) == ("sent", 1, None)
    assert logged["reply_token"] == token
    assert logged["sent_at"] is not None


def test_mails_with_one_token_form_a_thread(
    tenant: Tenant, mail_server: OwnServer, smtp_sink: SmtpSink
) -> None:
    token, to = secrets.token_hex(12), f"thread-{uuid.uuid4().hex[:8]}@example.com"
    first = send_now(mail_server, tenant.workspace_id, to, "Ticket", "one", reply_token=token)
    second = send_now(mail_server, tenant.workspace_id, to, "Re: Ticket", "two", reply_token=token)
    third = send_now(mail_server, tenant.workspace_id, to, "Re: Ticket", "3", reply_token=token)

    by_id = {q.message_id: smtp_sink.wait_for(q.message_id).message for q in (first, second, third)}
    assert by_id[second.message_id]["In-Reply-To"].strip() == first.message_id
    assert by_id[second.message_id]["References"].strip() == first.message_id
    assert by_id[third.message_id]["In-Reply-To"].strip() == second.message_id
    assert by_id[third.message_id]["References"].split() == [first.message_id, second.message_id]


def test_callers_threading_headers_and_own_headers_win(
    tenant: Tenant, mail_server: OwnServer, smtp_sink: SmtpSink
) -> None:
    token, to = secrets.token_hex(12), f"own-{uuid.uuid4().hex[:8]}@example.com"
    send_now(mail_server, tenant.workspace_id, to, reply_token=token)
    headers = {"in-reply-to": "<customer-1@mail.example.com>", "X-Ticket": "T-42"}

    queued = send_now(mail_server, tenant.workspace_id, to, headers=headers, reply_token=token)

    message = smtp_sink.wait_for(queued.message_id).message
    assert message["In-Reply-To"] == "<customer-1@mail.example.com>"
    assert message["References"] is None
    assert message["X-Ticket"] == "T-42"


def test_a_temporary_refusal_is_retried(
    tenant: Tenant, mail_server: OwnServer, smtp_sink: SmtpSink
) -> None:
    to = f"flaky-{uuid.uuid4().hex[:8]}@example.com"
    queued = send_now(mail_server, tenant.workspace_id, to)

    logged = wait_mail_done(tenant.client, queued.id)

    assert (logged["status"], logged["attempts"], logged["error"]) == ("sent", 2, None)
    assert smtp_sink.wait_for(queued.message_id).rcpt_tos == [to]


def test_a_permanent_refusal_fails_at_once(tenant: Tenant, mail_server: OwnServer) -> None:
    queued = send_now(mail_server, tenant.workspace_id, "nobody@example.com")

    logged = wait_mail_done(tenant.client, queued.id)

    assert (logged["status"], logged["attempts"]) == ("failed", 1)
    assert "550" in logged["error"] and "No such user" in logged["error"]


def test_an_unreachable_smtp_server_is_retried_then_given_up(
    tenant: Tenant, mail_server: OwnServer
) -> None:
    """Also shows that a workspace's own SMTP server replaces the server's."""
    r = tenant.client.put(
        "/api/v1/mail/settings", json={"smtp": {"host": "127.0.0.1", "port": free_port()}}
    )
    assert r.status_code == 200, r.text
    queued = send_now(mail_server, tenant.workspace_id, "someone@example.com")

    logged = wait_mail_done(tenant.client, queued.id)

    # The schedule is "1": a first attempt and one retry.
    assert (logged["status"], logged["attempts"]) == ("failed", 2)
    assert logged["error"].startswith("ConnectionRefusedError")
    assert logged["next_attempt_at"] is None


def test_bad_addresses_headers_and_tokens_are_refused(
    tenant: Tenant, mail_server: OwnServer
) -> None:
    ws = tenant.workspace_id
    with pytest.raises(InvalidInputError, match="Not one mail address"):
        send_now(mail_server, ws, "not an address")
    with pytest.raises(InvalidInputError, match="Not one mail address"):
        send_now(mail_server, ws, "a@example.com, b@example.com")
    with pytest.raises(ValueError, match="Bcc"):
        send_now(mail_server, ws, "a@example.com", headers={"Bcc": "spy@example.com"})
    with pytest.raises(ValueError, match="line break"):
        send_now(mail_server, ws, "a@example.com", headers={"X-A": "b\r\nBcc: spy@example.com"})
    with pytest.raises(ValueError, match="reply token"):
        send_now(mail_server, ws, "a@example.com", reply_token="Short")
    assert tenant.client.get("/api/v1/mail/messages").json() == []


def test_owner_sends_a_test_mail(tenant: Tenant, smtp_sink: SmtpSink) -> None:
    to = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    r = tenant.client.post("/api/v1/mail/test", json={"to": to})
    assert r.status_code == 202, r.text
    delivered = smtp_sink.wait_for(r.json()["message_id"])
    assert delivered.rcpt_tos == [to]
    assert delivered.message["Subject"] == "knowdesk test mail"
    # The workspace has no sender of its own: the server's applies.
    assert delivered.message["From"] == SERVER_SENDER
    assert tenant.client.post("/api/v1/mail/test", json={"to": "nope"}).status_code == 422
