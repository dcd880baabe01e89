from knowdesk.text.tokenize import cjk_bigrams, detect_language, index_terms, normalize, stem, words


def test_words_segment_chinese_and_lowercase_english_without_punctuation() -> None:
    assert words("如何修改登录密码？") == ["如何", "修改", "登录", "密码"]
    assert words("Reset my PASSWORD, please!") == ["reset", "my", "password", "please"]


def test_normalize_folds_full_width_forms() -> None:
    assert normalize("ＡＢＣ１２３") == "abc123"


def test_detect_language() -> None:
    assert detect_language("怎么改密码") == "zh"
    assert detect_language("How do I change my password?") == "en"


def test_stem_merges_inflections_and_keeps_codes_whole() -> None:
    assert stem("deleting") == stem("deleted") == stem("delete")
    assert stem("accounts") == "account"
    assert stem("e-mail") == "e-mail"
    assert stem("v2") == "v2"


def test_cjk_bigrams_overlap_within_runs_only() -> None:
    assert cjk_bigrams("微粒贷 ok 还款") == ["微粒", "粒贷", "还款"]
    assert cjk_bigrams("钱") == ["钱"]
    assert cjk_bigrams("no chinese") == []


def test_index_terms_let_different_segmentations_share_terms() -> None:
    # rjieba keeps "银行账号" whole and cuts "换银行卡号" into 换/银行卡/号: no word in common,
    # but the bigram "银行" is in both.
    first, second = index_terms("银行账号"), index_terms("换银行卡号")
    assert not set(words("银行账号")) & set(words("换银行卡号"))
    assert set(first) & set(second) == {"#银行"}
    assert index_terms("Deleting accounts") == ["delet", "account"]
