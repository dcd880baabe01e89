"""Read and write FAQ files: JSONL (or a JSON list), CSV and XLSX.

Pure functions over bytes, so the web upload, the CLI and background imports share one parser.
Reading never stops at a bad row: each bad row becomes a `RowError` naming the file and row, and
the good rows are returned beside them. Only a problem with the file as a whole (empty, not text,
a corrupt workbook, an unknown extension, no question/answer columns) raises `FaqFileError`.

Row numbers are what the user sees when opening the file: the line for JSONL, the item (from 1)
for a JSON list, and the spreadsheet row for CSV and XLSX, where the header is row 1.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal

import charset_normalizer
import openpyxl
from openpyxl.cell import WriteOnlyCell

FaqFormat = Literal["jsonl", "csv", "xlsx"]

# Limits keep one runaway cell (a pasted manual, a binary blob) out of the knowledge base and the
# search index. Answers stay below Excel's 32,767-character cell limit so every record exports.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ID_CHARS = 128
MAX_QUESTION_CHARS = 1_000
MAX_ANSWER_CHARS = 20_000
MAX_CATEGORY_CHARS = 100
MAX_TAG_CHARS = 50
MAX_SIMILAR_QUESTIONS = 100
MAX_TAGS = 20

COLUMNS: tuple[str, ...] = ("id", "question", "similar", "answer", "category", "tags")

# Header names accepted in CSV and XLSX, compared after normalising case and spaces.
HEADER_ALIASES: dict[str, str] = {
    "id": "id",
    "编号": "id",
    "question": "question",
    "问题": "question",
    "similar": "similar",
    "相似问题": "similar",
    "answer": "answer",
    "答案": "answer",
    "category": "category",
    "分类": "category",
    "tags": "tags",
    "标签": "tags",
}

_CSV_DELIMITERS = (",", "\t", ";")
_LINE_BREAK = re.compile(r"\r\n?")
_WHITESPACE_RUN = re.compile(r"\s+")
# Unicode category Cc except tab and line feed.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class FaqRecord:
    """One FAQ entry as it travels through files; `external_id` is the id in the source file."""

    question: str
    answer: str
    external_id: str | None = None
    similar: tuple[str, ...] = ()
    category: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowError:
    filename: str
    row: int
    message: str

    def __str__(self) -> str:
        return f"{self.filename}, row {self.row}: {self.message}"


@dataclass
class FaqFileResult:
    filename: str
    records: list[FaqRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class FaqFileError(ValueError):
    """The file as a whole cannot be read; the message names the file."""

    def __init__(self, filename: str, problem: str) -> None:
        super().__init__(f"{filename}: {problem}")
        self.filename = filename
        self.problem = problem


class _RowProblem(ValueError):
    """A single row is unusable; turned into a `RowError` by the reader."""


# ---------------------------------------------------------------------------------------------
# Reading


def read_faq_file(filename: str, data: bytes) -> FaqFileResult:
    """Parse an uploaded FAQ file; the format follows the file's extension."""
    if not data:
        raise FaqFileError(filename, "the file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise FaqFileError(filename, f"the file is larger than {MAX_FILE_BYTES // 2**20} MB")
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    builder = _RecordBuilder(filename)
    if suffix == "jsonl":
        _read_jsonl(builder, data)
    elif suffix == "json":
        _read_json_list(builder, data)
    elif suffix == "csv":
        _read_csv(builder, data)
    elif suffix == "xlsx":
        _read_xlsx(builder, data)
    elif suffix == "xls":
        raise FaqFileError(filename, "old .xls workbooks are not supported; save it as .xlsx")
    else:
        raise FaqFileError(filename, "unknown file type; use .jsonl, .json, .csv or .xlsx")
    return builder.result


class _RecordBuilder:
    """Validates raw rows into records, collecting row errors and checking ids are unique."""

    def __init__(self, filename: str) -> None:
        self.result = FaqFileResult(filename)
        # Only accepted records claim an id, so fixing a rejected row never creates a clash.
        self._row_of_id: dict[str, int] = {}

    def error(self, row: int, message: str) -> None:
        self.result.errors.append(RowError(self.result.filename, row, message))

    def add(self, row: int, fields: dict[str, Any]) -> None:
        try:
            record = _record_from_fields(fields)
        except _RowProblem as problem:
            self.error(row, str(problem))
            return
        if record.external_id is not None:
            first_row = self._row_of_id.get(record.external_id)
            if first_row is not None:
                self.error(
                    row, f"duplicate id {record.external_id!r}: row {first_row} already uses it"
                )
                return
            self._row_of_id[record.external_id] = row
        self.result.records.append(record)


def _record_from_fields(fields: dict[str, Any]) -> FaqRecord:
    question = _clean_line(_text_field(fields, "question"))
    answer = _clean_answer(_text_field(fields, "answer"))
    if not question:
        raise _RowProblem("the question is missing")
    if not answer:
        raise _RowProblem("the answer is missing")
    external_id = _clean_line(_text_field(fields, "id")) or None
    category = _clean_line(_text_field(fields, "category")) or None
    similar = _clean_list(_list_field(fields, "similar"))
    tags = _clean_list(_list_field(fields, "tags"))

    _check_length("id", external_id or "", MAX_ID_CHARS)
    _check_length("question", question, MAX_QUESTION_CHARS)
    _check_length("answer", answer, MAX_ANSWER_CHARS)
    _check_length("category", category or "", MAX_CATEGORY_CHARS)
    _check_count("similar questions", similar, MAX_SIMILAR_QUESTIONS)
    _check_count("tags", tags, MAX_TAGS)
    for item in similar:
        _check_length("similar question", item, MAX_QUESTION_CHARS)
    for tag in tags:
        _check_length("tag", tag, MAX_TAG_CHARS)
    return FaqRecord(
        question=question,
        answer=answer,
        external_id=external_id,
        similar=similar,
        category=category,
        tags=tags,
    )


def _text_field(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if isinstance(value, bool):
        raise _RowProblem(f"{name!r} must be text")
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise _RowProblem(f"{name!r} must be text")
    return value


def _list_field(fields: dict[str, Any], name: str) -> list[str]:
    value = fields.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        return _split_cell(value)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _RowProblem(f"{name!r} must be a list of strings")
    return value


def _check_length(name: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise _RowProblem(f"the {name} is {len(value)} characters long; the limit is {limit}")


def _check_count(name: str, values: Sequence[str], limit: int) -> None:
    if len(values) > limit:
        raise _RowProblem(f"{len(values)} {name}; the limit is {limit}")


def _drop_control_chars(text: str) -> str:
    # Control characters are invisible, break XLSX export and never belong in an FAQ.
    return _CONTROL_CHARS.sub("", text)


def _clean_line(text: str) -> str:
    """Questions, ids, categories and tags are single lines: collapse all white space."""
    return _drop_control_chars(_WHITESPACE_RUN.sub(" ", text)).strip()


def _clean_answer(text: str) -> str:
    """Answers keep their line breaks, written as a plain newline whatever the source used."""
    return _drop_control_chars(_LINE_BREAK.sub("\n", text)).strip()


def _clean_list(items: Iterable[str]) -> tuple[str, ...]:
    cleaned = (_clean_line(item) for item in items)
    return tuple(dict.fromkeys(item for item in cleaned if item))


def _split_cell(cell: str) -> list[str]:
    """Split a list cell: on line breaks when it has any (so "|" may appear inside an item),
    otherwise on "|"."""
    cell = _LINE_BREAK.sub("\n", cell)
    return cell.split("\n") if "\n" in cell else cell.split("|")


def _read_jsonl(builder: _RecordBuilder, data: bytes) -> None:
    text = _decode_utf8(builder.result.filename, data)
    # Split on "\n" only: str.splitlines would also cut at U+2028, which JSON allows in strings.
    for line_number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            builder.error(line_number, f"malformed JSON: {exc.msg} at column {exc.colno}")
            continue
        _add_json_item(builder, line_number, item)


def _read_json_list(builder: _RecordBuilder, data: bytes) -> None:
    filename = builder.result.filename
    try:
        items = json.loads(_decode_utf8(filename, data))
    except json.JSONDecodeError as exc:
        raise FaqFileError(
            filename, f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    if not isinstance(items, list):
        raise FaqFileError(filename, "a .json FAQ file must hold a list of entries")
    for number, item in enumerate(items, start=1):
        _add_json_item(builder, number, item)


def _add_json_item(builder: _RecordBuilder, row: int, item: object) -> None:
    if not isinstance(item, dict):
        builder.error(row, "each entry must be a JSON object")
        return
    builder.add(row, item)


def _decode_utf8(filename: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FaqFileError(filename, "JSON files must be UTF-8 text") from exc


def _read_csv(builder: _RecordBuilder, data: bytes) -> None:
    filename = builder.result.filename
    text = _decode_text(filename, data)
    delimiter = _guess_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = _csv_rows(reader)
    header_row = next(rows, None)
    if header_row is None or isinstance(header_row[1], csv.Error):
        raise FaqFileError(filename, "no readable header row")
    columns = _header_columns(filename, header_row[1])
    for row_number, cells in rows:
        if isinstance(cells, csv.Error):
            builder.error(row_number, f"not valid CSV ({cells}, near line {reader.line_num})")
            continue
        if not any(cell.strip() for cell in cells):
            continue
        extra = cells[len(columns) :]
        if len(cells) < len(columns) or any(cell.strip() for cell in extra):
            builder.error(
                row_number, f"the row has {len(cells)} columns; the header has {len(columns)}"
            )
            continue
        builder.add(row_number, _fields_by_column(columns, cells))


def _csv_rows(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str] | csv.Error]]:
    """Number CSV records from 1 like a spreadsheet, yielding a bad record's error in its place
    so that the rows after it are still read."""
    row_number = 0
    while True:
        row_number += 1
        try:
            yield row_number, next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield row_number, exc


def _decode_text(filename: str, data: bytes) -> str:
    """Decode CSV bytes: UTF-8 (with or without BOM) when valid, else charset detection, which
    recognises GB18030/GBK as written by Excel on Chinese Windows."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")  # Excel's "Unicode text" export
    if b"\x00" in data:
        raise FaqFileError(filename, "not a CSV file (it contains binary data)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise FaqFileError(filename, "not a CSV file (its text encoding cannot be recognised)")
    return str(best)


def _guess_delimiter(text: str) -> str:
    """The delimiter that splits the first line into the most known column names."""
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]

    def known_columns(delimiter: str) -> int:
        cells = first_line.split(delimiter)
        return sum(_header_key(cell.strip('"')) in HEADER_ALIASES for cell in cells)

    return max(_CSV_DELIMITERS, key=known_columns)


def _header_key(cell: object) -> str:
    return _WHITESPACE_RUN.sub(" ", str(cell or "")).strip().lower()


def _header_columns(filename: str, header: Sequence[object]) -> list[str | None]:
    """Map header cells to field names; unknown columns map to None and are ignored."""
    columns = [HEADER_ALIASES.get(_header_key(cell)) for cell in header]
    while columns and columns[-1] is None and not _header_key(header[len(columns) - 1]):
        columns.pop()  # trailing empty header cells, as spreadsheets often leave
    known = [column for column in columns if column is not None]
    for required in ("question", "answer"):
        if required not in known:
            found = ", ".join(repr(str(cell)) for cell in header if cell is not None) or "nothing"
            raise FaqFileError(
                filename, f"the header row has no {required!r} column (found {found})"
            )
    duplicated = sorted({column for column in known if known.count(column) > 1})
    if duplicated:
        raise FaqFileError(filename, f"the header row repeats the column(s) {duplicated}")
    return columns


def _fields_by_column(columns: Sequence[str | None], cells: Sequence[str]) -> dict[str, Any]:
    # Rows may be shorter (XLSX drops trailing empty cells) or longer (blank extras) than columns.
    pairs = zip(columns, cells, strict=False)
    return {column: cell for column, cell in pairs if column is not None}


def _read_xlsx(builder: _RecordBuilder, data: bytes) -> None:
    filename = builder.result.filename
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zip, XML, key and value errors alike
        raise FaqFileError(filename, "not a readable .xlsx workbook") from exc
    try:
        if not workbook.worksheets:
            raise FaqFileError(filename, "the workbook has no sheets")
        sheet = workbook.worksheets[0]
        # The stored dimensions are often wrong in files written by other tools: read everything.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(min_row=1, min_col=1, values_only=True)
        header = next(rows, None)
        if header is None or not any(cell is not None for cell in header):
            raise FaqFileError(filename, "the first sheet has no header row")
        columns = _header_columns(filename, header)
        for row_number, values in enumerate(rows, start=2):
            cells = [_cell_text(value) for value in values]
            if not any(cell.strip() for cell in cells):
                continue
            if any(cell.strip() for cell in cells[len(columns) :]):
                builder.error(row_number, f"the row has values beyond the {len(columns)} columns")
                continue
            builder.add(row_number, _fields_by_column(columns, cells))
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    """Spreadsheet cells as text; whole numbers without a trailing '.0' (ids are often numbers)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


# ---------------------------------------------------------------------------------------------
# Writing


def write_faq_file(records: Iterable[FaqRecord], fmt: FaqFormat) -> bytes:
    """Serialise records so that `read_faq_file` gives back exactly the same records."""
    if fmt == "jsonl":
        return _write_jsonl(records)
    if fmt == "csv":
        return _write_csv(records)
    if fmt == "xlsx":
        return _write_xlsx(records)
    raise ValueError(f"unknown FAQ file format {fmt!r}")


def _write_jsonl(records: Iterable[FaqRecord]) -> bytes:
    lines = [json.dumps(_json_object(record), ensure_ascii=False) + "\n" for record in records]
    return "".join(lines).encode("utf-8")


def _json_object(record: FaqRecord) -> dict[str, Any]:
    return {
        "id": record.external_id,
        "question": record.question,
        "similar": list(record.similar),
        "answer": record.answer,
        "category": record.category,
        "tags": list(record.tags),
    }


def _table_row(record: FaqRecord) -> list[str]:
    return [
        record.external_id or "",
        record.question,
        _join_cell(record.similar),
        record.answer,
        record.category or "",
        _join_cell(record.tags),
    ]


def _join_cell(items: Sequence[str]) -> str:
    """Join a list cell with line breaks, the separator that survives a "|" inside an item; a
    lone item holding "|" gets a trailing line break so it is not split on the way back."""
    joined = "\n".join(items)
    if len(items) == 1 and "|" in joined:
        return joined + "\n"
    return joined


def _write_csv(records: Iterable[FaqRecord]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(_table_row(record) for record in records)
    # The BOM makes Excel open the UTF-8 file with the right encoding.
    return buffer.getvalue().encode("utf-8-sig")


def _write_xlsx(records: Iterable[FaqRecord]) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("FAQ")
    sheet.append(list(COLUMNS))
    for record in records:
        sheet.append([_xlsx_text_cell(sheet, value) for value in _table_row(record)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_text_cell(sheet: Any, value: str) -> Any:
    """A cell always stored as text, so an answer starting with "=" is not taken for a formula."""
    cell = WriteOnlyCell(sheet, value=value or None)
    if value:
        cell.data_type = "s"
    return cell
