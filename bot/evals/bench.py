"""Performance benchmark: load time, query embedding, search and ask latency, peak memory.

Figures are medians (and p95) over the QA set's questions, with ratios against baselines run in the same process:
torch fp32 vs the ONNX int8 backend for query embedding, and each retrieval mode against BM25 alone.
"""

from __future__ import annotations

import json
import platform
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.evals.evaluate import dataset_files, load_cases, percentile


def _timed(fn: Callable[[str], object], inputs: Sequence[str]) -> dict[str, float]:
    times = []
    for text in inputs:
        start = time.perf_counter()
        fn(text)
        times.append((time.perf_counter() - start) * 1000)
    return {"median_ms": round(statistics.median(times), 2), "p95_ms": round(percentile(times, 0.95), 2),
            "n": len(times)}


def run_bench(settings: Settings, dataset: Path, compare_torch: bool = True,
              langchain: bool = False) -> dict[str, Any]:
    from bot.build.embed import load_embedder
    from bot.serve.pipeline import RETRIEVE_K, Bot

    cases = load_cases(dataset_files(dataset))
    # Plain questions (the FAQ-shaped sets) for the per-step timings; the multi-part messages apart, to compare a
    # message of three asks with a single question in the same run.
    questions = [c.question for c in cases if not c.asks]
    from bot.query.asks import split

    three = [c.question for c in cases if c.asks and len(split(c.question)[0]) == 3]
    start = time.perf_counter()
    bot = Bot.load(settings)
    load_s = time.perf_counter() - start
    bot.ask(questions[0])  # warm-up
    retriever = bot.retriever

    def uncached(fn: Callable[[str], object]) -> Callable[[str], object]:
        def run(text: str) -> object:
            retriever._vector_cache.clear()  # every question pays for its own embedding, as a new visitor's does
            return fn(text)
        return run

    report: dict[str, Any] = {
        "machine": {"cpu_count": __import__("os").cpu_count(), "cpu": _cpu_model(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "model": bot.embedder.model_id, "index_chunks": len(retriever.chunks), "questions": len(questions),
        "load_seconds": round(load_s, 2),
        "query_embedding": _timed(lambda q: bot.embedder.embed_queries([q]), questions),
        "search": {
            "lexical": _timed(uncached(lambda q: retriever.search(q, RETRIEVE_K, "lexical")), questions),
            "dense": _timed(uncached(lambda q: retriever.search(q, RETRIEVE_K, "dense")), questions),
            "hybrid": _timed(uncached(lambda q: retriever.search(q, RETRIEVE_K, "hybrid")), questions),
        },
        "ask": _timed(uncached(lambda q: bot.ask(q)), questions),
    }
    if three:
        report["ask_three_asks"] = _timed(uncached(lambda q: bot.ask(q)), three)
        report["three_asks_vs_single"] = round(report["ask_three_asks"]["median_ms"] / report["ask"]["median_ms"], 2)
        # The same messages with their asks retrieved in turn (``ask_workers=1``): what retrieving them side by
        # side saves, measured against the same bot, model and index.
        in_turn = Bot(replace(bot.settings, ask_workers=1), bot.embedder, bot.snapshot)
        report["ask_three_asks_in_turn"] = _timed(uncached(lambda q: in_turn.ask(q)), three)
    if compare_torch and settings.embed_backend != "torch":
        torch_embedder = load_embedder(Settings.from_env(embed_backend="torch"))
        torch_times = _timed(lambda q: torch_embedder.embed_queries([q]), questions)
        report["query_embedding_torch_fp32"] = torch_times
        report["onnx_speedup_vs_torch"] = round(torch_times["median_ms"] / report["query_embedding"]["median_ms"], 2)
    if langchain:
        # Issue #14's speed baseline: the plain LangChain pipeline (HuggingFaceEmbeddings on torch fp32 + LangChain's
        # FAISS store, same model, defaults), per question embed + similarity search, against our whole `ask`
        # (understanding, retrieval, answer) on the same questions in the same process. Built once, not timed.
        from bot.evals.evaluate_langchain import langchain_store

        store, pieces, build_s = langchain_store(settings, plain=True)
        store.similarity_search(questions[0], k=RETRIEVE_K)  # warm-up
        report["langchain_plain"] = {**_timed(lambda q: store.similarity_search(q, k=RETRIEVE_K), questions),
                                     "pieces": pieces, "build_seconds": round(build_s, 1)}
        report["ask_speedup_vs_langchain"] = round(report["langchain_plain"]["median_ms"] / report["ask"]["median_ms"],
                                                   2)
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return report


def _cpu_model() -> str:
    """lscpu's "Model name": timings differ by CPU (an AMD EPYC runs the query embedding ~2.5x faster than the
    slower Intel Xeon machines of the same kind), so every report names it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def markdown_bench(r: dict[str, Any]) -> str:
    s = r["search"]
    lines = [
        f"Model `{r['model']}`, {r['index_chunks']} chunks, {r['questions']} questions, "
        f"{r['machine']['cpu_count']} cores, {r['machine'].get('cpu', '?')} ({r['machine']['platform']}).", "",
        "| step | median ms | p95 ms |", "|---|---|---|",
        f"| query embedding | {r['query_embedding']['median_ms']} | {r['query_embedding']['p95_ms']} |",
    ]
    if "query_embedding_torch_fp32" in r:
        t = r["query_embedding_torch_fp32"]
        lines.append(f"| query embedding, torch fp32 (baseline) | {t['median_ms']} | {t['p95_ms']} |")
    for mode in ("lexical", "dense", "hybrid"):
        lines.append(f"| search, {mode} (uncached) | {s[mode]['median_ms']} | {s[mode]['p95_ms']} |")
    lines.append(f"| ask, end to end (uncached) | {r['ask']['median_ms']} | {r['ask']['p95_ms']} |")
    if "ask_three_asks" in r:
        t = r["ask_three_asks"]
        lines.append(f"| ask, message of three asks (uncached, n={t['n']}) | {t['median_ms']} | {t['p95_ms']} |")
    if "ask_three_asks_in_turn" in r:
        t = r["ask_three_asks_in_turn"]
        lines.append(f"| ask, the same, asks retrieved in turn (baseline) | {t['median_ms']} | {t['p95_ms']} |")
    if "langchain_plain" in r:
        t = r["langchain_plain"]
        lines.append(f"| plain LangChain: HuggingFaceEmbeddings (torch fp32) + FAISS store, search only "
                     f"(baseline) | {t['median_ms']} | {t['p95_ms']} |")
    lines += ["",
              f"Model + index load: {r['load_seconds']} s. Peak RSS: {r['peak_rss_mb']} MB."]
    if "ask_speedup_vs_langchain" in r:
        lines.append(f"Our whole `ask` is {r['ask_speedup_vs_langchain']}× faster than the plain LangChain "
                     "pipeline's search (medians, same run, same questions).")
    if "three_asks_vs_single" in r:
        lines.append(f"A message of three asks costs {r['three_asks_vs_single']}× a single question "
                     "(medians, same run).")
    if "onnx_speedup_vs_torch" in r:
        lines.append(f"ONNX int8 query embedding is {r['onnx_speedup_vs_torch']}× faster than torch fp32 "
                     "(same process, same questions).")
    return "\n".join(lines) + "\n"


def save(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2), encoding="utf-8")
