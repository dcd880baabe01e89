"""PDF text via pypdf, page by page.

A PDF carries no reliable heading structure, so every block is a paragraph with its page
number. Paragraphs are split on blank lines; the line breaks inside one are layout, not
content, and are joined (without a space between Chinese characters).
"""

from __future__ import annotations

import io
import re

from pypdf import PasswordType, PdfReader

from .document import BlockKind
from .errors import IngestError
from .inline import join_lines
from .outline import Outline

_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


def read_pdf(filename: str, data: bytes) -> Outline:
    reader = PdfReader(io.BytesIO(data))
    # Files with only an owner password (printing or copying restricted) open with an empty
    # user password; those we can read. A real user password we do not have.
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise IngestError(filename, "the PDF is password-protected; upload it without a password")
    outline = Outline()
    for number, page in enumerate(reader.pages, start=1):
        for paragraph in _BLANK_LINE.split(page.extract_text()):
            outline.add(BlockKind.PARAGRAPH, join_lines(paragraph), page=number)
    return outline
