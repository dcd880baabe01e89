"""The real `knowdesk` command line, run as a subprocess against the session server."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import httpx

from tests.cli.helpers import knowdesk
from tests.conftest import Tenant

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def server_env(tenant: Tenant, base_url: str) -> dict[str, str]:
    """Sign in with the tenant owner's email and password, as a person at a terminal would."""
    return {
        "KNOWDESK_URL": base_url,
        "KNOWDESK_EMAIL": tenant.owner_email,
        "KNOWDESK_PASSWORD": tenant.password,
    }


def write_faq(path: Path, *records: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def test_import_with_progress_list_and_export_round_trip(
    tenant: Tenant, base_url: str, tmp_path: Path
) -> None:
    env = server_env(tenant, base_url)
    faq = write_faq(
        tmp_path / "faq.jsonl",
        {"id": "plug", "question": "插座最大功率是多少？", "answer": "2200 W。"},
        {"id": "ship", "question": "How fast do you ship?", "answer": "Within two days."},
    )
    manual = tmp_path / "plug-manual.md"
    manual.write_text("# Smart plug\n\nHold the button for six seconds to pair it.\n", "utf-8")

    imported = knowdesk("kb", "import", faq, manual, "--collection", "Help", "--publish", env=env)
    assert imported.returncode == 0, imported.stderr
    assert "faq.jsonl: 2 created, 0 updated, 0 unchanged, 0 errors" in imported.stdout
    assert "plug-manual.md: 1 created" in imported.stdout
    assert "Indexing" in imported.stderr and "3/3" in imported.stderr

    listed = knowdesk("kb", "list", "--collection", "Help", "--status", "published", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "插座最大功率是多少？" in listed.stdout and "Smart plug" in listed.stdout
    assert len(UUID.findall(listed.stdout)) == 3 and "3 entries" in listed.stdout

    exported = tmp_path / "export.csv"
    done = knowdesk("kb", "export", "--collection", "Help", "-o", exported, env=env)
    assert done.returncode == 0, done.stderr
    assert "of csv" in done.stdout and "2200 W。" in exported.read_text("utf-8")
    again = knowdesk("kb", "import", exported, "--collection", "Help", env=env)
    assert again.returncode == 0, again.stderr
    assert "export.csv: 0 created, 0 updated, 2 unchanged, 0 errors" in again.stdout


def test_history_rollback_show_and_archive(tenant: Tenant, base_url: str, tmp_path: Path) -> None:
    env = server_env(tenant, base_url)
    faq = tmp_path / "faq.jsonl"
    write_faq(faq, {"id": "w", "question": "保修多久？", "answer": "两年。"})
    first = knowdesk("kb", "import", faq, "-c", "FAQ", "--publish", env=env)
    assert first.returncode == 0, first.stderr
    write_faq(faq, {"id": "w", "question": "保修多久？", "answer": "三年。"})
    second = knowdesk("kb", "import", faq, "-c", "FAQ", "--no-wait", env=env)
    assert "faq.jsonl: 0 created, 1 updated" in second.stdout
    (entry_id,) = set(UUID.findall(knowdesk("kb", "list", "-c", "FAQ", env=env).stdout))

    history = knowdesk("kb", "history", entry_id, env=env)
    assert history.returncode == 0, history.stderr
    assert re.search(r"│ 1 .*created", history.stdout) and re.search(
        r"│ 2 .*import", history.stdout
    )

    rolled = knowdesk("kb", "rollback", entry_id, "--version", "1", "--publish", env=env)
    assert rolled.returncode == 0, rolled.stderr
    assert f"{entry_id}: published, version 3 (live 3)" in rolled.stdout
    shown = knowdesk("kb", "show", entry_id, env=env)
    assert "A: 两年。" in shown.stdout and "published" in shown.stdout

    archived = knowdesk("kb", "archive", entry_id, env=env)
    assert f"{entry_id}: archived" in archived.stdout
    published = knowdesk("kb", "publish", entry_id, env=env)
    assert f"{entry_id}: published" in published.stdout


def test_bad_rows_are_printed_and_fail_the_command(
    tenant: Tenant, base_url: str, tmp_path: Path
) -> None:
    bad = write_faq(
        tmp_path / "bad.jsonl",
        {"id": "ok", "question": "Good question?", "answer": "Good answer."},
        {"id": "no-answer", "question": "Where is the answer?"},
    )
    result = knowdesk("kb", "import", bad, "--collection", "FAQ", env=server_env(tenant, base_url))
    assert result.returncode == 1
    assert "bad.jsonl: 1 created, 0 updated, 0 unchanged, 1 errors" in result.stdout
    assert "error: bad.jsonl, row 2: the answer is missing" in result.stderr


def test_server_errors_end_the_command_with_their_message(tenant: Tenant, base_url: str) -> None:
    env = server_env(tenant, base_url)
    missing = knowdesk("kb", "show", str(uuid.uuid4()), env=env)
    assert missing.returncode == 1 and "not found (404)" in missing.stderr
    wrong = knowdesk("kb", "list", env={**env, "KNOWDESK_PASSWORD": "wrong-password"})
    assert wrong.returncode == 1 and "Wrong email or password. (401)" in wrong.stderr
    unreachable = knowdesk("kb", "list", "--url", "http://127.0.0.1:9", env=env)
    assert unreachable.returncode == 1 and "cannot reach http://127.0.0.1:9" in unreachable.stderr


def test_admin_creates_a_workspace_and_an_api_key_in_the_database(base_url: str) -> None:
    email = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    created = knowdesk(
        "admin",
        "create-workspace",
        "--name",
        "Globex Support",
        "--owner-email",
        email,
        "--owner-password",
        "a long password",
    )
    assert created.returncode == 0, created.stderr
    slug = re.search(r"slug (\S+),", created.stdout)
    assert slug is not None, created.stdout

    key = knowdesk(
        "admin", "create-api-key", "--workspace", slug[1], "--name", "ci", "--role", "reviewer"
    )
    assert key.returncode == 0, key.stderr
    secret = key.stdout.strip()
    workspace = httpx.get(f"{base_url}/api/v1/workspace", headers={"X-API-Key": secret})
    assert workspace.status_code == 200 and workspace.json()["name"] == "Globex Support"

    signed_in = httpx.post(
        f"{base_url}/api/v1/auth/login", json={"email": email, "password": "a long password"}
    )
    assert signed_in.status_code == 200

    unknown = knowdesk("admin", "create-api-key", "--workspace", "no-such", "--name", "x")
    assert unknown.returncode == 1 and "Workspace no-such not found" in unknown.stderr
