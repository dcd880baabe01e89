from __future__ import annotations

import httpx

from tests.conftest import Tenant, signed_in


def test_signup_login_and_me(tenant: Tenant, base_url: str) -> None:
    me = tenant.client.get("/api/v1/me").json()
    assert me["user"]["email"] == tenant.owner_email
    assert me["memberships"][0]["role"] == "owner"

    wrong = httpx.post(
        f"{base_url}/api/v1/auth/login", json={"email": tenant.owner_email, "password": "nope-nope"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["message"] == "Wrong email or password."


def test_requests_without_or_with_bad_credentials_are_refused(base_url: str) -> None:
    assert httpx.get(f"{base_url}/api/v1/workspace").status_code == 401
    bad = httpx.get(f"{base_url}/api/v1/workspace", headers={"Authorization": "Bearer garbage"})
    assert bad.status_code == 401
    assert (
        httpx.get(f"{base_url}/api/v1/workspace", headers={"X-API-Key": "kd_forged"}).status_code
        == 401
    )


def test_duplicate_email_is_a_conflict(tenant: Tenant, base_url: str) -> None:
    r = httpx.post(
        f"{base_url}/api/v1/auth/signup",
        json={
            "email": tenant.owner_email,
            "password": "whatever1",
            "name": "X",
            "workspace_name": "Y",
        },
    )
    assert r.status_code == 409


def test_roles_limit_what_members_may_do(tenant: Tenant) -> None:
    agent = tenant.member("agent")
    assert agent.get("/api/v1/workspace").status_code == 200
    r = agent.post("/api/v1/api-keys", json={"name": "mine", "role": "owner"})
    assert r.status_code == 403
    assert "agent" in r.json()["error"]["message"]


def test_api_key_acts_in_its_workspace_until_revoked(tenant: Tenant, base_url: str) -> None:
    created = tenant.client.post("/api/v1/api-keys", json={"name": "ci", "role": "editor"}).json()
    key_client = httpx.Client(base_url=base_url, headers={"X-API-Key": created["secret"]})
    assert key_client.get("/api/v1/workspace").json()["id"] == tenant.workspace_id
    listed = tenant.client.get("/api/v1/api-keys").json()
    assert [k["prefix"] for k in listed] == [created["prefix"]]
    assert "secret" not in listed[0]

    assert tenant.client.delete(f"/api/v1/api-keys/{created['id']}").status_code == 204
    assert key_client.get("/api/v1/workspace").status_code == 401


def test_last_owner_cannot_be_demoted(tenant: Tenant) -> None:
    me = tenant.client.get("/api/v1/me").json()
    r = tenant.client.patch(f"/api/v1/workspace/members/{me['user']['id']}", json={"role": "agent"})
    assert r.status_code == 409


def test_member_of_two_workspaces_names_one(
    tenant: Tenant, other_tenant: Tenant, base_url: str
) -> None:
    r = other_tenant.client.post(
        "/api/v1/workspace/members",
        json={"email": tenant.owner_email, "name": "Owner", "role": "agent"},
    )
    assert r.status_code == 201, r.text
    client = signed_in(base_url, tenant.owner_email, tenant.password)
    assert client.get("/api/v1/workspace").status_code == 400
    chosen = client.get("/api/v1/workspace", headers={"X-Workspace": other_tenant.workspace_id})
    assert chosen.json()["id"] == other_tenant.workspace_id


def test_other_workspace_cannot_touch_members_or_keys(tenant: Tenant, other_tenant: Tenant) -> None:
    key = tenant.client.post("/api/v1/api-keys", json={"name": "k", "role": "agent"}).json()
    assert other_tenant.client.delete(f"/api/v1/api-keys/{key['id']}").status_code == 404
    assert other_tenant.client.get("/api/v1/api-keys").json() == []
    me = tenant.client.get("/api/v1/me").json()
    r = other_tenant.client.delete(f"/api/v1/workspace/members/{me['user']['id']}")
    assert r.status_code == 404
    emails = [
        m["user"]["email"] for m in other_tenant.client.get("/api/v1/workspace/members").json()
    ]
    assert tenant.owner_email not in emails


def test_audit_log_records_who_did_what(tenant: Tenant) -> None:
    tenant.client.post("/api/v1/api-keys", json={"name": "audited", "role": "agent"})
    actions = [e["action"] for e in tenant.client.get("/api/v1/audit").json()]
    assert "api_key.create" in actions and "workspace.create" in actions
