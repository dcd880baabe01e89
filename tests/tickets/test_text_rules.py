"""Priority from urgency, sentiment and tier; drafts and duplicate detection from transcripts."""

from __future__ import annotations

from datetime import UTC, datetime

from knowdesk.tickets.drafting import Turn, draft_description, draft_subject, same_issue
from knowdesk.tickets.priority import Priority, assess


def test_plain_questions_are_normal() -> None:
    assert assess("How do I change my delivery address?").priority == Priority.NORMAL
    assert assess("我想修改收货地址").priority == Priority.NORMAL


def test_urgency_and_anger_raise_priority() -> None:
    assert assess("Please refund me ASAP").priority == Priority.HIGH
    angry = assess("This is unacceptable, I was charged twice and need it fixed immediately!!!")
    assert angry.priority == Priority.URGENT
    assert "urgency cue" in angry.reasons and "negative sentiment" in angry.reasons
    assert assess("紧急！设备宕机了，马上处理").priority == Priority.URGENT


def test_tier_counts() -> None:
    assert assess("How do I export my data?", tier="VIP").priority == Priority.HIGH
    assert assess("How do I export my data?", tier="unknown").priority == Priority.NORMAL


def test_a_customer_who_can_wait_is_low() -> None:
    assert assess("No rush, but the manual has a typo").priority == Priority.LOW
    assert assess("不急，有空再看看发票的问题").priority == Priority.LOW


def test_escalation_raises_one_level() -> None:
    assert Priority.NORMAL.raised() == Priority.HIGH
    assert Priority.URGENT.raised() == Priority.URGENT


def transcript() -> list[Turn]:
    t = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    return [
        Turn("contact", "hi", t),
        Turn("bot", "Hello! How can I help?", t),
        Turn("contact", "My order 1234 arrived broken. The screen is cracked.", t),
        Turn("bot", "Sorry to hear that. Here is our returns policy…", t),
        Turn("contact", "I want a replacement, not a policy", t),
    ]


def test_subject_is_the_first_real_sentence() -> None:
    assert draft_subject(transcript()) == "My order 1234 arrived broken."
    assert draft_subject([Turn("contact", "你好"), Turn("contact", "人工")]).startswith(
        "Conversation"
    )
    long = "word " * 100
    assert len(draft_subject([Turn("contact", long)])) <= 120


def test_description_puts_the_problem_first_then_the_transcript() -> None:
    text = draft_description(transcript(), "no agent was free")
    assert text.startswith("The customer wrote:\n> My order 1234 arrived broken.")
    assert "because: no agent was free." in text
    assert "Bot: Sorry to hear that." in text and "[2026-11-25 09:30]" in text
    assert "> hi" not in text  # greetings are not the problem


def test_same_issue_recognises_a_repeat_but_not_a_new_problem() -> None:
    first = "My order 1234 arrived broken, the screen is cracked"
    assert same_issue("Order 1234 screen cracked when it arrived, still waiting", first)
    assert not same_issue("How do I change the language of the app?", first)
    assert same_issue(
        "退款还没到账", "申请的退款一直没有到账", new_intent="refund", open_intent="refund"
    )
