"""Optional generation of grounded answers by a language model, from cited passages only.

The model is any OpenAI-compatible chat-completions endpoint (vLLM, Ollama, llama.cpp server, a
cloud API): the workspace's own (llm_settings.py), else the server's `llm_base_url`. It sees
the question and the numbered passages the search chose, and must either answer from them,
citing them as [1], [2], or reply exactly NO_ANSWER.

Nothing the model says is trusted on its own: a reply is used only when it cites at least one
of the given passages and no passage that was not given, every number in it stands in the
passages it cites, and most of its words come from those passages or the question. Anything
else (the endpoint down, slow, answering with an error, with something that is not a chat
completion, with an empty, uncited or unsupported text) is a `failed` outcome, and the caller
keeps its extractive answer; a NO_ANSWER is a `refused` outcome, which says the passages do not
hold the answer.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import httpx

from knowdesk.config import Settings
from knowdesk.text.tokenize import index_terms

NO_ANSWER = "NO_ANSWER"
MAX_TOKENS = 512

# A reply must take most of its words from what it was given: a rewording passes, text about
# something else (or nonsense) does not. Numbers must be given verbatim: an invented price,
# limit or deadline is the costliest kind of wrong answer.
MIN_SUPPORTED_SHARE = 0.5

_CITATION = re.compile(r"\[(\d{1,3})\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_LIST_MARKER = re.compile(r"^\s*\d{1,2}[.)、]\s*", re.MULTILINE)  # "1. Open the app"

_SYSTEM = {
    "en": (
        "You are a customer-service assistant. Answer the customer's question using only the "
        "numbered passages below; do not add facts they do not state. Cite the passages you "
        "used as [1], [2] right after the sentences that use them. If the passages do not "
        f"contain the answer, reply exactly {NO_ANSWER} and nothing else. Reply in English."
    ),
    "zh": (
        "你是客服助手。只根据下面编号的资料回答客户的问题，不要添加资料里没有的内容。在用到资料的"
        "句子后面用 [1]、[2] 标注出处。如果资料里没有答案，只回复 "
        f"{NO_ANSWER}，不要回复其他内容。用简体中文回答。"
    ),
}


LLMFailure = Literal["timeout", "refused", "network", "http_status", "malformed"]


class LLMError(Exception):
    """The endpoint gave no usable completion (unreachable, too slow, an error, no text);
    `kind` says which, for an owner checking the connection."""

    def __init__(self, message: str, kind: LLMFailure, status: int | None = None) -> None:
        super().__init__(message)
        self.kind: LLMFailure = kind
        self.status = status


class LLM(Protocol):
    """A chat model: messages in (`{"role", "content"}`), the reply's text out."""

    async def complete(self, messages: Sequence[dict[str, str]]) -> str:
        """The model's reply; raises `LLMError` when there is none to use."""
        ...


class OpenAICompatibleLLM:
    """`POST {base_url}/chat/completions`, as OpenAI's API and its many imitators serve it."""

    def __init__(self, base_url: str, api_key: str | None, model: str, timeout: float) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.model = model
        self.timeout = timeout

    async def complete(self, messages: Sequence[dict[str, str]]) -> str:
        body = {
            "model": self.model,
            "messages": list(messages),
            "temperature": 0,
            "max_tokens": MAX_TOKENS,
        }
        try:
            # httpx's timeout bounds each read; the outer one bounds the whole exchange, so a
            # server that trickles bytes cannot hold the customer's answer either.
            async with asyncio.timeout(self.timeout):
                async with httpx.AsyncClient(timeout=self.timeout) as client:
                    response = await client.post(self.url, json=body, headers=self.headers)
        except (httpx.TimeoutException, TimeoutError) as exc:
            raise LLMError(f"{type(exc).__name__}: {exc}", "timeout") from exc
        except httpx.ConnectError as exc:
            raise LLMError(f"{type(exc).__name__}: {exc}", "refused") from exc
        except httpx.HTTPError as exc:
            raise LLMError(f"{type(exc).__name__}: {exc}", "network") from exc
        if response.is_error:
            raise LLMError(
                f"HTTP {response.status_code}: {response.text[:200]}",
                "http_status",
                response.status_code,
            )
        return _reply_text(response)


def _reply_text(response: httpx.Response) -> str:
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LLMError(f"not a chat completion: {response.text[:200]!r}", "malformed") from exc
    if not isinstance(content, str) or not content.strip():
        raise LLMError("an empty reply", "malformed")
    return content.strip()


def llm_from_settings(settings: Settings) -> LLM | None:
    """The configured model, or None when generation is off (no `llm_base_url`)."""
    if not settings.llm_base_url:
        return None
    return OpenAICompatibleLLM(
        settings.llm_base_url,
        settings.llm_api_key,
        settings.llm_model,
        settings.llm_timeout_seconds,
    )


def grounded_messages(
    question: str, passages: Sequence[str], language: str
) -> list[dict[str, str]]:
    """The prompt: the rules, then the numbered passages and the question."""
    numbered = "\n\n".join(f"[{i}] {text}" for i, text in enumerate(passages, start=1))
    label = ("资料", "问题") if language == "zh" else ("Passages", "Question")
    return [
        {"role": "system", "content": _SYSTEM.get(language, _SYSTEM["en"])},
        {"role": "user", "content": f"{label[0]}:\n{numbered}\n\n{label[1]}: {question}"},
    ]


def cited_passages(reply: str) -> list[int]:
    """The passage numbers a reply cites, in order of first citation."""
    return list(dict.fromkeys(int(n) for n in _CITATION.findall(reply)))


@dataclass(frozen=True)
class Generation:
    outcome: Literal["answered", "refused", "failed"]
    text: str | None = None  # the answer, when answered
    cited: tuple[int, ...] = ()  # 1-based passage numbers it cites, when answered
    reason: str = ""  # why it failed, for the logs


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def unsupported(reply: str, cited: Sequence[str], question: str) -> str | None:
    """Why the reply says more than the passages it cites (None when it does not): a number
    they do not hold, or too few of its words found in them or in the question."""
    said = _LIST_MARKER.sub("", _CITATION.sub(" ", reply))
    invented = _numbers(said) - _numbers(" ".join(cited))
    if invented:
        return f"numbers not in the cited passages: {sorted(invented)}"
    terms = index_terms(said)
    known = set(index_terms(" ".join([*cited, question])))
    if not terms or sum(t in known for t in terms) < MIN_SUPPORTED_SHARE * len(terms):
        return "most of the reply's words are not in the cited passages"
    return None


def judge_reply(reply: str, passages: Sequence[str], question: str) -> Generation:
    """Accept a reply only when it cites some given passage and none that was not given, and
    says nothing those passages do not support."""
    if reply.strip().strip(".。").upper() == NO_ANSWER:
        return Generation("refused")
    cited = cited_passages(reply)
    if not cited:
        return Generation("failed", reason="the reply cites no passage")
    if any(not 1 <= n <= len(passages) for n in cited):
        return Generation("failed", reason=f"the reply cites passages that were not given: {cited}")
    if NO_ANSWER in reply:
        return Generation("failed", reason="the reply both answers and refuses")
    reason = unsupported(reply, [passages[n - 1] for n in cited], question)
    if reason is not None:
        return Generation("failed", reason=reason)
    return Generation("answered", reply, tuple(cited))


async def generate_grounded(
    llm: LLM, question: str, passages: Sequence[str], language: str
) -> Generation:
    """Ask `llm` to answer `question` from `passages` alone; never raises for the model's
    failures (they come back as a `failed` generation)."""
    if not passages:
        return Generation("failed", reason="no passages")
    try:
        reply = await llm.complete(grounded_messages(question, passages, language))
    except LLMError as exc:
        return Generation("failed", reason=str(exc))
    return judge_reply(reply, passages, question)
