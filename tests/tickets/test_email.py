"""Tickets by e-mail: customers are mailed on opening and on replies (not on notes), their
answers thread back into the ticket, new mail opens a ticket, bad mail is refused."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from typing import Any

import httpx

from tests.conftest import Tenant
from tests.tickets.helpers import make_ticket, ok, patch


def gateway(tenant: Tenant) -> httpx.Client:
    """A mail gateway's client: inbound mail is posted with an API key."""
    key = ok(tenant.client.post("/api/v1/api-keys", json={"name": "mx", "role": "agent"}), 201)
    return httpx.Client(
        base_url=str(tenant.client.base_url), headers={"X-API-Key": key["secret"]}, timeout=60
    )


def outgoing(tenant: Tenant, to: str) -> list[dict[str, Any]]:
    mails = ok(tenant.client.get("/api/v1/mail/messages"))
    return [m for m in mails if m["direction"] == "outbound" and to in str(m["recipients"])]


def mail(sender: str, subject: str, text: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Customer <{sender}>"
    message["To"] = headers.pop("to", "support@example.com")
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@customer.example>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


def post(client: httpx.Client, message: EmailMessage | bytes) -> httpx.Response:
    raw = message if isinstance(message, bytes) else message.as_bytes()
    return client.post(
        "/api/v1/mail/inbound", content=raw, headers={"Content-Type": "message/rfc822"}
    )


def test_customers_are_mailed_and_their_replies_thread_into_the_ticket(tenant: Tenant) -> None:
    address = f"ann-{uuid.uuid4().hex[:6]}@example.com"
    ticket = make_ticket(tenant.client, requester={"email": address, "name": "Ann"})
    url = f"/api/v1/tickets/{ticket['id']}"
    [opened] = outgoing(tenant, address)
    assert opened["subject"] == f"[#{ticket['number']}] {ticket['subject']}"
    token = opened["reply_token"]
    assert token and token in (opened["reply_to"] or "")

    ok(tenant.client.post(f"{url}/comments", json={"body": "secret note", "public": False}), 201)
    assert len(outgoing(tenant, address)) == 1  # notes are never mailed
    ok(
        tenant.client.post(
            f"{url}/comments",
            json={"body": "Which version?", "public": True, "status": "pending", "version": 1},
        ),
        201,
    )
    assert len(outgoing(tenant, address)) == 2

    mx = gateway(tenant)
    answer = mail(
        address,
        f"Re: [#{ticket['number']}] {ticket['subject']}",
        "Version 2.3.1 on iOS.\n\nOn Monday support wrote:\n> Which version?",
        In_Reply_To=opened["message_id"],
    )
    received = ok(post(mx, answer))
    assert received["duplicate"] is False and received["mail"]["handled_by"] == "tickets"
    stored = ok(tenant.client.get(url))
    assert stored["status"] == "open"  # the customer answered: the clock runs again
    last = stored["comments"][-1]
    assert last["author_kind"] == "contact" and last["channel"] == "email" and last["public"]
    assert (
        last["body"].startswith("Version 2.3.1 on iOS.") and "> Which version?" not in last["body"]
    )
    assert ok(post(mx, answer))["duplicate"] is True  # a re-delivered mail is not added twice
    assert len(ok(tenant.client.get(url))["comments"]) == len(stored["comments"])


def test_new_mail_opens_a_ticket_and_refused_files_are_named(tenant: Tenant) -> None:
    address = f"bo-{uuid.uuid4().hex[:6]}@example.com"
    message = mail(address, "Printer shows E42", "My printer shows error E42 since yesterday.")
    message.add_attachment(
        b"%PDF-1.4 invoice", maintype="application", subtype="pdf", filename="invoice.pdf"
    )
    message.add_attachment(
        b"<html><script>x</script>", maintype="text", subtype="html", filename="page.html"
    )
    ok(post(gateway(tenant), message))
    [ticket] = ok(tenant.client.get("/api/v1/tickets", params={"q": "E42"}))
    assert ticket["channel"] == "email" and ticket["source"] == "email"
    detail = ok(tenant.client.get(f"/api/v1/tickets/{ticket['id']}"))
    files = detail["comments"][0]
    assert [a["filename"] for a in files["attachments"]] == ["invoice.pdf"]
    assert "page.html" in files["body"] and "not kept" in files["body"]
    contacts = ok(tenant.client.get("/api/v1/chat/contacts", params={"q": address}))
    assert contacts[0]["id"] == ticket["requester_id"]


def test_a_reply_to_a_closed_ticket_opens_a_follow_up(tenant: Tenant) -> None:
    address = f"cy-{uuid.uuid4().hex[:6]}@example.com"
    ticket = make_ticket(tenant.client, requester={"email": address})
    solved = ok(patch(tenant.client, ticket, status="solved"))
    ok(patch(tenant.client, solved, status="closed"))
    [opened] = outgoing(tenant, address)
    reply = mail(address, "Re: it broke again", "It broke again.", to=opened["reply_to"])
    ok(post(gateway(tenant), reply))
    follow = ok(tenant.client.get("/api/v1/tickets", params={"q": "broke again"}))
    assert len(follow) == 1 and follow[0]["source"] == f"follow-up:{ticket['number']}"
    assert ok(tenant.client.get(f"/api/v1/tickets/{ticket['id']}"))["status"] == "closed"


def test_malformed_mail_is_refused(tenant: Tenant) -> None:
    bad = post(gateway(tenant), b"\x00\x01 this is not a mail")
    assert bad.status_code == 422
    assert ok(tenant.client.get("/api/v1/tickets")) == []
