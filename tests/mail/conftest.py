"""Mail tests run a real SMTP server (aiosmtpd) and a knowdesk server of their own that sends
through it, with a retry back-off of 1 s."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.conftest import free_port
from tests.webhooks.server import OwnServer, own_server

SERVER_SENDER = "Knowdesk Test <desk@example.com>"


@dataclass(frozen=True)
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class SmtpSink:
    """Takes every mail, except: `nobody@…` is refused for good (550), and each `flaky-…`
    address is refused once for now (451)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.delivered: list[Delivered] = []
        self.refused_once: set[str] = set()
        self._lock = threading.Lock()

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user here"
        if address.startswith("flaky-") and address not in self.refused_once:
            self.refused_once.add(address)
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        message = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.delivered.append(
                Delivered(str(envelope.mail_from), list(envelope.rcpt_tos), message)
            )
        return "250 Message accepted"

    def wait_for(self, message_id: str, timeout: float = 30) -> Delivered:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for d in self.delivered:
                    # A long Message-ID may be folded onto its own line.
                    if d.message["Message-ID"].strip() == message_id:
                        return d
            time.sleep(0.05)
        raise AssertionError(f"mail {message_id} did not arrive within {timeout} s")


@pytest.fixture(scope="package")
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink(free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture(scope="package")
def mail_server(smtp_sink: SmtpSink) -> Iterator[OwnServer]:
    env = {
        "KNOWDESK_SMTP_HOST": "127.0.0.1",
        "KNOWDESK_SMTP_PORT": str(smtp_sink.port),
        "KNOWDESK_SMTP_FROM": SERVER_SENDER,
        "KNOWDESK_MAIL_BACKOFF_SECONDS": "1",
    }
    with own_server("server-mail.log", env) as server:
        yield server


@pytest.fixture(scope="package")
def base_url(mail_server: OwnServer) -> str:
    """Tenants of these tests live on the mail server (tests.conftest builds them)."""
    return mail_server.url
