"""A workspace with a small, indexed and calibrated knowledge base, for the bot's tests."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from tests.conftest import Tenant, _signup
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


@dataclass
class BotKb:
    tenant: Tenant
    entry_ids: dict[str, str]  # question -> entry id


@pytest.fixture(scope="session")
def bot_kb(base_url: str) -> BotKb:
    """Published FAQ entries, indexed, and the workspace calibrated so the bot may answer."""
    tenant = _signup(base_url)
    collection = make_collection(tenant.client, "FAQ")
    ids = {}
    for question, similar, answer in FAQ:
        body = {
            "collection_id": collection,
            "question": question,
            "similar": similar,
            "answer": answer,
            "publish": True,
        }
        r = tenant.client.post("/api/v1/kb/faq", json=body)
        assert r.status_code == 201, r.text
        ids[question] = r.json()["id"]
    for entry_id in ids.values():
        assert wait_indexed(tenant.client, entry_id)["index_status"] == "done"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = tenant.client.get("/api/v1/retrieval/calibration").json()
        if state["calibrated"] and state["units"] >= len(FAQ) * 4:
            return BotKb(tenant, ids)
        time.sleep(0.3)
    raise AssertionError("the workspace was not calibrated")
