"""The WebSocket protocol against the real server: sending, acknowledgements, order, resume,
typing and read state, and what bad input gets."""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from websockets.exceptions import ConnectionClosed

from tests.chat.helpers import (
    Socket,
    agent_socket,
    customer,
    make_agent,
    make_channel,
    owner_agent,
)
from tests.conftest import Tenant


def _history(tenant: Tenant, conversation_id: str) -> list[dict[str, object]]:
    r = tenant.client.get(
        f"/api/v1/chat/conversations/{conversation_id}/messages", params={"limit": 500}
    )
    assert r.status_code == 200, r.text
    return list(r.json())


def _taken_by_owner(tenant: Tenant, conversation_id: str) -> None:
    r = tenant.client.post(f"/api/v1/chat/conversations/{conversation_id}/assign", json={})
    assert r.status_code == 200, r.text


def test_send_is_acknowledged_and_a_retry_is_stored_once(tenant: Tenant, base_url: str) -> None:
    channel = make_channel(tenant.client)
    sock, welcome = customer(base_url, channel)
    with sock:
        conversation = sock.open()
        first = sock.say(conversation["id"], "hello", client_msg_id="m-1")
        assert first["type"] == "ack" and first["duplicate"] is False
        assert first["client_msg_id"] == "m-1" and first["message"]["text"] == "hello"
        again = sock.say(conversation["id"], "hello", client_msg_id="m-1")
        assert again["type"] == "ack" and again["duplicate"] is True
        assert again["seq"] == first["seq"] and again["message"]["id"] == first["message"]["id"]

    stored = [m for m in _history(tenant, conversation["id"]) if m["client_msg_id"] == "m-1"]
    assert len(stored) == 1
    assert stored[0]["sender_kind"] == "contact"
    assert stored[0]["sender_id"] == welcome["contact_id"]


def test_messages_are_numbered_in_order_and_delivered_once(tenant: Tenant, base_url: str) -> None:
    channel = make_channel(tenant.client)
    sock, _ = customer(base_url, channel)
    watcher = Socket(base_url)
    with sock, watcher:
        conversation = sock.open()
        owner = owner_agent(tenant)
        assert watcher.auth(token=owner.token)["type"] == "welcome"
        assert watcher.resume(conversation["id"])["type"] == "resumed"
        acks = [sock.say(conversation["id"], f"message {i}") for i in range(8)]
        assert [a["type"] for a in acks] == ["ack"] * 8
        seqs = [a["seq"] for a in acks]
        assert seqs == sorted(seqs) and len(set(seqs)) == 8

        last = _history(tenant, conversation["id"])[-1]["seq"]
        watcher.expect(lambda f: f.get("type") == "message" and f["seq"] == last)
        seen = [m["seq"] for m in watcher.messages(conversation["id"])]
        assert seen == list(range(1, last + 1))  # every message, once, in order
        texts = [m["text"] for m in watcher.messages(conversation["id"])]
        assert [t for t in texts if t.startswith("message ")] == [f"message {i}" for i in range(8)]


def test_two_windows_sending_at_once_get_one_numbering_and_a_racing_retry_is_stored_once(
    tenant: Tenant, base_url: str
) -> None:
    channel = make_channel(tenant.client)
    first, welcome = customer(base_url, channel)
    second, _ = customer(base_url, channel, contact_token=welcome["contact_token"])
    with first, second:
        cid = first.open()["id"]
        second.resume(cid)
        sent: dict[str, tuple[Socket, str]] = {}
        # Both windows send without waiting for acks; the last id is the same retry in both.
        for n in range(8):
            for name, sock in (("a", first), ("b", second)):
                client_msg_id = f"{name}-{n}" if n < 7 else "same"
                ref = f"{name}{n}"
                sock.send(
                    {
                        "type": "send",
                        "id": ref,
                        "conversation_id": cid,
                        "client_msg_id": client_msg_id,
                        "text": f"{name} {n}",
                    }
                )
                sent[ref] = (sock, client_msg_id)
        acks = {ref: sock.reply(ref) for ref, (sock, _) in sent.items()}
        assert {a["type"] for a in acks.values()} == {"ack"}, acks
        same = [a for a in acks.values() if a["client_msg_id"] == "same"]
        assert len({a["seq"] for a in same}) == 1
        assert sorted(a["duplicate"] for a in same) == [False, True]

    history = _history(tenant, cid)
    assert [m["seq"] for m in history] == list(range(1, len(history) + 1))  # no gap, no repeat
    ids = [m["client_msg_id"] for m in history if m["sender_kind"] == "contact"]
    assert sorted(ids) == sorted({client_msg_id for _, client_msg_id in sent.values()})


def test_resume_after_a_disconnect_loses_nothing_and_repeats_nothing(
    tenant: Tenant, base_url: str
) -> None:
    channel = make_channel(tenant.client)
    sock, welcome = customer(base_url, channel)
    conversation = sock.open()
    cid = conversation["id"]
    sock.say(cid, "I need help")
    _taken_by_owner(tenant, cid)
    sock.message_with(cid, lambda m: m["meta"].get("event") == "assigned")
    before = [m["seq"] for m in sock.messages(cid)]
    sock.close()

    # The agent keeps writing while the customer is away and while they come back.
    def agent_writes() -> None:
        for i in range(12):
            r = tenant.client.post(
                f"/api/v1/chat/conversations/{cid}/messages",
                json={"text": f"agent {i}", "client_msg_id": f"a-{i}"},
            )
            assert r.status_code == 201, r.text
            time.sleep(0.03)

    writer = threading.Thread(target=agent_writes)
    writer.start()
    time.sleep(0.1)
    back, _ = customer(base_url, channel, contact_token=welcome["contact_token"])
    with back:
        back.resume(cid, after_seq=before[-1])
        writer.join()
        last = _history(tenant, cid)[-1]["seq"]
        back.expect(lambda f: f.get("type") == "message" and f["seq"] == last)
        after = [m["seq"] for m in back.messages(cid)]
        assert after == list(range(before[-1] + 1, last + 1))
        assert before + after == list(range(1, last + 1))


def test_typing_reaches_the_other_side_and_read_state_is_kept(
    tenant: Tenant, base_url: str
) -> None:
    channel = make_channel(tenant.client)
    owner = owner_agent(tenant)
    sock, welcome = customer(base_url, channel)
    agent = Socket(base_url)
    with sock, agent:
        cid = sock.open()["id"]
        ack = sock.say(cid, "hi")
        agent.auth(token=owner.token)
        agent.resume(cid)

        sock.send({"type": "typing", "conversation_id": cid, "typing": True})
        typing = agent.expect("typing")
        assert typing["sender"] == {"kind": "contact", "id": welcome["contact_id"], "name": ""}
        assert typing["typing"] is True

        assert (
            agent.call({"type": "read", "conversation_id": cid, "seq": ack["seq"]})["type"] == "ok"
        )
        read = sock.expect("read")
        assert read["reader"] == {"kind": "agent", "id": owner.user_id}
        assert read["seq"] == ack["seq"]
        detail = tenant.client.get(f"/api/v1/chat/conversations/{cid}").json()
        reads = {p["kind"]: p["last_read_seq"] for p in detail["participants"]}
        assert reads["agent"] == ack["seq"]
        assert reads["contact"] == ack["seq"]  # a sender has read what they sent

        past = agent.call({"type": "read", "conversation_id": cid, "seq": 10_000})
        assert past["type"] == "error" and past["code"] == "invalid"
        sock.drain(0.3)
        assert not [f for f in sock.received if f.get("type") == "typing"]  # not one's own


def test_malformed_and_oversize_frames_get_errors_and_the_connection_stays(
    tenant: Tenant, base_url: str
) -> None:
    channel = make_channel(tenant.client)
    with Socket(base_url) as sock:
        before_auth = sock.call({"type": "open"})
        assert before_auth["code"] == "unauthenticated"
        sock.auth(widget_token=channel["widget_token"])
        cid = sock.open()["id"]

        for bad in ("not json", "[1, 2]", '{"type": "teleport"}', '{"type": "send"}'):
            sock.send(bad)
            error = sock.expect("error")
            assert error["code"] == "bad_frame", error
        sock.ws.send(b"\x00\x01binary")
        assert sock.expect("error")["code"] == "bad_frame"
        missing = sock.call({"type": "send", "conversation_id": cid, "text": "no client id"})
        assert missing["code"] == "bad_frame"
        assert any(d["loc"] == ["send", "client_msg_id"] for d in missing["details"])

        sock.send({"type": "ping", "pad": "x" * 100_000})
        assert sock.expect("error")["code"] == "too_large"
        long_text = sock.say(cid, "字" * 4001)
        assert long_text["type"] == "error" and long_text["code"] == "too_large"
        empty = sock.say(cid, "   ")
        assert empty["code"] == "invalid"
        stranger = sock.say(str(uuid.uuid4()), "into nowhere")
        assert stranger["code"] == "not_found"

        assert sock.call({"type": "ping"})["type"] == "pong"
        assert sock.say(cid, "still here")["type"] == "ack"


def test_bad_and_expired_credentials_are_refused_and_the_connection_stays(
    tenant: Tenant, base_url: str
) -> None:
    channel = make_channel(tenant.client)
    secret = os.environ["KNOWDESK_SECRET_KEY"]
    with Socket(base_url) as sock:
        assert sock.auth(widget_token="wt_forged")["code"] == "unauthenticated"
        forged = sock.auth(
            widget_token=channel["widget_token"],
            identity={"external_id": "u-1", "signature": "00" * 32},
        )
        assert forged["code"] == "unauthenticated"
        assert sock.auth(token="garbage")["code"] == "unauthenticated"
        past = datetime.now(UTC) - timedelta(minutes=1)
        me = owner_agent(tenant)
        expired = jwt.encode(
            {"sub": me.user_id, "typ": "user", "iat": past - timedelta(hours=1), "exp": past},
            secret,
            algorithm="HS256",
        )
        assert sock.auth(token=expired)["code"] == "unauthenticated"
        assert sock.call({"type": "ping"})["type"] == "pong"
        assert sock.auth(token=me.token)["type"] == "welcome"


def test_an_agent_session_that_expires_stops_until_it_signs_in_again(
    tenant: Tenant, base_url: str
) -> None:
    secret = os.environ["KNOWDESK_SECRET_KEY"]
    me = owner_agent(tenant)
    now = datetime.now(UTC)
    short = jwt.encode(
        {"sub": me.user_id, "typ": "user", "iat": now, "exp": now + timedelta(seconds=2)},
        secret,
        algorithm="HS256",
    )
    with Socket(base_url) as sock:
        assert sock.auth(token=short)["type"] == "welcome"
        assert sock.expect("error", timeout=6)["code"] == "session_expired"
        refused = sock.call({"type": "presence", "status": "online"})
        assert refused["code"] == "unauthenticated"
        assert sock.auth(token=me.token)["type"] == "welcome"
        assert sock.call({"type": "presence", "status": "away"})["type"] == "ok"


def test_floods_are_limited_per_connection_and_per_customer(tenant: Tenant, base_url: str) -> None:
    channel = make_channel(tenant.client, messages_per_minute=12)
    sock, welcome = customer(base_url, channel)
    with sock:
        cid = sock.open()["id"]
        for i in range(15):
            sock.send(
                {
                    "type": "send",
                    "id": f"f{i}",
                    "conversation_id": cid,
                    "client_msg_id": f"flood-{i}",
                    "text": f"flood {i}",
                }
            )
        replies = [sock.reply(f"f{i}") for i in range(15)]
        acked = [r["client_msg_id"] for r in replies if r["type"] == "ack"]
        limited = [r for r in replies if r["type"] == "error"]
        assert limited and len(acked) + len(limited) == 15
        assert {r["code"] for r in limited} == {"rate_limited"}

        # Nothing acknowledged is lost; nothing refused was stored.
        stored = {m["client_msg_id"] for m in _history(tenant, cid)} - {None}
        assert stored == set(acked)

        # A second window of the same customer shares the customer's allowance (12/minute).
        time.sleep(1.1)
        other, _ = customer(base_url, channel, contact_token=welcome["contact_token"])
        with other:
            other.resume(cid)
            more = 0
            while (reply := other.say(cid, f"second window {more}"))["type"] == "ack":
                more += 1
                time.sleep(0.15)
            assert reply["code"] == "rate_limited"
            assert len(acked) + more == 12

        # Any frame counts towards the connection's frame rate; refusals name their frame.
        time.sleep(1.1)
        for i in range(40):
            sock.send({"type": "ping", "id": f"p{i}"})
        answers = [sock.reply(f"p{i}")["type"] for i in range(40)]
        assert "pong" in answers and "error" in answers
        assert set(answers) == {"pong", "error"}

        # Another customer of the same channel is not affected, and pings still answer.
        time.sleep(1.1)
        assert sock.call({"type": "ping"})["type"] == "pong"
    third, _ = customer(base_url, channel)
    with third:
        assert third.say(third.open()["id"], "unrelated")["type"] == "ack"


def test_html_and_script_are_stored_exactly_as_sent(tenant: Tenant, base_url: str) -> None:
    channel = make_channel(tenant.client)
    text = '<script>alert("x")</script><img src=x onerror=alert(1)> & <b>bold</b>'
    sock, _ = customer(base_url, channel)
    with sock:
        cid = sock.open()["id"]
        ack = sock.say(cid, text)
        assert ack["message"]["text"] == text
    stored = next(m for m in _history(tenant, cid) if m["seq"] == ack["seq"])
    assert stored["text"] == text


def test_a_customer_cannot_follow_or_write_to_another_customers_conversation(
    tenant: Tenant, base_url: str
) -> None:
    channel = make_channel(tenant.client)
    alice, _ = customer(base_url, channel)
    mallory, _ = customer(base_url, channel)
    with alice, mallory:
        cid = alice.open()["id"]
        alice.say(cid, "my address is secret")
        assert mallory.resume(cid)["code"] == "not_found"
        assert mallory.say(cid, "hijack")["code"] == "not_found"
        typing = mallory.call({"type": "typing", "conversation_id": cid})
        assert typing["code"] == "conflict"
        mallory.drain(0.3)
        assert not [f for f in mallory.received if f.get("type") == "message"]


def test_an_agent_cannot_follow_another_workspaces_conversation(
    tenant: Tenant, other_tenant: Tenant, base_url: str
) -> None:
    channel = make_channel(tenant.client)
    sock, _ = customer(base_url, channel)
    intruder = make_agent(other_tenant)
    with sock, Socket(base_url) as spy:
        cid = sock.open()["id"]
        spy.auth(token=intruder.token)
        assert spy.resume(cid)["code"] == "not_found"
        assert spy.say(cid, "hello from elsewhere")["code"] == "not_found"
        assert spy.call({"type": "read", "conversation_id": cid, "seq": 0})["code"] == "not_found"


def test_a_socket_that_never_authenticates_is_closed(base_url: str) -> None:
    with Socket(base_url) as sock:
        assert sock.call({"type": "ping"})["type"] == "pong"  # pings do not need a session
        error = sock.expect("error", timeout=15)
        assert error["code"] == "unauthenticated"
        with pytest.raises(ConnectionClosed) as closed:
            sock.ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_agents_see_each_others_presence(tenant: Tenant, base_url: str) -> None:
    watcher, colleague = make_agent(tenant), make_agent(tenant)
    with agent_socket(base_url, watcher) as console:
        with agent_socket(base_url, colleague, capacity=3):
            online = console.expect(
                lambda f: (
                    f.get("type") == "presence"
                    and f["user_id"] == colleague.user_id
                    and f["status"] == "online"
                )
            )
            assert online["online"] is True and online["capacity"] == 3
        # Their console closed: still "online" by choice, but not here, so not online.
        console.expect(
            lambda f: (
                f.get("type") == "presence"
                and f["user_id"] == colleague.user_id
                and f["status"] == "online"
                and f["online"] is False
            )
        )
