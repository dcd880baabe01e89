"""Chat's pure rules: asking for a person, picking an agent, business hours, signed identities,
allowed attachment types."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from knowdesk.chat.attachments import sniff
from knowdesk.chat.handoff import Candidate, asks_for_human, pick_agent
from knowdesk.chat.hours import BusinessHours, is_open
from knowdesk.chat.identity import (
    identity_is_valid,
    issue_contact_token,
    read_contact_token,
    sign_identity,
)
from knowdesk.chat.models import Routing


@pytest.mark.parametrize(
    "text",
    [
        "转人工",
        "转人工！",
        "人工",
        "人工客服",
        "我要人工服务",
        "帮我转接人工客服好吗",
        "找真人",
        "talk to a human",
        "Can I speak with a real person?",
        "I want a human",
        "connect me to an agent please",
        "AGENT",
        "representative",
    ],
)
def test_requests_for_a_person_are_recognised(text: str) -> None:
    assert asks_for_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "人工智能可以做什么",
        "不要转人工，我自己看看",
        "路由器密码怎么改",
        "How do I reset my password?",
        "I don't want to talk to a human",
        "what does the agent field in the report mean",
        "the person who ordered it moved",
    ],
)
def test_other_messages_are_not_taken_for_requests(text: str) -> None:
    assert not asks_for_human(text)


def _agent(n: int, active: int, capacity: int = 2, minutes_ago: int | None = None) -> Candidate:
    last = datetime.now(UTC) - timedelta(minutes=minutes_ago) if minutes_ago is not None else None
    return Candidate(uuid.UUID(int=n), active, capacity, last)


def test_round_robin_goes_on_after_the_previous_agent_and_skips_full_ones() -> None:
    agents = [_agent(1, 0), _agent(2, 2), _agent(3, 1)]
    assert pick_agent(agents, Routing.ROUND_ROBIN, None) == agents[0]
    assert pick_agent(agents, Routing.ROUND_ROBIN, uuid.UUID(int=1)) == agents[2]  # 2 is full
    assert pick_agent(agents, Routing.ROUND_ROBIN, uuid.UUID(int=3)) == agents[0]  # wraps


def test_least_busy_then_longest_waiting() -> None:
    agents = [_agent(1, 1, minutes_ago=1), _agent(2, 0, minutes_ago=1), _agent(3, 0, minutes_ago=9)]
    assert pick_agent(agents, Routing.LEAST_BUSY, None) == agents[2]
    assert pick_agent([_agent(1, 0), _agent(2, 0, minutes_ago=5)], Routing.LEAST_BUSY, None) == (
        _agent(1, 0)
    )


def test_nobody_free_means_nobody() -> None:
    assert pick_agent([_agent(1, 2), _agent(2, 3)], Routing.LEAST_BUSY, None) is None
    assert pick_agent([], Routing.ROUND_ROBIN, None) is None


SECRET = "s" * 40

SHANGHAI_WEEKDAYS = {
    "timezone": "Asia/Shanghai",
    "weekly": {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    | {"sat": [["10:00", "24:00"]]},
    "holidays": ["2026-10-01"],
}


@pytest.mark.parametrize(
    ("utc", "open_"),
    [
        ("2026-11-23T01:00:00", True),  # Monday 09:00 in Shanghai
        ("2026-11-23T00:59:00", False),  # 08:59
        ("2026-11-23T09:59:00", True),  # 17:59
        ("2026-11-23T10:00:00", False),  # 18:00: the range ends before its closing minute
        ("2026-11-28T15:59:00", True),  # Saturday 23:59 ("24:00" closes at midnight)
        ("2026-11-29T04:00:00", False),  # Sunday noon
        ("2026-10-01T04:00:00", False),  # a Thursday, but a holiday
    ],
)
def test_business_hours_in_the_channels_time_zone(utc: str, open_: bool) -> None:
    at = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert is_open(SHANGHAI_WEEKDAYS, at) is open_


def test_no_schedule_is_always_open() -> None:
    assert is_open(None, datetime.now(UTC))


@pytest.mark.parametrize(
    "schedule",
    [
        {"timezone": "Mars/Olympus", "weekly": {}},
        {"timezone": "UTC", "weekly": {"someday": []}},
        {"timezone": "UTC", "weekly": {"mon": [["18:00", "09:00"]]}},
        {"timezone": "UTC", "weekly": {"mon": [["9", "18:00"]]}},
        {"timezone": "UTC", "weekly": {"mon": [["09:00", "24:30"]]}},
    ],
)
def test_bad_schedules_are_refused(schedule: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        BusinessHours.model_validate(schedule)


def test_the_documented_identity_signature_is_what_is_checked() -> None:
    secret = "a" * 64
    # docs/protocol.md: hmac.new(secret.encode(), external_id.encode(), hashlib.sha256).hexdigest()
    documented = hmac.new(secret.encode(), b"user-42", hashlib.sha256).hexdigest()
    assert sign_identity("user-42", secret) == documented
    assert identity_is_valid("user-42", documented, secret)
    assert identity_is_valid("user-42", documented.upper(), secret)
    assert not identity_is_valid("user-43", documented, secret)
    assert not identity_is_valid("user-42", documented, "b" * 64)


def test_contact_tokens_name_their_contact_and_channel() -> None:
    contact, channel = uuid.uuid4(), uuid.uuid4()
    claims = read_contact_token(issue_contact_token(contact, channel, SECRET), SECRET)
    assert claims is not None and (claims.contact_id, claims.channel_id) == (contact, channel)
    assert read_contact_token(issue_contact_token(contact, channel, SECRET), "o" * 40) is None
    assert read_contact_token("not.a.token", SECRET) is None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
        (b"GIF89a" + b"\x00" * 10, "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7\n", "application/pdf"),
        ("订单号 1234，收货地址见截图".encode(), "text/plain"),
        (b"<!DOCTYPE html><html><script>alert(1)</script>", None),
        (b"  <svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", None),
        (b"MZ\x90\x00\x03\x00\x00\x00", None),  # a Windows program
        (b"PK\x03\x04\x14\x00", None),  # a zip archive
        (b"", None),
    ],
)
def test_only_harmless_file_types_are_allowed(data: bytes, expected: str | None) -> None:
    assert sniff(data) == expected
