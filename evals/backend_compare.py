"""Torch fp32 vs ONNX int8: the same FAQ-matching retrieval with each backend, on the committed QA set.

Both backends embed every card example question (the chunks that decide most answers) and every QA question;
a question's hit list is the cards ranked by their best-matching example. Run: `python evals/backend_compare.py`.
A full torch index build takes ~4x as long as the ONNX one on 2 cores, which is why this comparison uses the
question chunks only.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from bot.build.chunk import chunk_documents
from bot.build.corpus import load_corpus
from bot.build.embed import load_embedder
from bot.config import Settings
from bot.evals.evaluate import dataset_files, load_cases, recall_at, reciprocal_rank
from bot.query.guard import looks_like_injection


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    docs, _ = load_corpus(root / "corpus")
    chunks = [c for c in chunk_documents(docs) if c.kind == "card" and ":q" in c.chunk_id]
    cases = [c for c in load_cases(dataset_files(root / "evals" / "datasets"))
             if c.expected_cards and not looks_like_injection(c.question)]
    owners = np.array([c.doc_id for c in chunks])
    results = {}
    for backend in ("onnx", "torch"):
        embedder = load_embedder(Settings.from_env(embed_backend=backend), build=True)
        start = time.perf_counter()
        doc_vectors = embedder.embed_documents([c.embed_text for c in chunks])
        doc_seconds = time.perf_counter() - start
        query_vectors = embedder.embed_queries([c.question for c in cases])
        r1 = r5 = mrr = 0.0
        for case, q in zip(cases, query_vectors, strict=True):
            scores = doc_vectors @ q
            ranked = list(dict.fromkeys(owners[np.argsort(-scores)[:200]]))
            r1 += recall_at(ranked, frozenset(case.expected_cards), 1)
            r5 += recall_at(ranked, frozenset(case.expected_cards), 5)
            mrr += reciprocal_rank(ranked, frozenset(case.expected_cards))
        n = len(cases)
        results[backend] = {"recall@1": round(r1 / n, 4), "recall@5": round(r5 / n, 4), "mrr": round(mrr / n, 4),
                            "cases": n, "chunks": len(chunks),
                            "embed_chunks_per_s": round(len(chunks) / doc_seconds, 1)}
        print(backend, results[backend], file=sys.stderr, flush=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
