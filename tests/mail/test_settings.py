"""A workspace's own sender and SMTP server: owners only, passwords never shown."""

from __future__ import annotations

import pytest

from tests.conftest import Tenant
from tests.mail.helpers import set_sender


def test_owner_sets_sender_and_smtp_server_and_the_password_stays_hidden(tenant: Tenant) -> None:
    smtp = {"host": "smtp.example.com", "port": 587, "username": "desk", "starttls": True}
    set_sender(tenant.client, smtp={**smtp, "password": "hunter22"})

    read = tenant.client.get("/api/v1/mail/settings").json()
    assert read["from_address"] == "Acme Support <help@example.com>"
    assert read["smtp"] == {**smtp, "has_password": True}

    set_sender(tenant.client, smtp=smtp)  # same account, password left out: kept
    assert tenant.client.get("/api/v1/mail/settings").json()["smtp"]["has_password"] is True
    set_sender(tenant.client, smtp={**smtp, "host": "other.example.com"})  # not to another host
    assert tenant.client.get("/api/v1/mail/settings").json()["smtp"]["has_password"] is False
    set_sender(tenant.client)
    assert tenant.client.get("/api/v1/mail/settings").json()["smtp"] is None


@pytest.mark.parametrize("field", ["from_address", "reply_address"])
def test_addresses_are_checked(tenant: Tenant, field: str) -> None:
    r = tenant.client.put("/api/v1/mail/settings", json={field: "support at example"})
    assert r.status_code == 422


def test_only_owners_see_mail(tenant: Tenant, other_tenant: Tenant) -> None:
    set_sender(tenant.client, smtp={"host": "smtp.example.com", "password": "hunter22"})
    agent = tenant.member("agent")
    assert agent.get("/api/v1/mail/settings").status_code == 403
    assert agent.put("/api/v1/mail/settings", json={}).status_code == 403
    assert agent.get("/api/v1/mail/messages").status_code == 403
    assert agent.post("/api/v1/mail/test", json={"to": "a@example.com"}).status_code == 403
    # Another workspace sees only its own (empty) settings.
    assert other_tenant.client.get("/api/v1/mail/settings").json() == {
        "from_address": None,
        "reply_address": None,
        "smtp": None,
    }
