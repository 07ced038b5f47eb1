"""Embedders: one small interface, the real sentence-transformers model, and a deterministic fake for unit tests."""

from __future__ import annotations

import hashlib
import os
import queue
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np

from bot.config import Settings
from bot.lang import tokenize


class Embedder(Protocol):
    model_id: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """Any sentence-transformers model. Uses the model's own query / document prompts (EmbeddingGemma's matter:
    "task: search result | query: " vs "title: none | text: "), and returns L2-normalised float32 rows so that
    inner product is cosine."""

    def __init__(self, model_ref: str, model_id: str, backend: str = "torch", batch_size: int = 16,
                 workers: int = 1) -> None:
        from sentence_transformers import SentenceTransformer  # heavy import; only when a real model is wanted
        from transformers.utils import logging as hf_logging

        # transformers 4.57 warns about a Mistral tokenizer regex for this Gemma tokenizer; we checked that the
        # exported and original tokenizers give identical ids (BENCHMARKS.md), so the warning is noise here.
        hf_logging.set_verbosity_error()

        kwargs: dict[str, object] = {"device": "cpu"}
        if backend == "onnx":
            from bot.build.onnx_export import onnx_model_kwargs, verified_export

            model_ref = str(verified_export(model_ref))
            kwargs.update(backend="onnx", model_kwargs=onnx_model_kwargs())
            # Dynamic int8 quantisation scales activations per *batch*: a text embedded beside other texts (and
            # their padding) gets another vector (cosine 0.96 measured for the same text with other batch-mates).
            # One text per call makes document vectors reproducible, equal to what a query of the same text gets,
            # and independent of which chunks an incremental build happens to re-embed together. It is not slower
            # here (8.1 vs 7.1 long documents/s). The id changes with it, so batched indexes are rebuilt.
            batch_size = 1
            model_id = f"{model_id}@onnx-int8-b1"
        elif backend != "torch":
            raise ValueError(f"unknown embedding backend {backend!r}; use 'torch' or 'onnx'")
        self._model = SentenceTransformer(model_ref, **kwargs)
        self._model_ref, self._kwargs = model_ref, kwargs
        # Index builds: ONNX sessions of one thread each, run side by side (one per core). One text per call keeps
        # small matrices, which one thread handles nearly as fast as two (BENCHMARKS.md, "Index build"), and a
        # vector does not depend on the thread count (checked bit for bit: tests/test_realmodel.py).
        self.workers = max(1, workers) if backend == "onnx" else 1
        self._free: queue.Queue[Any] | None = None
        self.model_id = model_id
        dim = self._model.get_embedding_dimension()
        if dim is None:
            raise ValueError(f"{model_ref} does not report an embedding dimension")
        self.dim = int(dim)
        self.batch_size = batch_size

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), "query")

    def embed_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode(list(texts), "document", progress)

    def _encode(self, texts: list[str], side: str, progress: bool = False) -> np.ndarray:
        if self.workers > 1 and len(texts) >= 4 * self.workers:
            return self._encode_parallel(texts, side)
        return self._encode_with(self._model, texts, side, progress)

    def _encode_with(self, model: Any, texts: list[str], side: str, progress: bool = False) -> np.ndarray:
        encode = model.encode_query if side == "query" else model.encode_document
        vectors = encode(texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                         show_progress_bar=progress)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def _worker_models(self) -> queue.Queue[Any]:
        if self._free is None:
            import onnxruntime as ort
            from sentence_transformers import SentenceTransformer

            def load(_: int) -> Any:
                options = ort.SessionOptions()
                options.intra_op_num_threads = 1
                options.inter_op_num_threads = 1
                model_kwargs = {**self._kwargs["model_kwargs"], "session_options": options}  # type: ignore[dict-item]
                return SentenceTransformer(self._model_ref, **{**self._kwargs, "model_kwargs": model_kwargs})

            free: queue.Queue[Any] = queue.Queue()
            with ThreadPoolExecutor(self.workers) as pool:
                for model in pool.map(load, range(self.workers)):
                    free.put(model)
            self._free = free
        return self._free

    def _encode_parallel(self, texts: list[str], side: str) -> np.ndarray:
        free = self._worker_models()

        def run(part: list[str]) -> np.ndarray:
            model = free.get()
            try:
                return self._encode_with(model, part, side)
            finally:
                free.put(model)

        step = 4
        with ThreadPoolExecutor(self.workers) as pool:
            parts = list(pool.map(run, [texts[n : n + step] for n in range(0, len(texts), step)]))
        return np.vstack(parts)


class HashEmbedder:
    """Deterministic bag-of-tokens vectors (signed feature hashing). For unit tests only: no model, no download,
    and texts sharing tokens really are closer, so ranking tests mean something."""

    def __init__(self, dim: int = 256, model_id: str = "hash-256") -> None:
        self.dim = dim
        self.model_id = model_id

    def _one(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for token in tokenize(text):
            digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self.dim
            vec[bucket] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self.embed_queries(texts)


def load_embedder(settings: Settings) -> Embedder:
    """The configured embedder: the verified default model, or the user's own folder / hub id."""
    from bot.build.models import resolve_model

    if settings.model == "hash":
        return HashEmbedder()
    workers = settings.embed_workers or os.cpu_count() or 1
    return SentenceTransformerEmbedder(
        resolve_model(settings), settings.model, settings.embed_backend, settings.embed_batch_size, workers
    )
