"""Embedders: one small interface, the real sentence-transformers model, a torch-free ONNX one for serving, and a
deterministic fake for unit tests."""

from __future__ import annotations

import hashlib
import json
import os
import queue
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bot.config import DEFAULT_MODEL, Settings
from bot.lang import tokenize

# The model id's suffix for sentence-transformers' ONNX int8 backend, one text per call (models whose shape
# ``OnnxEmbedder`` does not run); the id an index records must match the serving embedder's exactly.
ONNX_ID = "@onnx-int8-b1"


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
            model_id = f"{model_id}{ONNX_ID}"
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


_SUPPORTED_MODULES = ("Transformer", "Pooling", "Dense", "Normalize")


# Tokens a *document* is embedded with at most, prompt and special tokens included (issue #14, BENCHMARKS.md "#14:
# index build, token budget"): "title: none | text: " and <bos>/<eos> take 8, so a card answer's vector reads its
# title, about 16 tokens (the median title fits; longer ones lose their end), and a guide section its heading. Embedding
# is 97 % of an index build, and card answers were 264k of its 624k tokens (178 a text); at 24 the build embeds 362k.
# The answer's words are still searched by BM25 (it reads the whole text), and the card's example questions have
# vectors of their own, which is what the dense ranking and the classifier lean on. Measured: on the development sets
# 64 and 32 moved headlines by up to -0.2 and -1.0 points, 24 by +0.0 to +1.5; on the QA gate 24 held or raised every
# headline against the uncapped build (decline recall +1.3, ask coverage +0.7, MRR +0.3). Queries are never capped
# here; other model shapes (sentence-transformers, ``SentenceTransformerEmbedder``) embed documents whole.
DOCUMENT_TOKENS = 24
# The torch-free ONNX embedder's id suffix: the batch-invariant int8 graph (``onnx_export.row_int8``), texts batched
# by token length, documents capped at ``DOCUMENT_TOKENS``. Its vectors differ from the "-b1" ones and from another
# cap's, so an index made with those is rebuilt.
ROW_ID = f"@onnx-int8-row-doc{DOCUMENT_TOKENS}"
# Tokens per ONNX call when texts are batched: big enough for the int8 kernels to run at full speed (a question of
# 27 tokens alone runs at about 40 % of the per-token rate of a batch), small enough to keep activations in cache:
# 1,024 took 2-4 % less CPU than 2,048 on 1,000 example questions (4,096 and 8,192 more; BENCHMARKS.md "#14: index
# build, fewer passes"). A vector does not depend on it.
BATCH_TOKENS = 1024


class OnnxEmbedder:
    """The ONNX int8 model run without torch, sentence-transformers or transformers: ``tokenizers`` for the ids,
    onnxruntime for the transformer (the batch-invariant graph of ``onnx_export.row_int8``), numpy for mean pooling,
    the Dense layers and normalisation. Serving and index builds both use it (BENCHMARKS.md, "Index build"), so a
    question asked word for word gets exactly the vector its example question has in the index.

    Texts are grouped by token length and each group is run in batches without padding: in that graph no value
    mixes rows of different texts, so a text's vector is bit for bit the one it gets alone, whatever its batch-mates
    (tests/test_realmodel.py). ``workers`` > 1 (index builds): that many one-thread sessions run batches side by
    side; otherwise one session with ``threads`` threads (0: onnxruntime's default, one per core).
    ``supports`` says whether a model folder has the shape this class runs."""

    def __init__(self, export: Path, model_id: str, threads: int = 0, workers: int = 1,
                 document_tokens: int = DOCUMENT_TOKENS) -> None:
        import onnxruntime as ort
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        from bot.build.onnx_export import session

        config = json.loads((export / "config_sentence_transformers.json").read_text(encoding="utf-8"))
        prompts = config.get("prompts", {})
        self._prompts: dict[str, str] = {side: prompts.get(side, "") for side in ("query", "document")}
        # The Dense layers have no activation (``supports``), so they fold into one affine map, applied in float64 and
        # rounded once: one 768 x 768 product per text instead of 768 x 3072 and back (0.2 ms instead of 2.6 here).
        weight: np.ndarray | None = None
        bias: np.ndarray | None = None
        dim = 0
        for module in _modules(export):
            kind = module["type"].rsplit(".", 1)[-1]
            folder = export / module["path"]
            if kind == "Pooling":
                dim = int(json.loads((folder / "config.json").read_text())["embedding_dimension"])
            elif kind == "Dense":
                weights = load_file(str(folder / "model.safetensors"))
                layer = np.ascontiguousarray(weights["linear.weight"].T, dtype=np.float64)  # as in x @ layer
                layer_bias = weights.get("linear.bias")
                with _one_blas_thread():  # the same sums in every process, whatever its thread settings
                    if weight is None:
                        weight = layer
                    else:
                        bias = None if bias is None else bias @ layer
                        weight = weight @ layer
                if layer_bias is not None:
                    bias = layer_bias.astype(np.float64) + (0.0 if bias is None else bias)
                dim = int(json.loads((folder / "config.json").read_text())["out_features"])
        self._weight, self._bias = weight, bias
        # sentence-transformers caps the tokenizer's length at the model's positions; the same cap here.
        limit = min(int(json.loads((export / "tokenizer_config.json").read_text()).get("model_max_length", 1 << 30)),
                    int(json.loads((export / "config.json").read_text()).get("max_position_embeddings", 1 << 30)))
        self.workers = max(1, workers)
        self.document_tokens = document_tokens

        def options() -> Any:
            opts = ort.SessionOptions()
            one_each = self.workers > 1  # side by side: one thread per session (a vector does not depend on it)
            if one_each or threads > 0:  # a replica's share of the cores (``Settings.threads``)
                opts.intra_op_num_threads = 1 if one_each else threads
                opts.inter_op_num_threads = 1
            return opts

        # Parsing the 33 MB tokenizer and making the sessions each take about a second: side by side.
        with ThreadPoolExecutor(1 + self.workers) as pool:
            tokenizer = pool.submit(Tokenizer.from_file, str(export / "tokenizer.json"))
            sessions = [pool.submit(session, export, options()) for _ in range(self.workers)]
            self._sessions = [s.result() for s in sessions]
            self._tokenizer = tokenizer.result()
        self._session = self._sessions[0]
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(limit)
        release_heap()
        self.model_id = model_id
        self.dim = dim

    @staticmethod
    def supports(export: Path) -> bool:
        """Transformer, mean pooling over all tokens (prompt included), Dense layers without activation,
        Normalize: EmbeddingGemma's shape. Anything else goes through sentence-transformers."""
        try:
            modules = _modules(export)
            kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
            if kinds[:2] != ["Transformer", "Pooling"] or kinds[-1] != "Normalize" or \
                    any(k not in _SUPPORTED_MODULES for k in kinds) or kinds.count("Transformer") != 1 or \
                    kinds.count("Normalize") != 1:
                return False
            pooling = json.loads((export / modules[1]["path"] / "config.json").read_text())
            if pooling.get("pooling_mode") != "mean" or pooling.get("include_prompt", True) is not True:
                return False
            for module in modules:
                if module["type"].endswith("Dense"):
                    dense = json.loads((export / module["path"] / "config.json").read_text())
                    if not dense.get("activation_function", "").endswith("Identity"):
                        return False
            return (export / "tokenizer.json").is_file()
        except (OSError, ValueError, KeyError, IndexError):
            return False

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._prompts["query"])

    def embed_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self._prompts["document"], self.document_tokens)

    def _encode(self, texts: Sequence[str], prompt: str, cap: int | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch([prompt + text for text in texts])
        ids = [e.ids if cap is None else _capped(e.ids, e.special_tokens_mask, cap) for e in encodings]
        # Texts whose token ids are the same (documents whose first DOCUMENT_TOKENS tokens agree: 39 of an index
        # build's 1,630) are run once and the vector copied: a vector depends on its ids alone (see the docstring).
        first: dict[tuple[int, ...], int] = {}
        copies: list[tuple[int, int]] = []
        by_length: dict[int, list[int]] = {}
        for row, row_ids in enumerate(ids):
            seen = first.setdefault(tuple(row_ids), row)
            if seen != row:
                copies.append((row, seen))
            else:
                by_length.setdefault(len(row_ids), []).append(row)
        batches: list[list[int]] = []  # longest first, so the last batches left to share out are short ones
        for length, rows in sorted(by_length.items(), reverse=True):
            step = max(1, BATCH_TOKENS // length)
            batches.extend(rows[n : n + step] for n in range(0, len(rows), step))
        free: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for one in self._sessions:
            free.put(one)

        def run(batch: list[int]) -> None:
            matrix = np.asarray([ids[row] for row in batch], dtype=np.int64)  # one length: no padding, no mask
            model = free.get()
            try:
                hidden = model.run(None, {"input_ids": matrix, "attention_mask": np.ones_like(matrix)})[0]
            finally:
                free.put(model)
            for position, row in enumerate(batch):
                out[row] = self._vector(hidden[position])

        if self.workers > 1 and len(batches) > 1:
            with ThreadPoolExecutor(self.workers) as pool:
                list(pool.map(run, batches))
        else:
            for batch in batches:
                run(batch)
        for row, seen in copies:
            out[row] = out[seen]
        return out

    def _vector(self, hidden: np.ndarray) -> np.ndarray:
        """One text's vector from its token states (length x hidden), by the same operations whatever batch the text
        came in: the mean in float64, the folded Dense map (numpy's own loop, not BLAS: OpenBLAS's threads spin-wait
        on a busy 2-core machine, BENCHMARKS.md "Serving start-up"), normalised twice as sentence-transformers does
        (its Normalize module, then normalize_embeddings)."""
        vector = hidden.sum(axis=0, dtype=np.float64) / hidden.shape[0]
        if self._weight is not None:
            vector = np.einsum("j,jk->k", vector, self._weight)
        if self._bias is not None:
            vector = vector + self._bias
        result = vector.astype(np.float32)
        for _ in range(2):
            result = result / np.maximum(np.linalg.norm(result), np.float32(1e-12))
        return result


def _capped(ids: list[int], special: list[int], cap: int) -> list[int]:
    """``ids`` cut to ``cap`` tokens as the tokenizer's own truncation cuts them: the text is shortened and the special
    tokens the template adds at the end (``<eos>``) are kept. Done here rather than by changing the tokenizer's
    truncation, which is shared with the queries embedded on other threads while a server runs."""
    if len(ids) <= cap:
        return ids
    tail = 0
    while tail < len(special) and special[len(special) - 1 - tail]:
        tail += 1
    return ids[: max(cap - tail, 0)] + ids[len(ids) - tail :]


def _one_blas_thread() -> Any:
    """BLAS limited to one thread for a block: a product then sums in one fixed order in every process."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def release_heap() -> None:
    """Hand the heap memory freed by a big load back to the system (glibc ``malloc_trim``). Parsing the tokenizer's
    JSON and the ONNX graph leaves about 235 MB freed but still resident; a server would carry it for its whole life
    (BENCHMARKS.md, "Serving start-up and memory"). Nothing in use is touched; elsewhere than glibc it does nothing."""
    import contextlib
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _modules(export: Path) -> list[dict[str, Any]]:
    modules: list[dict[str, Any]] = json.loads((export / "modules.json").read_text(encoding="utf-8"))
    return sorted(modules, key=lambda m: int(m["idx"]))


def load_embedder(settings: Settings, build: bool = False) -> Embedder:
    """The configured embedder: the verified default model, or the user's own folder / hub id.

    The ONNX backend runs without torch when the model's shape allows (``OnnxEmbedder``), for serving and for
    ``bot index`` alike (``build``: one one-thread session per core, ``Settings.embed_workers``), so index and query
    vectors come from the same graph. Other shapes, and the torch backend, go through sentence-transformers."""
    from bot.build.models import default_model_path, resolve_model

    if settings.model == "hash":
        return HashEmbedder()
    workers = settings.embed_workers or os.cpu_count() or 1
    if settings.embed_backend == "onnx":
        from bot.build.onnx_export import QUANTIZED, export_dir_for, verified_export

        # The default model's safetensors are not read when running its export: the export's own files are what is
        # verified (export.sha256.json), which skips hashing 1.2 GB on every start (about 1 s).
        source = str(default_model_path(settings)) if settings.model == DEFAULT_MODEL else settings.model
        export = export_dir_for(source)
        if OnnxEmbedder.supports(export):
            verified_export(source, skip=(QUANTIZED,))  # the session verifies the graph it loads (onnx_export.py)
            return OnnxEmbedder(export, f"{settings.model}{ROW_ID}", settings.threads, workers if build else 1)
    return SentenceTransformerEmbedder(
        resolve_model(settings), settings.model, settings.embed_backend, settings.embed_batch_size, workers
    )
