"""Bytes to text for the text formats (TXT, Markdown, HTML).

UTF-8 is tried first, with or without a byte-order mark (UTF-16/32 only with their mark, as
Windows Notepad writes them). Otherwise charset-normalizer picks among the legacy encodings
our customers' files actually come in: GB18030 (a superset of GBK and GB2312), Big5 and
Windows-1252. Restricting it to these matters: left free it reads short GBK text as Korean
CP949, and it would accept Shift-JIS or KOI8-R files we cannot index sensibly.
"""

from __future__ import annotations

import codecs

import charset_normalizer

from .errors import IngestError

_BYTE_ORDER_MARKS = (
    # UTF-32 first: its little-endian mark begins with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
LEGACY_ENCODINGS = ("gb18030", "big5", "cp1252")


def has_byte_order_mark(data: bytes) -> bool:
    return any(data.startswith(mark) for mark, _ in _BYTE_ORDER_MARKS)


def decode_text(filename: str, data: bytes) -> str:
    """Decode `data` and normalise line endings to "\\n"; raise IngestError if impossible."""
    return _decode(filename, data).replace("\r\n", "\n").replace("\r", "\n")


def _decode(filename: str, data: bytes) -> str:
    for mark, encoding in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            try:
                return data[len(mark) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise IngestError(filename, f"text is not valid {encoding}: {exc.reason}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS)).best()
    if best is None:
        raise IngestError(
            filename, "cannot decode the text: it is not UTF-8, GB18030/GBK, Big5 or Windows-1252"
        )
    return str(best)
