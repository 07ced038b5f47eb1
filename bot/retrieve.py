"""Hybrid search: dense (FAISS) and lexical (BM25) rankings, each collapsed to units, fused by reciprocal rank."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .embed import Embedder
from .index import StoredIndex
from .lexical import LexicalIndex
from .schema import Chunk, Hit

Mode = Literal["hybrid", "dense", "lexical"]


def rrf(rankings: Iterable[Sequence[str]], k: int = 60, weights: Sequence[float] | None = None) -> dict[str, float]:
    """Reciprocal rank fusion: score(d) = sum over rankings of weight / (k + rank), rank starting at 1."""
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
    def __init__(self, index: StoredIndex, embedder: Embedder, candidates: int = 60, rrf_k: int = 60,
                 lexical_weight: float = 1.0) -> None:
        self.index = index
        self.embedder = embedder
        self.chunks = index.chunks
        self.lexical = LexicalIndex(index.tokens)
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.lexical_weight = lexical_weight
        self._vector_cache: dict[str, np.ndarray] = {}
        self._cache_lock = threading.Lock()
        self._masks: dict[tuple[tuple[str, ...], tuple[str, ...]], np.ndarray] = {}
        self._rows_by_unit: dict[str, list[int]] = {}
        for row, chunk in enumerate(self.chunks):
            self._rows_by_unit.setdefault(chunk.unit_id, []).append(row)

    def _mask(self, topics: Collection[str] | None, kinds: Collection[str] | None) -> np.ndarray | None:
        if not topics and not kinds:
            return None
        # Every question also searches the plan measures: build each filter's mask once, not once per question.
        key = (tuple(sorted(topics or ())), tuple(sorted(kinds or ())))
        if key not in self._masks:
            self._masks[key] = np.array([(not topics or c.topic in topics) and (not kinds or c.kind in kinds)
                                         for c in self.chunks])
        return self._masks[key]

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
            while len(self._vector_cache) >= 256:
                self._vector_cache.pop(next(iter(self._vector_cache)), None)
            self._vector_cache[query] = vector
        return vector

    def dense(self, query: str, allowed: np.ndarray | None = None) -> _Ranked:
        vector = self._embed(query)
        # Fetch more than needed: one unit may hold 15 language chunks.
        n = min(self.index.vectors.ntotal, self.candidates * 8)
        scores, rows = self.index.vectors.search(vector, n)
        return _collapse(zip(rows[0].tolist(), scores[0].tolist(), strict=True), self.chunks, allowed)

    def lexical_ranking(self, query: str, allowed: np.ndarray | None = None) -> _Ranked:
        return _collapse(self.lexical.top(query, self.candidates * 8), self.chunks, allowed)

    def search(self, query: str, k: int = 5, mode: Mode = "hybrid", lang: str | None = None,
               topics: Collection[str] | None = None, kinds: Collection[str] | None = None,
               context: str | None = None) -> list[Hit]:
        """Top ``k`` units for the query, each shown by its chunk in ``lang`` when the unit has one.

        ``context`` (the earlier question of a follow-up) adds rankings for context + query: the follow-up's own
        words say what is asked ("and the fees?"), the context says about what."""
        allowed = self._mask(topics, kinds)
        dense = self.dense(query, allowed) if mode in ("hybrid", "dense") else None
        lexical = self.lexical_ranking(query, allowed) if mode in ("hybrid", "lexical") else None
        ranked = [(dense, 1.0), (lexical, self.lexical_weight if mode == "hybrid" else 1.0)]
        if context:
            joined = f"{context}\n{query}"
            if mode in ("hybrid", "dense"):
                ranked.append((self.dense(joined, allowed), 1.0))
            if mode in ("hybrid", "lexical"):
                ranked.append((self.lexical_ranking(joined, allowed), ranked[1][1]))
        present = [(r, w) for r, w in ranked if r is not None]
        fused = rrf([r.units[: self.candidates] for r, _ in present], self.rrf_k, [w for _, w in present])
        order = sorted(fused, key=lambda u: (-fused[u], u))[:k]
        hits = []
        for rank, unit in enumerate(order, start=1):
            row = self._representative(unit, lang, dense, lexical)
            hits.append(Hit(
                chunk=self.chunks[row], score=fused[unit], rank=rank,
                dense_rank=_rank_of(dense, unit), lexical_rank=_rank_of(lexical, unit),
                dense_score=dense.score.get(unit) if dense else None,
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
