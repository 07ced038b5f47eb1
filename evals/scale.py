"""Scale run: exact (flat) vs approximate FAISS indexes on synthetic unit vectors at 10k, 100k and 1M chunks.

Measures build time, memory of the index, query latency (median / p95 over 200 queries, one at a time as the app
searches) and recall@10 against exact search. Vectors are random but clustered (like real embeddings, where IVF and
HNSW have structure to exploit). Run: `python evals/scale.py [--sizes 10000 100000 1000000] [--out reports/scale.json]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import faiss
import numpy as np

DIM = 768


LATENT = 64
_PROJECTION = np.random.default_rng(0).standard_normal((LATENT, DIM)).astype(np.float32) / np.sqrt(LATENT)
_CENTRES = np.random.default_rng(1).standard_normal((2000, LATENT)).astype(np.float32)


def clustered(n: int, rng: np.random.Generator) -> np.ndarray:
    """Sentence embeddings occupy a low-dimensional, clustered part of their space: topic clusters in a 64-d latent
    space, projected to 768-d, plus a little isotropic noise. (Purely isotropic random vectors are the worst case
    for any approximate index and unlike real embeddings.)"""
    latent = _CENTRES[rng.integers(0, len(_CENTRES), n)] + 0.5 * rng.standard_normal((n, LATENT)).astype(np.float32)
    x = np.ascontiguousarray(latent @ _PROJECTION + 0.05 * rng.standard_normal((n, DIM)), dtype=np.float32)
    faiss.normalize_L2(x)
    return x


def measure(index: faiss.Index, queries: np.ndarray, truth: np.ndarray, k: int = 10) -> dict[str, float]:
    times, hits = [], 0
    for i, q in enumerate(queries):
        start = time.perf_counter()
        _, ids = index.search(q[None, :], k)
        times.append((time.perf_counter() - start) * 1000)
        hits += len(set(ids[0]) & set(truth[i]))
    times.sort()
    return {"median_ms": round(statistics.median(times), 3), "p95_ms": round(times[int(0.95 * len(times)) - 1], 3),
            "recall@10": round(hits / (k * len(queries)), 4)}


def run(n: int, rng: np.random.Generator) -> dict[str, object]:
    data = clustered(n, rng)
    queries = clustered(200, rng)
    out: dict[str, object] = {"n": n}
    flat = faiss.IndexFlatIP(DIM)
    start = time.perf_counter()
    flat.add(data)
    out["flat"] = {"build_s": round(time.perf_counter() - start, 2), "memory_mb": round(data.nbytes / 2**20, 1)}
    _, truth = flat.search(queries, 10)
    out["flat"].update(measure(flat, queries, truth))  # type: ignore[union-attr]
    if n <= 200_000:
        hnsw = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        start = time.perf_counter()
        hnsw.add(data)
        hnsw.hnsw.efSearch = 128
        out["hnsw32"] = {"build_s": round(time.perf_counter() - start, 2),
                         "memory_mb": round((data.nbytes + n * 32 * 2 * 4) / 2**20, 1),
                         **measure(hnsw, queries, truth)}
    nlist = int(4 * np.sqrt(n))
    quantizer = faiss.IndexFlatIP(DIM)
    ivf = faiss.IndexIVFFlat(quantizer, DIM, nlist, faiss.METRIC_INNER_PRODUCT)
    start = time.perf_counter()
    ivf.train(data[rng.choice(n, min(n, 40 * nlist), replace=False)])
    ivf.add(data)
    ivf.nprobe = max(8, nlist // 32)
    out[f"ivf{nlist}"] = {"build_s": round(time.perf_counter() - start, 2), "nprobe": ivf.nprobe,
                          "memory_mb": round(data.nbytes / 2**20, 1), **measure(ivf, queries, truth)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--out", default="reports/scale.json")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    results = []
    for n in args.sizes:
        results.append(run(n, rng))
        print(json.dumps(results[-1]), flush=True)
    from pathlib import Path

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"dim": DIM, "threads": faiss.omp_get_max_threads(), "runs": results},
                                         indent=2))


if __name__ == "__main__":
    main()
