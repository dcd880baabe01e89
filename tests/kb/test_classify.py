"""Question types by cue words and category suggestions from a workspace taxonomy."""

from __future__ import annotations

import pytest

from knowdesk.kb.classify import QuestionType, classify_question, suggest_category


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("如何导出报表", QuestionType.HOW_TO),
        ("怎么开通电子发票提醒", QuestionType.HOW_TO),
        ("How do I export a report?", QuestionType.HOW_TO),
        ("Where can I find the API docs", QuestionType.HOW_TO),
        ("App 打开后闪退", QuestionType.TROUBLESHOOTING),
        ("付款失败，提示系统异常", QuestionType.TROUBLESHOOTING),
        ("The app is not working after the update", QuestionType.TROUBLESHOOTING),
        ("Export fails with an error", QuestionType.TROUBLESHOOTING),
        ("专业版多少钱", QuestionType.PRICING),
        ("跨行转账收取手续费吗", QuestionType.PRICING),
        ("How much is the Pro version?", QuestionType.PRICING),
        ("What are your prices", QuestionType.PRICING),
        ("收到的商品能退货吗", QuestionType.POLICY),
        ("保修期是多久", QuestionType.POLICY),
        ("Can I get a refund?", QuestionType.POLICY),
        ("What does the warranty cover", QuestionType.POLICY),
        ("修改绑定的手机号", QuestionType.ACCOUNT),
        ("忘记登录密码", QuestionType.ACCOUNT),
        ("Change my username", QuestionType.ACCOUNT),
        ("Forgot my password", QuestionType.ACCOUNT),
        ("今天天气不错", QuestionType.OTHER),
        ("What are your opening hours?", QuestionType.OTHER),
        ("", QuestionType.OTHER),
    ],
)
def test_question_types_in_chinese_and_english(text: str, expected: QuestionType) -> None:
    assert classify_question(text) == expected


def test_more_cues_beat_specificity() -> None:
    # how_to: "how do i" + "steps to"; account: "account" only.
    assert classify_question("How do I follow the steps to close my account") == "how_to"


def test_ties_go_to_the_more_specific_type() -> None:
    assert classify_question("How do I reset my password?") == QuestionType.ACCOUNT
    assert classify_question("如何申请退款") == QuestionType.POLICY
    assert classify_question("I can't log in") == QuestionType.TROUBLESHOOTING


def test_cues_match_whole_words_only() -> None:
    # "error" inside "terror", "cost" inside "costume", "fee" inside "feedback".
    assert classify_question("terror costume feedback") == QuestionType.OTHER


def test_question_type_is_a_string_for_storage() -> None:
    assert QuestionType.HOW_TO == "how_to"
    assert {member.value for member in QuestionType} == {
        "how_to",
        "troubleshooting",
        "pricing",
        "policy",
        "account",
        "other",
    }


TAXONOMY = {
    "信用卡": ["信用卡", "年费", "额度", "还款"],
    "贷款": ["贷款", "借款", "利率", "还款"],
    "Billing": ["invoice", "payment", "credit card"],
    "Shipping": ["delivery", "tracking number", "courier"],
    "会员": ["VIP会员", "积分"],
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("信用卡年费怎么收取", "信用卡"),
        ("借款利率是多少，怎么还款", "贷款"),
        ("Where is the invoice for my last payments?", "Billing"),
        ("My CREDIT  CARD was charged twice", "Billing"),
        ("What is the tracking number of my delivery", "Shipping"),
        ("vip 会员积分怎么用", "会员"),
    ],
)
def test_suggest_category_by_keyword_overlap(text: str, expected: str) -> None:
    assert suggest_category(text, TAXONOMY) == expected


def test_no_matching_keyword_suggests_nothing() -> None:
    assert suggest_category("今天天气不错", TAXONOMY) is None
    assert suggest_category("tracking", TAXONOMY) is None  # half of a two-word keyword
    assert suggest_category("信用卡", {}) is None


def test_category_ties() -> None:
    # One keyword each: the longer match (更具体) wins, then the category listed first.
    assert suggest_category("还款", TAXONOMY) == "信用卡"
    assert suggest_category("刷卡 信用卡额度", {"卡": ["卡"], "信用卡": ["信用卡"]}) == "信用卡"
    assert suggest_category("refunds", {"A": ["refund"], "B": ["return", "refund"]}) == "A"
