"""Outgoing mail as RFC 5322 bytes, and the checks that keep caller input out of its headers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses, parseaddr

from knowdesk.errors import InvalidInputError
from knowdesk.mail.models import MailMessage

# Headers that knowdesk writes itself; callers may add any other.
RESERVED_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "reply-to",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "sender",
    }
)
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII but ':' (RFC 5322 ftext)
MAX_SUBJECT_CHARS = 500


def checked_address(value: str) -> str:
    """`addr` or `Name <addr>` with one plausible address. Deliverability is the SMTP server's
    to judge: an address it refuses shows in the mail log."""
    found = getaddresses([value])
    name, address = found[0] if len(found) == 1 else ("", "")
    local, at, domain = address.rpartition("@")
    plausible = bool(at and local) and ("." in domain or domain == "localhost")
    if not plausible or any(c.isspace() for c in address) or any(ord(c) < 32 for c in value):
        raise InvalidInputError(f"Not one mail address: {value!r}")
    try:
        return str(Address(display_name=name, addr_spec=address))
    except (ValueError, HeaderParseError) as exc:
        raise InvalidInputError(f"Not one mail address: {value!r}") from exc


def address_only(value: str) -> str:
    return parseaddr(value)[1]


def clean_subject(subject: str) -> str:
    return re.sub(r"\s+", " ", subject).strip()[:MAX_SUBJECT_CHARS]


def checked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The caller's extra headers; a reserved name or a line break is a programming error."""
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(name) or name.lower() in RESERVED_HEADERS:
            raise ValueError(f"Header {name!r} cannot be set by the caller.")
        if "\r" in value or "\n" in value:
            raise ValueError(f"Header {name!r} holds a line break.")
    return dict(headers)


def build_message(mail: MailMessage) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"] = mail.sender
    message["To"] = ", ".join(mail.recipients)
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = mail.message_id
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    if mail.in_reply_to:
        message["In-Reply-To"] = mail.in_reply_to
    if mail.references:
        message["References"] = " ".join(mail.references)
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.text)
    if mail.html:
        message.add_alternative(mail.html, subtype="html")
    return message
