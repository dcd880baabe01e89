"""Cutting one block's text into pieces no longer than a limit, at the best places available.

Cut points are tried from strongest to weakest: sentence ends (Chinese 。！？；… and English
. ! ? before a space), line breaks, clause punctuation (，、： and , ; : before a space), and
finally word boundaries (rjieba words for Chinese, white space for everything else). Nothing
is ever cut inside a word, so a single word longer than the limit stays whole and over it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate

import rjieba

from .document import BlockKind

_CLOSERS = "”’」』）】》\"')\\]"
_SENTENCE_END = re.compile(
    rf"[。！？；]+[{_CLOSERS}]*\s*"
    rf"|…+[{_CLOSERS}]*\s*"
    # ASCII ! and ? used in Chinese text, with no space after them.
    rf"|[!?]+[{_CLOSERS}]*(?=[\u3400-\u9fff])"
    # English: not before a lower-case word, so "e.g. the" and "approx. ten" stay together.
    rf"|[.!?]+[{_CLOSERS}]*\s++(?![a-z])"
)
_LINE_END = re.compile(r"\s*\n\s*")
_CLAUSE_END = re.compile(r"[，、：]\s*|[,;:]\s+")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_SPACED_WORD = re.compile(r"\s*\S+\s*")

Splitter = Callable[[str], list[str]]


@dataclass(frozen=True, slots=True)
class Piece:
    """Part of a block's text; `joiner` is the white space that followed it in the block."""

    text: str
    joiner: str


@dataclass(frozen=True, slots=True)
class _Atom:
    text: str  # content plus the white space after it: atoms concatenate back to the block
    cut_rank: int  # quality of a cut after this atom: 0 best (sentence end), higher worse


def split_block(text: str, kind: BlockKind, limit: int, tiny: int) -> list[Piece]:
    """Split stripped `text` into pieces of at most `limit` characters.

    A last piece shorter than `tiny` is evened out with the one before it.
    """
    if len(text) <= limit:
        return [Piece(text, "")]
    atoms = _atomize(text, _SPLITTERS_BY_KIND[kind], limit, level=0)
    groups = _group(atoms, limit)
    _fix_tiny_tail(groups, limit, tiny)
    return [Piece(_joined(group), _trailing_space(group[-1].text)) for group in groups]


def _cut_after(pattern: re.Pattern[str]) -> Splitter:
    def split(text: str) -> list[str]:
        ends = [match.end() for match in pattern.finditer(text)]
        bounds = [0, *(end for end in ends if 0 < end < len(text)), len(text)]
        return _attach_leading_space([text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)])

    return split


def _words(text: str) -> list[str]:
    pieces: list[str] = []
    position = 0
    for run in _CJK_RUN.finditer(text):
        pieces += _SPACED_WORD.findall(text[position : run.start()])
        pieces += rjieba.cut(run.group())
        position = run.end()
    pieces += _SPACED_WORD.findall(text[position:])
    return _attach_leading_space(pieces)


def _attach_leading_space(pieces: list[str]) -> list[str]:
    """Move white space at the start of a piece to the end of the one before it."""
    out: list[str] = []
    for piece in pieces:
        content = piece.lstrip()
        if out:
            out[-1] += piece[: len(piece) - len(content)]
        if content:
            out.append(content)
        elif not out:
            out.append(piece)
    return out


_SENTENCES = _cut_after(_SENTENCE_END)
_LINES = _cut_after(_LINE_END)
_CLAUSES = _cut_after(_CLAUSE_END)
_PROSE: Sequence[Splitter] = (_SENTENCES, _LINES, _CLAUSES, _words)
_LINE_BASED: Sequence[Splitter] = (_LINES, _SENTENCES, _CLAUSES, _words)
_SPLITTERS_BY_KIND: dict[BlockKind, Sequence[Splitter]] = {
    BlockKind.HEADING: _PROSE,
    BlockKind.PARAGRAPH: _PROSE,
    BlockKind.LIST: _LINE_BASED,
    BlockKind.TABLE: _LINE_BASED,
    BlockKind.CODE: (_LINES, _words),
}


def _atomize(text: str, splitters: Sequence[Splitter], limit: int, level: int) -> list[_Atom]:
    """Split `text` only as finely as needed for every atom to fit in `limit`."""
    if len(text.rstrip()) <= limit or level == len(splitters):
        return [_Atom(text, level)]
    pieces = splitters[level](text)
    atoms: list[_Atom] = []
    for piece in pieces:
        inner = _atomize(piece, splitters, limit, level + 1)
        atoms += inner[:-1]
        atoms.append(_Atom(inner[-1].text, level))
    return atoms


def _joined(atoms: Sequence[_Atom]) -> str:
    return "".join(atom.text for atom in atoms).strip()


def _trailing_space(text: str) -> str:
    return text[len(text.rstrip()) :]


class _Lengths:
    """Stripped lengths of every prefix and suffix of an atom run, in constant time each."""

    def __init__(self, atoms: Sequence[_Atom]) -> None:
        self._atoms = atoms
        self._ends = list(accumulate((len(atom.text) for atom in atoms), initial=0))

    def head(self, keep: int) -> int:
        return self._ends[keep] - len(_trailing_space(self._atoms[keep - 1].text))

    def tail(self, keep: int) -> int:
        return self.head(len(self._atoms)) - self._ends[keep]


def _group(atoms: list[_Atom], limit: int) -> list[list[_Atom]]:
    """Pack atoms greedily; on overflow, cut at the best-ranked point in the group's back half."""
    groups: list[list[_Atom]] = []
    current: list[_Atom] = []
    size = 0  # characters in `current`, trailing white space included
    for atom in atoms:
        current.append(atom)
        size += len(atom.text)
        while len(current) > 1 and size - len(_trailing_space(atom.text)) > limit:
            keep = _best_cut(current[:-1], limit)
            groups.append(current[:keep])
            current = current[keep:]
            size = sum(len(kept.text) for kept in current)
    groups.append(current)
    return groups


def _best_cut(group: list[_Atom], limit: int) -> int:
    """Atoms to keep: the best-ranked cut that keeps at least half the limit; the latest wins."""
    lengths = _Lengths(group)
    best, best_rank = len(group), group[-1].cut_rank
    for keep in range(len(group) - 1, 0, -1):
        if lengths.head(keep) < limit // 2:
            break
        if group[keep - 1].cut_rank < best_rank:
            best, best_rank = keep, group[keep - 1].cut_rank
    return best


def _fix_tiny_tail(groups: list[list[_Atom]], limit: int, tiny: int) -> None:
    if len(groups) < 2 or _Lengths(groups[-1]).head(len(groups[-1])) >= tiny:
        return
    # The two never fit together (packing would have joined them), so re-cut them: at the
    # best-ranked point where both sides fit and neither is tiny, the most even among equals.
    both = groups[-2] + groups[-1]
    lengths = _Lengths(both)
    candidates = [
        (both[keep - 1].cut_rank, abs(lengths.head(keep) - lengths.tail(keep)), keep)
        for keep in range(1, len(both))
        if tiny <= lengths.head(keep) <= limit and tiny <= lengths.tail(keep) <= limit
    ]
    if candidates:
        keep = min(candidates)[2]
        groups[-2:] = [both[:keep], both[keep:]]
