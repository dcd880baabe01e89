"""Tenancy of the knowledge base: through every KB route (and the audit log), the owner of one
workspace can neither see nor change another workspace's collections, categories, entries,
versions, index units or audit events, and cannot even learn that they exist: a foreign id
answers exactly like an id that exists nowhere (404, never 403).

`CHECKS` holds one check per route; `test_every_kb_route_has_a_tenancy_check` fails when the
server serves a KB route that has none, so a new route cannot be forgotten.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi.routing import APIRoute

from knowdesk.audit.endpoints import router as audit_router
from knowdesk.kb.endpoints import router as kb_router
from tests.conftest import Tenant
from tests.kb.helpers import make_collection, make_faq, wait_indexed

KB = "/api/v1/kb"
TENANT_SCOPED_PREFIXES = (KB, "/api/v1/audit")
SECRET = "secret-7f3a9c"  # in the victim's content only: it must never reach the intruder
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HANDBOOK = f"# 会员手册\n\n## 积分\n\n每消费 1 元积 1 分。{SECRET}\n".encode()
FAQ_FILE = b'{"id": "x-1", "question": "How do I log in?", "answer": "With your email."}\n'


@dataclass(frozen=True)
class Ids:
    """The ids a request names: the victim's, or fresh ones that exist nowhere."""

    collection: str
    category: str
    entry: str


@dataclass(frozen=True)
class Scene:
    victim: httpx.Client
    intruder: httpx.Client
    victims: Ids
    in_review_entry: str
    document_entry: str
    intruder_collection: str
    intruder_entry: str

    @property
    def markers(self) -> list[str]:
        """What would show that the victim's data leaked into a response."""
        ids = self.victims
        return [ids.collection, ids.category, ids.entry, self.in_review_entry, self.document_entry]


Send = Callable[[httpx.Client, Ids], httpx.Response]
Check = Callable[[Scene], None]
CHECKS: dict[tuple[str, str], Check] = {}


def check(method: str, path: str) -> Callable[[Check], Check]:
    def register(function: Check) -> Check:
        CHECKS[(method, path)] = function
        return function

    return register


def nowhere() -> Ids:
    return Ids(str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()))


def assert_hidden(scene: Scene, send: Send, *, victim_reads: bool = False) -> None:
    """The intruder gets for the victim's ids exactly what ids that exist nowhere get: 404."""
    attempt = send(scene.intruder, scene.victims)
    control = send(scene.intruder, nowhere())
    assert attempt.status_code == 404, f"{attempt.status_code}: {attempt.text}"
    assert UUID_PATTERN.sub("<id>", attempt.text) == UUID_PATTERN.sub("<id>", control.text)
    assert control.status_code == 404
    if victim_reads:  # the same request is a good one for the owner of the data
        mine = send(scene.victim, scene.victims)
        assert mine.status_code == 200, mine.text


def assert_no_leak(scene: Scene, response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    leaked = [m for m in [*scene.markers, SECRET] if m in response.text]
    assert not leaked, f"the intruder sees {leaked}"


def ids_in(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {str(item["id"]) for item in response.json()}


# -- collections and categories --------------------------------------------------------------


@check("GET", f"{KB}/collections")
def list_collections(scene: Scene) -> None:
    assert scene.victims.collection in ids_in(scene.victim.get(f"{KB}/collections"))
    assert_no_leak(scene, scene.intruder.get(f"{KB}/collections"))


@check("POST", f"{KB}/collections")
def create_collection(scene: Scene) -> None:
    # Names are unique per workspace only: the victim's name is free (and so not revealed).
    r = scene.intruder.post(f"{KB}/collections", json={"name": "Victim manuals"})
    assert r.status_code == 201, r.text
    assert r.json()["id"] != scene.victims.collection


@check("GET", f"{KB}/collections/{{collection_id}}")
def get_collection(scene: Scene) -> None:
    assert_hidden(
        scene, lambda c, ids: c.get(f"{KB}/collections/{ids.collection}"), victim_reads=True
    )


@check("PATCH", f"{KB}/collections/{{collection_id}}")
def update_collection(scene: Scene) -> None:
    assert_hidden(
        scene, lambda c, ids: c.patch(f"{KB}/collections/{ids.collection}", json={"name": "Mine"})
    )


@check("GET", f"{KB}/categories")
def list_categories(scene: Scene) -> None:
    assert scene.victims.category in ids_in(scene.victim.get(f"{KB}/categories"))
    assert_no_leak(scene, scene.intruder.get(f"{KB}/categories"))


@check("POST", f"{KB}/categories")
def create_category(scene: Scene) -> None:
    assert_hidden(
        scene,
        lambda c, ids: c.post(f"{KB}/categories", json={"name": "子类", "parent_id": ids.category}),
    )
    same_name = scene.intruder.post(f"{KB}/categories", json={"name": "路由器"})
    assert same_name.status_code == 201, same_name.text


# -- entries ---------------------------------------------------------------------------------


@check("GET", f"{KB}/entries")
def list_entries(scene: Scene) -> None:
    victims = scene.victims
    mine = scene.victim.get(f"{KB}/entries", params={"collection_id": victims.collection})
    assert victims.entry in ids_in(mine)
    theirs = scene.intruder.get(f"{KB}/entries", params={"collection_id": victims.collection})
    assert theirs.status_code == 200 and theirs.json() == []
    assert_no_leak(scene, scene.intruder.get(f"{KB}/entries"))
    assert_no_leak(scene, scene.intruder.get(f"{KB}/entries", params={"q": "路由器"}))


@check("GET", f"{KB}/review-queue")
def review_queue(scene: Scene) -> None:
    assert scene.in_review_entry in ids_in(scene.victim.get(f"{KB}/review-queue"))
    assert_no_leak(scene, scene.intruder.get(f"{KB}/review-queue"))


@check("GET", f"{KB}/stale")
def stale(scene: Scene) -> None:
    assert scene.in_review_entry in ids_in(scene.victim.get(f"{KB}/stale"))
    assert_no_leak(scene, scene.intruder.get(f"{KB}/stale"))


@check("POST", f"{KB}/faq")
def create_faq(scene: Scene) -> None:
    body = {"question": "我的问题", "answer": "我的答案"}
    assert_hidden(
        scene, lambda c, ids: c.post(f"{KB}/faq", json={**body, "collection_id": ids.collection})
    )
    # Nor may the intruder file its own entry under the victim's category.
    own = {**body, "collection_id": scene.intruder_collection}
    assert_hidden(
        scene, lambda c, ids: c.post(f"{KB}/faq", json={**own, "category_id": ids.category})
    )


def entry_action(method: str, action: str = "", **request: Any) -> Send:
    suffix = f"/{action}" if action else ""
    return lambda c, ids: c.request(method, f"{KB}/entries/{ids.entry}{suffix}", **request)


@check("GET", f"{KB}/entries/{{entry_id}}")
def get_entry(scene: Scene) -> None:
    assert_hidden(scene, entry_action("GET"), victim_reads=True)


@check("PATCH", f"{KB}/entries/{{entry_id}}")
def update_entry(scene: Scene) -> None:
    assert_hidden(scene, entry_action("PATCH", json={"expected_version": 2, "answer": "改了"}))
    own_entry = f"{KB}/entries/{scene.intruder_entry}"
    assert_hidden(
        scene,
        lambda c, ids: c.patch(
            own_entry, json={"expected_version": 1, "category_id": ids.category}
        ),
    )


@check("DELETE", f"{KB}/entries/{{entry_id}}")
def delete_entry(scene: Scene) -> None:
    assert_hidden(scene, entry_action("DELETE"))


@check("POST", f"{KB}/entries/{{entry_id}}/submit")
def submit(scene: Scene) -> None:
    assert_hidden(scene, entry_action("POST", "submit"))


@check("POST", f"{KB}/entries/{{entry_id}}/approve")
def approve(scene: Scene) -> None:
    assert_hidden(scene, entry_action("POST", "approve", json={"comment": "ok"}))


@check("POST", f"{KB}/entries/{{entry_id}}/reject")
def reject(scene: Scene) -> None:
    assert_hidden(scene, entry_action("POST", "reject", json={"comment": "no"}))


@check("POST", f"{KB}/entries/{{entry_id}}/publish")
def publish(scene: Scene) -> None:
    assert_hidden(scene, entry_action("POST", "publish"))


@check("POST", f"{KB}/entries/{{entry_id}}/archive")
def archive(scene: Scene) -> None:
    assert_hidden(scene, entry_action("POST", "archive"))


@check("POST", f"{KB}/entries/{{entry_id}}/restore")
def restore(scene: Scene) -> None:
    assert_hidden(scene, entry_action("POST", "restore"))


@check("POST", f"{KB}/entries/{{entry_id}}/rollback")
def rollback(scene: Scene) -> None:
    assert_hidden(scene, entry_action("POST", "rollback", json={"version": 1, "publish": True}))


@check("GET", f"{KB}/entries/{{entry_id}}/history")
def history(scene: Scene) -> None:
    assert_hidden(scene, entry_action("GET", "history"), victim_reads=True)


@check("GET", f"{KB}/entries/{{entry_id}}/diff")
def diff(scene: Scene) -> None:
    send = entry_action("GET", "diff", params={"from": 1, "to": 2})
    assert_hidden(scene, send, victim_reads=True)


@check("GET", f"{KB}/entries/{{entry_id}}/units")
def units(scene: Scene) -> None:
    assert_hidden(scene, entry_action("GET", "units"), victim_reads=True)


# -- files -----------------------------------------------------------------------------------


@check("POST", f"{KB}/collections/{{collection_id}}/faq-import")
def faq_import(scene: Scene) -> None:
    def send(client: httpx.Client, ids: Ids) -> httpx.Response:
        files = [("files", ("faq.jsonl", FAQ_FILE))]
        return client.post(f"{KB}/collections/{ids.collection}/faq-import", files=files)

    assert_hidden(scene, send)
    # A category named in a file is looked up in the importer's own workspace only.
    row = '{"id": "r", "question": "路由器怎么重启？", "answer": "拔电源。", "category": "路由器"}'
    r = scene.intruder.post(
        f"{KB}/collections/{scene.intruder_collection}/faq-import",
        files=[("files", ("faq.jsonl", row.encode()))],
    )
    assert r.status_code == 200 and r.json()["files"][0]["created"] == 1, r.text
    [entry_id] = r.json()["files"][0]["entry_ids"]
    category_id = scene.intruder.get(f"{KB}/entries/{entry_id}").json()["category_id"]
    assert category_id is not None and category_id != scene.victims.category


@check("POST", f"{KB}/collections/{{collection_id}}/documents")
def upload_documents(scene: Scene) -> None:
    def send(client: httpx.Client, ids: Ids) -> httpx.Response:
        files = [("files", ("handbook.md", HANDBOOK))]
        return client.post(f"{KB}/collections/{ids.collection}/documents", files=files)

    assert_hidden(scene, send)


@check("GET", f"{KB}/collections/{{collection_id}}/faq-export")
def faq_export(scene: Scene) -> None:
    def send(client: httpx.Client, ids: Ids) -> httpx.Response:
        return client.get(f"{KB}/collections/{ids.collection}/faq-export?format=jsonl")

    assert_hidden(scene, send, victim_reads=True)


# -- audit log -------------------------------------------------------------------------------


@check("GET", "/api/v1/audit")
def audit(scene: Scene) -> None:
    about_entry = {"target_id": scene.victims.entry}
    assert scene.victim.get("/api/v1/audit", params=about_entry).json()
    theirs = scene.intruder.get("/api/v1/audit", params=about_entry)
    assert theirs.status_code == 200 and theirs.json() == []
    assert_no_leak(scene, scene.intruder.get("/api/v1/audit", params={"limit": 1000}))


# -- the tests -------------------------------------------------------------------------------


def served_routes(base_url: str) -> set[tuple[str, str]]:
    """Every tenant-scoped route: what the running server documents, plus what the routers
    define (a route hidden from the OpenAPI schema is still reachable)."""
    paths = httpx.get(f"{base_url}/openapi.json").json()["paths"]
    documented = {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith(TENANT_SCOPED_PREFIXES)
        for method in operations
    }
    defined = {
        (method, route.path)
        for router in (kb_router, audit_router)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    return documented | defined


def test_every_kb_route_has_a_tenancy_check(base_url: str) -> None:
    routes = served_routes(base_url)
    assert len(routes) > 20  # the enumeration itself works
    unchecked = sorted(routes - set(CHECKS))
    assert not unchecked, f"routes without a check in tests/kb/test_tenancy.py: {unchecked}"
    assert not sorted(set(CHECKS) - routes), "checks of routes that no longer exist"


def victim_snapshot(scene: Scene) -> dict[str, Any]:
    """Everything the victim can see of its knowledge base, to compare before and after."""
    client, ids = scene.victim, scene.victims
    entry_ids = [ids.entry, scene.in_review_entry, scene.document_entry]
    export = client.get(f"{KB}/collections/{ids.collection}/faq-export", params={"format": "jsonl"})
    return {
        "collections": client.get(f"{KB}/collections").json(),
        "categories": client.get(f"{KB}/categories").json(),
        "entries": client.get(f"{KB}/entries").json(),
        "details": [client.get(f"{KB}/entries/{e}").json() for e in entry_ids],
        "histories": [client.get(f"{KB}/entries/{e}/history").json() for e in entry_ids],
        "units": [client.get(f"{KB}/entries/{e}/units").json() for e in entry_ids],
        "export": export.text,
        "audit": client.get("/api/v1/audit", params={"limit": 1000}).json(),
    }


def build_scene(victim: Tenant, intruder: Tenant) -> Scene:
    """A victim workspace with content in every state, and an intruder with a little of its own."""
    client = victim.client
    collection = make_collection(client, "Victim manuals")
    category = client.post(f"{KB}/categories", json={"name": "路由器", "keywords": ["router"]})
    assert category.status_code == 201, category.text
    category_id = category.json()["id"]

    # Reviewed and published (so indexed), then edited: versions, a review and units to guard.
    published = make_faq(
        client, collection, category_id=category_id, answer=f"按住复位键。{SECRET}"
    )
    url = f"{KB}/entries/{published['id']}"
    client.post(f"{url}/submit")
    assert client.post(f"{url}/approve", json={"comment": "ok"}).json()["status"] == "published"
    assert wait_indexed(client, published["id"])["index_status"] == "done"
    client.patch(url, json={"expected_version": 1, "answer": f"新答案。{SECRET}"})

    overdue = str(date.today() - timedelta(days=1))
    in_review = make_faq(client, collection, question="退货政策是什么？", review_by=overdue)
    client.post(f"{KB}/entries/{in_review['id']}/submit")
    document = client.post(
        f"{KB}/collections/{collection}/documents", files=[("files", ("handbook.md", HANDBOOK))]
    )
    [document_id] = document.json()["files"][0]["entry_ids"]

    intruder_collection = make_collection(intruder.client, "Intruder")
    intruder_entry = make_faq(intruder.client, intruder_collection)
    return Scene(
        victim=client,
        intruder=intruder.client,
        victims=Ids(collection, category_id, published["id"]),
        in_review_entry=in_review["id"],
        document_entry=document_id,
        intruder_collection=intruder_collection,
        intruder_entry=intruder_entry["id"],
    )


def test_another_workspace_can_neither_see_nor_change_the_knowledge_base(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    scene = build_scene(tenant, other_tenant)
    before = victim_snapshot(scene)
    assert before["units"][0] and SECRET in before["export"]  # there is something to protect

    failures = []
    # Deleting goes last: were it to get through, it would hide what the other checks look for.
    for (method, path), route_check in sorted(CHECKS.items(), key=lambda c: c[0][0] == "DELETE"):
        try:
            route_check(scene)
        except AssertionError as exc:
            failures.append(f"{method} {path}: {exc}")
    assert not failures, "\n".join(failures)

    assert victim_snapshot(scene) == before


def test_naming_another_workspace_does_not_enter_it(tenant: Tenant, other_tenant: Tenant) -> None:
    collection = make_collection(tenant.client)
    r = other_tenant.client.get(
        f"{KB}/collections/{collection}", headers={"X-Workspace": tenant.workspace_id}
    )
    assert r.status_code == 403
    assert "Not a member" in r.json()["error"]["message"]
