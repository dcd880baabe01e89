"""HTML pages via lxml: headings, paragraphs, lists, tables and preformatted code.

Scripts, styles, navigation and other non-content elements are dropped. Loose text directly
inside containers (a <div> without <p>) becomes a paragraph of its own.
"""

from __future__ import annotations

import re

import lxml.html
from lxml.html import HtmlElement

from .document import BlockKind
from .inline import InlineText
from .outline import Outline

_DROPPED = ("script", "style", "nav", "noscript", "template", "iframe", "svg", "head")
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_LISTS = {"ul", "ol", "menu"}
_CELLS = {"td", "th"}
# Elements that start a new block: their content never runs into the surrounding paragraph.
_BLOCK_TAGS = {
    *_HEADINGS,
    *_LISTS,
    "table",
    "pre",
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "blockquote",
    "figure",
    "figcaption",
    "details",
    "summary",
    "dl",
    "dt",
    "dd",
    "address",
    "form",
    "fieldset",
    "hr",
    "li",
    "body",
    "center",
    "hgroup",
}
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>")


def read_html(text: str) -> Outline:
    # lxml refuses str input that carries an encoding declaration; the text is decoded already.
    root = lxml.html.document_fromstring(_XML_DECLARATION.sub("", text))
    outline = Outline()
    outline.title = (root.findtext("head/title") or "").strip() or None
    _drop_non_content(root)
    _read_container(root, outline)
    if outline.title is None:
        outline.title = outline.first_heading(1)
    return outline


def read_html_fragment(html: str, outline: Outline) -> None:
    """Add the blocks of an HTML snippet (e.g. a table embedded in Markdown) to `outline`."""
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    _drop_non_content(root)
    _read_container(root, outline)


def _drop_non_content(root: HtmlElement) -> None:
    for element in list(root.iter(*_DROPPED)):
        element.drop_tree()


def _tag(element: HtmlElement) -> str | None:
    """Lower-case tag name; None for comments and processing instructions."""
    return element.tag.lower() if isinstance(element.tag, str) else None


def _is_block(element: HtmlElement) -> bool:
    return any(_tag(node) in _BLOCK_TAGS for node in element.iter())


def _read_container(container: HtmlElement, outline: Outline) -> None:
    loose = InlineText()
    loose.add(container.text)
    for child in container:
        tag = _tag(child)
        if tag is not None and _is_block(child):
            outline.add(BlockKind.PARAGRAPH, loose.text())
            loose = InlineText()
            _read_block(child, tag, outline)
        elif tag is not None:
            _collect_inline(child, loose)
        loose.add(child.tail)
    outline.add(BlockKind.PARAGRAPH, loose.text())


def _read_block(element: HtmlElement, tag: str, outline: Outline) -> None:
    if tag in _HEADINGS:
        outline.heading(_HEADINGS[tag], _inline_text(element))
    elif tag in _LISTS:
        outline.add(BlockKind.LIST, "\n".join(_list_lines(element, depth=0)))
    elif tag == "table":
        outline.add(BlockKind.TABLE, _table_text(element))
    elif tag == "pre":
        outline.add(BlockKind.CODE, element.text_content().strip("\n"))
    else:
        _read_container(element, outline)


def _inline_text(element: HtmlElement) -> str:
    text = InlineText()
    _collect_inline(element, text)
    return text.text()


def _collect_inline(element: HtmlElement, text: InlineText) -> None:
    if _tag(element) == "br":
        text.line_break()
        return
    text.add(element.text)
    for child in element:
        if _tag(child) is not None:
            _collect_inline(child, text)
        text.add(child.tail)


def _list_lines(list_element: HtmlElement, depth: int) -> list[str]:
    ordered = _tag(list_element) == "ol"
    number = _start_number(list_element) if ordered else 0
    lines: list[str] = []
    for item in list_element:
        if _tag(item) != "li":
            continue
        own_text = InlineText()
        nested: list[str] = []
        _collect_list_item(item, own_text, nested, depth)
        marker = f"{number}." if ordered else "-"
        number += 1
        lines.append("  " * depth + f"{marker} {own_text.text()}".rstrip())
        lines.extend(nested)
    return lines


def _start_number(ordered_list: HtmlElement) -> int:
    start = ordered_list.get("start", "").strip()
    return int(start) if start.isdecimal() else 1


def _collect_list_item(
    element: HtmlElement, text: InlineText, nested: list[str], depth: int
) -> None:
    """Gather an item's own text into `text` and its sub-lists' lines into `nested`."""
    text.add(element.text)
    for child in element:
        tag = _tag(child)
        if tag in _LISTS:
            nested.extend(_list_lines(child, depth + 1))
        elif tag is not None:
            # Paragraphs inside an item run on within the item's line.
            text.add(" ")
            _collect_list_item(child, text, nested, depth)
        text.add(child.tail)


def _table_text(table: HtmlElement) -> str:
    rows = [(table.findtext("caption") or "").strip()]
    for row in table.iter("tr"):
        cells = [_inline_text(cell).replace("\n", " ") for cell in row if _tag(cell) in _CELLS]
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(row for row in rows if row)
