"""Small steps that KB tests share: make a collection, an entry, wait for the indexer."""

from __future__ import annotations

import time
from typing import Any

import httpx


def make_collection(client: httpx.Client, name: str = "Manuals") -> str:
    r = client.post("/api/v1/kb/collections", json={"name": name})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def make_faq(client: httpx.Client, collection_id: str, **fields: Any) -> dict[str, Any]:
    body = {
        "collection_id": collection_id,
        "question": "如何重置路由器密码？",
        "similar": ["路由器密码忘了怎么办", "How do I reset the router password?"],
        "answer": "按住复位键 10 秒，然后用默认密码 admin 登录。",
        **fields,
    }
    r = client.post("/api/v1/kb/faq", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def wait_indexed(client: httpx.Client, entry_id: str, timeout: float = 120) -> dict[str, Any]:
    """Poll the entry until its indexing job has finished (done or failed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entry = client.get(f"/api/v1/kb/entries/{entry_id}").json()
        if entry["index_status"] in ("done", "failed"):
            return dict(entry)
        time.sleep(0.2)
    raise AssertionError(f"entry {entry_id} was not indexed within {timeout} s")
