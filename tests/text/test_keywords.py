"""Keyword extraction: stop words out, longer and rarer words first, always the same answer."""

from __future__ import annotations

import pytest

from knowdesk.text.keywords import (
    CHINESE_STOP_WORDS,
    ENGLISH_STOP_WORDS,
    CorpusStats,
    extract_keywords,
)


def test_chinese_keywords_without_function_words() -> None:
    keywords = extract_keywords("如何重置我的登录密码？忘记密码了怎么办")

    assert keywords[0] == "密码"  # said twice
    assert set(keywords) == {"密码", "重置", "登录", "忘记"}


def test_english_keywords_are_normalised_and_without_function_words() -> None:
    keywords = extract_keywords("How do I reset my PASSWORD? The password reset e-mail never came.")

    assert keywords[:2] == ["password", "reset"]
    assert set(keywords) == {"password", "reset", "e-mail", "never", "came"}


def test_numbers_and_single_letters_are_not_keywords() -> None:
    assert extract_keywords("Error 404 on page 2 of plan B, 0.05% or 2024-01-31") == [
        "error",
        "page",
        "plan",
    ]


def test_longer_words_rank_first_when_equally_frequent() -> None:
    assert extract_keywords("卡 信用卡 年费") == ["信用卡", "年费", "卡"]
    assert extract_keywords("fee card subscription") == ["subscription", "card", "fee"]


def test_mixed_chinese_and_english() -> None:
    keywords = extract_keywords("VIP会员 subscription 怎么取消")
    assert set(keywords) == {"vip", "会员", "subscription", "取消"}


def test_ties_keep_text_order_so_results_are_deterministic() -> None:
    text = "apple melon grape lemon"
    assert extract_keywords(text) == ["apple", "melon", "grape", "lemon"]
    assert extract_keywords(text) == extract_keywords(text)


def test_limit() -> None:
    text = "alpha bravo charlie delta echo foxtrot golf hotel india juliet"
    assert len(extract_keywords(text)) == 8
    assert extract_keywords(text, limit=3) == ["charlie", "foxtrot", "juliet"]
    assert extract_keywords(text, limit=0) == []
    with pytest.raises(ValueError):
        extract_keywords(text, limit=-1)


def test_nothing_to_extract() -> None:
    assert extract_keywords("") == []
    assert extract_keywords("的 了 吗？ the and of") == []


def test_corpus_statistics_sink_words_common_to_every_document() -> None:
    corpus = CorpusStats.from_texts(
        ["信用卡年费标准", "信用卡额度调整", "信用卡还款方式", "信用卡挂失流程"]
    )
    text = "信用卡年费减免"

    assert extract_keywords(text) == ["信用卡", "年费", "减免"]
    # 减免 is in no document, 年费 in one, 信用卡 in all four.
    assert extract_keywords(text, corpus=corpus) == ["减免", "年费", "信用卡"]


def test_corpus_statistics_counts_documents_not_occurrences() -> None:
    corpus = CorpusStats.from_texts(["card card card", "refund"])
    assert corpus.document_count == 2
    assert corpus.document_frequency == {"card": 1, "refund": 1}
    assert corpus.idf("card") < corpus.idf("never-seen")


def test_stop_word_lists_are_normalised_function_words() -> None:
    assert {"的", "了", "吗", "怎么", "我们"} <= CHINESE_STOP_WORDS
    assert {"the", "and", "how", "is", "my"} <= ENGLISH_STOP_WORDS
    assert all(word == word.lower() for word in ENGLISH_STOP_WORDS)
    # Content words must survive, or keyword extraction would lose what matters.
    assert not {"密码", "退款", "password", "refund"} & (CHINESE_STOP_WORDS | ENGLISH_STOP_WORDS)
