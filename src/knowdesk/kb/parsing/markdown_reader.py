"""Markdown via markdown-it-py (CommonMark plus GitHub tables), walked as a syntax tree."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from .document import BlockKind
from .html_reader import read_html_fragment
from .inline import InlineText
from .outline import Outline

_PARSER = MarkdownIt("commonmark").enable("table")
# YAML front matter of static-site generators; CommonMark would read it as a rule and a heading.
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_LISTS = ("bullet_list", "ordered_list")


def read_markdown(text: str) -> Outline:
    outline = Outline()
    tree = SyntaxTreeNode(_PARSER.parse(_FRONT_MATTER.sub("", text)))
    _read_children(tree, outline)
    outline.title = outline.first_heading(1)
    return outline


def _read_children(node: SyntaxTreeNode, outline: Outline) -> None:
    for child in node.children:
        kind = child.type
        if kind == "heading":
            outline.heading(int(child.tag[1:]), _plain_text(child))
        elif kind == "paragraph":
            outline.add(BlockKind.PARAGRAPH, _plain_text(child))
        elif kind in _LISTS:
            outline.add(BlockKind.LIST, "\n".join(_list_lines(child, depth=0)))
        elif kind == "table":
            outline.add(BlockKind.TABLE, _table_text(child))
        elif kind in ("fence", "code_block"):
            outline.add(BlockKind.CODE, child.content.rstrip("\n"))
        elif kind == "html_block":
            read_html_fragment(child.content, outline)
        else:
            _read_children(child, outline)


def _inline_text(inline: SyntaxTreeNode) -> str:
    text = InlineText()
    for node in inline.walk(include_self=False):
        if node.type in ("text", "code_inline"):
            text.add(node.content)
        elif node.type == "softbreak":
            text.add("\n")
        elif node.type == "hardbreak":
            text.line_break()
    return text.text()


def _plain_text(node: SyntaxTreeNode) -> str:
    """Text of any block, flattened: used where structure below the block does not matter."""
    if node.type == "inline":
        return _inline_text(node)
    if node.type in ("fence", "code_block"):
        return node.content.strip()
    parts = (_plain_text(child) for child in node.children)
    return " ".join(part for part in parts if part)


def _list_lines(list_node: SyntaxTreeNode, depth: int) -> list[str]:
    ordered = list_node.type == "ordered_list"
    start = list_node.attrs.get("start", 1)
    number = start if isinstance(start, int) else 1
    lines: list[str] = []
    for item in list_node.children:
        own = [_plain_text(child) for child in item.children if child.type not in _LISTS]
        marker = f"{number}." if ordered else "-"
        number += 1
        lines.append("  " * depth + f"{marker} {' '.join(part for part in own if part)}".rstrip())
        for child in item.children:
            if child.type in _LISTS:
                lines.extend(_list_lines(child, depth + 1))
    return lines


def _table_text(table: SyntaxTreeNode) -> str:
    rows = []
    for row in table.walk():
        if row.type == "tr":
            cells = [_plain_text(cell) for cell in row.children]
            if any(cells):
                rows.append(" | ".join(cells))
    return "\n".join(rows)
