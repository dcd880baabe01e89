"""The answer path over the real API, index and model: decisions, sources, calibration."""

from __future__ import annotations

import random
import time
from typing import Any

import httpx
import pytest

from knowdesk.client import KnowdeskAPIError, KnowdeskClient
from knowdesk.retrieval.schemas import Decision
from tests.conftest import Tenant
from tests.kb.helpers import make_collection, wait_indexed

FAQ = [
    (
        "如何重置路由器密码？",
        ["路由器密码忘了怎么办", "怎么恢复路由器的默认密码"],
        "按住路由器背面的复位键 10 秒，再用底部标签上的默认密码登录。",
    ),
    ("退货政策是什么？", ["可以退货吗", "多少天内可以退货"], "收货后 30 天内可以无理由退货。"),
    ("保修期多长？", ["产品保修几年", "坏了可以保修吗"], "所有设备保修两年，人为损坏除外。"),
    (
        "How do I pair the camera with Wi-Fi?",
        ["camera won't connect to wifi", "connect cam to my router"],
        "Open the app, tap Add device, and hold the camera's button until the light blinks blue.",
    ),
    (
        "How long does shipping take?",
        ["when will my order arrive", "delivery time"],
        "Orders ship within 24 hours and arrive in 3 to 5 working days.",
    ),
    (
        "How do I update the firmware?",
        ["firmware upgrade", "install the latest firmware"],
        "Firmware updates install automatically at night; you can also start one in Settings.",
    ),
    (
        "How much does the Pro plan cost?",
        ["price of Pro subscription", "Pro plan fee"],
        "The Pro plan costs 5 dollars a month or 50 dollars a year.",
    ),
    (
        "怎么修改 App 登录密码？",
        ["忘记了 App 密码", "App 密码怎么改"],
        "在登录页点“忘记密码”，按短信验证码重设。",
    ),
]


def _import(tenant: Tenant) -> dict[str, str]:
    collection = make_collection(tenant.client, "FAQ")
    ids = {}
    for question, similar, answer in FAQ:
        r = tenant.client.post(
            "/api/v1/kb/faq",
            json={
                "collection_id": collection,
                "question": question,
                "similar": similar,
                "answer": answer,
                "publish": True,
            },
        )
        assert r.status_code == 201, r.text
        ids[question] = r.json()["id"]
    for entry_id in ids.values():
        assert wait_indexed(tenant.client, entry_id)["index_status"] == "done"
    return ids


def _wait_calibrated(client: httpx.Client, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get("/api/v1/retrieval/calibration").json()
        if body["calibrated"] and body["units"] >= len(FAQ) * 4:
            return dict(body)
        time.sleep(0.3)
    raise AssertionError("the workspace was not calibrated")


@pytest.fixture(scope="module")
def kb(base_url: str) -> tuple[Tenant, dict[str, str]]:
    from tests.conftest import _signup  # a module-scoped workspace

    tenant = _signup(base_url)
    ids = _import(tenant)
    _wait_calibrated(tenant.client)
    return tenant, ids


def ask(client: httpx.Client, question: str, **extra: Any) -> dict[str, Any]:
    r = client.post("/api/v1/ask", json={"question": question, **extra})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_paraphrases_find_their_entry(kb: tuple[Tenant, dict[str, str]]) -> None:
    tenant, ids = kb
    cases = {
        "路由器的密码不记得了": "如何重置路由器密码？",
        "my camera can't join the wifi network": "How do I pair the camera with Wi-Fi?",
        "how many days until my package is delivered": "How long does shipping take?",
    }
    for question, expected in cases.items():
        result = ask(tenant.client, question)
        assert result["decision"] in ("direct", "clarify"), result
        offered = [s["entry_id"] for s in result["sources"]] + [
            s["entry_id"] for s in result["suggestions"]
        ]
        assert ids[expected] in offered, (question, result)
        if result["decision"] == "direct":
            assert result["sources"][0]["entry_id"] == ids[expected]
            assert result["answer"] in [a for _, _, a in FAQ]


def test_an_asked_question_is_answered_directly_with_its_reviewed_answer(
    kb: tuple[Tenant, dict[str, str]],
) -> None:
    tenant, ids = kb
    result = ask(tenant.client, "How much does the Pro plan cost?")
    assert result["decision"] == "direct", result
    assert result["answer"] == "The Pro plan costs 5 dollars a month or 50 dollars a year."
    assert result["sources"][0]["entry_id"] == ids["How much does the Pro plan cost?"]
    assert result["scores"]["calibrated"] == 1.0


def test_out_of_scope_questions_are_not_answered(kb: tuple[Tenant, dict[str, str]]) -> None:
    tenant, _ = kb
    for question in [
        "明天北京会下雨吗",
        "Who won the football world cup in 2010?",
        "推荐一部好看的电影",
    ]:
        assert ask(tenant.client, question)["decision"] not in ("direct", "grounded"), question


def test_bad_questions_get_clear_errors_or_a_handoff(kb: tuple[Tenant, dict[str, str]]) -> None:
    tenant, _ = kb
    for bad in ["", "   \n\t "]:
        r = tenant.client.post("/api/v1/ask", json={"question": bad})
        assert r.status_code == 422 and "empty" in r.json()["error"]["message"]
    huge = tenant.client.post("/api/v1/ask", json={"question": "退货" * 50_000})
    assert huge.status_code == 422 and "longer" in huge.json()["error"]["message"]
    garbage = ask(tenant.client, "\x00\x01\x02 ### 123 \ufffd")
    assert garbage["decision"] == "handoff"
    unknown = ask(
        tenant.client, "退货政策", collection_ids=["00000000-0000-0000-0000-000000000000"]
    )
    assert unknown["decision"] == "handoff" and unknown["sources"] == []


def test_malformed_requests_are_refused_with_the_field_named(
    kb: tuple[Tenant, dict[str, str]],
) -> None:
    tenant, _ = kb
    for body, field in [
        ({"question": "a" * 100_000}, None),  # 100 kB, a valid string
        ({"question": 123}, "question"),
        ({"question": None}, "question"),
        ({}, "question"),
        ({"question": "退货", "collection_ids": ["not-a-uuid"]}, "collection_ids"),
        ({"question": "退货", "history": ["earlier"] * 21}, "history"),
    ]:
        r = tenant.client.post("/api/v1/ask", json=body)
        assert r.status_code == 422, (body, r.text)
        assert (field or "longer") in r.text
    binary = random.Random(3).randbytes(4096)
    r = tenant.client.post(
        "/api/v1/ask", content=binary, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and "parsing the body" in r.json()["error"]["message"]


def test_binary_garbage_is_never_answered(kb: tuple[Tenant, dict[str, str]]) -> None:
    tenant, _ = kb
    rng = random.Random(5)
    for encoding in ("latin-1", "utf-8"):  # letters of every kind, and U+FFFD
        question = rng.randbytes(500).decode(encoding, errors="replace")
        result = ask(tenant.client, question)
        assert result["decision"] in ("clarify", "handoff"), result


def test_collections_of_other_workspaces_find_nothing(
    kb: tuple[Tenant, dict[str, str]], other_tenant: Tenant
) -> None:
    tenant, _ = kb
    theirs = make_collection(other_tenant.client, "Theirs")
    result = ask(tenant.client, "How much does the Pro plan cost?", collection_ids=[theirs])
    assert result["decision"] == "handoff" and result["sources"] == []
    ours = tenant.client.get("/api/v1/kb/collections").json()[0]["id"]
    result = ask(other_tenant.client, "How much does the Pro plan cost?", collection_ids=[ours])
    assert result["decision"] == "handoff" and result["sources"] == []
    found = ask(tenant.client, "How much does the Pro plan cost?", collection_ids=[ours])
    assert found["decision"] == "direct"  # the same question, in the right workspace


def test_a_long_earlier_turn_does_not_break_a_follow_up(
    kb: tuple[Tenant, dict[str, str]],
) -> None:
    tenant, ids = kb
    pasted = "我上周买的东西有问题。" * 5_000 + "我想问一下退货的事情"
    result = ask(tenant.client, "那要多久？", history=[pasted])
    assert len(result["resolved_question"]) <= 2000
    assert result["resolved_question"].endswith("我想问一下退货的事情 那要多久？")


def test_follow_up_is_resolved_with_the_conversation(kb: tuple[Tenant, dict[str, str]]) -> None:
    tenant, ids = kb
    result = ask(tenant.client, "那要多久？", history=["我想问一下退货的事情"])
    offered = [s["entry_id"] for s in result["sources"]] + [
        s["entry_id"] for s in result["suggestions"]
    ]
    assert ids["退货政策是什么？"] in offered, result
    assert "退货" in result["resolved_question"]


def test_the_python_client_asks_with_history_collections_and_explanation(
    kb: tuple[Tenant, dict[str, str]], base_url: str
) -> None:
    tenant, ids = kb
    token = tenant.client.headers["Authorization"].removeprefix("Bearer ")
    pro = ids["How much does the Pro plan cost?"]
    with KnowdeskClient(base_url, token=token) as kd:
        (collection,) = kd.kb.list_collections()
        result = kd.answers.ask("How much does the Pro plan cost?", collection_ids=[collection.id])
        assert result.decision == Decision.DIRECT and str(result.sources[0].entry_id) == pro
        assert result.ranking is None and "ranking" not in result.model_dump(mode="json")

        explained = kd.answers.ask("How much does the Pro plan cost?", explain=True)
        assert explained.ranking is not None and 1 <= len(explained.ranking) <= 10
        assert str(explained.ranking[0].entry_id) == pro
        assert [r.score for r in explained.ranking] == sorted(
            (r.score for r in explained.ranking), reverse=True
        )

        follow_up = kd.answers.ask("那要多久？", history=["我想问一下退货的事情"])
        assert "退货" in follow_up.resolved_question

        calibration = kd.answers.calibration()
        assert calibration.calibrated and calibration.units >= len(FAQ) * 4
        with pytest.raises(KnowdeskAPIError) as refused:
            kd.answers.ask(" \n ")
        assert refused.value.status == 422 and "empty" in refused.value.message


def test_unpublished_and_other_workspaces_content_never_answers(
    kb: tuple[Tenant, dict[str, str]], other_tenant: Tenant
) -> None:
    tenant, ids = kb
    assert ask(other_tenant.client, "How much does the Pro plan cost?")["decision"] == "handoff"
    entry = ids["How much does the Pro plan cost?"]
    r = tenant.client.patch(
        f"/api/v1/kb/entries/{entry}", json={"expected_version": 1, "answer": "DRAFT PRICE"}
    )
    assert r.status_code == 200
    result = ask(tenant.client, "How much does the Pro plan cost?")
    assert "DRAFT" not in (result["answer"] or "")
    assert all("DRAFT" not in s["text"] for s in result["sources"])
