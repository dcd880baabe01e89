"""The bot in the conversation: customer messages go through the real answer path (index,
embeddings, calibration); replies carry their sources; customers rate them; what the bot cannot
answer goes to people."""

from __future__ import annotations

import time

from tests.chat.conftest import BotKb
from tests.chat.helpers import customer, make_channel


def test_the_bot_answers_from_the_knowledge_base_with_its_sources(
    bot_kb: BotKb, base_url: str
) -> None:
    client = bot_kb.tenant.client
    channel = make_channel(client, bot_enabled=True)
    sock, _ = customer(base_url, channel)
    with sock:
        cid = sock.open()["id"]
        ack = sock.say(cid, "How much does the Pro plan cost?")
        assert ack["type"] == "ack"  # stored and acknowledged before the bot has answered
        thinking = sock.expect(lambda f: f.get("type") == "typing" and f["typing"] is True)
        assert thinking["sender"]["kind"] == "bot"
        reply = sock.message_with(cid, lambda m: m["sender_kind"] == "bot")
        assert reply["seq"] == ack["seq"] + 1
        assert reply["text"] == "The Pro plan costs 5 dollars a month or 50 dollars a year."
        meta = reply["meta"]
        assert meta["decision"] == "direct" and meta["reply_to"] == ack["seq"]
        assert (
            meta["sources"][0]["entry_id"] == bot_kb.entry_ids["How much does the Pro plan cost?"]
        )
        assert meta["sources"][0]["title"] and meta["confidence"] > 0

        rated = sock.call(
            {"type": "rate", "conversation_id": cid, "seq": reply["seq"], "rating": "not_helpful"}
        )
        assert rated["type"] == "ok"
        not_bot = sock.call(
            {"type": "rate", "conversation_id": cid, "seq": ack["seq"], "rating": "helpful"}
        )
        assert not_bot["code"] == "not_found"  # only bot replies are rated
    stored = client.get(f"/api/v1/chat/conversations/{cid}/messages").json()
    assert [m["rating"] for m in stored] == [None, "not_helpful"]
    assert client.get(f"/api/v1/chat/conversations/{cid}").json()["state"] == "bot"


def test_a_follow_up_is_answered_with_the_conversation_before_it(
    bot_kb: BotKb, base_url: str
) -> None:
    channel = make_channel(bot_kb.tenant.client, bot_enabled=True)
    sock, _ = customer(base_url, channel)
    with sock:
        cid = sock.open()["id"]
        sock.say(cid, "退货政策是什么？")
        first = sock.message_with(cid, lambda m: m["sender_kind"] == "bot")
        assert first["meta"]["decision"] == "direct"
        sock.say(cid, "那要多久？")
        second = sock.message_with(cid, lambda m: m["sender_kind"] == "bot" and m["seq"] > 3)
        assert "退货" in second["meta"]["resolved_question"]


def test_what_the_bot_cannot_answer_goes_to_people(bot_kb: BotKb, base_url: str) -> None:
    channel = make_channel(bot_kb.tenant.client, bot_enabled=True)
    sock, _ = customer(base_url, channel)
    with sock:
        cid = sock.open()["id"]
        sock.say(cid, "？？？ ###")
        handoff = sock.message_with(cid, lambda m: m["meta"].get("event") == "handoff")
        assert handoff["meta"]["reason"] == "not_covered"
        assert not [m for m in sock.messages(cid) if m["sender_kind"] == "bot"]


def test_the_bot_keeps_quiet_once_a_person_has_taken_over(bot_kb: BotKb, base_url: str) -> None:
    client = bot_kb.tenant.client
    channel = make_channel(client, bot_enabled=True)
    sock, _ = customer(base_url, channel)
    with sock:
        cid = sock.open()["id"]
        assert client.post(f"/api/v1/chat/conversations/{cid}/assign", json={}).status_code == 200
        sock.message_with(cid, lambda m: m["meta"].get("event") == "assigned")
        ack = sock.say(cid, "How much does the Pro plan cost?")
        time.sleep(1.5)  # the bot would have answered by now
        assert not [m for m in sock.messages(cid) if m["sender_kind"] == "bot"]
        assert sock.messages(cid)[-1]["seq"] == ack["seq"]
