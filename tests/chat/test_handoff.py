"""Hand-off to people: asking for a person, the team queue, routing by capacity and presence,
agents' replies, handing back to the bot, resolving, and business hours."""

from __future__ import annotations

import pytest

from tests.chat.helpers import (
    agent_socket,
    ask_for_a_person,
    conversation,
    customer,
    make_agent,
    make_channel,
    make_team,
    wait_for,
)
from tests.conftest import Tenant


@pytest.mark.parametrize(
    ("text", "notice"),
    [
        ("转人工", "正在为您转接人工客服，请稍候。"),
        ("人工客服在吗？", "正在为您转接人工客服，请稍候。"),
        ("Can I talk to a human please", "Connecting you to a person. Please wait a moment."),
    ],
)
def test_asking_for_a_person_hands_off_at_once(
    tenant: Tenant, base_url: str, text: str, notice: str
) -> None:
    channel = make_channel(tenant.client, bot_enabled=True)
    sock, cid = ask_for_a_person(base_url, channel, text)
    with sock:
        handoff = next(m for m in sock.messages(cid) if m["meta"].get("event") == "handoff")
        assert handoff["sender_kind"] == "system"
        assert handoff["meta"]["reason"] == "customer_asked"  # not the bot's verdict
        assert handoff["text"] == notice
        state = sock.expect(lambda f: f.get("type") == "conversation")["conversation"]
        assert state["state"] == "queued"
    assert conversation(tenant.client, cid)["state"] == "queued"


def test_routing_respects_presence_and_capacity(tenant: Tenant, base_url: str) -> None:
    a, b, away, gone = (make_agent(tenant) for _ in range(4))
    team = make_team(tenant.client, [a, b, away, gone], routing="least_busy")
    channel = make_channel(tenant.client, team_id=team["id"])
    gone_sock = agent_socket(base_url, gone)
    gone_sock.close()  # chose online, but no console open any more
    with (
        agent_socket(base_url, a, capacity=1),
        agent_socket(base_url, b, capacity=1),
        agent_socket(base_url, away, status="away"),
    ):
        online = {x["user_id"]: x["online"] for x in a.client.get("/api/v1/chat/agents").json()}
        assert wait_for(lambda: not _online(tenant, gone.user_id))
        assert online[a.user_id] and online[b.user_id] and not online[away.user_id]

        chats = [ask_for_a_person(base_url, channel) for _ in range(3)]
        states = [conversation(tenant.client, cid) for _, cid in chats]
        assignees = [s["assignee_id"] for s in states]
        assert sorted(assignees[:2]) == sorted([a.user_id, b.user_id])
        assert states[2]["state"] == "queued" and assignees[2] is None  # both are full
        assert all(s["team_id"] == team["id"] for s in states)

        # a resolves their chat: the waiting one goes to a at once.
        a_chat = chats[assignees.index(a.user_id)][1]
        assert a.client.post(f"/api/v1/chat/conversations/{a_chat}/resolve").status_code == 200
        waiting = conversation(tenant.client, chats[2][1])
        assert waiting["state"] == "assigned" and waiting["assignee_id"] == a.user_id
        for sock, _ in chats:
            sock.close()


def _online(tenant: Tenant, user_id: str) -> bool:
    agents = tenant.client.get("/api/v1/chat/agents").json()
    return bool(next(x for x in agents if x["user_id"] == user_id)["online"])


def test_round_robin_takes_turns(tenant: Tenant, base_url: str) -> None:
    a, b = make_agent(tenant), make_agent(tenant)
    team = make_team(tenant.client, [a, b], routing="round_robin")
    channel = make_channel(tenant.client, team_id=team["id"])
    with agent_socket(base_url, a), agent_socket(base_url, b):
        chats = [ask_for_a_person(base_url, channel) for _ in range(4)]
        assignees = [conversation(tenant.client, cid)["assignee_id"] for _, cid in chats]
        assert assignees[0] != assignees[1]
        assert assignees == [assignees[0], assignees[1]] * 2
        for sock, _ in chats:
            sock.close()


def test_least_busy_prefers_the_agent_with_fewer_chats(tenant: Tenant, base_url: str) -> None:
    busy, idle = make_agent(tenant), make_agent(tenant)
    team = make_team(tenant.client, [busy, idle], routing="least_busy")
    channel = make_channel(tenant.client, team_id=team["id"])
    with agent_socket(base_url, busy), agent_socket(base_url, idle, status="away"):
        first = [ask_for_a_person(base_url, channel) for _ in range(2)]
        assert {conversation(tenant.client, c)["assignee_id"] for _, c in first} == {busy.user_id}
        with agent_socket(base_url, idle):
            later = [ask_for_a_person(base_url, channel) for _ in range(2)]
            got = [conversation(tenant.client, c)["assignee_id"] for _, c in later]
            assert got == [idle.user_id, idle.user_id]  # 0 and 1 open chats against 2
        for sock, _ in first + later:
            sock.close()


def test_the_agent_sees_the_history_and_the_reply_reaches_the_customer(
    tenant: Tenant, base_url: str
) -> None:
    agent = make_agent(tenant)
    channel = make_channel(tenant.client, team_id=make_team(tenant.client, [agent])["id"])
    with agent_socket(base_url, agent) as console:
        sock, _ = customer(base_url, channel)
        with sock:
            cid = sock.open()["id"]
            sock.say(cid, "My order 1234 is late")
            sock.message_with(cid, lambda m: m["meta"].get("event") == "handoff")
            # (the bot is off on this channel, so the first message went to people)
            update = console.expect(
                lambda f: (
                    f.get("type") == "conversation"
                    and f["conversation"]["id"] == cid
                    and f["conversation"]["state"] == "assigned"
                )
            )
            assert update["conversation"]["assignee_id"] == agent.user_id
            assert console.resume(cid)["type"] == "resumed"
            history = [m["text"] for m in console.messages(cid)]
            assert history[0] == "My order 1234 is late"

            reply = console.say(cid, "Let me check that for you.")
            assert reply["type"] == "ack"
            seen = sock.message_with(cid, lambda m: m["sender_kind"] == "agent")
            assert seen["text"] == "Let me check that for you."
            assert seen["sender_id"] == agent.user_id and seen["sender_name"] == agent.name

            # Only the assignee replies.
            r = tenant.client.post(
                f"/api/v1/chat/conversations/{cid}/messages", json={"text": "me too"}
            )
            assert r.status_code == 409


def test_hand_back_to_the_bot_then_resolve(tenant: Tenant, base_url: str) -> None:
    agent = make_agent(tenant)
    channel = make_channel(tenant.client, team_id=make_team(tenant.client, [agent])["id"])
    with agent_socket(base_url, agent):
        sock, cid = ask_for_a_person(base_url, channel, "talk to a human")
        with sock:
            assert conversation(tenant.client, cid)["assignee_id"] == agent.user_id
            r = agent.client.post(f"/api/v1/chat/conversations/{cid}/handback")
            assert r.status_code == 200 and r.json()["state"] == "bot"
            back = sock.message_with(cid, lambda m: m["meta"].get("event") == "handback")
            assert back["text"] == "You are back with the assistant. Ask away."
            assert conversation(tenant.client, cid)["assignee_id"] is None
            again = agent.client.post(f"/api/v1/chat/conversations/{cid}/handback")
            assert again.status_code == 409

            r = agent.client.post(f"/api/v1/chat/conversations/{cid}/resolve")
            assert r.status_code == 200 and r.json()["state"] == "resolved"
            sock.message_with(cid, lambda m: m["meta"].get("event") == "resolved")
            late = sock.say(cid, "one more thing")
            assert late["type"] == "error" and late["code"] == "conflict"
            assert sock.open()["id"] != cid  # a new conversation


def test_outside_business_hours_the_customer_is_told_and_the_chat_waits(
    tenant: Tenant, base_url: str
) -> None:
    agent = make_agent(tenant)
    team = make_team(tenant.client, [agent])
    never_open = {"timezone": "Asia/Shanghai", "weekly": {}}
    channel = make_channel(tenant.client, team_id=team["id"], business_hours=never_open)
    with agent_socket(base_url, agent) as console:
        sock, cid = ask_for_a_person(base_url, channel, "转人工")
        with sock:
            told = next(m for m in sock.messages(cid) if m["meta"].get("event") == "handoff")
            assert told["meta"]["open"] is False
            assert told["text"].startswith("现在是非工作时间")
            kept = conversation(tenant.client, cid)
            assert kept["state"] == "queued" and kept["team_id"] == team["id"]
            assert kept["assignee_id"] is None  # even though the agent is online
            # Nobody could take it, so it must not get lost: it became a ticket.
            tickets = tenant.client.get("/api/v1/tickets").json()
            assert len(tickets) == 1, tickets
            detail = tenant.client.get(f"/api/v1/tickets/{tickets[0]['id']}").json()
            assert cid in detail["conversation_ids"]

            # Hours begin (here: the schedule is lifted); the next routing round assigns it.
            r = tenant.client.patch(
                f"/api/v1/chat/channels/{channel['id']}", json={"business_hours": None}
            )
            assert r.status_code == 200 and r.json()["business_hours"] is None
            assert console.call({"type": "presence", "status": "online"})["type"] == "ok"
            assert conversation(tenant.client, cid)["assignee_id"] == agent.user_id
