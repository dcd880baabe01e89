"""Document upload over the real API: each format becomes chunks with their headings and pages,
bad files fail one by one without sinking the batch, and a re-upload is a new version whose
unchanged chunks keep their index rows (and so their embeddings)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import Tenant
from tests.kb.fixtures_docs import HELP_PAGE_HTML, build_docx, build_pdf, encrypt_pdf
from tests.kb.helpers import make_collection, wait_indexed

KB = "/api/v1/kb"
# The session's server runs with the default KNOWDESK_MAX_UPLOAD_BYTES.
DEFAULT_UPLOAD_LIMIT = 50 * 1024 * 1024

HANDBOOK_MARKDOWN = """\
# 会员手册

## 积分规则

每消费 1 元积 1 分，积分可以在下单时抵现。

## Points expiry

Points expire two years after they are earned.

## 会员等级

银卡会员一年内消费满 5000 元升级为金卡。
"""

# Each page's text is longer than half a chunk, so the two pages cannot share one chunk.
PDF_PAGES = [
    [
        "Warranty terms.",
        "Every router comes with a two year warranty from the date of purchase.",
        "The warranty covers defects in materials and workmanship under normal use.",
        "It does not cover damage from lightning, water, or repairs by third parties.",
        "Keep your receipt: we ask for it before we repair or replace a device.",
    ],
    [
        "How to claim.",
        "Write to support with the serial number printed under the router.",
        "We send a prepaid label; the repaired router returns within ten days.",
        "A replacement is sent at once when the same fault happens twice in a year.",
        "Claims outside the warranty are quoted before any work is done.",
    ],
]

RETURNS_TEXT = (
    "退货须知\n\n收到商品七天内可以无理由退货。\n\n质量问题十五天内可以换货，运费由我们承担。"
)


# Longer than the 200 characters kept of a document's name.
LONG_NAME = "产品说明书" * 40 + ".md"


def upload(
    client: httpx.Client, collection_id: str, files: list[tuple[str, bytes]], publish: bool = False
) -> httpx.Response:
    return client.post(
        f"{KB}/collections/{collection_id}/documents",
        files=[("files", (name, data)) for name, data in files],
        data={"publish": str(publish).lower()},
    )


def uploaded(
    client: httpx.Client, collection_id: str, files: list[tuple[str, bytes]], publish: bool = False
) -> list[dict[str, Any]]:
    r = upload(client, collection_id, files, publish)
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["files"]
    assert [f["filename"] for f in results] == [name for name, _ in files]
    return results


def indexed_units(client: httpx.Client, entry_id: str) -> list[dict[str, Any]]:
    entry = wait_indexed(client, entry_id)
    assert entry["index_status"] == "done", entry["index_error"]
    units: list[dict[str, Any]] = client.get(f"{KB}/entries/{entry_id}/units").json()
    assert units and all(u["kind"] == "chunk" and u["embedded"] for u in units)
    assert [u["ordinal"] for u in units] == list(range(len(units)))
    return units


def published_document(
    client: httpx.Client, filename: str, data: bytes
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Upload one document, published at once, and return the entry and its indexed units."""
    collection = make_collection(client)
    [result] = uploaded(client, collection, [(filename, data)], publish=True)
    assert (result["created"], result["errors"]) == (1, []), result
    [entry_id] = result["entry_ids"]
    units = indexed_units(client, entry_id)
    entry = client.get(f"{KB}/entries/{entry_id}").json()
    assert entry["kind"] == "document" and entry["external_id"] == filename
    assert entry["status"] == "published" and entry["published_version"] == 1
    return entry, units


def test_markdown_chunks_carry_chinese_and_english_headings(tenant: Tenant) -> None:
    entry, units = published_document(tenant.client, "handbook.md", HANDBOOK_MARKDOWN.encode())

    assert entry["title"] == "会员手册"
    assert [(u["heading_path"], u["text"], u["page"]) for u in units] == [
        (["会员手册", "积分规则"], "每消费 1 元积 1 分，积分可以在下单时抵现。", None),
        (["会员手册", "Points expiry"], "Points expire two years after they are earned.", None),
        (["会员手册", "会员等级"], "银卡会员一年内消费满 5000 元升级为金卡。", None),
    ]


def test_html_script_and_style_never_reach_the_stored_text(tenant: Tenant) -> None:
    entry, units = published_document(tenant.client, "help.html", HELP_PAGE_HTML.encode())

    assert entry["title"] == "帮助中心"
    assert units[0]["heading_path"] == ["账户问题"]
    assert units[0]["text"] == "如果您忘记了密码，可以通过手机号重置。"
    assert units[1]["heading_path"] == ["账户问题", "Reset your password"]
    stored = json.dumps(entry["content"], ensure_ascii=False) + "".join(u["text"] for u in units)
    for script_or_style in ("tracking-code", "document.write", "injected", "color: red"):
        assert script_or_style not in stored


def test_docx_chunks_follow_its_headings(tenant: Tenant) -> None:
    entry, units = published_document(tenant.client, "售后服务手册.docx", build_docx())

    assert entry["title"] == "售后服务手册"
    assert [u["heading_path"] for u in units] == [
        ["退货政策"],
        ["退货政策", "Refund timing"],
        ["换货"],
    ]
    assert units[0]["text"] == "收到商品七天内可以无理由退货。"
    assert "Refunds arrive within 5 business days." in units[1]["text"]


def test_pdf_chunks_carry_their_page(tenant: Tenant) -> None:
    _, units = published_document(tenant.client, "warranty.pdf", build_pdf(PDF_PAGES))

    assert [(u["page"], u["heading_path"]) for u in units] == [(1, []), (2, [])]
    assert units[0]["text"].startswith("Warranty terms.")
    assert units[1]["text"].startswith("How to claim.")


def test_gb18030_text_is_decoded(tenant: Tenant) -> None:
    _, units = published_document(tenant.client, "退货须知.txt", RETURNS_TEXT.encode("gb18030"))

    assert [u["text"] for u in units] == [RETURNS_TEXT]


def test_bad_files_fail_by_name_and_the_good_ones_in_the_batch_are_stored(tenant: Tenant) -> None:
    collection = make_collection(tenant.client)
    pdf = build_pdf([["A page of text."]])
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
    batch = [
        ("handbook.md", HANDBOOK_MARKDOWN.encode()),
        ("corrupt.pdf", pdf[: len(pdf) // 3]),
        ("locked.pdf", encrypt_pdf(pdf, user_password="secret")),
        ("empty.md", b""),
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00"),
        ("photo.pdf", png),
        (LONG_NAME, HANDBOOK_MARKDOWN.encode()),
        ("退货须知.txt", RETURNS_TEXT.encode("gb18030")),
    ]

    results = {r["filename"]: r for r in uploaded(tenant.client, collection, batch)}

    expected_problems = {
        "corrupt.pdf": "damaged",
        "locked.pdf": "password",
        "empty.md": "empty",
        "setup.exe": "unsupported file type '.exe'",
        "photo.pdf": "PNG",
        LONG_NAME: "name is longer than",
    }
    for name, problem in expected_problems.items():
        result = results[name]
        assert (result["created"], result["updated"], result["entry_ids"]) == (0, 0, [])
        [error] = result["errors"]
        assert error["filename"] == name and error["message"].startswith(f"{name}: ")
        assert problem in error["message"]
    for name in ("handbook.md", "退货须知.txt"):
        assert (results[name]["created"], results[name]["errors"]) == (1, [])
    stored = tenant.client.get(f"{KB}/entries", params={"collection_id": collection}).json()
    assert sorted(e["external_id"] for e in stored) == ["handbook.md", "退货须知.txt"]


def test_upload_over_the_size_limit_is_rejected_by_name(tenant: Tenant) -> None:
    collection = make_collection(tenant.client)
    too_big = b"a" * (DEFAULT_UPLOAD_LIMIT + 1)

    results = uploaded(
        tenant.client,
        collection,
        [("huge.txt", too_big), ("handbook.md", HANDBOOK_MARKDOWN.encode())],
    )

    [error] = results[0]["errors"]
    assert error["filename"] == "huge.txt" and error["message"].startswith("huge.txt: ")
    assert "limit" in error["message"] and results[0]["entry_ids"] == []
    assert results[1]["created"] == 1
    stored = tenant.client.get(f"{KB}/entries", params={"collection_id": collection}).json()
    assert [e["external_id"] for e in stored] == ["handbook.md"]


def test_reupload_with_one_changed_paragraph_keeps_the_unchanged_chunks(tenant: Tenant) -> None:
    collection = make_collection(tenant.client)
    [first] = uploaded(
        tenant.client, collection, [("handbook.md", HANDBOOK_MARKDOWN.encode())], True
    )
    [entry_id] = first["entry_ids"]
    before = indexed_units(tenant.client, entry_id)
    changed_markdown = HANDBOOK_MARKDOWN.replace("two years", "three years")

    [second] = uploaded(tenant.client, collection, [("handbook.md", changed_markdown.encode())])

    assert (second["created"], second["updated"], second["entry_ids"]) == (0, 1, [entry_id])
    draft = tenant.client.get(f"{KB}/entries/{entry_id}").json()
    assert (draft["current_version"], draft["published_version"]) == (2, 1)
    published = tenant.client.post(f"{KB}/entries/{entry_id}/publish")
    assert published.json()["published_version"] == 2
    after = indexed_units(tenant.client, entry_id)

    assert [u["text"] for u in after] == [
        before[0]["text"],
        "Points expire three years after they are earned.",
        before[2]["text"],
    ]
    assert all(u["entry_version"] == 2 for u in after)
    assert after[0]["id"] == before[0]["id"] and after[2]["id"] == before[2]["id"]
    assert after[1]["id"] not in {u["id"] for u in before}
    history = tenant.client.get(f"{KB}/entries/{entry_id}/history").json()
    assert [v["number"] for v in history["versions"]] == [1, 2]


def test_uploading_the_identical_file_again_changes_nothing(tenant: Tenant) -> None:
    collection = make_collection(tenant.client)
    data = HANDBOOK_MARKDOWN.encode()
    [first] = uploaded(tenant.client, collection, [("handbook.md", data)])

    [again] = uploaded(tenant.client, collection, [("handbook.md", data)])

    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)
    assert again["entry_ids"] == first["entry_ids"]
    entry = tenant.client.get(f"{KB}/entries/{first['entry_ids'][0]}").json()
    assert entry["current_version"] == 1


@pytest.mark.parametrize(("role", "publish"), [("agent", False), ("editor", True)])
def test_roles_that_may_not_upload(tenant: Tenant, role: str, publish: bool) -> None:
    collection = make_collection(tenant.client)
    member = tenant.member(role)

    r = upload(member, collection, [("handbook.md", HANDBOOK_MARKDOWN.encode())], publish)

    assert r.status_code == 403, r.text
    assert tenant.client.get(f"{KB}/entries").json() == []
