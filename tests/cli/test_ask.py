"""`knowdesk ask "…"` against the session server: decision, answer, sources and scores."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from tests.cli.helpers import knowdesk
from tests.cli.test_cli import server_env
from tests.conftest import Tenant, _signup
from tests.kb.helpers import make_collection, wait_indexed
from tests.retrieval.test_llm import MANUALS, QUESTION


@pytest.fixture(scope="module")
def manuals(base_url: str) -> Tenant:
    """Published, indexed and calibrated manuals (the answer to QUESTION is a passage)."""
    tenant = _signup(base_url)
    collection = make_collection(tenant.client, "Manuals")
    r = tenant.client.post(
        f"/api/v1/kb/collections/{collection}/documents",
        files=[("files", (name, text.encode())) for name, text in MANUALS.items()],
        data={"publish": "true"},
    )
    assert r.status_code == 200, r.text
    for entry_id in [i for f in r.json()["files"] for i in f["entry_ids"]]:
        assert wait_indexed(tenant.client, entry_id)["index_status"] == "done"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        calibration = tenant.client.get("/api/v1/retrieval/calibration").json()
        if calibration["calibrated"] and calibration["units"] >= 2 * len(MANUALS):
            return tenant
        time.sleep(0.3)
    raise AssertionError("the workspace was not calibrated")


def test_ask_prints_decision_answer_sources_and_scores(manuals: Tenant, base_url: str) -> None:
    env = server_env(manuals, base_url)
    as_json = knowdesk("ask", QUESTION, "--json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    result = json.loads(as_json.stdout)
    assert result["decision"] == "grounded", result
    source = result["sources"][0]
    assert source["title"] == "Smart plug" and source["heading_path"] == ["Smart plug", "Pairing"]
    assert "six seconds" in result["answer"] and "ranking" not in result

    shown = knowdesk("ask", QUESTION, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "decision: grounded" in shown.stdout
    assert f"answer: {result['answer']}" in shown.stdout
    assert source["entry_id"] in shown.stdout and "Smart plug / Pairing" in shown.stdout
    assert f"answer_threshold {result['scores']['answer_threshold']:g}" in shown.stdout


def test_ask_within_collections(manuals: Tenant, base_url: str) -> None:
    env = server_env(manuals, base_url)
    named = knowdesk("ask", QUESTION, "--collection", "Manuals", "--json", env=env)
    assert named.returncode == 0, named.stderr
    assert json.loads(named.stdout)["decision"] == "grounded"
    elsewhere = knowdesk("ask", QUESTION, "-c", str(uuid.uuid4()), "--json", env=env)
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert json.loads(elsewhere.stdout)["decision"] == "handoff"
    unknown = knowdesk("ask", QUESTION, "-c", "No such shelf", env=env)
    assert unknown.returncode == 1 and "no collection named 'No such shelf'" in unknown.stderr


def test_ask_refuses_an_empty_question_clearly(manuals: Tenant, base_url: str) -> None:
    done = knowdesk("ask", "  \t ", env=server_env(manuals, base_url))
    assert done.returncode == 1 and "The question is empty. (422)" in done.stderr
    assert done.stdout == ""
