from __future__ import annotations

import random

import pytest

from knowdesk.kb.parsing import (
    DEFAULT_MAX_BYTES,
    SUPPORTED_EXTENSIONS,
    Block,
    BlockKind,
    IngestError,
    ParsedDocument,
    parse_document,
)

from .fixtures_docs import (
    GUIDE_MARKDOWN,
    HELP_PAGE_HTML,
    build_docx,
    build_pdf,
    build_zip,
    encrypt_pdf,
)

TWO_PAGE_PDF = build_pdf(
    [
        ["Getting started", "Plug in the router. Wait for the green light."],
        ["Troubleshooting (advanced)", "Hold reset for ten seconds."],
    ]
)


def _texts(doc: ParsedDocument, kind: BlockKind) -> list[str]:
    return [block.text for block in doc.blocks if block.kind is kind]


def _block_containing(doc: ParsedDocument, fragment: str) -> Block:
    return next(block for block in doc.blocks if fragment in block.text)


def test_supported_extensions() -> None:
    assert {".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".txt"} == SUPPORTED_EXTENSIONS


class TestMarkdown:
    doc = parse_document("docs/guide.md", GUIDE_MARKDOWN.encode())

    def test_title_is_first_h1(self) -> None:
        assert self.doc.title == "安装指南"
        assert self.doc.filename == "docs/guide.md"

    def test_heading_paths_nest_chinese_and_english_headings(self) -> None:
        headings = [
            (b.text, b.heading_path) for b in self.doc.blocks if b.kind is BlockKind.HEADING
        ]
        assert headings == [
            ("安装指南", ("安装指南",)),
            ("连接 Wi-Fi", ("安装指南", "连接 Wi-Fi")),
            ("Troubleshooting", ("安装指南", "连接 Wi-Fi", "Troubleshooting")),
            ("Factory reset", ("安装指南", "Factory reset")),
        ]
        restart = _block_containing(self.doc, "restart the router")
        assert restart.heading_path == ("安装指南", "连接 Wi-Fi", "Troubleshooting")
        assert _block_containing(self.doc, "ten seconds").heading_path == (
            "安装指南",
            "Factory reset",
        )

    def test_inline_markup_dropped_and_soft_breaks_joined_by_script(self) -> None:
        paragraphs = _texts(self.doc, BlockKind.PARAGRAPH)
        assert (
            "欢迎使用 KnowDesk 路由器。本指南介绍安装步骤，以及常见问题的处理方法。" in paragraphs
        )
        assert "打开手机的设置，选择 KnowDesk-5G 网络，然后输入密码。" in paragraphs
        assert (
            "If the light stays red, restart the router. Wait two minutes before trying again."
            in (paragraphs)
        )

    def test_lists_tables_and_code_keep_their_kind(self) -> None:
        assert _texts(self.doc, BlockKind.LIST) == [
            "1. 打开设置\n2. 选择网络\n  - 5G 信号更快\n  - 2.4G 覆盖更广"
        ]
        assert _texts(self.doc, BlockKind.TABLE) == ["频段 | 速度\n5G | 快\n2.4G | 慢"]
        assert _texts(self.doc, BlockKind.CODE) == ["reset --factory"]

    def test_pages_are_none_outside_pdf(self) -> None:
        assert all(block.page is None for block in self.doc.blocks)


def test_markdown_without_h1_is_titled_by_file_stem() -> None:
    doc = parse_document("faq.markdown", "## 问题\n\n回答。\n".encode())
    assert doc.title == "faq"


def test_markdown_front_matter_and_embedded_html_table() -> None:
    source = "---\nlayout: page\n---\n# Plans\n\n<table><tr><td>Pro</td><td>$9</td></tr></table>\n"
    doc = parse_document("plans.md", source.encode())
    assert doc.title == "Plans"
    assert "layout" not in " ".join(block.text for block in doc.blocks)
    assert _texts(doc, BlockKind.TABLE) == ["Pro | $9"]


class TestHtml:
    doc = parse_document("help.html", HELP_PAGE_HTML.encode())

    def test_title_from_title_element(self) -> None:
        assert self.doc.title == "帮助中心"

    def test_script_style_and_nav_are_dropped(self) -> None:
        everything = "\n".join(block.text for block in self.doc.blocks)
        for absent in ("tracking-code", "injected", "color: red", "首页"):
            assert absent not in everything

    def test_headings_paragraphs_lists_tables(self) -> None:
        assert _block_containing(self.doc, "Forgot password").heading_path == (
            "账户问题",
            "Reset your password",
        )
        assert "如果您忘记了密码，可以通过手机号重置。" in _texts(self.doc, BlockKind.PARAGRAPH)
        assert "Click Forgot password on the sign-in page.\nWe send a code by SMS." in _texts(
            self.doc, BlockKind.PARAGRAPH
        )
        assert _texts(self.doc, BlockKind.LIST) == [
            "- Open the app\n  - Tap Settings\n- Choose Security"
        ]
        assert _texts(self.doc, BlockKind.TABLE) == ["Plan | Price\nBasic | ¥10"]
        assert "Loose text in a div." in _texts(self.doc, BlockKind.PARAGRAPH)


def test_html_without_title_uses_first_h1_and_accepts_xml_declaration() -> None:
    page = '<?xml version="1.0" encoding="utf-8"?>\n<html><body><h1>Über uns</h1><p>Hallo.</p>'
    doc = parse_document("about.htm", page.encode())
    assert doc.title == "Über uns"
    assert _texts(doc, BlockKind.PARAGRAPH) == ["Hallo."]


class TestDocx:
    doc = parse_document("manual.docx", build_docx())

    def test_title_from_core_properties(self) -> None:
        assert self.doc.title == "售后服务手册"

    def test_heading_styles_become_heading_paths(self) -> None:
        refunds = _block_containing(self.doc, "5 business days")
        assert refunds.kind is BlockKind.PARAGRAPH
        assert refunds.heading_path == ("退货政策", "Refund timing")
        assert _block_containing(self.doc, "十五天").heading_path == ("换货",)

    def test_list_paragraphs_and_tables(self) -> None:
        assert _texts(self.doc, BlockKind.LIST) == ["- Keep the receipt\n- Keep the box"]
        table = _block_containing(self.doc, "手机")
        assert table.kind is BlockKind.TABLE
        assert table.text == "商品 | 期限\n手机 | 7 天"
        assert table.heading_path == ("退货政策", "Refund timing")


class TestPdf:
    doc = parse_document("router.pdf", TWO_PAGE_PDF)

    def test_text_is_extracted_per_page(self) -> None:
        assert [(block.page, block.text) for block in self.doc.blocks] == [
            (1, "Getting started Plug in the router. Wait for the green light."),
            (2, "Troubleshooting (advanced) Hold reset for ten seconds."),
        ]

    def test_all_blocks_are_paragraphs_and_title_is_stem(self) -> None:
        assert {block.kind for block in self.doc.blocks} == {BlockKind.PARAGRAPH}
        assert all(block.heading_path == () for block in self.doc.blocks)
        assert self.doc.title == "router"


def test_pdf_with_only_an_owner_password_is_read() -> None:
    doc = parse_document("restricted.pdf", encrypt_pdf(TWO_PAGE_PDF, user_password=""))
    assert [block.page for block in doc.blocks] == [1, 2]
    assert "green light" in doc.blocks[0].text


CHINESE_TEXT = "退货须知\n\n收到商品七天内可以无理由退货。\n请保留好发票和包装盒。"


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16-le", b"\xff\xfe"),
        ("gb18030", b""),
        ("gbk", b""),
    ],
)
def test_text_encodings_are_detected(encoding: str, prefix: bytes) -> None:
    doc = parse_document("returns.txt", prefix + CHINESE_TEXT.encode(encoding))
    assert [block.text for block in doc.blocks] == [
        "退货须知",
        "收到商品七天内可以无理由退货。\n请保留好发票和包装盒。",
    ]


def test_big5_traditional_chinese_is_detected() -> None:
    text = "歡迎使用知識庫客服系統。如果您在連接無線網路時遇到問題，請先重新啟動路由器。"
    doc = parse_document("faq.txt", text.encode("big5"))
    assert doc.blocks[0].text == text


def test_gbk_markdown_and_windows_line_endings() -> None:
    doc = parse_document("说明.md", "# 说明\r\n\r\n第一段。\r\n".encode("gbk"))
    assert doc.title == "说明"
    assert _texts(doc, BlockKind.PARAGRAPH) == ["第一段。"]


def test_txt_is_titled_by_file_stem() -> None:
    assert parse_document("uploads/保修条款.txt", "内容。".encode()).title == "保修条款"


BAD_UPLOADS = [
    pytest.param("empty.pdf", b"", "empty", id="zero-bytes"),
    pytest.param("tool.exe", b"MZ\x90\x00\x03", "unsupported file type '.exe'", id="exe"),
    pytest.param("README", b"hello", "without an extension", id="no-extension"),
    pytest.param("fake.pdf", random.Random(7).randbytes(2048), "not a PDF", id="garbage-pdf"),
    pytest.param("photo.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG", id="png-named-pdf"),
    pytest.param("broken.pdf", TWO_PAGE_PDF[: len(TWO_PAGE_PDF) // 2], "damaged", id="corrupt-pdf"),
    pytest.param(
        "secret.pdf",
        encrypt_pdf(TWO_PAGE_PDF, user_password="hunter2"),
        "password-protected",
        id="encrypted-pdf",
    ),
    pytest.param("notes.docx", b"plain text, not a zip", "not a DOCX", id="text-named-docx"),
    pytest.param(
        "old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, ".doc", id="legacy-doc"
    ),
    pytest.param("fake.docx", build_zip({"a.txt": b"hi"}), "damaged", id="zip-not-docx"),
    pytest.param("scan.md", TWO_PAGE_PDF, "PDF document", id="pdf-named-md"),
    pytest.param("data.txt", b"abc\x00\x01\x02def", "binary", id="binary-txt"),
    pytest.param(
        "japanese.txt",
        "日本語のテキストです。ファイルを確認してください。".encode("shift_jis"),
        "cannot decode",
        id="shift-jis-text",
    ),
    pytest.param("blank.md", b"  \n\n\t\n", "no readable text", id="whitespace-only"),
    pytest.param(
        "scripts.html", b"<html><script>alert(1)</script></html>", "no readable text", id="no-text"
    ),
    pytest.param("headings.md", b"# Only\n\n## Headings\n", "no readable text", id="headings-only"),
]


@pytest.mark.parametrize(("filename", "data", "reason"), BAD_UPLOADS)
def test_bad_uploads_raise_ingest_error_naming_the_file(
    filename: str, data: bytes, reason: str
) -> None:
    with pytest.raises(IngestError) as caught:
        parse_document(filename, data)
    assert caught.value.filename == filename
    assert str(caught.value).startswith(f"{filename}: ")
    assert reason in caught.value.message


def test_size_limit_is_a_parameter() -> None:
    data = b"a" * 101
    assert parse_document("ok.txt", data, max_bytes=101).blocks[0].text == "a" * 101
    with pytest.raises(IngestError, match=r"^big\.txt: file is 101 bytes, over the limit of 100"):
        parse_document("big.txt", data, max_bytes=100)


def test_default_size_limit_is_50_megabytes() -> None:
    assert DEFAULT_MAX_BYTES == 50 * 1024 * 1024
    with pytest.raises(IngestError, match=r"^huge\.txt: file is 50\.0 MB, over the limit"):
        parse_document("huge.txt", b"a" * (DEFAULT_MAX_BYTES + 1))


@pytest.mark.parametrize(
    ("filename", "original"),
    [
        ("fuzz.pdf", TWO_PAGE_PDF),
        ("fuzz.docx", build_docx()),
        ("fuzz.html", HELP_PAGE_HTML.encode()),
    ],
)
def test_damaged_files_never_raise_anything_but_ingest_error(
    filename: str, original: bytes
) -> None:
    # Seeded: these mutations make pypdf, zipfile, zlib and python-docx fail in a dozen
    # different ways (KeyError, NotImplementedError, zlib.error, ...), and some still parse.
    rng = random.Random(filename)
    for attempt in range(60):
        data = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if attempt % 3 == 0:
            data = data[: rng.randrange(len(data) // 2, len(data))]
        try:
            parse_document(filename, bytes(data))
        except IngestError as error:
            assert error.filename == filename
