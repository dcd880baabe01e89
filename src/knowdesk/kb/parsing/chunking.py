"""Structure-aware chunking of a parsed document.

Size is measured in characters (`len` of the text). For Chinese that is one unit per
character; an English word with its following space averages about six characters, so the
default of 500 holds about 500 Chinese characters or 80 English words: a short passage that
answers one question, and inside the embedding model's 512-token window (500 Chinese characters
measure about 370 multilingual-e5 tokens).

Rules:
- A chunk never crosses a heading: each section (the blocks under one heading) is chunked on
  its own. Heading text is not repeated in chunk text; it is in `heading_path`, which indexing
  should use alongside the text.
- Whole blocks are packed into a chunk while they fit; a block longer than the target is cut
  (see `splitting`) at sentence ends first, never inside a word, and a tiny last piece is
  evened out against the piece before it. Only a single word longer than the target (a long
  URL, say) makes a chunk exceed it.
- Ordinals run 0, 1, 2, ... in reading order over the whole document, so a chunk's neighbours
  are the chunks with ordinal - 1 and ordinal + 1; no separate links are kept.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from .document import Block, BlockKind, ParsedDocument
from .splitting import split_block

DEFAULT_TARGET_CHARS = 500
# Pieces under a fifth of the target are too small to stand alone when a block is split.
_TINY_SHARE = 5
_BLOCK_SEPARATOR = "\n\n"
_WHITESPACE_RUN = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Chunk:
    ordinal: int
    text: str
    heading_path: tuple[str, ...]
    page: int | None  # first PDF page the chunk touches
    char_count: int = field(init=False)
    # Equal hashes mean the same content, so a re-imported document can keep the stored
    # embeddings of chunks that did not change.
    content_hash: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "char_count", len(self.text))
        object.__setattr__(self, "content_hash", content_hash(self.text))


def content_hash(text: str) -> str:
    """sha256 of the text after NFKC folding and white-space collapsing."""
    normalized = _WHITESPACE_RUN.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def chunk_document(doc: ParsedDocument, *, target_chars: int = DEFAULT_TARGET_CHARS) -> list[Chunk]:
    if target_chars < 1:
        raise ValueError("target_chars must be positive")
    chunks: list[Chunk] = []
    for heading_path, blocks in _sections(doc.blocks):
        for text, page in _pack(blocks, target_chars):
            chunks.append(Chunk(len(chunks), text, heading_path, page))
    return chunks


def _sections(blocks: Sequence[Block]) -> Iterator[tuple[tuple[str, ...], list[Block]]]:
    """Runs of content blocks between headings, with the path they share."""
    section: list[Block] = []
    for block in blocks:
        if section and (
            block.kind is BlockKind.HEADING or block.heading_path != section[0].heading_path
        ):
            yield section[0].heading_path, section
            section = []
        if block.kind is not BlockKind.HEADING:
            section.append(block)
    if section:
        yield section[0].heading_path, section


def _pack(blocks: list[Block], target: int) -> Iterator[tuple[str, int | None]]:
    """Join the section's pieces into texts of at most `target` characters, with first pages."""
    text, page = "", None
    for block in blocks:
        joiner = _BLOCK_SEPARATOR
        for piece in split_block(block.text, block.kind, target, target // _TINY_SHARE):
            if text and len(text) + len(joiner) + len(piece.text) <= target:
                text += joiner + piece.text
            else:
                if text:
                    yield text, page
                text, page = piece.text, block.page
            joiner = piece.joiner
    if text:
        yield text, page
