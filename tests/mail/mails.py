"""Raw mails as mail clients write them, for the inbound tests."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from email.policy import SMTP


def reply(
    *,
    answering: str | None = None,
    to: str = "Acme Support <support@example.com>",
    text: str = "Thanks, that fixed it.\n\nOn Tue, 2 Jan 2024 at 10:00, Acme <help@example.com> "
    "wrote:\n> Please restart the router.\n",
    message_id: str | None = None,
    **headers: str,
) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = "Bob Customer <Bob@Customer.example.com>"
    message["To"] = to
    message["Subject"] = "Re: Your ticket"
    message["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@customer.example.com>"
    if answering:
        message["In-Reply-To"] = answering
        message["References"] = answering
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message.as_bytes()
