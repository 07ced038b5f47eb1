"""Hybrid search: dense (FAISS), lexical (BM25) and card-classifier rankings, each collapsed to units, fused by
reciprocal rank. ``dense+lexical`` leaves the classifier out (an ablation: its gain is measured, BENCHMARKS.md)."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import faiss
import numpy as np

from bot.build.chunk import is_example_question
from bot.build.embed import Embedder
from bot.build.index import StoredIndex
from bot.config import Settings
from bot.query.vi_diacritics import DiacriticRestorer
from bot.retrieve.lang_lexicon import LanguageLexicon
from bot.retrieve.lexical import LexicalIndex
from bot.schema import Chunk, Hit, Mode

# One query at a time: FAISS's OpenMP threads save nothing on ~12k vectors (1.1 ms single-threaded vs 1.9 ms on
# two), and after each search they spin-wait on the cores the ONNX runtime needs for the next query's embedding,
# which measurably slowed it down (BENCHMARKS.md). A process-wide setting, so it is made once, here.
faiss.omp_set_num_threads(1)

_DENSE: frozenset[str] = frozenset({"hybrid", "dense+lexical", "dense"})
_LEXICAL: frozenset[str] = frozenset({"hybrid", "dense+lexical", "lexical"})
# Each ranker fetches this many times ``candidates`` chunks before collapsing them to units: a card is up to 15
# language chunks plus its example questions, so ``candidates`` rows alone would yield far fewer distinct units.
FETCH_PER_CANDIDATE = 8
# Query vectors kept (oldest dropped first): a follow-up, the plan search and an evaluation of several modes embed
# the same text again; 256 vectors of 768 floats are under 1 MB.
VECTOR_CACHE_SIZE = 256


def rrf(rankings: Iterable[Sequence[str]], k: int, weights: Sequence[float] | None = None) -> dict[str, float]:
    """Reciprocal rank fusion: score(d) = sum over rankings of weight / (k + rank), rank starting at 1. ``k`` is
    ``Settings.rrf_k`` in the bot (no default here: the tuned value lives in one place)."""
    scores: dict[str, float] = {}
    for i, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[i]
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    return scores


@dataclass(frozen=True)
class _Ranked:
    units: list[str]  # unit ids, best first
    best: dict[str, int]  # unit id -> row of its best chunk in this ranking
    score: dict[str, float]  # unit id -> score of that chunk


def _collapse(rows: Iterable[tuple[int, float]], chunks: Sequence[Chunk], allowed: np.ndarray | None) -> _Ranked:
    units: list[str] = []
    best: dict[str, int] = {}
    score: dict[str, float] = {}
    for row, value in rows:
        if row < 0 or (allowed is not None and not allowed[row]):
            continue
        unit = chunks[row].unit_id
        if unit not in best:
            units.append(unit)
            best[unit] = row
            score[unit] = value
    return _Ranked(units, best, score)


class HybridRetriever:
    def __init__(self, index: StoredIndex, embedder: Embedder, *, candidates: int, rrf_k: int,
                 lexical_weight: float, classifier_weight: float) -> None:
        """The tunables have no defaults here: they are ``Settings``' (``from_settings``), tuned on the QA set."""
        self.index = index
        self.embedder = embedder
        self.chunks = index.chunks
        self.lexical = LexicalIndex(index.tokens)
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.lexical_weight = lexical_weight
        self.classifier_weight = classifier_weight
        self._vector_cache: dict[str, np.ndarray] = {}
        self._cache_lock = threading.Lock()
        # filter key -> (rows it admits, cards it admits): built once per filter, not once per question
        self._filters: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[np.ndarray, frozenset[str]]] = {}
        self._rows_by_unit: dict[str, list[int]] = {}
        for row, chunk in enumerate(self.chunks):
            self._rows_by_unit.setdefault(chunk.unit_id, []).append(row)

    @classmethod
    def from_settings(cls, index: StoredIndex, embedder: Embedder, settings: Settings) -> HybridRetriever:
        return cls(index, embedder, candidates=settings.candidates, rrf_k=settings.rrf_k,
                   lexical_weight=settings.lexical_weight, classifier_weight=settings.classifier_weight)

    @cached_property
    def language_lexicon(self) -> LanguageLexicon:
        """Words only one Latin-script language's cards use (``lang_lexicon.py``); built on first use, and swapped
        with the index."""
        return LanguageLexicon.from_chunks(self.chunks, self.index.tokens)

    @cached_property
    def vietnamese_diacritics(self) -> DiacriticRestorer:
        """Accents for Vietnamese typed without them (``vi_diacritics.py``), learnt from every Vietnamese text once: the
        example questions (their chunks' ``embed_text``; their ``text`` repeats the card's answer) and the answers."""
        texts = {c.embed_text if is_example_question(c) else c.text for c in self.chunks if c.lang == "vi"}
        return DiacriticRestorer.from_texts(sorted(texts))

    def _filter(self, topics: Collection[str] | None,
                kinds: Collection[str] | None) -> tuple[np.ndarray | None, frozenset[str] | None]:
        """The rows and the cards a topic/kind filter admits; (None, None) for no filter. Every question also
        searches the plan measures alone, so each filter is built once."""
        if not topics and not kinds:
            return None, None
        key = (tuple(sorted(topics or ())), tuple(sorted(kinds or ())))
        if key not in self._filters:
            mask = np.array([(not topics or c.topic in topics) and (not kinds or c.kind in kinds) for c in self.chunks])
            cards = frozenset(c.unit_id for c, ok in zip(self.chunks, mask, strict=True) if ok and c.kind == "card")
            self._filters[key] = (mask, cards)
        return self._filters[key]

    def _embed(self, query: str) -> np.ndarray:
        # A follow-up or an evaluation of several modes asks for the same vector again; embedding is the slow part.
        # The web page answers several visitors at once: the cache is shared, so reads and evictions hold a lock
        # (the embedding itself runs outside it, so a slow query does not hold up the others).
        with self._cache_lock:
            cached = self._vector_cache.get(query)
        if cached is not None:
            return cached
        vector = self.embedder.embed_queries([query])
        with self._cache_lock:
            while len(self._vector_cache) >= VECTOR_CACHE_SIZE:
                self._vector_cache.pop(next(iter(self._vector_cache)), None)
            self._vector_cache[query] = vector
        return vector

    def dense(self, query: str, allowed: np.ndarray | None = None) -> _Ranked:
        vector = self._embed(query)
        n = min(self.index.vectors.ntotal, self.candidates * FETCH_PER_CANDIDATE)
        scores, rows = self.index.vectors.search(vector, n)
        return _collapse(zip(rows[0].tolist(), scores[0].tolist(), strict=True), self.chunks, allowed)

    def lexical_ranking(self, query: str, allowed: np.ndarray | None = None) -> _Ranked:
        return _collapse(self.lexical.top(query, self.candidates * FETCH_PER_CANDIDATE), self.chunks, allowed)

    def card_ranking(self, queries: Sequence[str],
                     cards: frozenset[str] | None = None) -> list[tuple[str, float]]:
        """(card, probability), most probable first, from the classifier (``card_classifier.py``); every query in
        ``queries`` votes. ``cards`` limits it to the cards a filter admits (none for a plan-only search)."""
        classifier = self.index.classifier
        if classifier is None or cards == frozenset():
            return []
        ranking = classifier.ranking(np.vstack([self._embed(q) for q in queries]))
        return ranking if cards is None else [(card, p) for card, p in ranking if card in cards]

    def search(self, query: str, k: int, mode: Mode = "hybrid", lang: str | None = None,
               topics: Collection[str] | None = None, kinds: Collection[str] | None = None,
               context: str | None = None) -> list[Hit]:
        """Top ``k`` units for the query, each shown by its chunk in ``lang`` when the unit has one.

        ``context`` (the earlier question of a follow-up) adds rankings for context + query: the follow-up's own
        words say what is asked ("and the fees?"), the context says about what."""
        allowed, allowed_cards = self._filter(topics, kinds)
        dense = self.dense(query, allowed) if mode in _DENSE else None
        lexical = self.lexical_ranking(query, allowed) if mode in _LEXICAL else None
        ranked = [(dense, 1.0), (lexical, self.lexical_weight if mode in _DENSE else 1.0)]
        if context:
            joined = f"{context}\n{query}"
            if mode in _DENSE:
                ranked.append((self.dense(joined, allowed), 1.0))
            if mode in _LEXICAL:
                ranked.append((self.lexical_ranking(joined, allowed), ranked[1][1]))
        present = [(r.units[: self.candidates], w) for r, w in ranked if r is not None]
        probability: dict[str, float] = {}
        if mode == "hybrid" and self.classifier_weight > 0:
            cards = self.card_ranking([query, f"{context}\n{query}"] if context else [query], allowed_cards)
            probability = dict(cards)
            present.append(([card for card, _ in cards[: self.candidates]], self.classifier_weight))
        fused = rrf([units for units, _ in present], self.rrf_k, [w for _, w in present])
        order = sorted(fused, key=lambda u: (-fused[u], u))[:k]
        hits = []
        for rank, unit in enumerate(order, start=1):
            row = self._representative(unit, lang, dense, lexical)
            hits.append(Hit(
                chunk=self.chunks[row], score=fused[unit], rank=rank,
                dense_rank=_rank_of(dense, unit), lexical_rank=_rank_of(lexical, unit),
                dense_score=dense.score.get(unit) if dense else None, card_probability=probability.get(unit),
            ))
        return hits

    def _representative(self, unit: str, lang: str | None, *ranked: _Ranked | None) -> int:
        rows = self._rows_by_unit[unit]
        if lang:
            same = [r for r in rows if self.chunks[r].lang == lang]
            if same:
                return same[0]
        for r in ranked:
            if r is not None and unit in r.best:
                return r.best[unit]
        return rows[0]


def _rank_of(ranked: _Ranked | None, unit: str) -> int | None:
    if ranked is None or unit not in ranked.best:
        return None
    return ranked.units.index(unit) + 1
