from __future__ import annotations

import re

import pytest

from knowdesk.kb.parsing import (
    DEFAULT_TARGET_CHARS,
    Block,
    BlockKind,
    Chunk,
    ParsedDocument,
    chunk_document,
    parse_document,
)

from .fixtures_docs import GUIDE_MARKDOWN, HELP_PAGE_HTML, build_docx, build_pdf

CHINESE_ENDS = "。！？；…"
# 30 Chinese sentences of 31-32 characters, each ending in one of the sentence-end marks.
CHINESE_PARAGRAPH = "".join(
    f"第{number}条：请在设置页面中找到网络选项，然后点击连接按钮完成配置{CHINESE_ENDS[number % 4]}"
    for number in range(30)
)
ENGLISH_PARAGRAPH = " ".join(
    f"Step {number} explains how to configure the router safely." for number in range(40)
)


def _doc(*blocks: Block) -> ParsedDocument:
    return ParsedDocument(filename="doc.txt", title="doc", blocks=blocks)


def _paragraph(text: str, *path: str, page: int | None = None) -> Block:
    return Block(BlockKind.PARAGRAPH, text, path, page)


def _heading(*path: str) -> Block:
    return Block(BlockKind.HEADING, path[-1], path)


def test_default_target_is_500_characters() -> None:
    assert DEFAULT_TARGET_CHARS == 500
    chunks = chunk_document(_doc(_paragraph(CHINESE_PARAGRAPH * 3)))
    assert max(chunk.char_count for chunk in chunks) <= 500
    assert min(chunk.char_count for chunk in chunks) > 250


def test_chunks_carry_heading_paths_and_never_cross_a_heading() -> None:
    doc = parse_document("guide.md", GUIDE_MARKDOWN.encode())
    chunks = chunk_document(doc, target_chars=500)
    # Every section would fit into one 500-character chunk; headings still separate them.
    assert [chunk.heading_path for chunk in chunks] == [
        ("安装指南",),
        ("安装指南", "连接 Wi-Fi"),
        ("安装指南", "连接 Wi-Fi", "Troubleshooting"),
        ("安装指南", "Factory reset"),
    ]
    assert chunks[1].text.startswith("打开手机的设置")
    assert "5G | 快" in chunks[1].text
    assert "restart the router" in chunks[2].text
    assert "reset --factory" in chunks[2].text
    assert chunks[3].text == "Hold the reset button for ten seconds."


def test_heading_text_lives_in_the_path_not_the_chunk_text() -> None:
    chunks = chunk_document(parse_document("guide.md", GUIDE_MARKDOWN.encode()))
    assert not any(chunk.text.startswith(chunk.heading_path[-1]) for chunk in chunks)


def test_same_path_sections_split_by_a_heading_stay_apart() -> None:
    doc = _doc(
        _heading("FAQ"),
        _paragraph("问题一的回答。", "FAQ"),
        _heading("FAQ"),
        _paragraph("问题二的回答。", "FAQ"),
    )
    assert [chunk.text for chunk in chunk_document(doc)] == ["问题一的回答。", "问题二的回答。"]


def test_small_blocks_are_packed_together_with_blank_lines() -> None:
    doc = _doc(*(_paragraph(f"第{number}段。", "A") for number in range(3)))
    assert [chunk.text for chunk in chunk_document(doc)] == ["第0段。\n\n第1段。\n\n第2段。"]


def test_blocks_that_fit_a_chunk_are_not_cut() -> None:
    first, second = "甲" * 150 + "。", "乙" * 150 + "。"
    chunks = chunk_document(_doc(_paragraph(first, "A"), _paragraph(second, "A")), target_chars=200)
    assert [chunk.text for chunk in chunks] == [first, second]


def test_chinese_paragraph_is_cut_at_sentence_ends() -> None:
    chunks = chunk_document(_doc(_paragraph(CHINESE_PARAGRAPH, "A")), target_chars=200)
    assert len(chunks) == 5
    assert all(150 <= chunk.char_count <= 200 for chunk in chunks)
    assert all(chunk.text[-1] in CHINESE_ENDS for chunk in chunks)
    assert "".join(chunk.text for chunk in chunks) == CHINESE_PARAGRAPH


def test_chinese_sentence_end_inside_closing_quote_stays_with_its_quote() -> None:
    sentence = "客服说：“请先重启路由器。”"
    text = sentence * 12
    chunks = chunk_document(_doc(_paragraph(text, "A")), target_chars=60)
    assert all(chunk.text.endswith("。”") for chunk in chunks)
    assert "".join(chunk.text for chunk in chunks) == text


def test_sentence_without_full_stops_is_cut_at_commas_then_words() -> None:
    clause = "打开设置页面后找到网络选项，"
    long_sentence = clause * 20 + "然后点击连接按钮完成配置路由器"
    chunks = chunk_document(_doc(_paragraph(long_sentence, "A")), target_chars=100)
    assert all(chunk.char_count <= 100 for chunk in chunks)
    assert all(chunk.text.endswith("，") for chunk in chunks[:-1])
    assert "".join(chunk.text for chunk in chunks) == long_sentence


def test_english_paragraph_is_cut_at_sentence_ends_and_never_inside_a_word() -> None:
    chunks = chunk_document(_doc(_paragraph(ENGLISH_PARAGRAPH, "A")), target_chars=200)
    assert all(chunk.char_count <= 200 for chunk in chunks)
    assert all(chunk.text.endswith("safely.") for chunk in chunks)
    assert all(chunk.text.startswith("Step ") for chunk in chunks)
    assert " ".join(chunk.text for chunk in chunks) == ENGLISH_PARAGRAPH


def test_abbreviation_before_lower_case_word_is_not_a_sentence_end() -> None:
    text = "Use a strong password, e.g. a passphrase of five words. " * 8
    chunks = chunk_document(_doc(_paragraph(text.strip(), "A")), target_chars=120)
    assert all(not chunk.text.endswith("e.g.") for chunk in chunks)


def test_run_on_english_without_punctuation_is_cut_between_words() -> None:
    words = [f"word{number}" for number in range(200)]
    chunks = chunk_document(_doc(_paragraph(" ".join(words), "A")), target_chars=80)
    assert all(chunk.char_count <= 80 for chunk in chunks)
    assert [word for chunk in chunks for word in chunk.text.split(" ")] == words


def test_long_list_is_cut_between_items() -> None:
    items = [f"- 第{number}项：检查电源线是否插好" for number in range(40)]
    block = Block(BlockKind.LIST, "\n".join(items), ("A",))
    chunks = chunk_document(_doc(block), target_chars=120)
    assert all(chunk.char_count <= 120 for chunk in chunks)
    assert [line for chunk in chunks for line in chunk.text.split("\n")] == items


def test_only_an_unsplittable_word_may_exceed_the_target() -> None:
    url = "https://example.com/" + "a" * 300
    text = f"Download the firmware from {url} and install it. Then restart the router."
    chunks = chunk_document(_doc(_paragraph(text, "A")), target_chars=100)
    oversized = [chunk for chunk in chunks if chunk.char_count > 100]
    assert [chunk.text for chunk in oversized] == [url]
    assert " ".join(chunk.text for chunk in chunks) == text


@pytest.mark.parametrize("target", [40, 120, 500])
def test_no_chunk_exceeds_the_target_in_real_documents(target: int) -> None:
    pdf = build_pdf([[ENGLISH_PARAGRAPH[:400]], [ENGLISH_PARAGRAPH[400:900]]])
    for filename, data in [
        ("guide.md", GUIDE_MARKDOWN.encode() + CHINESE_PARAGRAPH.encode()),
        ("help.html", HELP_PAGE_HTML.encode()),
        ("manual.docx", build_docx()),
        ("long.pdf", pdf),
    ]:
        chunks = chunk_document(parse_document(filename, data), target_chars=target)
        assert chunks
        assert max(chunk.char_count for chunk in chunks) <= target, filename
        assert [chunk.ordinal for chunk in chunks] == list(range(len(chunks)))


def test_tiny_last_piece_is_evened_out_with_the_one_before() -> None:
    sentence = "请先重启路由器然后等待两分钟再试。"  # 17 characters
    text = sentence * 6 + "好。"
    # Greedy packing gives 85 + 19 characters, and 19 is under a fifth of the target.
    chunks = chunk_document(_doc(_paragraph(text, "A")), target_chars=100)
    assert [chunk.char_count for chunk in chunks] == [51, 53]
    assert "".join(chunk.text for chunk in chunks) == text


def test_page_is_the_first_page_a_chunk_touches() -> None:
    doc = _doc(
        _paragraph("First page text.", page=1),
        _paragraph("Second page text.", page=2),
        _paragraph("Third page, long. " * 10, page=3),
    )
    chunks = chunk_document(doc, target_chars=60)
    assert chunks[0].text == "First page text.\n\nSecond page text."
    assert [chunk.page for chunk in chunks] == [1, 3, 3, 3, 3]


def test_pdf_chunks_keep_page_numbers() -> None:
    pdf = build_pdf([["Page one talks about setup."], ["Page two talks about resets."]])
    chunks = chunk_document(parse_document("manual.pdf", pdf), target_chars=30)
    assert [(chunk.page, chunk.text) for chunk in chunks] == [
        (1, "Page one talks about setup."),
        (2, "Page two talks about resets."),
    ]


def test_chunk_fields_are_derived_from_the_text() -> None:
    chunk = chunk_document(_doc(_paragraph("Ｗｉ－Ｆｉ  设置。", "A")))[0]
    assert chunk == Chunk(0, "Ｗｉ－Ｆｉ  设置。", ("A",), None)
    assert chunk.char_count == 10
    assert re.fullmatch(r"[0-9a-f]{64}", chunk.content_hash)
    # Width and white-space variants of the same text hash alike.
    assert chunk.content_hash == Chunk(5, "Wi-Fi 设置。", ("B",), 3).content_hash
    assert chunk.content_hash != Chunk(0, "Wi-Fi 设置！", ("A",), None).content_hash


def _sectioned_document(second_answer: str) -> str:
    return (
        "# 帮助\n\n## 退货\n\n"
        + CHINESE_PARAGRAPH
        + "\n\n## 换货\n\n"
        + second_answer
        + "\n\n## Shipping\n\n"
        + ENGLISH_PARAGRAPH
        + "\n"
    )


def test_hashes_are_stable_and_change_only_for_the_edited_chunk() -> None:
    original = _sectioned_document("质量问题十五天内可以换货。")
    edited = _sectioned_document("质量问题三十天内可以换货。")
    first = chunk_document(parse_document("help.md", original.encode()), target_chars=200)
    again = chunk_document(parse_document("help.md", original.encode()), target_chars=200)
    changed = chunk_document(parse_document("help.md", edited.encode()), target_chars=200)
    assert len(first) > 8
    assert [c.content_hash for c in first] == [c.content_hash for c in again]
    assert len(changed) == len(first)
    differing = [
        before.text
        for before, after in zip(first, changed, strict=True)
        if before.content_hash != after.content_hash
    ]
    assert differing == ["质量问题十五天内可以换货。"]


def test_editing_one_long_paragraph_keeps_other_sections_hashes() -> None:
    original = _sectioned_document("短答案。")
    edited = original.replace("第3条：请在设置页面", "第3条：请在系统设置页面")
    before = {c.content_hash for c in chunk_document(parse_document("a.md", original.encode()))}
    after = {c.content_hash for c in chunk_document(parse_document("a.md", edited.encode()))}
    assert len(before - after) == 1
    assert len(after - before) == 1


def test_target_must_be_positive() -> None:
    with pytest.raises(ValueError, match="target_chars"):
        chunk_document(_doc(_paragraph("x")), target_chars=0)
