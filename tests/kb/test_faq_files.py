"""FAQ file import/export: every format round-trips, and every bad input is reported by name."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import openpyxl
import pytest

from knowdesk.kb.faq_files import (
    MAX_ANSWER_CHARS,
    MAX_FILE_BYTES,
    MAX_ID_CHARS,
    MAX_QUESTION_CHARS,
    MAX_SIMILAR_QUESTIONS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    FaqFileError,
    FaqFileResult,
    FaqFormat,
    FaqRecord,
    RowError,
    read_faq_file,
    write_faq_file,
)

TRICKY_RECORDS = [
    FaqRecord(
        question="信用卡年费怎么收取？",
        answer="首年免年费。\n刷卡满 6 次免次年年费。",
        external_id="faq-1",
        similar=("年费多少", "年费标准|规则", "年费可以减免吗"),
        category="信用卡",
        tags=("年费", "收费"),
    ),
    # "=" would make a spreadsheet cell a formula; "|" and U+2028 must not split anything.
    FaqRecord(question="=1+1", answer="line\u2028separator, tab\tkept", tags=("a|b",)),
    FaqRecord(question="How do I reset my password?", answer="Use the link.", similar=("x|y",)),
    FaqRecord(question="q", answer="a", external_id="7", category="Billing & Payments"),
]


def jsonl(*items: Any) -> bytes:
    """One line per item: dicts as JSON, strings as written (for malformed lines)."""
    lines = [
        item if isinstance(item, str) else json.dumps(item, ensure_ascii=False) for item in items
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def xlsx(rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def error_rows(result: FaqFileResult) -> dict[int, str]:
    assert all(error.filename == result.filename for error in result.errors)
    return {error.row: error.message for error in result.errors}


# ---------------------------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx"])
def test_every_format_round_trips_losslessly(fmt: FaqFormat) -> None:
    data = write_faq_file(TRICKY_RECORDS, fmt)

    result = read_faq_file(f"export.{fmt}", data)

    assert result.errors == []
    assert result.records == TRICKY_RECORDS


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx"])
def test_round_trip_across_formats(fmt: FaqFormat) -> None:
    via_csv = read_faq_file("a.csv", write_faq_file(TRICKY_RECORDS, "csv")).records
    again = read_faq_file(f"b.{fmt}", write_faq_file(via_csv, fmt)).records
    assert again == TRICKY_RECORDS


def test_exported_xlsx_keeps_formula_like_text_as_text() -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(write_faq_file(TRICKY_RECORDS, "xlsx")))
    sheet = workbook.worksheets[0]
    assert [cell.value for cell in sheet[1]] == [
        "id",
        "question",
        "similar",
        "answer",
        "category",
        "tags",
    ]
    assert sheet["B3"].value == "=1+1"
    assert sheet["B3"].data_type == "s"


def test_exported_csv_has_a_bom_for_excel() -> None:
    assert write_faq_file(TRICKY_RECORDS, "csv").startswith(b"\xef\xbb\xbfid,question,")


def test_unknown_export_format_is_refused() -> None:
    with pytest.raises(ValueError, match="pdf"):
        write_faq_file(TRICKY_RECORDS, "pdf")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# JSONL and JSON


def test_jsonl_in_the_shared_data_format() -> None:
    data = jsonl(
        {
            "id": "q1",
            "question": "怎么开通手机银行",
            "similar": ["手机银行开通"],
            "answer": "下载 App",
        },
        {
            "id": 2,
            "question": " How  do I\npay? ",
            "similar": [],
            "answer": " Online.\r\nOr by card.\rOr in cash. ",
        },
    )

    result = read_faq_file("kb.jsonl", data)

    assert result.errors == []
    assert result.records == [
        FaqRecord("怎么开通手机银行", "下载 App", external_id="q1", similar=("手机银行开通",)),
        FaqRecord("How do I pay?", "Online.\nOr by card.\nOr in cash.", external_id="2"),
    ]


def test_jsonl_optional_fields_and_cleanup() -> None:
    data = jsonl(
        {
            "question": "Q",
            "answer": "A",
            "id": None,
            "category": "  Cards ",
            "tags": ["x", " ", "x", "y"],
            "similar": ["s", "s", "", "t"],
            "unknown": "ignored",
        }
    )

    [record] = read_faq_file("kb.jsonl", data).records

    assert record == FaqRecord("Q", "A", category="Cards", tags=("x", "y"), similar=("s", "t"))


def test_control_characters_are_dropped_so_every_record_exports() -> None:
    [record] = read_faq_file(
        "ctl.jsonl", jsonl({"question": "Q\x07", "answer": "A\x00B\x1b"})
    ).records

    assert record == FaqRecord("Q", "AB")
    assert read_faq_file("ctl.xlsx", write_faq_file([record], "xlsx")).records == [record]


def test_jsonl_bad_lines_are_reported_and_good_lines_kept() -> None:
    data = jsonl(
        {"id": "a", "question": "Q1", "answer": "A1"},
        '{"id": "b", "question": "Q2", "answer": ',
        "",
        {"id": "c", "answer": "A4"},
        {"id": "d", "question": "Q5", "answer": "   "},
        {"id": "a", "question": "Q6", "answer": "A6"},
        '["not", "an", "object"]',
        {"id": "e", "question": "Q8", "answer": "A8", "similar": "one|two"},
        {"id": "f", "question": "Q9", "answer": "A9", "tags": [1, 2]},
        {"id": "g", "question": ["Q10"], "answer": "A10"},
        {"id": "h", "question": "Q11", "answer": "A11"},
    )

    result = read_faq_file("upload.jsonl", data)

    assert [record.external_id for record in result.records] == ["a", "e", "h"]
    assert result.records[1].similar == ("one", "two")
    errors = error_rows(result)
    assert sorted(errors) == [2, 4, 5, 6, 7, 9, 10]
    assert "malformed JSON" in errors[2]
    assert "question is missing" in errors[4]
    assert "answer is missing" in errors[5]
    assert "duplicate id 'a'" in errors[6] and "row 1" in errors[6]
    assert "JSON object" in errors[7]
    assert "'tags' must be a list of strings" in errors[9]
    assert "'question' must be text" in errors[10]


def test_row_error_names_file_and_row() -> None:
    result = read_faq_file("upload.jsonl", jsonl({"question": "Q"}))
    assert result.errors == [RowError("upload.jsonl", 1, "the answer is missing")]
    assert str(result.errors[0]) == "upload.jsonl, row 1: the answer is missing"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"id": "x" * (MAX_ID_CHARS + 1)}, f"the id is {MAX_ID_CHARS + 1} characters long"),
        ({"question": "问" * (MAX_QUESTION_CHARS + 1)}, "the question is"),
        ({"answer": "a" * (MAX_ANSWER_CHARS + 1)}, f"limit is {MAX_ANSWER_CHARS}"),
        ({"category": "c" * 101}, "the category is 101 characters long"),
        ({"similar": ["s" * (MAX_QUESTION_CHARS + 1)]}, "the similar question is"),
        ({"similar": [f"s{i}" for i in range(MAX_SIMILAR_QUESTIONS + 1)]}, "similar questions;"),
        ({"tags": ["t" * (MAX_TAG_CHARS + 1)]}, "the tag is"),
        ({"tags": [f"t{i}" for i in range(MAX_TAGS + 1)]}, f"{MAX_TAGS + 1} tags;"),
    ],
)
def test_over_long_fields_are_row_errors(fields: dict[str, Any], expected: str) -> None:
    data = jsonl({"question": "ok", "answer": "ok"}, {"question": "Q", "answer": "A", **fields})

    result = read_faq_file("long.jsonl", data)

    assert len(result.records) == 1
    [error] = result.errors
    assert (error.filename, error.row) == ("long.jsonl", 2)
    assert expected in error.message


def test_limits_are_inclusive() -> None:
    data = jsonl({"question": "q" * MAX_QUESTION_CHARS, "answer": "a" * MAX_ANSWER_CHARS})
    result = read_faq_file("edge.jsonl", data)
    assert result.errors == [] and len(result.records) == 1


def test_json_list_file() -> None:
    data = json.dumps(
        [{"id": "1", "question": "Q", "answer": "A"}, {"id": "2", "question": "Q2"}, 5]
    ).encode()

    result = read_faq_file("faq.JSON", data)

    assert result.records == [FaqRecord("Q", "A", external_id="1")]
    assert error_rows(result) == {2: "the answer is missing", 3: "each entry must be a JSON object"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"question": "Q", "answer": "A"}', "must hold a list"),
        (b'[{"question": "Q", "answer": "A"}', "malformed JSON"),
    ],
)
def test_unusable_json_file_raises(data: bytes, expected: str) -> None:
    with pytest.raises(FaqFileError, match=expected) as raised:
        read_faq_file("faq.json", data)
    assert raised.value.filename == "faq.json"
    assert str(raised.value).startswith("faq.json: ")


def test_jsonl_that_is_not_utf8_raises() -> None:
    data = '{"question": "问题", "answer": "答案"}\n'.encode("gb18030")
    with pytest.raises(FaqFileError, match="kb.jsonl: .*UTF-8"):
        read_faq_file("kb.jsonl", data)


# ---------------------------------------------------------------------------------------------
# CSV


CHINESE_CSV = (
    "编号,问题,相似问题,答案,分类,标签\n"
    "1,信用卡年费怎么收取,年费多少|年费标准,首年免年费,信用卡,年费|收费\n"
    '2,如何挂失,"挂失流程\n卡丢了怎么办",拨打客服电话,,\n'
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_csv_with_chinese_headers_in_excel_encodings(encoding: str) -> None:
    result = read_faq_file("导出.csv", CHINESE_CSV.encode(encoding))

    assert result.errors == []
    assert result.records == [
        FaqRecord(
            "信用卡年费怎么收取",
            "首年免年费",
            external_id="1",
            similar=("年费多少", "年费标准"),
            category="信用卡",
            tags=("年费", "收费"),
        ),
        FaqRecord(
            "如何挂失", "拨打客服电话", external_id="2", similar=("挂失流程", "卡丢了怎么办")
        ),
    ]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiter_follows_the_header(delimiter: str) -> None:
    text = delimiter.join(["Question", "ANSWER", "notes"]) + "\n"
    text += delimiter.join(["Q, with comma; and semicolon", "A", "ignored"]) + "\n"
    text = text.replace("Q, with comma; and semicolon", '"Q, with comma; and semicolon"')

    result = read_faq_file("faq.csv", text.encode())

    assert result.records == [FaqRecord("Q, with comma; and semicolon", "A")]


def test_csv_bad_rows_are_reported_and_good_rows_kept() -> None:
    text = (
        "id,question,answer,,\n"  # trailing empty header cells, as Excel leaves them
        "a,Q2,A2,,\n"
        "b,Q3\n"
        "c,Q4,A4,,surplus\n"
        ",,,,\n"
        "d,,A6\n"
        "e,Q7,\n"
        "a,Q8,A8\n"
        'f,"Q9"x,A9\n'
        "g,Q10,A10\n"
    )

    result = read_faq_file("upload.csv", text.encode())

    assert [record.external_id for record in result.records] == ["a", "g"]
    errors = error_rows(result)
    assert sorted(errors) == [3, 4, 6, 7, 8, 9]
    assert errors[3] == "the row has 2 columns; the header has 3"
    assert errors[4] == "the row has 5 columns; the header has 3"
    assert "question is missing" in errors[6]
    assert "answer is missing" in errors[7]
    assert "duplicate id 'a'" in errors[8] and "row 2" in errors[8]
    assert "not valid CSV" in errors[9]


def test_csv_over_long_field_is_a_row_error() -> None:
    text = f"question,answer\nQ1,{'a' * (MAX_ANSWER_CHARS + 1)}\nQ2,A2\n"
    result = read_faq_file("long.csv", text.encode())
    assert result.records == [FaqRecord("Q2", "A2")]
    assert result.errors[0].row == 2 and "the answer is" in result.errors[0].message


def test_csv_field_beyond_the_csv_module_limit_is_a_row_error() -> None:
    text = f"question,answer\nQ1,{'a' * 200_000}\nQ2,A2\n"
    result = read_faq_file("huge-cell.csv", text.encode())
    assert result.records == [FaqRecord("Q2", "A2")]
    assert error_rows(result).keys() == {2}


def test_csv_unterminated_quote_is_reported() -> None:
    result = read_faq_file("open.csv", b'question,answer\nQ1,A1\nQ2,"A2\n')
    assert result.records == [FaqRecord("Q1", "A1")]
    assert list(error_rows(result)) == [3]


def test_csv_header_only_gives_no_records() -> None:
    result = read_faq_file("empty.csv", b"question,answer\r\n")
    assert result.records == [] and result.errors == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.4\n\x00\x01\x02binary", "not a CSV file"),
        (bytes(range(128, 256)) * 20, "not a CSV file \\(its text encoding cannot be recognised"),
        (b"name,email\nAnn,ann@example.com\n", "no 'question' column .*'name', 'email'"),
        (b"question,text\nQ,A\n", "no 'answer' column"),
        (b"question,answer,\xe7\xad\x94\xe6\xa1\x88\nQ,A,B\n", "repeats the column"),
        (b'"question,answer\n', "no readable header row"),
    ],
)
def test_unusable_csv_file_raises(data: bytes, expected: str) -> None:
    with pytest.raises(FaqFileError, match=expected) as raised:
        read_faq_file("data.csv", data)
    assert raised.value.filename == "data.csv"


# ---------------------------------------------------------------------------------------------
# XLSX


def test_xlsx_with_chinese_headers_numbers_and_blank_rows() -> None:
    data = xlsx(
        [
            ["编号", "问题", "相似问题", "答案", "分类", "标签", "备注"],
            [1, "如何挂失", "挂失流程\n卡丢了怎么办", "拨打客服电话", "信用卡", "挂失", "ignored"],
            [],
            [2.0, "年费多少", None, "首年免年费", None, "年费|收费"],
        ]
    )

    result = read_faq_file("faq.xlsx", data)

    assert result.errors == []
    assert result.records == [
        FaqRecord(
            "如何挂失",
            "拨打客服电话",
            external_id="1",
            similar=("挂失流程", "卡丢了怎么办"),
            category="信用卡",
            tags=("挂失",),
        ),
        FaqRecord("年费多少", "首年免年费", external_id="2", tags=("年费", "收费")),
    ]


def test_xlsx_with_wrong_stored_dimensions_is_read_in_full() -> None:
    # Some writers store a too-small <dimension>; trusting it would silently drop rows.
    original = xlsx([["question", "answer"], ["Q1", "A1"], ["Q2", "A2"]])
    sheet_path = "xl/worksheets/sheet1.xml"
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == sheet_path:
                assert b'<dimension ref="A1:B3"/>' in content
                content = content.replace(b'ref="A1:B3"', b'ref="A1:A1"')
            target.writestr(item, content)

    result = read_faq_file("narrow.xlsx", buffer.getvalue())

    assert result.records == [FaqRecord("Q1", "A1"), FaqRecord("Q2", "A2")]


def test_xlsx_bad_rows_are_reported_and_good_rows_kept() -> None:
    data = xlsx(
        [
            ["id", "question", "answer"],
            ["a", "Q2", "A2"],
            ["b", None, "A3"],
            ["c", "Q4", None],
            ["a", "Q5", "A5"],
            ["d", "Q6", "A6", "beyond the header"],
            ["e", "Q7", "a" * (MAX_ANSWER_CHARS + 1)],
            ["f", "Q8", "A8"],
        ]
    )

    result = read_faq_file("upload.xlsx", data)

    assert [record.external_id for record in result.records] == ["a", "f"]
    errors = error_rows(result)
    assert sorted(errors) == [3, 4, 5, 6, 7]
    assert "question is missing" in errors[3]
    assert "answer is missing" in errors[4]
    assert "duplicate id 'a'" in errors[5] and "row 2" in errors[5]
    assert "beyond the 3 columns" in errors[6]
    assert "the answer is" in errors[7]


def zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"PK\x03\x04 truncated zip", "not a readable .xlsx workbook"),
        (b"question,answer\nQ,A\n", "not a readable .xlsx workbook"),
        (zip_without_workbook(), "not a readable .xlsx workbook"),
        (xlsx([]), "no header row"),
        (xlsx([["问题", "说明"], ["Q", "A"]]), "no 'answer' column"),
    ],
)
def test_unusable_xlsx_file_raises(data: bytes, expected: str) -> None:
    with pytest.raises(FaqFileError, match=expected) as raised:
        read_faq_file("book.xlsx", data)
    assert raised.value.filename == "book.xlsx"


# ---------------------------------------------------------------------------------------------
# File-level problems


@pytest.mark.parametrize(
    ("filename", "data", "expected"),
    [
        ("empty.csv", b"", "empty.csv: the file is empty"),
        ("faq.pdf", b"%PDF", "faq.pdf: unknown file type"),
        ("faq", b"question,answer", "faq: unknown file type"),
        ("old.xls", b"\xd0\xcf\x11\xe0", "old.xls: old .xls workbooks are not supported"),
        ("huge.jsonl", b" " * (MAX_FILE_BYTES + 1), "huge.jsonl: the file is larger than 50 MB"),
    ],
)
def test_file_level_problems_raise_naming_the_file(
    filename: str, data: bytes, expected: str
) -> None:
    with pytest.raises(FaqFileError) as raised:
        read_faq_file(filename, data)
    assert str(raised.value).startswith(expected)
    assert raised.value.filename == filename
