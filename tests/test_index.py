import json

import numpy as np
import pytest
import yaml

from bot.build.chunk import chunk_documents, vector_key
from bot.build.corpus import load_corpus
from bot.build.embed import HashEmbedder
from bot.build.index import build_index, current_build, load_index
from bot.errors import IndexCorrupt, IndexMissing, ModelMismatch


class CountingEmbedder(HashEmbedder):
    def __init__(self, fail_after: int | None = None, model_id: str = "hash-256"):
        super().__init__(model_id=model_id)
        self.embedded = 0
        self.texts: list[str] = []
        self.fail_after = fail_after

    def _count(self, texts):
        if self.fail_after is not None and self.embedded + len(texts) > self.fail_after:
            raise RuntimeError("simulated crash in the middle of a build")
        self.embedded += len(texts)
        self.texts.extend(texts)

    def embed_documents(self, texts, progress=False):
        self._count(texts)
        return HashEmbedder.embed_queries(self, texts)  # the fake's documents go through embed_queries: count once

    def embed_queries(self, texts):
        self._count(texts)
        return super().embed_queries(texts)


def _chunks(settings):
    docs, _ = load_corpus(settings.corpus_dir)
    return chunk_documents(docs)


def test_build_then_load_round_trip(built):
    index = load_index(built.index_dir, "hash-256")
    assert index.vectors.ntotal == len(index.chunks) == index.manifest["count"]
    assert index.manifest["dim"] == 256 and len(index.manifest["corpus_hash"]) == 64
    assert all(index.tokens)


def test_rebuild_embeds_only_changed_chunks(hash_settings):
    chunks = _chunks(hash_settings)
    first = CountingEmbedder()
    build_index(chunks, first, hash_settings.index_dir)
    assert first.embedded == len({vector_key(c) for c in chunks})  # each distinct text once
    again = CountingEmbedder()
    report = build_index(chunks, again, hash_settings.index_dir)
    assert again.embedded == 0 and report.reused == len(chunks)
    guide = hash_settings.corpus_dir / "guides" / "payment.en.md"
    guide.write_text(guide.read_text("utf-8") + "\nOne more sentence in the last section.\n", encoding="utf-8")
    changed = CountingEmbedder()
    report = build_index(_chunks(hash_settings), changed, hash_settings.index_dir)
    assert changed.embedded == 1 and report.embedded == changed.embedded


def _vectors(index_dir):
    index = load_index(index_dir, "hash-256")
    return [c.chunk_id for c in index.chunks], index.vectors.reconstruct_n(0, index.vectors.ntotal)


def test_a_card_edit_reembeds_only_what_changed_and_matches_a_fresh_build(hash_settings, tmp_path):
    build_index(_chunks(hash_settings), CountingEmbedder(), hash_settings.index_dir)
    card = hash_settings.corpus_dir / "cards" / "payment" / "pay-mobile-fees.yaml"
    data = yaml.safe_load(card.read_text("utf-8"))
    data["questions"]["en"].append("Do I pay a fee on a 250 RMB Alipay bill?")
    data["answer"]["en"] += " Fees can change: check the app before paying."
    card.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    incremental = CountingEmbedder()
    build_index(_chunks(hash_settings), incremental, hash_settings.index_dir)
    # the new example question (query side) and the English answer; every other language and question is reused
    assert sorted(incremental.texts) == sorted([
        "Do I pay a fee on a 250 RMB Alipay bill?",
        next(c.title + "\n" + c.text for c in _chunks(hash_settings) if c.chunk_id == "pay-mobile-fees:en"),
    ])
    fresh_dir = tmp_path / "fresh"
    build_index(_chunks(hash_settings), CountingEmbedder(), fresh_dir)
    ids, vectors = _vectors(hash_settings.index_dir)
    fresh_ids, fresh_vectors = _vectors(fresh_dir)
    assert ids == fresh_ids and np.array_equal(vectors, fresh_vectors)


def test_a_build_that_dies_leaves_the_previous_index_in_use(built):
    before = current_build(built.index_dir)
    with pytest.raises(RuntimeError):
        # another model id: nothing can be reused, so the build must embed, and dies doing so
        build_index(_chunks(built), CountingEmbedder(fail_after=0, model_id="hash-other"), built.index_dir)
    assert current_build(built.index_dir) == before
    load_index(built.index_dir, "hash-256")
    assert not [p for p in (built.index_dir / "builds").iterdir() if p.name.startswith(".tmp")]


def test_missing_index_says_how_to_build(tmp_path):
    with pytest.raises(IndexMissing, match="python -m bot index"):
        load_index(tmp_path, "hash-256")


def test_other_model_is_refused(built):
    with pytest.raises(ModelMismatch, match="hash-256"):
        load_index(built.index_dir, "embeddinggemma-300m")


@pytest.mark.parametrize("name", ["faiss.index", "chunks.jsonl"])
def test_truncated_or_missing_files_are_detected(built, name):
    path = current_build(built.index_dir) / name
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(IndexCorrupt, match="rebuild"):
        load_index(built.index_dir, "hash-256")
    path.unlink()
    with pytest.raises(IndexCorrupt):
        load_index(built.index_dir, "hash-256")


def test_garbled_manifest_is_detected(built):
    manifest = current_build(built.index_dir) / "manifest.json"
    manifest.write_text("{not json")
    with pytest.raises(IndexCorrupt, match="manifest"):
        load_index(built.index_dir, "hash-256")
    manifest.write_text(json.dumps({"format": 1, "model_id": "hash-256", "files": {}}))
    with pytest.raises(IndexCorrupt):
        load_index(built.index_dir, "hash-256")


def test_old_builds_are_pruned(hash_settings):
    chunks = _chunks(hash_settings)
    for n in range(4):
        build_index(chunks[: len(chunks) - n], HashEmbedder(), hash_settings.index_dir)
    assert len([p for p in (hash_settings.index_dir / "builds").iterdir()]) == 2


def test_large_corpora_get_an_hnsw_index_that_finds_the_same_neighbours():
    import numpy as np

    from bot.build.index import new_vector_index

    rng = np.random.default_rng(3)
    data = rng.standard_normal((2000, 64)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    exact, approx = new_vector_index(64, 2000, hnsw_above=5000), new_vector_index(64, 2000, hnsw_above=1000)
    assert "HNSW" in type(approx).__name__ and "Flat" in type(exact).__name__
    for index in (exact, approx):
        index.add(data)
    _, truth = exact.search(data[:50], 5)
    _, found = approx.search(data[:50], 5)
    assert np.mean([len(set(a) & set(b)) / 5 for a, b in zip(truth, found, strict=True)]) >= 0.95
    # the rebuild path reads old vectors back out of either kind
    assert np.allclose(approx.reconstruct_n(0, 10), data[:10])


@pytest.mark.realmodel
def test_real_model_incremental_build_equals_a_fresh_one(hash_settings, tmp_path):
    """With the real embedder (texts batched by token length): after a card edit, the incremental build embeds the
    two changed texts alone, a fresh build embeds them among batch-mates of the same length, and both give the same
    vectors and the same card classifier, bit for bit (issue #14)."""
    import os

    from bot.build.embed import load_embedder
    from bot.config import Settings
    from bot.errors import BotError

    try:
        embedder = load_embedder(Settings.from_env(), build=True)
    except BotError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"real model not available here: {exc}")
    keep = {"pay-mobile-fees", "refund-minimum-spend", "decline-politics"}  # 3: two cards make a binary model
    build_index([c for c in _chunks(hash_settings) if c.doc_id in keep], embedder, hash_settings.index_dir)
    card = hash_settings.corpus_dir / "cards" / "payment" / "pay-mobile-fees.yaml"
    data = yaml.safe_load(card.read_text("utf-8"))
    question = "Do I pay a fee on a 250 RMB Alipay bill?"
    data["questions"]["en"].append(question)
    data["answer"]["en"] += " Fees can change: check the app before paying."
    card.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    edited = [c for c in _chunks(hash_settings) if c.doc_id in keep]
    length = len(embedder._tokenizer.encode(embedder._prompts["query"] + question).ids)  # type: ignore[attr-defined]
    mates = [c for c in edited if c.embed_text != question and c.chunk_id.rsplit(":", 1)[-1].startswith("q")
             and len(embedder._tokenizer.encode(embedder._prompts["query"] + c.embed_text).ids) == length]
    assert mates  # in the fresh build the new question is embedded in a batch with others
    assert build_index(edited, embedder, hash_settings.index_dir).embedded == 2
    build_index(edited, embedder, tmp_path / "fresh")
    incremental, fresh = (load_index(d, embedder.model_id) for d in (hash_settings.index_dir, tmp_path / "fresh"))
    assert [c.chunk_id for c in incremental.chunks] == [c.chunk_id for c in fresh.chunks]
    assert np.array_equal(incremental.vectors.reconstruct_n(0, incremental.vectors.ntotal),
                          fresh.vectors.reconstruct_n(0, fresh.vectors.ntotal))
    assert incremental.classifier is not None and fresh.classifier is not None
    assert np.array_equal(incremental.classifier.weights, fresh.classifier.weights)


def test_bm25_tokens_made_in_a_background_child_are_the_ones_made_here(hash_settings, tmp_path, monkeypatch):
    """Issue #14: a fresh build makes its BM25 tokens in a forked low-priority child while the model embeds; the
    index must be byte for byte the one whose tokens were made in the build's own process, and a child that fails
    falls back to making them here."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    import bot.build.index as index_module

    chunks = _chunks(hash_settings)
    started: list[object] = []
    original = index_module._background_tokens

    def spy(texts):
        started.append(original(texts))
        return started[-1]

    monkeypatch.setattr(index_module, "_background_tokens", spy)
    monkeypatch.setattr(index_module, "BACKGROUND_TOKENS", 1)
    monkeypatch.setattr(index_module, "TOKEN_PART", 7)  # several parts: some may be left to this process
    background = build_index(chunks, CountingEmbedder(), tmp_path / "background").path
    assert len(started) == 1 and all(isinstance(future, Future) for _, future in started[0])
    assert len(started[0]) > 2
    monkeypatch.setattr(index_module, "BACKGROUND_TOKENS", 10**9)
    here = build_index(chunks, CountingEmbedder(), tmp_path / "here").path
    assert len(started) == 1
    assert (background / "chunks.jsonl").read_bytes() == (here / "chunks.jsonl").read_bytes()
    assert any(json.loads(line)["tokens"] for line in (here / "chunks.jsonl").read_text("utf-8").splitlines())
    texts = [c.embed_text for c in chunks[:9]]
    expected = [tuple(index_module.tokenize(t)) for t in texts]
    broken: Future = Future()
    broken.set_running_or_notify_cancel()  # running: cannot be cancelled, then fails
    broken.set_exception(BrokenProcessPool("the child died"))
    queued: Future = Future()  # never started: cancelled and made here
    done: Future = Future()
    done.set_running_or_notify_cancel()
    done.set_result(expected[6:])
    parts = [(texts[:3], broken), (texts[3:6], queued), (texts[6:], done)]
    assert index_module._collect(parts) == index_module._collect([(texts, None)]) == expected
    assert queued.cancelled()
