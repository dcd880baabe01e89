"""Inbound mail over the API: a gateway posts raw mail with an API key; handlers get it."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.mail.handlers import register_inbound_handler
from knowdesk.mail.inbound import InboundMail, parse_inbound
from knowdesk.mail.service import ReceivedMail, receive_mail
from tests.conftest import Tenant
from tests.mail.helpers import send_now, wait_mail_done
from tests.mail.mails import reply
from tests.webhooks.server import OwnServer


def gateway(tenant: Tenant, base_url: str) -> httpx.Client:
    key = tenant.client.post("/api/v1/api-keys", json={"name": "mx", "role": "agent"}).json()
    return httpx.Client(base_url=base_url, headers={"X-API-Key": key["secret"]}, timeout=30)


def post_mail(client: httpx.Client, raw: bytes) -> httpx.Response:
    return client.post(
        "/api/v1/mail/inbound", content=raw, headers={"Content-Type": "message/rfc822"}
    )


def test_reply_posted_by_a_gateway_is_logged_with_the_token_it_answers(
    tenant: Tenant, mail_server: OwnServer, base_url: str
) -> None:
    token = secrets.token_hex(12)
    sent = send_now(mail_server, tenant.workspace_id, "bob@customer.example.com", reply_token=token)
    wait_mail_done(tenant.client, sent.id)
    raw = reply(answering=sent.message_id)

    r = post_mail(gateway(tenant, base_url), raw)

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["duplicate"] is False
    mail = body["mail"]
    assert mail["direction"] == "inbound"
    # Whether a domain (tickets) took it is theirs to test; the log says which one did.
    assert (mail["status"] == "handled") == (mail["handled_by"] is not None)
    assert mail["reply_token"] == token
    assert mail["in_reply_to"] == sent.message_id
    assert mail["sender"] == "Bob Customer <bob@customer.example.com>"
    detail = tenant.client.get(f"/api/v1/mail/messages/{mail['id']}").json()
    assert detail["text"] == "Thanks, that fixed it."
    thread = tenant.client.get("/api/v1/mail/messages", params={"token": token}).json()
    assert [(m["direction"], m["id"]) for m in thread] == [
        ("inbound", mail["id"]),
        ("outbound", str(sent.id)),
    ]


def test_the_same_mail_posted_twice_is_received_once(tenant: Tenant, base_url: str) -> None:
    client = gateway(tenant, base_url)
    raw = reply(message_id=f"<{uuid.uuid4().hex}@customer.example.com>")
    first = post_mail(client, raw).json()
    again = post_mail(client, raw).json()
    assert again["duplicate"] is True
    assert again["mail"]["id"] == first["mail"]["id"]
    inbound = tenant.client.get("/api/v1/mail/messages", params={"direction": "inbound"}).json()
    assert len(inbound) == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"hello, this is not a mail", "No mail headers"),
        (b"Subject: hi\r\n\r\nwho sent this?", "no sender"),
    ],
)
def test_malformed_mail_is_a_422_with_the_reason(
    tenant: Tenant, base_url: str, raw: bytes, message: str
) -> None:
    r = post_mail(gateway(tenant, base_url), raw)
    assert r.status_code == 422
    assert message in r.json()["error"]["message"]
    assert tenant.client.get("/api/v1/mail/messages").json() == []


def test_inbound_mail_needs_an_api_key(tenant: Tenant, base_url: str) -> None:
    assert post_mail(tenant.client, reply()).status_code == 403
    assert httpx.post(f"{base_url}/api/v1/mail/inbound", content=reply()).status_code == 401


def test_inbound_mail_lands_in_the_keys_workspace_only(
    tenant: Tenant, other_tenant: Tenant, base_url: str
) -> None:
    mail = post_mail(gateway(other_tenant, base_url), reply()).json()["mail"]

    assert tenant.client.get("/api/v1/mail/messages").json() == []
    assert tenant.client.get(f"/api/v1/mail/messages/{mail['id']}").status_code == 404
    assert other_tenant.client.get(f"/api/v1/mail/messages/{mail['id']}").status_code == 200


def test_registered_handlers_are_asked_in_turn_until_one_takes_the_mail(
    tenant: Tenant, mail_server: OwnServer
) -> None:
    token = secrets.token_hex(12)
    asked: list[tuple[str, str | None]] = []

    async def declines(session: AsyncSession, workspace_id: uuid.UUID, mail: InboundMail) -> bool:
        asked.append(("declines", mail.token))
        return False

    async def takes(session: AsyncSession, workspace_id: uuid.UUID, mail: InboundMail) -> bool:
        asked.append(("takes", mail.token))
        return mail.token == token and str(workspace_id) == tenant.workspace_id

    register_inbound_handler("test-declines", declines)
    register_inbound_handler("test-takes", takes)
    raw = reply(to=f"support+{token}@example.com")

    async def work(session: AsyncSession) -> ReceivedMail:
        return await receive_mail(session, uuid.UUID(tenant.workspace_id), parse_inbound(raw))

    received = mail_server.run(work)

    assert asked[-2:] == [("declines", token), ("takes", token)]
    logged: dict[str, Any] = tenant.client.get(f"/api/v1/mail/messages/{received.mail.id}").json()
    assert (logged["status"], logged["handled_by"]) == ("handled", "test-takes")
