"""Benchmark data and metrics. Pure functions over rankings, plus a runner that sends every case through the same
``Bot`` that users talk to."""

from __future__ import annotations

import json
import math
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import BotError
from bot.schema import LANGUAGES, MODES

_LANG_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")


@dataclass(frozen=True)
class AskSpec:
    """One ask of a multi-part message (narrative sets): what answers it and the key facts its answer must carry."""

    ask: str
    cards: tuple[str, ...] = ()  # any one of these cards answers it
    check: str | None = None  # or this rule checker ("transit" / "refund" / "payment")
    must_include: tuple[str, ...] = ()
    must_not_include: tuple[str, ...] = ()
    out_of_scope: bool = False  # answered right by a one-line decline of this part (and not of the whole message)


@dataclass(frozen=True)
class QACase:
    """One benchmark case. Only ``id`` and ``question`` are required, so an evaluator's own file of questions with
    ``must_include`` runs as it is (``evals/README.md``); every metric a case has the fields for is reported."""

    id: str
    question: str
    lang: str | None = None  # the question's language; None: not stated (language accuracy is then not scored)
    topic: str = ""
    expected_cards: tuple[str, ...] = ()
    expected_chunks: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
    must_include: tuple[str, ...] = ()
    must_not_include: tuple[str, ...] = ()
    should_decline: bool = False
    source: str = ""
    asks: tuple[AskSpec, ...] = ()
    # The language the answer must come in: ``lang`` when it is one of ours; English for a language we do not serve.
    answer_lang: str | None = None

    @property
    def expected(self) -> frozenset[str]:
        return frozenset(self.expected_cards) | frozenset(self.expected_chunks)

    @property
    def served_lang(self) -> str | None:
        """``lang`` when it is one of ours (retrieval may be told it), else None."""
        return self.lang if self.lang in LANGUAGES else None


def _ask(data: dict[str, Any]) -> AskSpec:
    return AskSpec(str(data.get("ask", "")), tuple(data.get("cards") or ()), data.get("check") or None,
                   tuple(data.get("must_include") or ()), tuple(data.get("must_not_include") or ()),
                   bool(data.get("out_of_scope", False)))


def load_cases(paths: Iterable[Path]) -> list[QACase]:
    """Cases from JSONL files; a bad line fails with its file, line number and field."""
    cases: list[QACase] = []
    seen: dict[str, str] = {}
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                data = json.loads(line)
                lang = data.get("lang") or None
                answer_lang = data.get("answer_lang") or (
                    None if lang is None else lang if lang in LANGUAGES else "en")
                case = QACase(
                    id=str(data["id"]), question=str(data["question"]), lang=lang, topic=data.get("topic") or "",
                    expected_cards=tuple(data.get("expected_cards") or ()),
                    expected_chunks=tuple(data.get("expected_chunks") or ()),
                    history=tuple(data.get("history") or ()),
                    # "must" / "must_not": the field names of shared/realq's files of real questions
                    must_include=tuple(data.get("must_include") or data.get("must") or ()),
                    must_not_include=tuple(data.get("must_not_include") or data.get("must_not") or ()),
                    should_decline=bool(data.get("should_decline", False)), source=where,
                    asks=tuple(_ask(a) for a in data.get("asks") or ()), answer_lang=answer_lang,
                )
                for pattern in (*case.must_include, *case.must_not_include,
                                *(p for a in case.asks for p in (*a.must_include, *a.must_not_include))):
                    re.compile(pattern)
            except (ValueError, KeyError, TypeError, AttributeError, re.error) as exc:
                raise BotError(f"{where}: bad QA case ({exc!r})") from None
            if case.lang is not None and not _LANG_CODE.match(case.lang):
                raise BotError(f"{where}: field 'lang': {case.lang!r} is not a language code (e.g. en, zh-Hant, pl)")
            if case.answer_lang is not None and case.answer_lang not in LANGUAGES:
                raise BotError(f"{where}: field 'answer_lang': unknown language {case.answer_lang!r}")
            if case.id in seen:
                raise BotError(f"{where}: field 'id': {case.id!r} already used at {seen[case.id]}")
            seen[case.id] = where
            cases.append(case)
    return cases


def dataset_files(path: Path) -> list[Path]:
    return sorted(path.glob("*.jsonl")) if path.is_dir() else [path]


# ---------------------------------------------------------------- ranking metrics (pure)

def first_relevant_rank(ranked: Sequence[str], relevant: frozenset[str]) -> int | None:
    for i, doc in enumerate(ranked, start=1):
        if doc in relevant:
            return i
    return None


def recall_at(ranked: Sequence[str], relevant: frozenset[str], k: int) -> float:
    """1.0 when any relevant document is in the top k (each question has one answer, possibly in several docs)."""
    rank = first_relevant_rank(ranked, relevant)
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(ranked: Sequence[str], relevant: frozenset[str]) -> float:
    rank = first_relevant_rank(ranked, relevant)
    return 1.0 / rank if rank else 0.0


def ndcg_at(ranked: Sequence[str], relevant: frozenset[str], k: int = 10) -> float:
    """Binary-relevance nDCG; a document counts once even if several of its passages are ranked."""
    seen: set[str] = set()
    dcg = 0.0
    for i, doc in enumerate(ranked[:k], start=1):
        if doc in relevant and doc not in seen:
            dcg += 1.0 / math.log2(i + 1)
        seen.add(doc)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(relevant), k) + 1))
    return dcg / ideal if ideal else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass
class RetrievalResult:
    case: QACase
    ranked: list[str]
    latency_ms: float

    def metrics(self) -> dict[str, float]:
        rel = self.case.expected
        return {
            "recall@1": recall_at(self.ranked, rel, 1), "recall@5": recall_at(self.ranked, rel, 5),
            "mrr": reciprocal_rank(self.ranked, rel), "ndcg@10": ndcg_at(self.ranked, rel, 10),
        }


@dataclass
class Summary:
    n: int = 0
    totals: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, metrics: dict[str, float]) -> None:
        self.n += 1
        for k, v in metrics.items():
            self.totals[k] += v

    def means(self) -> dict[str, float]:
        return {k: round(v / self.n, 4) for k, v in self.totals.items()} if self.n else {}


def summarise(results: Sequence[RetrievalResult]) -> dict[str, Any]:
    overall = Summary()
    by_lang: defaultdict[str, Summary] = defaultdict(Summary)
    by_topic: defaultdict[str, Summary] = defaultdict(Summary)
    for r in results:
        m = r.metrics()
        overall.add(m)
        by_lang[r.case.lang or "unstated"].add(m)
        by_topic[r.case.topic or "unstated"].add(m)
    latencies = [r.latency_ms for r in results]
    return {
        "n": overall.n, **overall.means(),
        "latency_ms": {"median": round(statistics.median(latencies), 2) if latencies else 0.0,
                       "p95": round(percentile(latencies, 0.95), 2)},
        "by_lang": {k: {"n": v.n, **v.means()} for k, v in sorted(by_lang.items())},
        "by_topic": {k: {"n": v.n, **v.means()} for k, v in sorted(by_topic.items())},
        "failures": [
            {"id": r.case.id, "lang": r.case.lang, "question": r.case.question,
             "expected": sorted(r.case.expected), "got": r.ranked[:5]}
            for r in results if recall_at(r.ranked, r.case.expected, 5) == 0.0
        ],
    }


def run_retrieval(bot: Any, cases: Sequence[QACase], modes: Sequence[str] = MODES,
                  k: int = 10) -> dict[str, dict[str, Any]]:
    """Retrieval metrics per mode, through the same path as a chat question (language, follow-ups). Cases without
    an expected document, and injections (answered by the guard before any retrieval), do not take part."""
    from bot.query.guard import looks_like_injection

    scored = [c for c in cases if c.expected and not looks_like_injection(c.question)]
    report: dict[str, dict[str, Any]] = {}
    for mode in modes:
        results = []
        for case in scored:
            start = time.perf_counter()
            ctx = bot.context(case.question, case.history, lang=case.served_lang, mode=mode, k=k)
            elapsed = (time.perf_counter() - start) * 1000
            results.append(RetrievalResult(case, [h.chunk.doc_id for h in ctx.hits], elapsed))
        report[mode] = summarise(results)
        report[mode]["excluded_injections"] = sum(1 for c in cases if c.expected and looks_like_injection(c.question))
    return report


def markdown_report(report: dict[str, dict[str, Any]], title: str = "Retrieval") -> str:
    lines = [f"## {title}", "", "| mode | n | Recall@1 | Recall@5 | MRR | nDCG@10 | median ms | p95 ms |",
             "|---|---|---|---|---|---|---|---|"]
    if not any(s["n"] for s in report.values()):
        return f"## {title}\n\nNo case names expected cards or passages: retrieval is not scored.\n"
    for mode, s in report.items():
        if not s["n"]:
            lines.append(f"| {mode} | 0 | – | – | – | – | – | – |")
            continue
        lines.append(f"| {mode} | {s['n']} | {s['recall@1']:.3f} | {s['recall@5']:.3f} | {s['mrr']:.3f} | "
                     f"{s['ndcg@10']:.3f} | {s['latency_ms']['median']} | {s['latency_ms']['p95']} |")
    for facet in ("by_lang", "by_topic"):
        modes = list(report)
        lines += ["", f"### Recall@5 {facet.replace('_', ' ')}", "",
                  "| " + facet[3:] + " | n | " + " | ".join(modes) + " |", "|---|---|" + "---|" * len(modes)]
        keys = sorted({k for s in report.values() for k in s[facet]})
        for key in keys:
            first = report[modes[0]][facet].get(key, {})
            cells = [f"{report[m][facet].get(key, {}).get('recall@5', 0):.3f}" for m in modes]
            lines.append(f"| {key} | {first.get('n', 0)} | " + " | ".join(cells) + " |")
    hybrid = report.get("hybrid")
    if hybrid and hybrid["failures"]:
        lines += ["", "### Hybrid misses (expected not in top 5)", ""]
        for f in hybrid["failures"]:
            lines.append(f"- `{f['id']}` ({f['lang']}) {f['question']!r}: expected {f['expected']}, got {f['got']}")
    return "\n".join(lines) + "\n"
