"""Handing a mail to an SMTP server (blocking: run it in a thread)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from knowdesk.config import Settings
from knowdesk.mail.schemas import SmtpSettings


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    timeout: float

    @classmethod
    def chosen(cls, settings: Settings, own: SmtpSettings | None) -> SmtpServer:
        """The workspace's own server if it has one, else the server's settings."""
        if own is not None:
            return cls(
                own.host,
                own.port,
                own.username,
                own.password,
                own.starttls,
                settings.smtp_timeout_seconds,
            )
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_username,
            settings.smtp_password,
            settings.smtp_starttls,
            settings.smtp_timeout_seconds,
        )


@dataclass(frozen=True)
class SendOutcome:
    sent: bool
    error: str | None = None
    # A refusal that sending again will not change (5xx): no retry.
    permanent: bool = False


def _refusal(exc: smtplib.SMTPResponseException) -> SendOutcome:
    message = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
    error = f"SMTP {exc.smtp_code}: {message}".strip()
    return SendOutcome(sent=False, error=error, permanent=exc.smtp_code >= 500)


def send_message(
    server: SmtpServer, message: EmailMessage, sender: str, recipients: Sequence[str]
) -> SendOutcome:
    try:
        with smtplib.SMTP(server.host, server.port, timeout=server.timeout) as smtp:
            if server.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if server.username:
                smtp.login(server.username, server.password or "")
            refused = smtp.send_message(message, from_addr=sender, to_addrs=list(recipients))
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(
            f"{rcpt}: {code} {text.decode(errors='replace')}"
            for rcpt, (code, text) in exc.recipients.items()
        )
        error = f"Recipients refused: {detail}"
        return SendOutcome(sent=False, error=error, permanent=min(codes) >= 500)
    except smtplib.SMTPResponseException as exc:
        return _refusal(exc)
    except (smtplib.SMTPException, OSError) as exc:
        return SendOutcome(sent=False, error=f"{type(exc).__name__}: {exc}".removesuffix(": "))
    if refused:
        # The others took it, and sending again would give it to them twice.
        return SendOutcome(sent=True, error=f"Refused by some recipients: {', '.join(refused)}")
    return SendOutcome(sent=True)
