"""FAQ import and export over the real API: every file format, bad rows and bad files, re-import
as new versions, export round trips, publishing on import, and who may import."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import openpyxl
import pytest

from tests.conftest import Tenant
from tests.kb.helpers import make_collection, wait_indexed

KB = "/api/v1/kb"

# A small bilingual FAQ in the shape of the shared evaluation data (id, question, similar,
# answer), plus the optional category and tags the importer understands.
BILINGUAL_FAQ: list[dict[str, Any]] = [
    {
        "id": "pw-reset",
        "question": "如何重置登录密码？",
        "similar": ["忘记密码怎么办", "How do I reset my password?"],
        "answer": "在登录页点击“忘记密码”，用短信验证码设置新密码。",
        "category": "账户与安全",
    },
    {
        "id": "shipping-fee",
        "question": "How much does shipping cost?",
        "similar": ["运费多少钱"],
        "answer": "Shipping is free on orders over ¥99; otherwise it costs ¥8.",
        "category": "Delivery",
        "tags": ["shipping", "运费"],
    },
    {
        "id": "refund-time",
        "question": "退款多久到账？",
        "similar": [],
        "answer": "退款在 3 个工作日内原路退回。\nRefunds arrive within 3 business days.",
        "tags": ["退款"],
    },
]


def jsonl(items: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items).encode()


def xlsx(rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def import_files(
    client: httpx.Client, collection_id: str, files: list[tuple[str, bytes]], publish: bool = False
) -> httpx.Response:
    return client.post(
        f"{KB}/collections/{collection_id}/faq-import",
        files=[("files", (name, data)) for name, data in files],
        data={"publish": str(publish).lower()},
    )


def imported(
    client: httpx.Client, collection_id: str, files: list[tuple[str, bytes]], publish: bool = False
) -> list[dict[str, Any]]:
    r = import_files(client, collection_id, files, publish)
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["files"]
    assert [f["filename"] for f in results] == [name for name, _ in files]
    return results


def faq_by_id(client: httpx.Client, collection_id: str) -> dict[str, dict[str, Any]]:
    """The collection's FAQ entries as the import fields, keyed by their id in the file."""
    categories = {c["id"]: c["name"] for c in client.get(f"{KB}/categories").json()}
    listed = client.get(f"{KB}/entries", params={"collection_id": collection_id}).json()
    found = {}
    for summary in listed:
        entry = client.get(f"{KB}/entries/{summary['id']}").json()
        found[entry["external_id"]] = {
            "question": entry["content"]["question"],
            "similar": entry["content"]["similar"],
            "answer": entry["content"]["answer"],
            "category": categories.get(entry["category_id"]),
            "tags": sorted(entry["tags"]),
        }
    return found


def expected(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        item["id"]: {
            "question": item["question"],
            "similar": item.get("similar", []),
            "answer": item["answer"],
            "category": item.get("category"),
            "tags": sorted(item.get("tags", [])),
        }
        for item in items
    }


def test_jsonl_import_reports_bad_rows_by_file_and_row_and_imports_the_rest(
    tenant: Tenant,
) -> None:
    collection = make_collection(tenant.client)
    good = BILINGUAL_FAQ
    data = b"".join(
        [
            jsonl(good[:1]),
            '{"id": "broken", "question": "坏行"\n'.encode(),  # line 2: cut short
            jsonl([{"id": "no-answer", "question": "没有答案的问题", "answer": " "}]),  # line 3
            jsonl(good[1:2]),
            jsonl([{**good[2], "id": "pw-reset"}]),  # line 5: the id of line 1 again
            jsonl(good[2:]),
        ]
    )

    [result] = imported(tenant.client, collection, [("faq.jsonl", data)])

    assert (result["created"], result["updated"], result["unchanged"]) == (3, 0, 0)
    assert [(e["filename"], e["row"]) for e in result["errors"]] == [
        ("faq.jsonl", 2),
        ("faq.jsonl", 3),
        ("faq.jsonl", 5),
    ]
    messages = [e["message"] for e in result["errors"]]
    assert "malformed JSON" in messages[0]
    assert "answer is missing" in messages[1]
    assert "duplicate id 'pw-reset'" in messages[2]
    assert faq_by_id(tenant.client, collection) == expected(good)
    assert len(result["entry_ids"]) == 3


def test_json_list_import(tenant: Tenant) -> None:
    collection = make_collection(tenant.client)
    data = json.dumps(BILINGUAL_FAQ, ensure_ascii=False).encode()

    [result] = imported(tenant.client, collection, [("faq.json", data)])

    assert result["created"] == 3 and result["errors"] == []
    assert faq_by_id(tenant.client, collection) == expected(BILINGUAL_FAQ)


def test_csv_in_utf8_and_gb18030_with_chinese_headers(tenant: Tenant) -> None:
    collection = make_collection(tenant.client)
    header = ["编号", "问题", "相似问题", "答案", "分类"]
    utf8 = csv_text(
        [
            header,
            [
                "u-1",
                "发票怎么开？",
                "怎么开发票|How do I get an invoice?",
                "在订单页申请。\n一天内开出。",
                "发票",
            ],
            ["u-2", "Can I change my address?", "", "Yes, before the order ships.", ""],
        ]
    ).encode("utf-8")
    # What Excel on Chinese Windows writes: GB18030 without a byte-order mark.
    gb18030 = csv_text(
        [
            header,
            [
                "g-1",
                "会员积分怎么用？",
                "积分可以抵现吗|积分有效期多久",
                "每 100 积分抵 1 元。",
                "会员",
            ],
            ["g-2", "营业时间是几点？", "", "每天九点到晚上九点。", ""],
        ]
    ).encode("gb18030")

    results = imported(tenant.client, collection, [("utf8.csv", utf8), ("国标.csv", gb18030)])

    assert [(r["created"], r["errors"]) for r in results] == [(2, []), (2, [])]
    assert faq_by_id(tenant.client, collection) == {
        "u-1": {
            "question": "发票怎么开？",
            "similar": ["怎么开发票", "How do I get an invoice?"],
            "answer": "在订单页申请。\n一天内开出。",
            "category": "发票",
            "tags": [],
        },
        "u-2": {
            "question": "Can I change my address?",
            "similar": [],
            "answer": "Yes, before the order ships.",
            "category": None,
            "tags": [],
        },
        "g-1": {
            "question": "会员积分怎么用？",
            "similar": ["积分可以抵现吗", "积分有效期多久"],
            "answer": "每 100 积分抵 1 元。",
            "category": "会员",
            "tags": [],
        },
        "g-2": {
            "question": "营业时间是几点？",
            "similar": [],
            "answer": "每天九点到晚上九点。",
            "category": None,
            "tags": [],
        },
    }


def test_xlsx_import_with_bad_rows(tenant: Tenant) -> None:
    collection = make_collection(tenant.client)
    data = xlsx(
        [
            ["编号", "问题", "相似问题", "答案", "分类"],
            [
                1001,
                "支持哪些付款方式？",
                "能用微信支付吗\n可以刷信用卡吗",
                "支持微信、支付宝和银行卡。",
                "支付",
            ],
            [1002, "没有答案的行", None, None, None],
            [1003, "Do you ship abroad?", None, "Not yet.", None],
        ]
    )

    [result] = imported(tenant.client, collection, [("faq.xlsx", data)])

    assert result["created"] == 2
    assert [(e["filename"], e["row"]) for e in result["errors"]] == [("faq.xlsx", 3)]
    assert faq_by_id(tenant.client, collection) == {
        "1001": {
            "question": "支持哪些付款方式？",
            "similar": ["能用微信支付吗", "可以刷信用卡吗"],
            "answer": "支持微信、支付宝和银行卡。",
            "category": "支付",
            "tags": [],
        },
        "1003": {
            "question": "Do you ship abroad?",
            "similar": [],
            "answer": "Not yet.",
            "category": None,
            "tags": [],
        },
    }


def test_corrupt_or_empty_files_fail_as_a_whole_and_store_nothing(tenant: Tenant) -> None:
    collection = make_collection(tenant.client)
    corrupt = xlsx([["question", "answer"], ["q", "a"]])[:300]  # a truncated workbook

    results = imported(
        tenant.client,
        collection,
        [("broken.xlsx", corrupt), ("empty.jsonl", b""), ("good.jsonl", jsonl(BILINGUAL_FAQ[:1]))],
    )

    broken, empty, good = results
    for result, name in [(broken, "broken.xlsx"), (empty, "empty.jsonl")]:
        assert (result["created"], result["updated"], result["entry_ids"]) == (0, 0, [])
        [error] = result["errors"]
        assert error["filename"] == name and error["row"] is None
        assert error["message"].startswith(name)
    assert "xlsx" in broken["errors"][0]["message"]
    assert "empty" in empty["errors"][0]["message"]
    assert good["created"] == 1
    assert list(faq_by_id(tenant.client, collection)) == ["pw-reset"]


def test_reimport_with_one_changed_answer_makes_a_version_of_that_entry_only(
    tenant: Tenant,
) -> None:
    collection = make_collection(tenant.client)
    [first] = imported(tenant.client, collection, [("faq.jsonl", jsonl(BILINGUAL_FAQ))])
    changed = [dict(item) for item in BILINGUAL_FAQ]
    changed[1]["answer"] = "Shipping is free on every order."

    [second] = imported(tenant.client, collection, [("faq.jsonl", jsonl(changed))])

    assert (second["created"], second["updated"], second["unchanged"]) == (0, 1, 2)
    assert second["errors"] == [] and sorted(second["entry_ids"]) == sorted(first["entry_ids"])
    versions = {}
    for entry_id in first["entry_ids"]:
        entry = tenant.client.get(f"{KB}/entries/{entry_id}").json()
        history = tenant.client.get(f"{KB}/entries/{entry_id}/history").json()
        versions[entry["external_id"]] = [v["number"] for v in history["versions"]]
        assert entry["current_version"] == versions[entry["external_id"]][-1]
    assert versions == {"pw-reset": [1], "shipping-fee": [1, 2], "refund-time": [1]}
    assert faq_by_id(tenant.client, collection) == expected(changed)


def test_reimporting_an_archived_entry_does_not_bring_its_old_answer_back(
    tenant: Tenant,
) -> None:
    collection = make_collection(tenant.client)
    rows = BILINGUAL_FAQ[1:2]
    [result] = imported(tenant.client, collection, [("faq.jsonl", jsonl(rows))], publish=True)
    [entry_id] = result["entry_ids"]
    wait_indexed(tenant.client, entry_id)
    tenant.client.post(f"{KB}/entries/{entry_id}/archive")
    wait_indexed(tenant.client, entry_id)

    changed = [{**rows[0], "answer": "Shipping is free on every order."}]
    [again] = imported(tenant.client, collection, [("faq.jsonl", jsonl(changed))])

    assert again["updated"] == 1
    entry = tenant.client.get(f"{KB}/entries/{entry_id}").json()
    # Like a restored entry: a draft that customers cannot reach until it is published again.
    assert (entry["status"], entry["current_version"]) == ("draft", 2)
    assert entry["published_version"] is None and entry["published_content"] is None
    assert tenant.client.get(f"{KB}/entries/{entry_id}/units").json() == []


def test_categories_named_in_the_file_are_created_once(tenant: Tenant) -> None:
    collection = make_collection(tenant.client)
    two_factor = {"id": "2fa", "question": "如何开启两步验证？", "answer": "在安全设置里开启。"}
    rows = [*BILINGUAL_FAQ, {**two_factor, "category": "账户与安全"}]

    imported(tenant.client, collection, [("faq.jsonl", jsonl(rows))])

    categories = tenant.client.get(f"{KB}/categories").json()
    assert sorted((c["name"], c["kind"]) for c in categories) == [
        ("Delivery", "product"),
        ("账户与安全", "product"),
    ]
    found = faq_by_id(tenant.client, collection)
    assert found["2fa"]["category"] == found["pw-reset"]["category"] == "账户与安全"


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx"])
def test_export_round_trips_through_import(tenant: Tenant, fmt: str) -> None:
    source = make_collection(tenant.client, "Source")
    copy = make_collection(tenant.client, "Copy")
    imported(tenant.client, source, [("faq.jsonl", jsonl(BILINGUAL_FAQ))])

    export = tenant.client.get(f"{KB}/collections/{source}/faq-export", params={"format": fmt})
    assert export.status_code == 200, export.text
    assert f'filename="faq.{fmt}"' in export.headers["content-disposition"]
    [result] = imported(tenant.client, copy, [(f"export.{fmt}", export.content)])

    assert (result["created"], result["errors"]) == (3, [])
    assert faq_by_id(tenant.client, copy) == faq_by_id(tenant.client, source)
    assert faq_by_id(tenant.client, copy) == expected(BILINGUAL_FAQ)


def test_publish_on_import_publishes_and_indexes(tenant: Tenant) -> None:
    collection = make_collection(tenant.client)
    rows = BILINGUAL_FAQ[1:]

    [result] = imported(tenant.client, collection, [("faq.jsonl", jsonl(rows))], publish=True)

    assert result["created"] == 2
    for entry_id in result["entry_ids"]:
        entry = wait_indexed(tenant.client, entry_id)
        assert entry["status"] == "published" and entry["published_version"] == 1
        assert entry["index_status"] == "done", entry["index_error"]
        units = tenant.client.get(f"{KB}/entries/{entry_id}/units").json()
        content = entry["content"]
        assert [u["text"] for u in units] == [
            content["question"],
            *content["similar"],
            content["answer"],
        ]
        assert all(u["embedded"] and u["entry_version"] == 1 for u in units)


def test_who_may_import(tenant: Tenant) -> None:
    collection = make_collection(tenant.client)
    agent, editor = tenant.member("agent"), tenant.member("editor")
    data = jsonl(BILINGUAL_FAQ)

    assert import_files(agent, collection, [("faq.jsonl", data)]).status_code == 403
    assert faq_by_id(tenant.client, collection) == {}

    # Editors write drafts; publishing is for reviewers and owners, also when re-importing.
    assert import_files(editor, collection, [("faq.jsonl", data)], publish=True).status_code == 403
    assert faq_by_id(tenant.client, collection) == {}
    [drafts] = imported(editor, collection, [("faq.jsonl", data)])
    assert drafts["created"] == 3
    changed = [{**item, "answer": item["answer"] + "!"} for item in BILINGUAL_FAQ]
    denied = import_files(editor, collection, [("faq.jsonl", jsonl(changed))], publish=True)
    assert denied.status_code == 403, denied.text
    statuses = {e["status"] for e in tenant.client.get(f"{KB}/entries").json()}
    assert statuses == {"draft"}
    assert faq_by_id(tenant.client, collection) == expected(BILINGUAL_FAQ)


def test_import_into_a_missing_collection_is_not_found(tenant: Tenant) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    r = import_files(tenant.client, missing, [("faq.jsonl", jsonl(BILINGUAL_FAQ))])
    assert r.status_code == 404
    assert tenant.client.get(f"{KB}/entries").json() == []
