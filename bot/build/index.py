"""The on-disk index: FAISS inner product over normalised vectors, chunk metadata as JSONL, a manifest. No pickle.

Layout: ``index/builds/<name>/{faiss.index, chunks.jsonl, card_classifier.npz, question_vectors.npz, manifest.json}``
and ``index/CURRENT`` naming the build
in use. A build is written to a scratch folder, renamed into ``builds/``, and only then is ``CURRENT`` replaced
(``os.replace`` is atomic): a build that dies half-way leaves the previous index in use, and a reader never sees a
half-written one. The previous build is kept so that a server still reading it is not cut off.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bot.build.card_classifier import CardClassifier, train_card_classifier
from bot.build.chunk import embedding_input, is_example_question, vector_key
from bot.build.embed import Embedder, release_heap
from bot.errors import IndexCorrupt, IndexMissing, ModelMismatch
from bot.lang import tokenize
from bot.schema import Chunk, Source

# 2: the card classifier and the query-side vectors of the cards' example questions. 3: one vector per distinct
# text (issue #14): an example question's row is its query-side vector, a card answer's row embeds title + answer.
FORMAT_VERSION = 3
FILES = ("faiss.index", "chunks.jsonl", "card_classifier.npz", "question_vectors.npz")
KEEP_BUILDS = 2
# Exact search up to here, HNSW above: at 100k chunks flat search costs 14 ms a query on 2 cores against 0.4 ms for
# HNSW (M=32, efSearch=128) at recall@10 1.0 (evals/scale.py, BENCHMARKS.md). Our corpus is ~5.5k chunks (1.5 ms).
HNSW_ABOVE = 50_000
# New texts from which BM25 tokens are made in a child process beside the embedding (``_background_tokens``); an
# incremental build has a few and makes them here (starting a child costs about 0.1 s).
BACKGROUND_TOKENS = 2000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class StoredIndex:
    chunks: tuple[Chunk, ...]
    tokens: tuple[tuple[str, ...], ...]
    vectors: faiss.Index
    manifest: dict[str, Any]
    path: Path
    classifier: CardClassifier | None = None  # None when the corpus has fewer than two cards


@dataclass(frozen=True)
class BuildReport:
    path: Path
    chunks: int
    embedded: int  # distinct texts embedded by this build
    reused: int  # chunks whose vector came from the previous build
    seconds: float
    corpus_hash: str
    stages: tuple[tuple[str, float], ...] = ()  # (stage, wall seconds), in order: where a build's time goes


def corpus_hash(chunks: Sequence[Chunk]) -> str:
    h = hashlib.sha256()
    for c in chunks:
        h.update(f"{c.chunk_id}\t{c.content_hash}\n".encode())
    return h.hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _chunk_to_json(chunk: Chunk, tokens: Sequence[str]) -> str:
    data = asdict(chunk)
    data["tokens"] = list(tokens)
    return json.dumps(data, ensure_ascii=False)


def _chunk_from_json(line: str) -> tuple[Chunk, tuple[str, ...]]:
    data = json.loads(line)
    tokens = tuple(data.pop("tokens"))
    data["sources"] = tuple(Source(**s) for s in data["sources"])
    data["measures"] = tuple(data["measures"])
    return Chunk(**data), tokens


def current_build(index_dir: Path) -> Path | None:
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        return None
    build = index_dir / "builds" / pointer.read_text().strip()
    return build if build.is_dir() else None


def bm25_tokenizer_id() -> str:
    """What the stored BM25 tokens depend on besides the text: ``bot.lang``'s code and its segmenter and converter
    versions. Tokens are reused from the previous build only when this is unchanged."""
    from importlib import metadata

    import bot.lang

    h = hashlib.sha256(Path(bot.lang.__file__).read_bytes())
    for package in ("jieba", "opencc-python-reimplemented", "opencc"):
        try:
            h.update(f"{package}={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            continue
    return h.hexdigest()[:20]


@dataclass(frozen=True)
class _Previous:
    vectors: dict[str, np.ndarray]  # vector key (side + embedded text, ``chunk.vector_key``) -> vector
    tokens: dict[str, tuple[str, ...]]  # content hash of ``embed_text`` -> its BM25 tokens


def _previous(index_dir: Path, model_id: str) -> _Previous:
    """What the build in use can lend to this one when it was made by the same model and format: vectors by key
    (only changed text is embedded again) and BM25 tokens by text (tokenising all chunks takes about 5 s, jieba's
    dictionary included), the tokens only if the tokenizer is unchanged. Any problem with the old build just means
    everything is made again."""
    try:
        old = load_index(index_dir, model_id)
    except Exception:
        return _Previous({}, {})
    matrix = old.vectors.reconstruct_n(0, old.vectors.ntotal)
    vectors = {vector_key(c): matrix[i] for i, c in enumerate(old.chunks)}
    tokens = {c.content_hash: t for c, t in zip(old.chunks, old.tokens, strict=True)} \
        if old.manifest.get("bm25_tokenizer") == bm25_tokenizer_id() else {}
    return _Previous(vectors, tokens)


def _question_vectors_bytes(vectors: dict[str, np.ndarray], dim: int) -> bytes:
    buffer = io.BytesIO()
    hashes = sorted(vectors)
    matrix = np.stack([vectors[h] for h in hashes]) if hashes else np.zeros((0, dim), np.float32)
    np.savez(buffer, hashes=np.array(hashes, dtype=str), vectors=matrix.astype(np.float32))
    return buffer.getvalue()


def _card_training_set(chunks: Sequence[Chunk], documents: np.ndarray) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(vectors, card ids, weights): every card chunk's row of the index. An example question's row is its *query*
    vector (visitors' questions are embedded with the query prompt, so the classifier must see that side); it has
    weight 2, as it had two near-copies (document and query side) before format 3 and then appeared twice. A weight
    of 2 is the same loss as the row twice, on half the rows (training 2x faster)."""
    rows = [i for i, c in enumerate(chunks) if c.kind == "card"]
    weights = np.array([2.0 if is_example_question(chunks[i]) else 1.0 for i in rows])
    return documents[rows], [chunks[i].doc_id for i in rows], weights


def new_vector_index(dim: int, count: int, hnsw_above: int | None = None) -> faiss.Index:
    """Inner product over normalised vectors (= cosine): exact for small corpora, HNSW for large ones."""
    if count > (HNSW_ABOVE if hnsw_above is None else hnsw_above):
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128
        return index
    return faiss.IndexFlatIP(dim)


def build_index(chunks: Sequence[Chunk], embedder: Embedder, index_dir: Path,
                progress: Progress | None = None) -> BuildReport:
    start = time.perf_counter()
    if not chunks:
        raise ValueError("no chunks to index: is the corpus folder empty?")
    stages: list[tuple[str, float]] = []
    mark = [start]

    def stage(name: str) -> None:
        now = time.perf_counter()
        stages.append((name, now - mark[0]))
        mark[0] = now

    previous = _previous(index_dir, embedder.model_id)
    stage("read previous build")
    # BM25 tokens of new texts: in a low-priority child while the model embeds (see ``_background_tokens``).
    new_texts = {c.content_hash: c.embed_text for c in chunks if c.content_hash not in previous.tokens}
    texts = list(new_texts.values())
    background: Parts = _background_tokens(texts) if len(texts) >= BACKGROUND_TOKENS else [(texts, None)]
    reuse = previous.vectors
    keys = [vector_key(c) for c in chunks]
    # Each distinct (side, text) is embedded once (issue #14); every vector depends on its text alone (the ONNX
    # graph is batch-invariant: embed.py, onnx_export.row_int8), so a fresh and an incremental build give the same
    # vectors.
    todo: dict[str, tuple[str, str]] = {}
    for c, key in zip(chunks, keys, strict=True):
        if key not in reuse and key not in todo:
            todo[key] = embedding_input(c)
    vectors_by_key = {k: reuse[k] for k in set(keys) if k in reuse}
    total, done = len(todo), 0
    batch = 4096  # texts per call: the embedder groups them by token length, so big blocks give full batches
    for side in ("query", "document"):
        if side == "document":
            stage("embed questions (query side)")
        pending = [(k, text) for k, (kind, text) in todo.items() if kind == side]
        embed = embedder.embed_queries if side == "query" else embedder.embed_documents
        for n in range(0, len(pending), batch):
            block = pending[n : n + batch]
            for (k, _), vector in zip(block, embed([text for _, text in block]), strict=True):
                vectors_by_key[k] = vector
            done += len(block)
            if progress:
                progress(done, total)
    stage("embed documents")
    matrix = np.stack([vectors_by_key[k] for k in keys]).astype(np.float32, copy=False)
    # The example questions' query-side vectors (their own rows of the index now), kept beside the classifier.
    questions = {c.content_hash: matrix[i] for i, c in enumerate(chunks) if is_example_question(c)}
    vectors = new_vector_index(embedder.dim, len(chunks))
    vectors.add(matrix)
    classifier = train_card_classifier(*_card_training_set(chunks, matrix))
    stage("card classifier")
    made = dict(zip(new_texts, _collect(background), strict=True))
    tokens = [previous.tokens.get(c.content_hash) or made[c.content_hash] for c in chunks]
    stage("BM25 tokens")

    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    digest = corpus_hash(chunks)
    scratch = Path(tempfile.mkdtemp(prefix=".tmp-", dir=builds))
    try:
        faiss.write_index(vectors, str(scratch / "faiss.index"))
        with (scratch / "chunks.jsonl").open("w", encoding="utf-8") as fh:
            for c, chunk_tokens in zip(chunks, tokens, strict=True):
                fh.write(_chunk_to_json(c, chunk_tokens) + "\n")
        empty = CardClassifier((), np.zeros((0, embedder.dim), np.float32), np.zeros(0, np.float32))
        (scratch / "card_classifier.npz").write_bytes((classifier or empty).to_bytes())
        (scratch / "question_vectors.npz").write_bytes(_question_vectors_bytes(questions, embedder.dim))
        built_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        manifest = {
            "format": FORMAT_VERSION, "model_id": embedder.model_id, "dim": embedder.dim, "count": len(chunks),
            "index_type": "hnsw32-ip" if len(chunks) > HNSW_ABOVE else "flat-ip", "corpus_hash": digest,
            "built_at": built_at, "bm25_tokenizer": bm25_tokenizer_id(),
            "files": {name: _sha256(scratch / name) for name in FILES},
        }
        (scratch / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        for name in (*FILES, "manifest.json"):
            with (scratch / name).open("rb") as synced:
                os.fsync(synced.fileno())
        final = builds / f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}-{digest[:8]}"
        scratch.rename(final)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    pointer_tmp = index_dir / f".CURRENT.{os.getpid()}"
    pointer_tmp.write_text(final.name)
    os.replace(pointer_tmp, index_dir / "CURRENT")
    _prune(builds, keep=final.name)
    reused = sum(1 for k in keys if k in reuse)
    stage("write, verify and switch")
    return BuildReport(final, len(chunks), len(todo), reused, time.perf_counter() - start, digest, tuple(stages))


def _tokenize_all(texts: list[str]) -> list[tuple[str, ...]]:
    return [tuple(tokenize(text)) for text in texts]


def _lower_priority() -> None:
    os.nice(19)


Parts = list[tuple[list[str], Future[list[tuple[str, ...]]] | None]]
TOKEN_PART = 1000  # texts per job of the child: what is still queued when the classifier is done is made here
TOKEN_WAIT = 60.0  # seconds to wait for a part the child is making (about 0.5 s of work) before making it here


def _background_tokens(texts: list[str]) -> Parts:
    """BM25 tokens for ``texts``, in parts, made by a forked child at the lowest priority (no child where fork is not
    available: every part's future is None).

    Tokenising a whole corpus (jieba, pure Python) takes about 4.5 s of one core and holds the GIL, so a thread would
    slow the classifier's training beside it. At nice 19 the child takes almost no time from the two embedding
    workers; it runs on what they leave idle (start-up, the ends of embedding blocks, and the second core while the
    classifier trains on one), so its 4.5 s leave the build's critical path (issue #14, BENCHMARKS.md). On a machine
    busy with other work the child may get nothing: the parts it has not started are then made here (``_collect``).
    Forked, not spawned: the child has this process's very tokenizer state (jieba's dictionary and words added to
    it), so its tokens are the ones made here (tests/test_index.py)."""
    parts = [texts[n : n + TOKEN_PART] for n in range(0, len(texts), TOKEN_PART)]
    if "fork" not in multiprocessing.get_all_start_methods():
        return [(part, None) for part in parts]
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"), initializer=_lower_priority)
    try:
        return [(part, pool.submit(_tokenize_all, part)) for part in parts]
    finally:
        pool.shutdown(wait=False)  # the worker finishes what it has, then exits


def _collect(parts: Parts) -> list[tuple[str, ...]]:
    """The tokens of every part, in order: the child's where it made or is making them, the rest made here (parts it
    has not started, and any part of a child that failed: a broken pool, no memory)."""
    here = {i for i, (_, future) in reversed(list(enumerate(parts))) if future is None or future.cancel()}
    made = {i: _tokenize_all(parts[i][0]) for i in sorted(here)}  # while the child ends the part it is making
    tokens: list[tuple[str, ...]] = []
    for i, (part, future) in enumerate(parts):
        if i not in made and future is not None:
            try:
                # Never wait on the child for ever: a child that hangs (a lock held at the fork) costs one part here.
                made[i] = future.result(timeout=TOKEN_WAIT)
            except (BrokenProcessPool, OSError, TimeoutError):
                made[i] = _tokenize_all(part)
        tokens.extend(made[i])
    return tokens


def _prune(builds: Path, keep: str) -> None:
    done = sorted((p for p in builds.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)
    for old in [p for p in done if p.name != keep][KEEP_BUILDS - 1 :]:
        shutil.rmtree(old, ignore_errors=True)
    # Scratch folders of builds that were killed midway: an hour old means no build is still writing them.
    for scratch in builds.glob(".tmp-*"):
        if scratch.is_dir() and time.time() - scratch.stat().st_mtime > 3600:
            shutil.rmtree(scratch, ignore_errors=True)


def load_index(index_dir: Path, expected_model_id: str | None) -> StoredIndex:
    """Load and verify the build in use. Raises ``IndexMissing``, ``IndexCorrupt`` or ``ModelMismatch`` with a
    message that says how to fix it."""
    build = current_build(index_dir)
    rebuild = "Run `python -m bot index` to rebuild it."
    if build is None:
        raise IndexMissing(f"No index in {index_dir}. Run `python -m bot index` to build it (a few minutes).")
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        files = manifest["files"]
    except (OSError, ValueError, KeyError) as exc:
        raise IndexCorrupt(f"The index manifest in {build} is unreadable ({exc}). {rebuild}") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexCorrupt(f"The index in {build} has format {manifest.get('format')}; expected {FORMAT_VERSION}. "
                           f"{rebuild}")
    if expected_model_id is not None and manifest.get("model_id") != expected_model_id:
        raise ModelMismatch(
            f"The index was built with model {manifest.get('model_id')!r} but {expected_model_id!r} is configured. "
            f"{rebuild}"
        )
    # Each file is read once and parsed from the very bytes that were verified. A build pruned by a concurrent
    # `bot index` while a server loads it (hotswap.py) thus fails as IndexCorrupt, not as a raw OSError from a
    # second open or a faiss error on a vanished file.
    blobs: dict[str, bytes] = {}
    for name in FILES:
        path = build / name
        try:
            blobs[name] = path.read_bytes()
        except OSError:
            blobs[name] = b""
        if hashlib.sha256(blobs[name]).hexdigest() != files.get(name):
            raise IndexCorrupt(f"Index file {path} is missing or does not match its manifest. {rebuild}")
    vectors = faiss.deserialize_index(np.frombuffer(blobs["faiss.index"], dtype=np.uint8))
    # split("\n"), not splitlines(): chunk text may hold U+2028 and friends, which JSON leaves unescaped here.
    rows = [_chunk_from_json(line) for line in blobs["chunks.jsonl"].decode("utf-8").split("\n") if line.strip()]
    if vectors.ntotal != len(rows) or len(rows) != manifest.get("count") or vectors.d != manifest.get("dim"):
        raise IndexCorrupt(f"The index in {build} is inconsistent (vectors vs chunks vs manifest). {rebuild}")
    try:
        classifier = CardClassifier.from_bytes(blobs["card_classifier.npz"])
    except (ValueError, KeyError, OSError) as exc:
        raise IndexCorrupt(f"The card classifier in {build} is unreadable ({exc}). {rebuild}") from None
    if classifier.classes and classifier.weights.shape != (len(classifier.classes), vectors.d):
        raise IndexCorrupt(f"The card classifier in {build} does not fit the vectors. {rebuild}")
    stored = StoredIndex(
        chunks=tuple(c for c, _ in rows), tokens=tuple(t for _, t in rows), vectors=vectors, manifest=manifest,
        path=build, classifier=classifier if classifier.classes else None,  # no classes: fewer than two cards
    )
    del blobs, rows
    release_heap()  # the file bytes (about 110 MB) are freed now; a server would otherwise keep them resident
    return stored
