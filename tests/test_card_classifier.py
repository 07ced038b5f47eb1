"""The card classifier: trained on example questions at index time, stored as plain arrays, fused into hybrid
search. Unit tier: synthetic vectors and the hash embedder."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bot.build.card_classifier import CardClassifier, train_card_classifier
from bot.build.chunk import chunk_documents
from bot.build.corpus import load_corpus
from bot.build.embed import HashEmbedder
from bot.build.index import build_index, current_build, load_index
from bot.errors import IndexCorrupt
from bot.serve.pipeline import Bot


def _clusters(seed: int = 0) -> tuple[np.ndarray, list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((3, 16)).astype(np.float32)
    points = np.vstack([c + 0.1 * rng.standard_normal((20, 16)) for c in centres]).astype(np.float32)
    return points, [name for name in ("a", "b", "c") for _ in range(20)], centres


def test_classifier_learns_which_card_a_vector_belongs_to():
    points, labels, centres = _clusters()
    clf = train_card_classifier(points, labels)
    assert clf is not None and clf.classes == ("a", "b", "c")
    for name, centre in zip("abc", centres, strict=True):
        ranking = clf.ranking(centre[None, :])
        assert ranking[0][0] == name and ranking[0][1] > 0.5
        assert abs(sum(p for _, p in ranking) - 1.0) < 1e-5


def test_every_vector_votes():
    points, labels, centres = _clusters()
    clf = train_card_classifier(points, labels)
    assert clf is not None
    both = clf.probabilities(np.vstack([centres[0], centres[1]]))
    # the mean of the logits puts the two voted cards above the third
    assert set(np.argsort(-both)[:2]) == {0, 1}


def test_fewer_than_two_cards_means_no_classifier():
    points, _, _ = _clusters()
    assert train_card_classifier(points, ["a"] * len(points)) is None


def test_stored_as_plain_arrays_and_read_back_identically():
    points, labels, centres = _clusters()
    clf = train_card_classifier(points, labels)
    assert clf is not None
    again = CardClassifier.from_bytes(clf.to_bytes())  # allow_pickle=False inside
    assert again.classes == clf.classes
    assert np.allclose(again.probabilities(centres), clf.probabilities(centres))


def test_training_is_deterministic():
    points, labels, _ = _clusters()
    first, second = train_card_classifier(points, labels), train_card_classifier(points, labels)
    assert first is not None and second is not None
    assert first.to_bytes() == second.to_bytes()


def test_index_build_trains_it_on_the_corpus_cards(built):
    index = load_index(built.index_dir, "hash-256")
    cards = {c.doc_id for c in index.chunks if c.kind == "card"}
    assert index.classifier is not None and set(index.classifier.classes) == cards
    assert index.classifier.weights.shape == (len(cards), 256)


class QueryCounter(HashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.queries = 0

    def embed_queries(self, texts):
        self.queries += len(texts)
        return super().embed_queries(texts)

    def embed_documents(self, texts, progress=False):
        return np.stack([self._one(t) for t in texts])  # the base class routes documents through embed_queries


def test_rebuild_reuses_the_example_questions_query_vectors(hash_settings):
    chunks = chunk_documents(load_corpus(hash_settings.corpus_dir)[0])
    asked = sum(1 for c in chunks if c.kind == "card" and ":q" in c.chunk_id)
    first, again = QueryCounter(), QueryCounter()
    build_index(chunks, first, hash_settings.index_dir)
    assert first.queries == asked > 0
    build_index(chunks, again, hash_settings.index_dir)
    assert again.queries == 0


@pytest.mark.parametrize("name", ["card_classifier.npz", "question_vectors.npz"])
def test_damaged_classifier_files_are_detected(built, name):
    path = current_build(built.index_dir) / name
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(IndexCorrupt, match="rebuild"):
        load_index(built.index_dir, "hash-256")


def test_hybrid_fuses_the_classifier_and_dense_lexical_leaves_it_out(built):
    bot = Bot.load(built)
    index = bot.retriever.index
    assert index.classifier is not None
    # Make the classifier certain of one card whatever the question: hybrid must lift that card, the ablation not.
    favourite = "pay-mobile-fees"
    bias = np.where(np.array(index.classifier.classes) == favourite, 50.0, -50.0).astype(np.float32)
    rigged = dataclasses.replace(index.classifier, weights=np.zeros_like(index.classifier.weights), bias=bias)
    bot.retriever.index = dataclasses.replace(index, classifier=rigged)
    bot.retriever.classifier_weight = 10.0
    question = "退税最低要消费多少钱"
    assert bot.search(question, k=3, mode="hybrid")[0].chunk.doc_id == favourite
    assert bot.search(question, k=3, mode="dense+lexical")[0].chunk.doc_id != favourite
    # a search restricted to the plan gets no card from the classifier
    assert all(h.chunk.kind == "plan" for h in bot.search(question, kinds=["plan"]))
