"""The structured form every reader produces, whatever the source format."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BlockKind(StrEnum):
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST = "list"
    TABLE = "table"
    CODE = "code"


@dataclass(frozen=True, slots=True)
class Block:
    """One unit of content in reading order.

    `heading_path` is the chain of headings the block sits under, outermost first; a heading's
    own block carries the path of the section it opens, so it ends with the heading itself.
    `page` is the 1-based PDF page, None for formats without pages.
    """

    kind: BlockKind
    text: str
    heading_path: tuple[str, ...]
    page: int | None = None


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    filename: str
    title: str
    blocks: tuple[Block, ...]
