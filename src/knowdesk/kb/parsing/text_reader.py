"""Plain text: paragraphs are separated by blank lines; line breaks inside one are kept."""

from __future__ import annotations

import re

from .document import BlockKind
from .outline import Outline

_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


def read_text(text: str) -> Outline:
    outline = Outline()
    for paragraph in _BLANK_LINE.split(text):
        lines = (line.strip() for line in paragraph.split("\n"))
        outline.add(BlockKind.PARAGRAPH, "\n".join(line for line in lines if line))
    return outline
