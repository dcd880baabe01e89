"""`knowdesk eval faq|intents FOLDER`, run as a subprocess on tiny sets made here.

The FAQ set is built so that some figures are certain: queries that repeat an entry's question
(the answer path must rank that entry first), and one query that shares no word with its entry
(so plain BM25 cannot find it, while the dense side can): the baseline's recall@5 is then
exactly 5/6, which proves it is computed in the run and not copied from ours.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import knowdesk
from tests.conftest import Tenant

KB = [
    {
        "id": "reset",
        "question": "How do I reset the router password?",
        "similar": ["forgot my router password"],
        "answer": "Hold the reset button on the back for ten seconds, then sign in with the "
        "default password printed underneath.",
    },
    {
        "id": "returns",
        "question": "What is the return policy?",
        "similar": ["can I send my order back"],
        "answer": "You can return anything within 30 days of delivery, no questions asked.",
    },
    {
        "id": "warranty",
        "question": "保修期多长？",
        "similar": ["产品保修几年"],
        "answer": "所有设备保修两年，人为损坏除外。",
    },
    {
        "id": "shipping",
        "question": "How long does shipping take?",
        "similar": ["when will my order arrive"],
        "answer": "Orders ship within 24 hours and arrive in 3 to 5 working days.",
    },
    {
        "id": "pro",
        "question": "How much does the Pro plan cost?",
        "similar": ["price of Pro subscription"],
        "answer": "The Pro plan costs 5 dollars a month or 50 dollars a year.",
    },
    {
        "id": "password",
        "question": "怎么修改 App 登录密码？",
        "similar": ["App 密码怎么改"],
        "answer": "在登录页点“忘记密码”，按短信验证码重设。",
    },
]
QUERIES = [
    {"query": "How do I reset the router password?", "faq_id": "reset"},
    {"query": "What is the return policy?", "faq_id": "returns"},
    {"query": "保修期多长？", "faq_id": "warranty"},
    {"query": "How long does shipping take?", "faq_id": "shipping"},
    {"query": "How much does the Pro plan cost?", "faq_id": "pro"},
    {"query": "退货", "faq_id": "returns"},  # no word in common with its English entry
    {"query": "Who won the football world cup in 2010?", "faq_id": None},
    {"query": "明天北京会下雨吗", "faq_id": None},
]


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


def faq_set(folder: Path) -> Path:
    folder.mkdir()
    write_jsonl(folder / "kb.jsonl", list(KB))
    write_jsonl(folder / "queries.jsonl", list(QUERIES))
    return folder


def check_faq_figures(figures: dict[str, dict[str, float]]) -> None:
    assert set(figures) == {"retrieval", "policy", "baseline", "latency_ms"}
    assert set(figures["retrieval"]) == set(figures["baseline"]) == {"top1", "mrr", "recall5"}
    assert figures["retrieval"]["top1"] >= 5 / 6  # the five repeated questions at least
    assert figures["baseline"]["recall5"] == 5 / 6  # BM25 cannot find "退货"
    policy = figures["policy"]
    shares = ("answered_correct", "answered_wrong", "clarified", "handed_off")
    assert sum(policy[k] for k in shares) == 1.0
    assert policy["answered_wrong"] == 0.0 and 0.0 <= policy["oos_answered"] <= 1.0
    assert 0 < figures["latency_ms"]["p50"] <= figures["latency_ms"]["p95"]


def test_eval_faq_on_a_running_server(tenant: Tenant, base_url: str, tmp_path: Path) -> None:
    folder = faq_set(tmp_path / "tiny-faq")
    env = {"KNOWDESK_EMAIL": tenant.owner_email, "KNOWDESK_PASSWORD": tenant.password}
    done = knowdesk(
        "eval", "faq", folder, "--url", base_url, "--json", tmp_path / "out.json", env=env
    )
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    assert line.startswith("tiny-faq: top1 ") and "(bm25 " in line
    assert "| 6 answerable + 2 out-of-scope queries" in line
    check_faq_figures(json.loads((tmp_path / "out.json").read_text("utf-8")))
    # The set went into a workspace of its own, not the signed-in person's current one.
    workspaces = tenant.client.get("/api/v1/me").json()["memberships"]
    assert any(m["workspace"]["name"].startswith("eval tiny-faq ") for m in workspaces)
    own = {"X-Workspace": tenant.workspace_id}
    assert tenant.client.get("/api/v1/kb/collections", headers=own).json() == []


def test_eval_faq_starts_a_server_of_its_own(tmp_path: Path) -> None:
    folder = faq_set(tmp_path / "own")
    done = knowdesk("eval", "faq", folder, "--json", tmp_path / "out.json")
    assert done.returncode == 0, done.stderr
    assert "starting a server on" in done.stderr
    check_faq_figures(json.loads((tmp_path / "out.json").read_text("utf-8")))
    started = done.stderr.split("starting a server on ")[1].split(" ...")[0]
    assert not Path(started).exists(), "its temporary data folder was removed"


def test_eval_faq_refuses_a_folder_that_is_no_faq_set(tmp_path: Path) -> None:
    folder = faq_set(tmp_path / "broken")
    write_jsonl(folder / "queries.jsonl", [{"query": "hello", "faq_id": "no-such-entry"}])
    done = knowdesk("eval", "faq", folder)
    assert done.returncode == 1
    assert "an faq_id not in kb.jsonl" in done.stderr and done.stdout == ""


INTENTS = {
    "refund": ["I want my money back", "please refund my order", "退款怎么申请", "申请退款"],
    "shipping": ["where is my parcel", "my package has not arrived", "快递到哪了", "物流信息"],
    "login": ["I cannot sign in", "password reset link does not work", "登录不了", "密码错误"],
}
OUT_OF_SCOPE = ["tell me a joke", "what is the capital of France", "今天天气怎么样", "推荐电影"]


def intent_set(folder: Path) -> Path:
    folder.mkdir()
    train = [{"text": t, "label": label} for label, texts in INTENTS.items() for t in texts]
    train += [{"text": t, "label": "oos"} for t in OUT_OF_SCOPE]
    write_jsonl(folder / "train.jsonl", train)
    # Training lines again (sure to be right), one under a wrong label (sure to be a miss).
    test = [
        {"text": "please refund my order", "label": "refund"},
        {"text": "快递到哪了", "label": "shipping"},
        {"text": "I cannot sign in", "label": "login"},
        {"text": "申请退款", "label": "shipping"},
        {"text": "tell me a joke", "label": "oos"},
    ]
    write_jsonl(folder / "test.jsonl", test)
    return folder


def test_eval_intents_prints_ours_beside_the_baseline(tmp_path: Path) -> None:
    folder = intent_set(tmp_path / "tiny-intents")
    done = knowdesk("eval", "intents", folder, "--json", tmp_path / "out.json")
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    assert line.startswith("tiny-intents: in-scope acc ") and " | baseline in-scope acc " in line
    figures = json.loads((tmp_path / "out.json").read_text("utf-8"))
    assert set(figures) == {"inscope_accuracy", "oos_recall", "oos_precision", "baseline"}
    assert set(figures["baseline"]) == {"inscope_accuracy", "oos_recall", "oos_precision"}
    assert figures["inscope_accuracy"] == 3 / 4  # the mislabelled line is always a miss
    assert all(0 <= v <= 1 for v in figures["baseline"].values())


def test_eval_intents_needs_both_files(tmp_path: Path) -> None:
    folder = intent_set(tmp_path / "half")
    (folder / "test.jsonl").unlink()
    done = knowdesk("eval", "intents", folder)
    assert done.returncode == 1 and "has no test.jsonl" in done.stderr
