"""BM25 over folded, script-aware tokens (see ``lang.tokenize``)."""

from __future__ import annotations

from collections.abc import Sequence

import bm25s
import numpy as np

from bot.lang import tokenize


class LexicalIndex:
    def __init__(self, token_lists: Sequence[Sequence[str]]) -> None:
        self._bm25 = bm25s.BM25()
        # bm25s refuses an empty document; a placeholder token that no query can produce keeps row order.
        self._bm25.index([list(t) or ["\x00"] for t in token_lists], show_progress=False)
        self.size = len(token_lists)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk, in index order (zeros when no query token is in the vocabulary)."""
        tokens = [t for t in tokenize(query) if t in self._bm25.vocab_dict]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def top(self, query: str, n: int) -> list[tuple[int, float]]:
        scores = self.scores(query)
        order = np.argsort(-scores, kind="stable")[:n]
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]
