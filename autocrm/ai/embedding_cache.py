"""Embeddings of a whole list of texts, optionally cached on disk (development, tests and
benchmarks re-embed the same data sets; the product never uses the cache).

The cache is off unless AI_EMBEDDING_CACHE_DIR is set; its key is the provider's model id
plus every text, so a different model or data set never reads a stale file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from autocrm.ai.providers.embeddings import EmbeddingProvider


def embed_all(provider: EmbeddingProvider, texts: list[str]) -> np.ndarray:
    directory = os.environ.get("AI_EMBEDDING_CACHE_DIR", "")
    if not directory:
        return provider.embed(texts)
    digest = hashlib.sha256(provider.model_id.encode())
    for text in texts:
        digest.update(hashlib.sha256(text.encode()).digest())
    path = Path(directory) / f"{digest.hexdigest()}.npy"
    if path.is_file():
        cached = np.load(path)
        if cached.shape[0] == len(texts):
            return cached
    vectors = provider.embed(texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors
