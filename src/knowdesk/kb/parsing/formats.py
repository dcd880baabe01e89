"""Which reader a file goes to, and whether its bytes are what its extension claims."""

from __future__ import annotations

from enum import StrEnum
from pathlib import PurePosixPath

from .decoding import has_byte_order_mark
from .errors import IngestError


class Format(StrEnum):
    MARKDOWN = "Markdown"
    HTML = "HTML"
    PDF = "PDF"
    DOCX = "DOCX"
    TEXT = "text"


_FORMAT_BY_EXTENSION = {
    ".md": Format.MARKDOWN,
    ".markdown": Format.MARKDOWN,
    ".html": Format.HTML,
    ".htm": Format.HTML,
    ".pdf": Format.PDF,
    ".docx": Format.DOCX,
    ".txt": Format.TEXT,
}
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(_FORMAT_BY_EXTENSION)

_PDF_MAGIC = b"%PDF-"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Signatures long enough not to collide with the start of a real text file.
_BINARY_SIGNATURES = (
    (_PDF_MAGIC, "PDF document"),
    (_ZIP_MAGIC, "ZIP archive (DOCX, XLSX, ...)"),
    (_OLE_MAGIC, "legacy Office document (.doc, .xls)"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\x7fELF", "executable"),
    (b"\x1f\x8b\x08", "gzip archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
)
# The PDF specification lets readers find the header anywhere in the first kilobyte.
_PDF_HEADER_WINDOW = 1024
_TEXT_SNIFF_WINDOW = 8192


def format_for(filename: str) -> Format:
    extension = PurePosixPath(filename).suffix.lower()
    try:
        return _FORMAT_BY_EXTENSION[extension]
    except KeyError:
        supported = ", ".join(sorted(SUPPORTED_EXTENSIONS))
        shown = f"'{extension}'" if extension else "files without an extension"
        raise IngestError(
            filename, f"unsupported file type {shown}; supported: {supported}"
        ) from None


def check_content_matches(filename: str, fmt: Format, data: bytes) -> None:
    """Raise IngestError when the leading bytes contradict the extension."""
    if fmt is Format.PDF:
        if _PDF_MAGIC not in data[:_PDF_HEADER_WINDOW]:
            raise IngestError(filename, _mismatch("PDF", data))
    elif fmt is Format.DOCX:
        if data.startswith(_OLE_MAGIC):
            raise IngestError(filename, "legacy Word .doc files are not supported; save as .docx")
        if not data.startswith(_ZIP_MAGIC):
            raise IngestError(filename, _mismatch("DOCX", data))
    else:
        found = _binary_format(data)
        if found is not None:
            raise IngestError(filename, f"content is a {found}, not {fmt} as the name says")
        if b"\x00" in data[:_TEXT_SNIFF_WINDOW] and not has_byte_order_mark(data):
            raise IngestError(filename, f"content is binary data, not {fmt}")


def _binary_format(data: bytes) -> str | None:
    return next((name for magic, name in _BINARY_SIGNATURES if data.startswith(magic)), None)


def _mismatch(expected: str, data: bytes) -> str:
    found = _binary_format(data)
    return f"content is not a {expected} file" + (f" (it is a {found})" if found else "")
