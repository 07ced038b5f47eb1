"""Which card does a question belong to? A linear classifier over the embedding, trained on the cards' own example
questions (all languages) when the index is built.

Why: nearest-neighbour search finds the right *area* well, but sibling cards ("cash is legal tender" vs "a shop
refused my cash") sit close together in embedding space, and the single nearest example often belongs to the wrong
sibling. A softmax classifier learns from all of a card's examples at once which directions separate it from its
neighbours. Measured on the QA set it picks the expected card more often than the fused ranking alone, and fused
with it (``retrieve.py``) it does best (BENCHMARKS.md). Training uses only corpus text, never evaluation data.

Stored as plain arrays (``card_classifier.npz``, loaded with ``allow_pickle=False``); scoring is one matrix-vector
product in numpy, so scikit-learn is needed only to build the index.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Inverse regularisation strength. Examples are few per card and language (6-15), so weak regularisation lets the
# classifier use the fine differences between siblings; 10-200 measured within a point of each other.
C = 50.0
MAX_ITER = 3000


@dataclass(frozen=True)
class CardClassifier:
    classes: tuple[str, ...]  # card ids, in the order of the rows of ``weights``
    weights: np.ndarray  # (cards, dim)
    bias: np.ndarray  # (cards,)

    def logits(self, vectors: np.ndarray) -> np.ndarray:
        """One row of card logits per query vector (``vectors`` is (n, dim))."""
        return np.asarray(vectors, dtype=np.float32) @ self.weights.T + self.bias

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """Softmax over cards of the mean logits of ``vectors``: a follow-up passes its own vector and the one of
        the question joined with its context, and both vote."""
        z = self.logits(vectors).mean(axis=0)
        z = np.exp(z - z.max())
        return z / z.sum()

    def ranking(self, vectors: np.ndarray) -> list[tuple[str, float]]:
        """(card id, probability), most probable first."""
        p = self.probabilities(vectors)
        order = np.argsort(-p, kind="stable")
        return [(self.classes[i], float(p[i])) for i in order]

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, classes=np.array(self.classes, dtype=str), weights=self.weights, bias=self.bias)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> CardClassifier:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            return cls(tuple(str(c) for c in data["classes"]), data["weights"].astype(np.float32),
                       data["bias"].astype(np.float32))


def train_card_classifier(vectors: np.ndarray, labels: Sequence[str],
                          weights: np.ndarray | None = None) -> CardClassifier | None:
    """Multinomial logistic regression from example vectors to card ids (``weights``: per row, as if repeated);
    ``None`` with fewer than two cards (nothing to choose between). Deterministic: lbfgs on the same rows gives the
    same weights, and BLAS runs on one thread so that the sums do not depend on the thread count. One thread is
    also faster here: OpenBLAS's two threads spin-wait on a shared 2-core machine (21 s CPU vs 3 s for 13k rows,
    BENCHMARKS.md "Index build")."""
    if len(set(labels)) < 2:
        return None
    from sklearn.linear_model import LogisticRegression  # only index builds need it
    from threadpoolctl import threadpool_limits

    model = LogisticRegression(C=C, max_iter=MAX_ITER)
    with threadpool_limits(limits=1, user_api="blas"):
        model.fit(np.asarray(vectors, dtype=np.float32), list(labels), sample_weight=weights)
    return CardClassifier(tuple(str(c) for c in model.classes_), model.coef_.astype(np.float32),
                          model.intercept_.astype(np.float32))
