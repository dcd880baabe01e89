"""Turning a format's inline text into clean paragraph text.

Source line breaks inside a paragraph (Markdown soft breaks, HTML source formatting, PDF layout
lines) are not content: they become a space between Latin words and nothing between Chinese
characters, where a space would be a visible defect and would split words for the tokenizer.
Explicit breaks (<br>, Markdown hard breaks) are kept as newlines.
"""

from __future__ import annotations

import re

# Scripts written without spaces between words: CJK ideographs and punctuation, kana, and
# full-width forms.
_UNSPACED = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")
_WHITESPACE_RUN = re.compile(r"\s+")


def join_lines(text: str) -> str:
    """Collapse white space runs to one space, dropping line breaks next to unspaced script."""

    def replace(match: re.Match[str]) -> str:
        run = match.group()
        if "\n" not in run:
            return " "
        before = text[match.start() - 1] if match.start() > 0 else ""
        after = text[match.end()] if match.end() < len(text) else ""
        # A wrapped hyphenated word or compound keeps its hyphen and loses the break.
        if before == "-" or _UNSPACED.match(before) or _UNSPACED.match(after):
            return ""
        return " "

    return _WHITESPACE_RUN.sub(replace, text).strip()


class InlineText:
    """Accumulates inline text pieces; `line_break()` marks an explicit break."""

    def __init__(self) -> None:
        self._lines: list[list[str]] = [[]]

    def add(self, piece: str | None) -> None:
        if piece:
            self._lines[-1].append(piece)

    def line_break(self) -> None:
        self._lines.append([])

    def text(self) -> str:
        lines = (join_lines("".join(pieces)) for pieces in self._lines)
        return "\n".join(line for line in lines if line)
