"""`knowdesk mail-listener`: replies arrive over SMTP and land in the workspace they answer."""

from __future__ import annotations

import os
import secrets
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.conftest import ARTIFACTS, Tenant, free_port
from tests.mail.helpers import send_now, wait_mail_done
from tests.mail.mails import reply
from tests.webhooks.server import OwnServer


@pytest.fixture(scope="module")
def listener(mail_server: OwnServer) -> Iterator[int]:
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / "mail-listener.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "knowdesk.mail.listener", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **mail_server.env},
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            assert process.poll() is None, "the mail listener exited; see test-artifacts/"
            yield port
        finally:
            process.terminate()
            process.wait(timeout=20)


def smtp_send(port: int, raw: bytes, rcpt: str) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.sendmail("bob@customer.example.com", [rcpt], raw)


def test_reply_over_smtp_lands_in_the_workspace_it_answers(
    tenant: Tenant, mail_server: OwnServer, listener: int
) -> None:
    token = secrets.token_hex(12)
    sent = send_now(mail_server, tenant.workspace_id, "bob@customer.example.com", reply_token=token)
    wait_mail_done(tenant.client, sent.id)

    # The client answered the From address: the token is only in the quoted Message-ID.
    smtp_send(listener, reply(answering=sent.message_id), "support@example.com")

    thread = tenant.client.get("/api/v1/mail/messages", params={"token": token}).json()
    inbound = [m for m in thread if m["direction"] == "inbound"]
    assert len(inbound) == 1
    assert inbound[0]["in_reply_to"] == sent.message_id


def test_token_only_in_the_envelope_recipient_is_enough(
    tenant: Tenant, mail_server: OwnServer, listener: int
) -> None:
    token = secrets.token_hex(12)
    sent = send_now(mail_server, tenant.workspace_id, "bob@customer.example.com", reply_token=token)
    wait_mail_done(tenant.client, sent.id)

    smtp_send(listener, reply(), f"support+{token}@example.com")

    thread = tenant.client.get("/api/v1/mail/messages", params={"token": token}).json()
    assert [m["direction"] for m in thread] == ["inbound", "outbound"]


def test_mail_that_answers_nothing_known_or_is_malformed_is_refused(listener: int) -> None:
    with pytest.raises(smtplib.SMTPDataError) as unknown:
        smtp_send(listener, reply(answering="<x@elsewhere.example.com>"), "support@example.com")
    assert unknown.value.smtp_code == 550
    with pytest.raises(smtplib.SMTPDataError) as malformed:
        smtp_send(listener, b"Subject: hi\r\n\r\nno sender", "support@example.com")
    assert malformed.value.smtp_code == 550
    assert b"no sender" in malformed.value.smtp_error
