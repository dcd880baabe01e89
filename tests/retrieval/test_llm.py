"""Generated answers through a real OpenAI-compatible endpoint: used only when they cite the
given passages and say nothing those do not; every failure of the model (down, slow, an error,
nonsense, an invented figure) falls back to the extractive answer.

The endpoint is a small chat-completions server run by the test in a thread, replying as each
test scripts it; a second knowdesk server process points its `KNOWDESK_LLM_BASE_URL` at it and
shares the session's database, so the knowledge base is built through the first server.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from knowdesk.retrieval.llm import NO_ANSWER, judge_reply
from tests.conftest import Tenant, _signup, free_port, start_server, stop_server, wait_healthy
from tests.kb.helpers import make_collection, wait_indexed

TIMEOUT_SECONDS = 2.0
GOOD_REPLY = "Hold the pairing button for six seconds until the light blinks blue [1]."

MANUALS = {
    "smart-plug.md": "# Smart plug\n\n## Pairing\n\nHold the pairing button for six seconds "
    "until the light blinks blue, then open the app and tap Add device.\n\n## Power\n\nThe plug "
    "carries at most 2200 watts; never chain two plugs together.\n",
    "robot-vacuum.md": "# Robot vacuum\n\n## Cleaning the brush\n\nTurn the vacuum over, press "
    "the two clips and lift the main brush out; cut away hair wound around it.\n\n## Docking\n\n"
    "The vacuum returns to its dock when the battery falls below fifteen percent.\n",
    "water-heater.md": "# Water heater\n\n## Temperature\n\nSet the tank between 45 and 65 "
    "degrees Celsius; above 60 degrees the scald warning sounds.\n\n## Draining\n\nClose the "
    "cold inlet valve and open the drain tap at the bottom once a year to remove scale.\n",
    "thermostat.md": "# Thermostat\n\n## Schedules\n\nA weekly schedule holds up to six periods "
    "a day; the eco period lowers the target by three degrees.\n\n## Batteries\n\nReplace the "
    "two AA batteries when the display shows a flashing battery symbol.\n",
    "door-lock.md": "# Door lock\n\n## Fingerprints\n\nThe lock stores up to one hundred "
    "fingerprints; enrol each finger by touching the sensor five times.\n\n## Emergency power\n\n"
    "When the batteries are flat, power the lock from a USB-C power bank below the keypad.\n",
    "kettle.md": "# Electric kettle\n\n## Descaling\n\nBoil a mix of water and white vinegar, "
    "let it stand for an hour, then rinse the kettle three times.\n\n## Keep warm\n\nThe keep-"
    "warm mode holds the water at the chosen temperature for up to two hours.\n",
}
QUESTION = "How long do I hold the pairing button of the smart plug?"


@dataclass
class FakeChatCompletions:
    """`POST /v1/chat/completions` in a thread, answering as `mode` says; `requests` keeps the
    bodies and headers it was sent."""

    port: int
    mode: str = "good"
    requests: list[dict[str, Any]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), **body})
                fake.reply(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()

    def reply(self, handler: BaseHTTPRequestHandler) -> None:
        contents = {
            "good": GOOD_REPLY,
            "slow": GOOD_REPLY,
            "refuse": NO_ANSWER,
            "uncited": "Hold the button for a while and it will pair.",
            "unknown-passage": "Hold it for six seconds [7].",
            "empty": "",
            "nonsense": "Lorem ipsum dolor sit amet, consectetur adipiscing elit [1].",
            "invented-number": "Hold the pairing button for 30 seconds [1].",
        }
        if self.mode == "slow":
            time.sleep(TIMEOUT_SECONDS * 2)
        if self.mode in contents:
            message = {"role": "assistant", "content": contents[self.mode]}
            completion = {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            }
            self._send(handler, 200, json.dumps(completion).encode(), "application/json")
        elif self.mode == "garbage":
            self._send(handler, 200, b"<html>the proxy says hello</html>", "text/html")
        else:
            self._send(handler, 500, b'{"error": "model crashed"}', "application/json")

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, kind: str) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", kind)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller gave up waiting, as it should


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeChatCompletions]:
    fake = FakeChatCompletions(free_port())
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def llm_server(fake_llm: FakeChatCompletions, base_url: str) -> Iterator[str]:
    """A second knowdesk server, on the session's database, that generates with `fake_llm`."""
    port = free_port()
    env = {
        "KNOWDESK_LLM_BASE_URL": fake_llm.url,
        "KNOWDESK_LLM_API_KEY": "sk-test",
        "KNOWDESK_LLM_MODEL": "tiny-test-model",
        "KNOWDESK_LLM_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
    }
    process = start_server(port, "server-llm.log", env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url
    finally:
        stop_server(process)


def calibrated_manuals(base_url: str) -> Tenant:
    """A new workspace of published manuals, indexed and calibrated."""
    tenant = _signup(base_url)
    collection = make_collection(tenant.client, "Manuals")
    r = tenant.client.post(
        f"/api/v1/kb/collections/{collection}/documents",
        files=[("files", (name, text.encode())) for name, text in MANUALS.items()],
        data={"publish": "true"},
    )
    assert r.status_code == 200, r.text
    entry_ids = [i for f in r.json()["files"] for i in f["entry_ids"]]
    for entry_id in entry_ids:
        assert wait_indexed(tenant.client, entry_id)["index_status"] == "done"
    deadline = time.monotonic() + 240  # calibration follows indexing: slow on busy cores
    while time.monotonic() < deadline:
        calibration = tenant.client.get("/api/v1/retrieval/calibration").json()
        if calibration["calibrated"] and calibration["units"] >= 2 * len(MANUALS):
            return tenant
        time.sleep(0.3)
    raise AssertionError("the workspace was not calibrated")


@pytest.fixture(scope="module")
def manuals(base_url: str) -> Tenant:
    """A workspace of published manuals (through the first server, which has no model)."""
    return calibrated_manuals(base_url)


def ask(server: str, tenant: Tenant, question: str = QUESTION) -> dict[str, Any]:
    with httpx.Client(base_url=server, headers=tenant.client.headers, timeout=60) as client:
        r = client.post("/api/v1/ask", json={"question": question})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_without_a_model_the_answer_is_the_best_passage(base_url: str, manuals: Tenant) -> None:
    result = ask(base_url, manuals)
    assert result["decision"] == "grounded", result
    assert result["answer"] == result["sources"][0]["text"]
    assert "six seconds" in result["answer"] and "generated" not in result["scores"]


def test_a_cited_generation_is_the_answer(
    llm_server: str, manuals: Tenant, fake_llm: FakeChatCompletions
) -> None:
    fake_llm.mode, fake_llm.requests[:] = "good", []
    result = ask(llm_server, manuals)
    assert result["decision"] == "grounded", result
    assert result["answer"] == GOOD_REPLY and result["scores"]["generated"] == 1.0
    (sent,) = fake_llm.requests
    assert sent["path"] == "/v1/chat/completions" and sent["model"] == "tiny-test-model"
    assert sent["headers"]["Authorization"] == "Bearer sk-test"
    system, user = sent["messages"]
    assert NO_ANSWER in system["content"] and "English" in system["content"]
    # The passages are the sources, numbered in their order, and the question comes last.
    first = result["sources"][0]
    assert (
        f"[1] {first['title']} / {' / '.join(first['heading_path'])}\n{first['text']}"
        in (user["content"])
    )
    assert user["content"].endswith(QUESTION)


def test_a_refusal_hands_the_question_to_a_person(
    llm_server: str, manuals: Tenant, fake_llm: FakeChatCompletions
) -> None:
    fake_llm.mode, fake_llm.requests[:] = "refuse", []
    result = ask(llm_server, manuals)
    assert len(fake_llm.requests) == 1, "the model was asked"
    assert result["decision"] == "handoff", result
    assert result["answer"] is None and result["sources"] == []
    assert result["scores"]["reason_llm_refused"] == 1.0


@pytest.mark.parametrize(
    "mode",
    ["garbage", "uncited", "unknown-passage", "empty", "error", "nonsense", "invented-number"],
)
def test_a_reply_that_is_no_cited_answer_falls_back_to_the_passage(
    llm_server: str, manuals: Tenant, fake_llm: FakeChatCompletions, mode: str
) -> None:
    fake_llm.mode, fake_llm.requests[:] = mode, []
    result = ask(llm_server, manuals)
    assert len(fake_llm.requests) == 1, "the model was asked"
    assert result["decision"] == "grounded", result
    assert result["answer"] == result["sources"][0]["text"]
    assert "generated" not in result["scores"]


def test_a_slow_model_is_not_waited_for(
    llm_server: str, manuals: Tenant, fake_llm: FakeChatCompletions
) -> None:
    fake_llm.mode = "slow"
    started = time.monotonic()
    result = ask(llm_server, manuals)
    assert time.monotonic() - started < TIMEOUT_SECONDS + 1.5
    assert result["decision"] == "grounded" and result["answer"] == result["sources"][0]["text"]


def test_a_model_that_is_down_is_no_error(
    llm_server: str, manuals: Tenant, fake_llm: FakeChatCompletions
) -> None:
    fake_llm.mode = "good"
    fake_llm.stop()
    try:
        result = ask(llm_server, manuals)
    finally:
        fake_llm.start()
    assert result["decision"] == "grounded" and result["answer"] == result["sources"][0]["text"]
    assert ask(llm_server, manuals)["answer"] == GOOD_REPLY  # and back when it is up again


def test_only_grounded_decisions_ask_the_model(
    llm_server: str, manuals: Tenant, fake_llm: FakeChatCompletions
) -> None:
    fake_llm.mode, fake_llm.requests[:] = "good", []
    result = ask(llm_server, manuals, "Who won the football world cup in 2010?")
    assert result["decision"] in ("clarify", "handoff") and fake_llm.requests == []


def test_a_workspace_s_own_model_writes_its_answers_and_no_other_s(
    base_url: str, manuals: Tenant, fake_llm: FakeChatCompletions
) -> None:
    """On the server without a default model: workspace A set its own endpoint and gets
    generated answers from it, with its key; workspace B (manuals) set nothing and stays
    extractive, and the model never hears B's question."""
    own = calibrated_manuals(base_url)
    r = own.client.put(
        "/api/v1/settings/llm",
        json={
            "base_url": fake_llm.url,
            "model": "workspace-model",
            "timeout_seconds": TIMEOUT_SECONDS,
            "api_key": "sk-workspace-a",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["in_use"] == "workspace"

    fake_llm.mode, fake_llm.requests[:] = "good", []
    result = ask(base_url, own)
    assert result["decision"] == "grounded" and result["answer"] == GOOD_REPLY, result
    assert result["scores"]["generated"] == 1.0
    (sent,) = fake_llm.requests
    assert sent["model"] == "workspace-model"
    assert sent["headers"]["Authorization"] == "Bearer sk-workspace-a"

    fake_llm.requests[:] = []
    other = ask(base_url, manuals)
    assert other["decision"] == "grounded" and other["answer"] == other["sources"][0]["text"]
    assert "generated" not in other["scores"] and fake_llm.requests == []

    # Switched off, the workspace answers from its passages, without asking the model.
    r = own.client.put(
        "/api/v1/settings/llm",
        json={"base_url": fake_llm.url, "model": "workspace-model", "enabled": False},
    )
    assert r.status_code == 200, r.text
    result = ask(base_url, own)
    assert result["answer"] == result["sources"][0]["text"] and fake_llm.requests == []
    own.client.close()


def test_a_workspace_switched_off_does_not_use_the_server_s_model(
    llm_server: str, base_url: str, fake_llm: FakeChatCompletions, manuals: Tenant
) -> None:
    """The server's model is a default: a workspace that turned generation off is not asked
    about, and one that forgets its settings is back on the default."""
    fake_llm.mode, fake_llm.requests[:] = "good", []
    off = {"base_url": "http://127.0.0.1:9/v1", "model": "m", "enabled": False}
    assert manuals.client.put("/api/v1/settings/llm", json=off).status_code == 200
    try:
        result = ask(llm_server, manuals)
        assert result["answer"] == result["sources"][0]["text"] and fake_llm.requests == []
    finally:
        assert manuals.client.delete("/api/v1/settings/llm").status_code == 204
    assert ask(llm_server, manuals)["answer"] == GOOD_REPLY


PASSAGES = [
    "Smart plug / Pairing\nHold the pairing button for six seconds until the light blinks blue.",
    "Smart plug / Power\nThe plug carries at most 2200 watts; never chain two plugs together.",
]


@pytest.mark.parametrize(
    ("reply", "outcome", "cited"),
    [
        ("Six seconds [1], and never chain two plugs [2].", "answered", (1, 2)),
        ("1. Hold the pairing button [1].\n2. At most 2,200 watts [2].", "answered", (1, 2)),
        ("NO_ANSWER", "refused", ()),
        ("no_answer.", "refused", ()),
        ("Six seconds.", "failed", ()),  # cites nothing
        ("Six seconds [3].", "failed", ()),  # cites a passage it was not given
        ("Six seconds [1]. NO_ANSWER", "failed", ()),
        ("Hold it for 60 seconds [1].", "failed", ()),  # a number no passage holds
        ("The plug carries 2200 watts [1].", "failed", ()),  # the number is in another one
        ("Lorem ipsum dolor sit amet, consectetur adipiscing [1].", "failed", ()),
    ],
)
def test_judging_replies(reply: str, outcome: str, cited: tuple[int, ...]) -> None:
    judged = judge_reply(reply, PASSAGES, QUESTION)
    assert (judged.outcome, judged.cited) == (outcome, cited), judged.reason
