"""Keyword extraction for Chinese and English text (FAQ tags, search hints, analytics).

Scoring, per distinct word after dropping stop words:

    score = term frequency × length weight × IDF

- length weight: a Chinese word weighs its number of characters, capped at 4; a Latin word weighs
  a third of its letters, capped at 4 (so a twelve-letter English word ranks with a four-character
  Chinese word: both carry about as much meaning).
- IDF is 1 without corpus statistics; with them it is sklearn's smoothed
  ln((1 + N) / (1 + df)) + 1, so words common across the corpus sink.

Ties go to the word that appears first, which makes the result deterministic.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from knowdesk.text.tokenize import is_cjk, words

_NUMBER = re.compile(r"[\d.,:/-]+")  # 404, 0.05, 2024-01-31

# Function words only: content words, however frequent, are for IDF to weigh down.
CHINESE_STOP_WORDS: frozenset[str] = frozenset(
    """
    的 地 得 了 着 过 是 在 有 没 没有 不 也 都 还 又 就 才 只 很 太 更 最 和 与 及 或 或者 而 但
    但是 并 且 而且 如果 因为 所以 虽然 然后 那么 就是 还是 我 你 您 他 她 它 我们 你们 他们 她们
    咱们 自己 这 那 这个 那个 这些 那些 这样 那样 这里 那里 哪 哪里 哪个 哪些 什么 怎么 怎样
    怎么样 怎么办 如何 为什么 为何 多少 几 吗 呢 吧 啊 呀 哦 嘛 么 啦 把 被 给 对 向 从 到 为 以
    于 让 由 将 会 能 能够 可以 可 要 想 应该 请 请问 一下 一个 一些 个 些 上 下 中 里 时 时候 之
    等 等等 已经 正在
    """.split()
)

ENGLISH_STOP_WORDS: frozenset[str] = frozenset(
    """
    a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing don't done down during each either
    else for from further get gets got had has have having he her here hers him his how i if in
    into is it it's its just let me might more most must my no nor not of off on once only or
    other our ours out over own please same shall she should so some such than that the their
    theirs them then there these they this those through to too under until up us very was we
    were what when where which while who whom whose why will with would yes yet you your yours
    """.split()
)


@dataclass(frozen=True)
class CorpusStats:
    """Document frequencies of words over a corpus (say, all FAQ entries of a workspace)."""

    document_count: int
    document_frequency: Mapping[str, int]

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> CorpusStats:
        frequency: Counter[str] = Counter()
        count = 0
        for text in texts:
            count += 1
            frequency.update(set(words(text)))
        return cls(document_count=count, document_frequency=dict(frequency))

    def idf(self, word: str) -> float:
        df = self.document_frequency.get(word, 0)
        return math.log((1 + self.document_count) / (1 + df)) + 1


def extract_keywords(text: str, *, limit: int = 8, corpus: CorpusStats | None = None) -> list[str]:
    """The `limit` best keywords of `text`, best first, as normalised words."""
    if limit < 0:
        raise ValueError("limit must not be negative")
    candidates = [word for word in words(text) if _is_candidate(word)]
    frequency = Counter(candidates)
    first_position = {word: position for position, word in reversed(list(enumerate(candidates)))}

    def score(word: str) -> float:
        idf = corpus.idf(word) if corpus is not None else 1.0
        return frequency[word] * _length_weight(word) * idf

    ranked = sorted(frequency, key=lambda word: (-score(word), first_position[word]))
    return ranked[:limit]


def _is_candidate(word: str) -> bool:
    """Not a stop word, not a number (a poor keyword), not a single Latin letter."""
    if word in CHINESE_STOP_WORDS or word in ENGLISH_STOP_WORDS:
        return False
    if _NUMBER.fullmatch(word):
        return False
    return len(word) > 1 or is_cjk(word)


def _length_weight(word: str) -> float:
    if any(is_cjk(char) for char in word):
        return float(min(len(word), 4))
    return min(len(word) / 3, 4.0)
