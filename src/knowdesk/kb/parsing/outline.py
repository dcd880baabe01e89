"""Collects blocks in reading order while keeping track of the headings above them."""

from __future__ import annotations

from .document import Block, BlockKind


class Outline:
    """What a reader builds: blocks with heading paths, plus the title the format declares.

    Heading levels are the source's own (1 for H1 / Heading 1; DOCX's Title style is 0), so a
    level-3 heading right under a level-1 heading nests under it without a gap.
    """

    def __init__(self) -> None:
        self.title: str | None = None
        self._blocks: list[Block] = []
        self._open_headings: list[tuple[int, str]] = []
        self._first_heading_at_level: dict[int, str] = {}

    @property
    def blocks(self) -> tuple[Block, ...]:
        return tuple(self._blocks)

    def first_heading(self, level: int) -> str | None:
        return self._first_heading_at_level.get(level)

    def heading(self, level: int, text: str, page: int | None = None) -> None:
        text = text.strip()
        if not text:
            return
        while self._open_headings and self._open_headings[-1][0] >= level:
            self._open_headings.pop()
        self._open_headings.append((level, text))
        self._first_heading_at_level.setdefault(level, text)
        self._blocks.append(Block(BlockKind.HEADING, text, self._path(), page))

    def add(self, kind: BlockKind, text: str, page: int | None = None) -> None:
        if text.strip():
            self._blocks.append(Block(kind, text.strip("\n"), self._path(), page))

    def _path(self) -> tuple[str, ...]:
        return tuple(text for _, text in self._open_headings)
