"""Read a raw RFC 822 mail into what a handler needs: who wrote, what is new, what it answers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from charset_normalizer import from_bytes

from knowdesk.errors import InvalidInputError
from knowdesk.mail.quotes import html_to_text, strip_quoted_reply
from knowdesk.mail.reply_tokens import message_ids, token_in_addresses, token_in_message_ids

# Chinese mail often says gb2312 yet uses characters only its supersets have.
_CHARSET_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030"}
_AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}


class MalformedMailError(InvalidInputError):
    """Bytes that are not a mail we can read (HTTP 422)."""


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class InboundMail:
    sender: str  # the address alone, lower case
    sender_name: str
    recipients: list[str]  # To and Cc addresses
    subject: str
    text: str  # what the sender wrote, without the quoted mail it answers
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    token: str | None  # the reply token of the knowdesk mail this answers, if found
    automatic: bool  # an auto-reply, bounce or list mail: never answer it
    attachments: list[InboundAttachment] = field(default_factory=list)


def _header(message: EmailMessage, name: str) -> Any:
    try:
        return message[name]
    except Exception as exc:  # the stdlib's header parser fails in assorted ways on bad input
        raise MalformedMailError(f"The {name} header cannot be read: {exc}") from exc


def _addresses(message: EmailMessage, *names: str) -> list[str]:
    found: list[str] = []
    for name in names:
        header = _header(message, name)
        for address in getattr(header, "addresses", ()):
            if address.addr_spec and "@" in address.addr_spec:
                found.append(address.addr_spec.lower())
    return found


def _sender(message: EmailMessage) -> tuple[str, str]:
    header = _header(message, "From")
    for address in getattr(header, "addresses", ()):
        if address.username and address.domain:
            return address.addr_spec.lower(), address.display_name
    raise MalformedMailError("The mail has no sender address (From header).")


def _decoded(part: EmailMessage) -> str:
    charset = (part.get_content_charset() or "").lower()
    payload = part.get_payload(decode=True)
    raw = payload if isinstance(payload, bytes) else b""
    if charset in _CHARSET_SUPERSETS:
        return raw.decode(_CHARSET_SUPERSETS[charset], errors="replace")
    try:
        text: str = part.get_content()
        return text
    except LookupError:  # a charset Python does not know: guess from the bytes
        best = from_bytes(raw).best()
        return str(best) if best is not None else raw.decode("utf-8", errors="replace")


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if not isinstance(body, EmailMessage):
        return ""
    content = _decoded(body)
    if body.get_content_type() == "text/html":
        content = html_to_text(content)
    return strip_quoted_reply(content)


def _attachments(message: EmailMessage) -> list[InboundAttachment]:
    found = []
    for part in message.iter_attachments():
        if not isinstance(part, EmailMessage):
            continue
        payload = part.get_payload(decode=True)
        found.append(
            InboundAttachment(
                filename=part.get_filename() or "attachment",
                content_type=part.get_content_type(),
                data=payload if isinstance(payload, bytes) else b"",
            )
        )
    return found


def _automatic(message: EmailMessage) -> bool:
    auto_submitted = str(_header(message, "Auto-Submitted") or "no").strip().lower()
    precedence = str(_header(message, "Precedence") or "").strip().lower()
    return (
        auto_submitted != "no"
        or precedence in _AUTOMATIC_PRECEDENCE
        or _header(message, "X-Autoreply") is not None
        or _header(message, "X-Autorespond") is not None
        or message.get_content_type() == "multipart/report"  # delivery status notifications
    )


def parse_inbound(raw: bytes) -> InboundMail:
    """Parse a raw RFC 822 mail; raises MalformedMailError when it is not one."""
    if not raw.strip():
        raise MalformedMailError("The mail is empty.")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    if not isinstance(message, EmailMessage) or not message.keys():
        raise MalformedMailError("No mail headers found: send the raw RFC 822 message.")
    sender, sender_name = _sender(message)
    in_reply_to = message_ids(str(_header(message, "In-Reply-To") or ""))
    references = message_ids(str(_header(message, "References") or ""))
    own_id = message_ids(str(_header(message, "Message-ID") or ""))
    to_us = _addresses(message, "Delivered-To", "X-Original-To", "To", "Cc")
    return InboundMail(
        sender=sender,
        sender_name=sender_name,
        recipients=_addresses(message, "To", "Cc"),
        subject=re.sub(r"\s+", " ", str(_header(message, "Subject") or "")).strip(),
        text=_text(message),
        message_id=own_id[0] if own_id else None,
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=references,
        token=token_in_message_ids([*in_reply_to, *reversed(references)])
        or token_in_addresses(to_us),
        automatic=_automatic(message),
        attachments=_attachments(message),
    )
