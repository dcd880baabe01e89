"""Test fixtures: one real embedded PostgreSQL and one real knowdesk server for the session.

Each test makes its own workspace(s) through the public API, which isolates tests from each
other the same way customers are isolated: by tenancy.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
DATA_DIR = Path(tempfile.mkdtemp(prefix="knowdesk-test-"))

# Set before any knowdesk module reads its settings, in this process and in the server's.
os.environ.update(
    {
        "KNOWDESK_DATA": str(DATA_DIR),
        "KNOWDESK_ALLOW_SIGNUP": "true",
        "KNOWDESK_SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
        "KNOWDESK_EMBEDDING_THREADS": "1",
    }
)
os.environ.pop("DATABASE_URL", None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    port: int, log_name: str, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    ARTIFACTS.mkdir(exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # each pytest-xdist worker has its own server
    if worker:
        log_name = f"{worker}-{log_name}"
    log = open(ARTIFACTS / log_name, "wb")  # noqa: SIM115 - closed with the process
    cmd = [sys.executable, "-m", "knowdesk", "serve", "--port", str(port)]
    return subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(extra_env or {})}
    )


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}; see test-artifacts/")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become healthy")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    port = free_port()
    process = start_server(port, "server.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url
    finally:
        stop_server(process)


@dataclass
class Tenant:
    """A workspace with its owner, signed in through the real API."""

    client: httpx.Client
    workspace_id: str
    owner_email: str
    password: str

    def member(self, role: str) -> httpx.Client:
        """A client signed in as a new member of this workspace with `role`."""
        email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
        r = self.client.post(
            "/api/v1/workspace/members",
            json={"email": email, "name": role, "role": role, "password": self.password},
        )
        assert r.status_code == 201, r.text
        return signed_in(str(self.client.base_url), email, self.password)


def signed_in(base_url: str, email: str, password: str) -> httpx.Client:
    r = httpx.post(f"{base_url}/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def _signup(base_url: str) -> Tenant:
    """A new workspace and its owner, signed in."""
    email = f"owner-{uuid.uuid4().hex[:10]}@example.com"
    password = "correct horse battery"
    r = httpx.post(
        f"{base_url}/api/v1/auth/signup",
        json={"email": email, "password": password, "name": "Owner", "workspace_name": "Acme"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    client = httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {body['token']}"}, timeout=60
    )
    return Tenant(client, body["memberships"][0]["workspace"]["id"], email, password)


@pytest.fixture
def make_tenant(base_url: str) -> Iterator[Callable[[], Tenant]]:
    clients: list[httpx.Client] = []

    def make() -> Tenant:
        tenant = _signup(base_url)
        clients.append(tenant.client)
        return tenant

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def tenant(make_tenant: Callable[[], Tenant]) -> Tenant:
    return make_tenant()


@pytest.fixture
def other_tenant(make_tenant: Callable[[], Tenant]) -> Tenant:
    """A second workspace, to prove that one tenant can neither read nor change another's data."""
    return make_tenant()
