"""Chat over REST: channels, teams, agents, contacts, conversations and the widget's endpoints,
and, for every route, that another workspace can neither read nor change the data."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.chat.helpers import (
    Agent,
    Frame,
    customer,
    make_agent,
    make_channel,
    make_team,
)
from tests.conftest import Tenant

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def widget(base_url: str, channel: Frame, contact_token: str | None = None) -> httpx.Client:
    headers = {"X-Widget-Token": channel["widget_token"]}
    if contact_token:
        headers["X-Contact-Token"] = contact_token
    return httpx.Client(base_url=base_url, headers=headers, timeout=30)


def widget_session(base_url: str, channel: Frame, **body: Any) -> tuple[httpx.Client, Frame]:
    """A customer's chat window over REST: signed in, with its contact token."""
    r = widget(base_url, channel).post("/api/v1/widget/session", json=body)
    assert r.status_code == 200, r.text
    session = r.json()
    return widget(base_url, channel, session["contact_token"]), dict(session)


def test_channels_are_managed_by_owners_and_rotation_retires_the_old_token(
    tenant: Tenant, base_url: str
) -> None:
    agent = make_agent(tenant)
    r = agent.client.post("/api/v1/chat/channels", json={"name": "nope"})
    assert r.status_code == 403
    channel = make_channel(tenant.client, welcome_message="Hi! 你好！", messages_per_minute=20)
    assert channel["identity_secret"] and channel["widget_token"].startswith("wt_")

    listed = agent.client.get("/api/v1/chat/channels").json()
    assert [c["id"] for c in listed] == [channel["id"]]
    assert "identity_secret" not in listed[0]
    assert agent.client.get(f"/api/v1/chat/channels/{channel['id']}/secrets").status_code == 403

    r = tenant.client.patch(
        f"/api/v1/chat/channels/{channel['id']}",
        json={
            "business_hours": {"timezone": "Asia/Shanghai", "weekly": {"mon": [["09:00", "18:00"]]}}
        },
    )
    assert r.status_code == 200 and r.json()["business_hours"]["weekly"]["mon"] == [
        ["09:00", "18:00"]
    ]
    bad = tenant.client.patch(
        f"/api/v1/chat/channels/{channel['id']}",
        json={"business_hours": {"timezone": "Nowhere/Land", "weekly": {}}},
    )
    assert bad.status_code == 422

    rotated = tenant.client.post(f"/api/v1/chat/channels/{channel['id']}/rotate").json()
    assert rotated["widget_token"] != channel["widget_token"]
    assert rotated["identity_secret"] != channel["identity_secret"]
    old = widget(base_url, channel).post("/api/v1/widget/session", json={})
    assert old.status_code == 401
    assert widget(base_url, rotated).post("/api/v1/widget/session", json={}).status_code == 200


def test_teams_take_only_the_workspaces_agents(tenant: Tenant, other_tenant: Tenant) -> None:
    agent = make_agent(tenant)
    stranger = make_agent(other_tenant)
    team = make_team(tenant.client, [agent])
    assert team["member_ids"] == [agent.user_id]
    duplicate = tenant.client.post("/api/v1/chat/teams", json={"name": team["name"]})
    assert duplicate.status_code == 409
    r = tenant.client.patch(
        f"/api/v1/chat/teams/{team['id']}", json={"member_ids": [stranger.user_id]}
    )
    assert r.status_code == 422
    r = tenant.client.patch(
        f"/api/v1/chat/teams/{team['id']}", json={"routing": "least_busy", "member_ids": []}
    )
    assert r.status_code == 200 and r.json()["routing"] == "least_busy"
    assert r.json()["member_ids"] == []


def test_presence_over_rest(tenant: Tenant) -> None:
    agent = make_agent(tenant)
    r = agent.client.put(
        "/api/v1/chat/agents/me/presence", json={"status": "online", "capacity": 3}
    )
    assert r.status_code == 200, r.text
    assert r.json()["online"] is True and r.json()["capacity"] == 3
    r = agent.client.put("/api/v1/chat/agents/me/presence", json={"status": "away"})
    assert r.json()["online"] is False and r.json()["status"] == "away"


def test_a_signed_identity_finds_the_same_customer_everywhere(
    tenant: Tenant, base_url: str
) -> None:
    channel = make_channel(tenant.client)
    external_id = f"user-{uuid.uuid4().hex[:6]}"
    signature = hmac.new(
        channel["identity_secret"].encode(), external_id.encode(), hashlib.sha256
    ).hexdigest()
    identity = {
        "external_id": external_id,
        "signature": signature,
        "name": "Li Lei",
        "attributes": {"plan": "pro"},
    }
    _, session = widget_session(base_url, channel, identity=identity)
    sock, welcome = customer(base_url, channel, identity=identity)
    sock.close()
    assert welcome["contact_id"] == session["contact_id"]

    forged = widget(base_url, channel).post(
        "/api/v1/widget/session", json={"identity": {**identity, "signature": "0" * 64}}
    )
    assert forged.status_code == 401

    r = tenant.client.post(
        "/api/v1/chat/contacts",
        json={"external_id": external_id, "email": "li@example.com", "attributes": {"vip": True}},
    )
    assert r.status_code == 200
    contact = r.json()
    assert contact["id"] == session["contact_id"]
    assert contact["attributes"] == {"plan": "pro", "vip": True}
    assert contact["name"] == "Li Lei" and contact["email"] == "li@example.com"
    found = tenant.client.get("/api/v1/chat/contacts", params={"q": "li lei"}).json()
    assert [c["id"] for c in found] == [contact["id"]]
    r = tenant.client.patch(f"/api/v1/chat/contacts/{contact['id']}", json={"name": "李雷"})
    assert r.json()["name"] == "李雷"


def signed(channel: Frame, external_id: str) -> dict[str, str]:
    signature = hmac.new(
        channel["identity_secret"].encode(), external_id.encode(), hashlib.sha256
    ).hexdigest()
    return {"external_id": external_id, "signature": signature}


def test_a_visitor_who_signs_in_keeps_the_conversations_of_before(
    tenant: Tenant, base_url: str
) -> None:
    channel = make_channel(tenant.client)
    visitor, anonymous = widget_session(base_url, channel)
    cid = visitor.post("/api/v1/widget/conversations").json()["id"]
    said = {"client_msg_id": "v-1", "text": "Is the Hub compatible with Matter?"}
    assert visitor.post(f"/api/v1/widget/conversations/{cid}/messages", json=said).is_success
    made = visitor.post("/api/v1/widget/tickets", json={"subject": "Matter", "description": "?"})
    assert made.status_code == 201, made.text
    tid = made.json()["id"]
    replied = visitor.post(f"/api/v1/widget/tickets/{tid}/replies", json={"body": "Any news?"})
    assert replied.status_code == 201, replied.text

    user = signed(channel, f"user-{uuid.uuid4().hex[:6]}")
    _, customer = widget_session(
        base_url, channel, identity=user, contact_token=anonymous["contact_token"]
    )
    assert customer["contact_id"] != anonymous["contact_id"]
    assert [c["id"] for c in customer["conversations"]] == [cid]
    history = tenant.client.get(f"/api/v1/chat/contacts/{customer['contact_id']}/conversations")
    assert [c["id"] for c in history.json()] == [cid]
    ticket = tenant.client.get(f"/api/v1/tickets/{tid}").json()
    assert ticket["requester_id"] == customer["contact_id"]
    authors = [c["author_contact_id"] for c in ticket["comments"] if c["author_kind"] == "contact"]
    assert authors and set(authors) == {customer["contact_id"]}
    # The anonymous contact is gone with its token.
    gone = widget(base_url, channel, anonymous["contact_token"]).get("/api/v1/widget/tickets")
    assert gone.status_code == 401
    assert tenant.client.get(f"/api/v1/chat/contacts/{anonymous['contact_id']}").status_code == 404

    # Someone else signing in on the same browser does not take the first customer's history.
    other = signed(channel, f"user-{uuid.uuid4().hex[:6]}")
    _, second = widget_session(
        base_url, channel, identity=other, contact_token=customer["contact_token"]
    )
    assert second["conversations"] == []
    again = widget_session(base_url, channel, identity=user)[1]
    assert [c["id"] for c in again["conversations"]] == [cid]


def test_the_widget_over_rest(tenant: Tenant, base_url: str) -> None:
    channel = make_channel(tenant.client, welcome_message="Hi! How can I help?")
    client, session = widget_session(base_url, channel)
    assert session["channel"]["open_now"] is True
    assert session["conversations"] == []
    conversation = client.post("/api/v1/widget/conversations").json()
    assert client.post("/api/v1/widget/conversations").json()["id"] == conversation["id"]
    cid = conversation["id"]

    body = {"client_msg_id": "w-1", "text": "<b>hello</b>"}
    first = client.post(f"/api/v1/widget/conversations/{cid}/messages", json=body)
    assert first.status_code == 201 and first.json()["duplicate"] is False
    retry = client.post(f"/api/v1/widget/conversations/{cid}/messages", json=body)
    assert retry.status_code == 200 and retry.json()["duplicate"] is True
    assert retry.json()["message"]["seq"] == first.json()["message"]["seq"]

    messages = client.get(f"/api/v1/widget/conversations/{cid}/messages").json()
    assert messages[0]["sender_kind"] == "bot" and messages[0]["text"] == "Hi! How can I help?"
    assert [m["text"] for m in messages if m["sender_kind"] == "contact"] == ["<b>hello</b>"]
    after = client.get(
        f"/api/v1/widget/conversations/{cid}/messages", params={"after_seq": messages[-1]["seq"]}
    )
    assert after.json() == []

    assert (
        client.post(f"/api/v1/widget/conversations/{cid}/read", json={"seq": 1}).status_code == 204
    )
    assert client.post(f"/api/v1/widget/conversations/{cid}/typing", json={}).status_code == 204
    rated = client.post(
        f"/api/v1/widget/conversations/{cid}/messages/1/rating", json={"rating": "helpful"}
    )
    assert rated.status_code == 200 and rated.json()["rating"] == "helpful"
    own = first.json()["message"]["seq"]
    not_bot = client.post(
        f"/api/v1/widget/conversations/{cid}/messages/{own}/rating", json={"rating": "helpful"}
    )
    assert not_bot.status_code == 404
    history = tenant.client.get(f"/api/v1/chat/conversations/{cid}/messages").json()
    assert history[0]["rating"] == "helpful"

    no_token = widget(base_url, channel).get(f"/api/v1/widget/conversations/{cid}/messages")
    assert no_token.status_code == 422  # the contact token header is required


def test_rest_sends_are_rate_limited_per_customer(tenant: Tenant, base_url: str) -> None:
    channel = make_channel(tenant.client, messages_per_minute=3)
    client, _ = widget_session(base_url, channel)
    cid = client.post("/api/v1/widget/conversations").json()["id"]
    codes = [
        client.post(
            f"/api/v1/widget/conversations/{cid}/messages",
            json={"client_msg_id": f"r-{i}", "text": "again"},
        ).status_code
        for i in range(4)
    ]
    assert codes == [201, 201, 201, 429]


def test_attachments_are_checked_by_content_and_size(tenant: Tenant, base_url: str) -> None:
    channel = make_channel(tenant.client)
    client, session = widget_session(base_url, channel)
    upload = client.post("/api/v1/widget/attachments", files={"file": ("shot.png", PNG)})
    assert upload.status_code == 201 and upload.json()["content_type"] == "image/png"
    html = client.post(
        "/api/v1/widget/attachments",
        files={"file": ("cat.png", b"<html><script>alert(1)</script></html>", "image/png")},
    )
    assert html.status_code == 415
    program = client.post("/api/v1/widget/attachments", files={"file": ("a.exe", b"MZ\x90\x00")})
    assert program.status_code == 415
    huge = client.post(
        "/api/v1/widget/attachments", files={"file": ("big.txt", b"a" * (10 * 1024 * 1024 + 1))}
    )
    assert huge.status_code == 413

    sock, _ = customer(base_url, channel, contact_token=session["contact_token"])
    with sock:
        cid = sock.open()["id"]
        ref = uuid.uuid4().hex[:8]
        sock.send(
            {
                "type": "send",
                "id": ref,
                "conversation_id": cid,
                "client_msg_id": "with-file",
                "text": "see the screenshot",
                "attachment_ids": [upload.json()["id"]],
            }
        )
        ack = sock.reply(ref)
        assert ack["type"] == "ack"
        assert ack["message"]["attachments"][0]["content_type"] == "image/png"
        unknown = sock.call(
            {
                "type": "send",
                "conversation_id": cid,
                "client_msg_id": "bad-file",
                "text": "x",
                "attachment_ids": [str(uuid.uuid4())],
            }
        )
        assert unknown["code"] == "not_found"
        assert sock.call({"type": "ping"})["type"] == "pong"

    download = tenant.client.get(f"/api/v1/chat/attachments/{upload.json()['id']}")
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment")
    mine = client.get(f"/api/v1/widget/attachments/{upload.json()['id']}")
    assert mine.status_code == 200
    someone_else, _ = widget_session(base_url, channel)
    assert someone_else.get(f"/api/v1/widget/attachments/{upload.json()['id']}").status_code == 404


def test_listing_conversations_by_state_assignee_and_tag(tenant: Tenant, base_url: str) -> None:
    channel = make_channel(tenant.client)
    sock, welcome = customer(base_url, channel)
    with sock:
        cid = sock.open()["id"]
        sock.say(cid, "hello")
        sock.message_with(cid, lambda m: m["meta"].get("event") == "handoff")
    queued = tenant.client.get("/api/v1/chat/conversations", params={"state": "queued"}).json()
    assert cid in [c["id"] for c in queued]
    assert (
        tenant.client.post(f"/api/v1/chat/conversations/{cid}/assign", json={}).status_code == 200
    )
    mine = tenant.client.get("/api/v1/chat/conversations", params={"assignee": "me"}).json()
    assert [c["id"] for c in mine] == [cid]
    r = tenant.client.patch(f"/api/v1/chat/conversations/{cid}", json={"tags": ["refund", "vip"]})
    assert r.status_code == 200 and r.json()["tags"] == ["refund", "vip"]
    tagged = tenant.client.get("/api/v1/chat/conversations", params={"tag": "refund"}).json()
    assert [c["id"] for c in tagged] == [cid]
    by_contact = tenant.client.get(
        f"/api/v1/chat/contacts/{welcome['contact_id']}/conversations"
    ).json()
    assert [c["id"] for c in by_contact] == [cid]
    detail = tenant.client.get(f"/api/v1/chat/conversations/{cid}").json()
    assert detail["contact"]["id"] == welcome["contact_id"]
    assert {p["kind"] for p in detail["participants"]} == {"contact", "bot", "agent"}
    bad = tenant.client.get("/api/v1/chat/conversations", params={"assignee": "someone"})
    assert bad.status_code == 422


# -- tenancy: every route, from another workspace ------------------------------------------


@dataclass
class Workspace:
    """A workspace with one of everything chat stores."""

    tenant: Tenant
    agent: Agent
    channel: Frame
    team: Frame
    contact_id: str
    contact_token: str
    conversation_id: str
    attachment_id: str


@pytest.fixture
def populated(tenant: Tenant, base_url: str) -> Workspace:
    agent = make_agent(tenant)
    team = make_team(tenant.client, [agent])
    channel = make_channel(tenant.client, team_id=team["id"], welcome_message="Hi")
    client, session = widget_session(base_url, channel)
    cid = client.post("/api/v1/widget/conversations").json()["id"]
    attachment = client.post("/api/v1/widget/attachments", files={"file": ("a.png", PNG)}).json()
    r = client.post(
        f"/api/v1/widget/conversations/{cid}/messages",
        json={"client_msg_id": "t-1", "text": "private", "attachment_ids": [attachment["id"]]},
    )
    assert r.status_code == 201, r.text
    return Workspace(
        tenant,
        agent,
        channel,
        team,
        session["contact_id"],
        session["contact_token"],
        cid,
        attachment["id"],
    )


def _routes(w: Workspace) -> list[tuple[str, str, dict[str, Any] | None]]:
    c, ch = w.conversation_id, w.channel["id"]
    return [
        ("GET", f"/api/v1/chat/channels/{ch}", None),
        ("GET", f"/api/v1/chat/channels/{ch}/secrets", None),
        ("PATCH", f"/api/v1/chat/channels/{ch}", {"name": "taken"}),
        ("POST", f"/api/v1/chat/channels/{ch}/rotate", None),
        ("PATCH", f"/api/v1/chat/teams/{w.team['id']}", {"name": "taken"}),
        ("GET", f"/api/v1/chat/contacts/{w.contact_id}", None),
        ("PATCH", f"/api/v1/chat/contacts/{w.contact_id}", {"name": "taken"}),
        ("GET", f"/api/v1/chat/contacts/{w.contact_id}/conversations", None),
        ("GET", f"/api/v1/chat/conversations/{c}", None),
        ("PATCH", f"/api/v1/chat/conversations/{c}", {"tags": ["taken"]}),
        ("GET", f"/api/v1/chat/conversations/{c}/messages", None),
        ("POST", f"/api/v1/chat/conversations/{c}/messages", {"text": "intrude"}),
        ("POST", f"/api/v1/chat/conversations/{c}/read", {"seq": 1}),
        ("POST", f"/api/v1/chat/conversations/{c}/typing", {"typing": True}),
        ("POST", f"/api/v1/chat/conversations/{c}/assign", {}),
        ("POST", f"/api/v1/chat/conversations/{c}/handback", None),
        ("POST", f"/api/v1/chat/conversations/{c}/resolve", None),
        ("GET", f"/api/v1/chat/attachments/{w.attachment_id}", None),
    ]


def test_another_workspace_cannot_read_or_change_chat_data(
    populated: Workspace, other_tenant: Tenant
) -> None:
    w = populated
    for method, path, body in _routes(w):
        r = other_tenant.client.request(method, path, json=body)
        assert r.status_code == 404, (method, path, r.status_code, r.text)

    outsider = other_tenant.client
    assert outsider.get("/api/v1/chat/channels").json() == []
    assert outsider.get("/api/v1/chat/teams").json() == []
    assert outsider.get("/api/v1/chat/contacts").json() == []
    assert outsider.get("/api/v1/chat/conversations").json() == []
    agents = [a["user_id"] for a in outsider.get("/api/v1/chat/agents").json()]
    assert w.agent.user_id not in agents
    # Their references are unknown here too.
    r = outsider.post("/api/v1/chat/channels", json={"name": "x", "team_id": w.team["id"]})
    assert r.status_code == 404
    r = outsider.post("/api/v1/chat/teams", json={"name": "x", "member_ids": [w.agent.user_id]})
    assert r.status_code == 422
    upserted = outsider.post("/api/v1/chat/contacts", json={"external_id": "same-id"}).json()
    theirs = w.tenant.client.post("/api/v1/chat/contacts", json={"external_id": "same-id"}).json()
    assert upserted["id"] != theirs["id"]

    # Nothing changed for the owner.
    owner = w.tenant.client
    conversation = owner.get(f"/api/v1/chat/conversations/{w.conversation_id}").json()
    assert conversation["state"] == "queued" and conversation["assignee_id"] is None
    assert conversation["tags"] == []
    assert owner.get(f"/api/v1/chat/channels/{w.channel['id']}").json()["name"] == w.channel["name"]
    texts = [
        m["text"]
        for m in owner.get(f"/api/v1/chat/conversations/{w.conversation_id}/messages").json()
    ]
    assert "intrude" not in texts


def test_another_workspaces_chat_window_cannot_reach_the_conversation(
    populated: Workspace, other_tenant: Tenant, base_url: str
) -> None:
    w = populated
    elsewhere = make_channel(other_tenant.client)
    client, _ = widget_session(base_url, elsewhere)
    c = w.conversation_id
    for method, path, body in [
        ("GET", f"/api/v1/widget/conversations/{c}/messages", None),
        ("POST", f"/api/v1/widget/conversations/{c}/messages", {"client_msg_id": "x", "text": "x"}),
        ("POST", f"/api/v1/widget/conversations/{c}/read", {"seq": 1}),
        ("POST", f"/api/v1/widget/conversations/{c}/typing", {}),
        ("POST", f"/api/v1/widget/conversations/{c}/messages/1/rating", {"rating": "helpful"}),
        ("GET", f"/api/v1/widget/attachments/{w.attachment_id}", None),
    ]:
        r = client.request(method, path, json=body)
        assert r.status_code == 404, (method, path, r.status_code, r.text)

    # The workspace's own contact token does not work with another channel's widget token.
    mixed = widget(base_url, elsewhere, w.contact_token)
    assert mixed.get(f"/api/v1/widget/conversations/{c}/messages").status_code == 401
    mixed_session = widget(base_url, elsewhere).post(
        "/api/v1/widget/session", json={"contact_token": w.contact_token}
    )
    assert mixed_session.status_code == 401
    # Nor does a second customer of the same channel see the first one's conversation.
    neighbour, _ = widget_session(base_url, w.channel)
    assert neighbour.get(f"/api/v1/widget/conversations/{c}/messages").status_code == 404
