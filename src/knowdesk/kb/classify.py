"""Rule-based labels for FAQ entries: the question type, and a product category from the
workspace's own taxonomy.

Both work by cue words, matched the same way:
- a cue holding Chinese characters matches as a substring of the text with spaces removed
  (jieba may cut the text differently from the cue, e.g. 多少钱 into 多少 / 钱);
- any other cue matches as a whole-word sequence of the text's words, with a light plural fold
  (a trailing "s" is dropped on both sides), so "refund" matches "refunds".

Question type: the type with the most distinct matching cues wins. Ties go to the more specific
type, in the order troubleshooting, policy, pricing, account, how_to: "How do I reset my
password?" is an account question, "How do I get a refund?" a policy one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum

from knowdesk.text.tokenize import is_cjk, normalize, words


class QuestionType(StrEnum):
    # Declared in tie-break order: the most specific type first.
    TROUBLESHOOTING = "troubleshooting"
    POLICY = "policy"
    PRICING = "pricing"
    ACCOUNT = "account"
    HOW_TO = "how_to"
    OTHER = "other"


def _cues(chinese: str, english: str) -> tuple[str, ...]:
    """Chinese cues separated by spaces; English cues, which may be phrases, by commas."""
    return (*chinese.split(), *(cue.strip() for cue in english.split(",")))


QUESTION_TYPE_CUES: dict[QuestionType, tuple[str, ...]] = {
    QuestionType.TROUBLESHOOTING: _cues(
        "失败 无法 不能用 用不了 不成功 错误 报错 出错 异常 故障 "
        "打不开 进不去 登不上 收不到 没反应 闪退 卡住",
        "error, fail, failed, failure, not working, doesn't work, does not work, won't, can't, "
        "cannot, unable, broken, crash, crashed, problem, bug, stuck, issue",
    ),
    QuestionType.POLICY: _cues(
        "退款 退货 换货 退换 保修 质保 售后 政策 规定 条款 隐私 赔偿 违约",
        "refund, return, exchange, warranty, guarantee, policy, policies, terms, privacy, "
        "cancellation, compensation",
    ),
    QuestionType.PRICING: _cues(
        "多少钱 价格 价钱 费用 收费 报价 年费 手续费 资费 套餐 优惠 折扣 免费 付费 利息 利率",
        "how much, price, pricing, cost, fee, charge, charged, billing, invoice, discount, free, "
        "paid, subscription, interest rate",
    ),
    QuestionType.ACCOUNT: _cues(
        "密码 登录 登陆 账号 帐号 账户 帐户 注册 验证码 绑定 解绑 注销 实名 用户名 手机号",
        "account, password, login, log in, log-in, sign in, sign-in, sign up, sign-up, signup, "
        "register, username, verification code, 2fa, two-factor, profile",
    ),
    QuestionType.HOW_TO: _cues(
        "如何 怎么 怎样 步骤 方法 教程 哪里可以",
        "how do i, how do we, how can i, how to, where can i, where do i, steps to, guide",
    ),
}


def classify_question(text: str) -> QuestionType:
    """The question type of an FAQ question (or a customer message)."""
    matcher = _CueMatcher(text)
    best, best_hits = QuestionType.OTHER, 0
    for question_type, cues in QUESTION_TYPE_CUES.items():
        hits = len(matcher.matching(cues))
        if hits > best_hits:  # strictly more: an earlier, more specific type keeps a tie
            best, best_hits = question_type, hits
    return best


def suggest_category(text: str, taxonomy: Mapping[str, Sequence[str]]) -> str | None:
    """The category of `taxonomy` (category name → its keywords) whose keywords `text` matches
    best: most distinct keywords matched, then the most matched characters (longer keywords are
    more specific), then the category listed first. None when no keyword matches."""
    matcher = _CueMatcher(text)
    best: str | None = None
    best_score = (0, 0)
    for category, keywords in taxonomy.items():
        matched = matcher.matching(keywords)
        score = (len(matched), sum(len(keyword) for keyword in matched))
        if score > best_score:
            best, best_score = category, score
    return best


class _CueMatcher:
    """Answers "does this cue occur in the text?" for Chinese and English cues alike."""

    def __init__(self, text: str) -> None:
        self._compact = re.sub(r"\s+", "", normalize(text))
        self._padded_words = f" {' '.join(_fold_plurals(words(text)))} "

    def matching(self, cues: Iterable[str]) -> set[str]:
        return {cue for cue in cues if self.occurs(cue)}

    def occurs(self, cue: str) -> bool:
        if any(is_cjk(char) for char in cue):
            compact_cue = re.sub(r"\s+", "", normalize(cue))
            return bool(compact_cue) and compact_cue in self._compact
        cue_words = _fold_plurals(words(cue))
        return bool(cue_words) and f" {' '.join(cue_words)} " in self._padded_words


def _fold_plurals(tokens: Iterable[str]) -> list[str]:
    return [_singular(token) for token in tokens]


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word
