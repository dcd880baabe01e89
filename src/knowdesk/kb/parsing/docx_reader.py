"""Word documents via python-docx: Heading N styles are headings, tables become rows of text.

Consecutive paragraphs in a "List ..." style (what Word's bullet and numbering buttons apply)
form one list block.
"""

from __future__ import annotations

import io
import re

import docx
from docx.styles.style import ParagraphStyle
from docx.table import Table
from docx.text.paragraph import Paragraph

from .document import BlockKind
from .outline import Outline

# Style names are stored in English whatever the Word UI language; WPS writes Chinese ones.
_HEADING_STYLE = re.compile(r"(?:heading|标题)\s*(\d)", re.IGNORECASE)
_TITLE_STYLES = {"title", "标题"}
_TITLE_LEVEL = 0


def read_docx(data: bytes) -> Outline:
    document = docx.Document(io.BytesIO(data))
    outline = Outline()
    list_items: list[str] = []

    def flush_list() -> None:
        outline.add(BlockKind.LIST, "\n".join(list_items))
        list_items.clear()

    for item in document.iter_inner_content():
        if isinstance(item, Table):
            flush_list()
            outline.add(BlockKind.TABLE, _table_text(item))
            continue
        text = _clean(item.text)
        level = _heading_level(item.style)
        if level is not None:
            flush_list()
            outline.heading(level, text)
        elif _is_list_item(item):
            if text:
                list_items.append(f"- {text}")
        else:
            flush_list()
            outline.add(BlockKind.PARAGRAPH, text)
    flush_list()
    declared_title = (document.core_properties.title or "").strip()
    outline.title = (
        declared_title or outline.first_heading(_TITLE_LEVEL) or outline.first_heading(1)
    )
    return outline


def _heading_level(style: ParagraphStyle | None) -> int | None:
    """Level from the style or the style it is based on (custom headings usually are)."""
    while style is not None:
        name = (style.name or "").strip()
        if name.lower() in _TITLE_STYLES:
            return _TITLE_LEVEL
        match = _HEADING_STYLE.fullmatch(name)
        if match:
            return int(match.group(1))
        style = style.base_style
    return None


def _is_list_item(paragraph: Paragraph) -> bool:
    style = paragraph.style
    return style is not None and (style.name or "").startswith("List")


def _clean(text: str) -> str:
    """Collapse spaces and tabs within each line; keep the line breaks the author typed."""
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _table_text(table: Table) -> str:
    rows = []
    for row in table.rows:
        cells = [" ".join(cell.text.split()) for cell in row.cells]
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)
