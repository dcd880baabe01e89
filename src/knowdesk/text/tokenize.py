"""Word segmentation for Chinese and English text.

Chinese is cut into words by rjieba (jieba's dictionary, in Rust); English and other Latin
script is split on word boundaries and lower-cased. Punctuation and white space never become
tokens. Retrieval and classification build their own term features on top of `words`.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import rjieba
import snowballstemmer

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[a-z0-9]+(?:['’.-][a-z0-9]+)*")


def normalize(text: str) -> str:
    """NFKC-fold (full-width letters and digits become ASCII) and lower-case."""
    return unicodedata.normalize("NFKC", text).lower()


def is_cjk(char: str) -> bool:
    return bool(_CJK.match(char))


def detect_language(text: str) -> str:
    """'zh' when CJK characters make up a fair share of the letters, else 'en'."""
    cjk = len(_CJK.findall(text))
    latin = sum(len(w) for w in _LATIN_WORD.findall(normalize(text)))
    if cjk == 0:
        return "en"
    # A Chinese character carries roughly as much as a four-letter English word.
    return "zh" if cjk * 4 >= latin else "en"


def words(text: str) -> list[str]:
    """Segment `text` into normalised words, dropping punctuation and spaces."""
    out: list[str] = []
    for piece in rjieba.cut(normalize(text)):
        piece = piece.strip()
        if not piece:
            continue
        if _CJK.search(piece):
            out.append(piece)
        else:
            out.extend(_LATIN_WORD.findall(piece))
    return out


_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_ALPHABETIC = re.compile(r"[a-z]+")
_english_stemmer = snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball (Porter 2) stem of a plain lower-case English word; other tokens unchanged.

    Stemming lets "deleting" match "delete" and "accounts" match "account"; tokens with digits,
    dots or hyphens (versions, e-mail addresses, product codes) are kept whole.
    """
    if not _ALPHABETIC.fullmatch(word):
        return word
    return str(_english_stemmer.stemWord(word))


def cjk_bigrams(text: str) -> list[str]:
    """Overlapping character pairs inside each run of CJK characters (a lone character as is).

    Bigrams match where segmentation disagrees: rjieba may cut "微粒贷" as "微粒"+"贷" in one
    sentence and keep it whole in another; "微粒" and "粒贷" come out the same in both.
    """
    grams: list[str] = []
    for run in _CJK_RUN.findall(normalize(text)):
        if len(run) == 1:
            grams.append(run)
        grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def index_terms(text: str) -> list[str]:
    """Keyword-search terms of `text`: words (English ones stemmed) plus CJK character bigrams.

    Bigrams carry a "#" prefix so the bigram "还款" and the jieba word "还款" stay separate terms
    and each counts once in its own right.
    """
    terms = [stem(word) for word in words(text)]
    terms.extend(f"#{gram}" for gram in cjk_bigrams(text))
    return terms
