"""Which files a chat may carry: recognised by their first bytes, never by their name.

Images, PDF and plain text only. HTML, SVG, scripts, archives and programs are refused: a chat
attachment must be harmless when a person opens it. Downloads are served with the recognised
type, `nosniff` and as attachments, so a browser never runs them.
"""

from __future__ import annotations

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
_MARKUP = (b"<!doctype", b"<html", b"<script", b"<svg", b"<?xml", b"<body", b"<iframe")


def _is_plain_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    head = text[:1024].lstrip().lower().encode()
    return not head.startswith(_MARKUP)


def sniff(data: bytes) -> str | None:
    """The allowed content type of `data`, or None when chats may not carry it."""
    for signature, content_type in _SIGNATURES:
        if data.startswith(signature):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data and _is_plain_text(data):
        return "text/plain"
    return None
