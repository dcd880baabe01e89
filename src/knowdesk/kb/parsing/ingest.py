"""Entry point: validate an uploaded file and parse it into a structured document."""

from __future__ import annotations

from pathlib import PurePosixPath

from .decoding import decode_text
from .document import BlockKind, ParsedDocument
from .docx_reader import read_docx
from .errors import IngestError
from .formats import Format, check_content_matches, format_for
from .html_reader import read_html
from .markdown_reader import read_markdown
from .outline import Outline
from .pdf_reader import read_pdf
from .text_reader import read_text

DEFAULT_MAX_BYTES = 50 * 1024 * 1024


def parse_document(
    filename: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> ParsedDocument:
    """Parse an uploaded file; every problem with it raises IngestError naming `filename`."""
    if len(data) > max_bytes:
        raise IngestError(
            filename, f"file is {_size(len(data))}, over the limit of {_size(max_bytes)}"
        )
    if not data:
        raise IngestError(filename, "file is empty")
    fmt = format_for(filename)
    check_content_matches(filename, fmt, data)
    try:
        outline = _read(filename, fmt, data)
    except IngestError:
        raise
    except Exception as exc:
        # The parsers below fail on malformed input with whatever their internals hit
        # (pypdf, zipfile, lxml, python-docx errors, KeyError, ValueError, RecursionError);
        # the caller must only ever see the uploaded file being rejected.
        raise IngestError(
            filename,
            f"could not read this {fmt} file, it may be damaged ({type(exc).__name__}: {exc})",
        ) from exc
    blocks = outline.blocks
    if not any(block.kind is not BlockKind.HEADING for block in blocks):
        raise IngestError(filename, "no readable text found in the file")
    title = outline.title or PurePosixPath(filename).stem
    return ParsedDocument(filename=filename, title=title, blocks=blocks)


def _read(filename: str, fmt: Format, data: bytes) -> Outline:
    if fmt is Format.PDF:
        return read_pdf(filename, data)
    if fmt is Format.DOCX:
        return read_docx(data)
    text = decode_text(filename, data)
    if fmt is Format.MARKDOWN:
        return read_markdown(text)
    if fmt is Format.HTML:
        return read_html(text)
    return read_text(text)


def _size(byte_count: int) -> str:
    if byte_count < 1024:
        return f"{byte_count} bytes"
    if byte_count < 1024 * 1024:
        return f"{byte_count / 1024:.1f} KB"
    return f"{byte_count / (1024 * 1024):.1f} MB"
