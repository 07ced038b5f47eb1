"""Answer-level metrics: language and script, the card chosen, citations, declines, key facts, latency.

Every case goes through ``Bot.ask`` exactly as a visitor's question does (no language hint: detection is tested).
"""

from __future__ import annotations

import re
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import BotError
from .evaluate import QACase, percentile
from .schema import Answer


@dataclass
class Outcome:
    case: QACase
    answer: Answer | None
    latency_ms: float
    error: str = ""
    # Citation validity: every citation resolves to a stored passage or rule table (``resolved``), and the
    # key facts can be found in the text of what is cited (``supported``), not only in the answer.
    resolved: bool | None = None
    supported: bool | None = None

    @property
    def refused(self) -> bool:
        return self.answer is None or self.answer.refused

    def checks(self) -> dict[str, bool | None]:
        """True/False per metric, None where the metric does not apply to this case."""
        a, c = self.answer, self.case
        if a is None:
            return {"language": False, "card": False if c.expected_cards and not c.should_decline else None,
                    "cited": None, "key_facts": False if c.must_include else None, "citations_valid": None}
        text = a.text
        facts_ok = all(re.search(p, text, re.IGNORECASE) for p in c.must_include) and not any(
            re.search(p, text, re.IGNORECASE) for p in c.must_not_include)
        return {
            "language": a.language == c.lang,
            "card": (bool(a.card_ids) and a.card_ids[0] in c.expected_cards)
            if c.expected_cards and not c.should_decline else None,
            "cited": bool(a.citations) if not a.refused else None,
            "key_facts": facts_ok if (c.must_include or c.must_not_include) else None,
            "citations_valid": None if a.refused or self.resolved is None
            else bool(self.resolved and self.supported is not False),
        }


def cited_text(bot: Any, answer: Answer, chunks: dict[str, Any]) -> tuple[bool, str]:
    """Whether every citation resolves, and the text of everything cited, in the answer's language.

    A card citation stands for the card (its reviewed answer in the asker's language); a plan or guide citation
    for the stored passage; a rule-table citation for the checker's computation from that table (the answer's
    first block), which is what the table supports.
    """
    texts: list[str] = []
    resolved = bool(answer.citations)
    for c in answer.citations:
        if c.doc_id.startswith("rules/"):
            texts.append(answer.text.split("\n\n", 1)[0] if answer.check else "")
            resolved &= answer.check is not None
        elif c.doc_id in getattr(bot, "cards", {}):
            card = bot.cards[c.doc_id]
            texts.append(card.answer.get(answer.language) or card.answer["en"])
            resolved &= c.chunk_id in chunks
        elif c.chunk_id in chunks:
            texts.append(chunks[c.chunk_id].text)
        else:
            resolved = False
    return resolved, "\n".join(texts)


def run_answers(bot: Any, cases: Sequence[QACase]) -> list[Outcome]:
    chunks = {c.chunk_id: c for c in bot.retriever.chunks} if hasattr(bot, "retriever") else {}
    outcomes = []
    for case in cases:
        start = time.perf_counter()
        try:
            answer: Answer | None = bot.ask(case.question, history=case.history)
            error = ""
        except BotError as exc:
            answer, error = None, str(exc)
        elapsed = (time.perf_counter() - start) * 1000
        resolved = supported = None
        if answer is not None and not answer.refused and chunks:
            resolved, text = cited_text(bot, answer, chunks)
            if case.must_include:
                supported = all(re.search(p, text, re.IGNORECASE) for p in case.must_include)
        outcomes.append(Outcome(case, answer, elapsed, error, resolved, supported))
    return outcomes


def _rate(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _block(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    per: dict[str, list[bool]] = defaultdict(list)
    for o in outcomes:
        for name, ok in o.checks().items():
            if ok is not None:
                per[name].append(ok)
    declines = [o for o in outcomes if o.case.should_decline]
    answerable = [o for o in outcomes if not o.case.should_decline]
    return {
        "n": len(outcomes),
        "language_accuracy": _rate(per["language"]),
        "card_accuracy": _rate(per["card"]),
        "citation_rate": _rate(per["cited"]),
        "citation_validity": _rate(per["citations_valid"]),
        "key_fact_pass_rate": _rate(per["key_facts"]),
        "decline_recall": _rate([o.refused for o in declines]),
        "false_decline_rate": _rate([o.refused for o in answerable]),
        "decline_precision": _rate([o.case.should_decline for o in outcomes if o.refused]),
    }


def summarise_answers(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    by_lang: dict[str, list[Outcome]] = defaultdict(list)
    by_topic: dict[str, list[Outcome]] = defaultdict(list)
    by_dataset: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_lang[o.case.lang].append(o)
        by_topic[o.case.topic].append(o)
        by_dataset[dataset_name(o.case.source)].append(o)
    latencies = [o.latency_ms for o in outcomes]
    failures = []
    for o in outcomes:
        failed = [name for name, ok in o.checks().items() if ok is False]
        if o.refused != o.case.should_decline:
            failed.append("false decline" if o.refused else "missed decline")
        if failed:
            failures.append({
                "id": o.case.id, "lang": o.case.lang, "question": o.case.question, "failed": failed,
                "expected_cards": list(o.case.expected_cards), "got_cards": list(o.answer.card_ids) if o.answer else [],
                "language": o.answer.language if o.answer else None, "error": o.error,
            })
    return {
        **_block(outcomes),
        "latency_ms": {"median": round(statistics.median(latencies), 2) if latencies else 0.0,
                       "p95": round(percentile(latencies, 0.95), 2)},
        "by_lang": {k: _block(v) for k, v in sorted(by_lang.items())},
        "by_topic": {k: _block(v) for k, v in sorted(by_topic.items())},
        "by_dataset": {k: _block(v) for k, v in sorted(by_dataset.items())},
        "failures": failures,
    }


def dataset_name(source: str) -> str:
    """"evals/datasets/qa.checks.jsonl:12" -> "checks": the file a case came from, as a facet of the report."""
    stem = source.rsplit(":", 1)[0].rsplit("/", 1)[-1].removesuffix(".jsonl")
    return stem.removeprefix("qa.") or "unknown"


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


COLUMNS = ("language_accuracy", "card_accuracy", "citation_rate", "citation_validity", "key_fact_pass_rate",
           "decline_recall", "false_decline_rate")


def markdown_answers(summary: dict[str, Any]) -> str:
    head = "| | n | language | card | cited | citations valid | key facts | decline recall | false declines |"
    rule = "|---|---|---|---|---|---|---|---|---|"
    lines = ["## Answers", "", head, rule,
             "| all | " + str(summary["n"]) + " | " + " | ".join(_fmt(summary[c]) for c in COLUMNS) + " |",
             "", f"Latency per question: median {summary['latency_ms']['median']} ms, "
             f"p95 {summary['latency_ms']['p95']} ms.", ""]
    for facet in ("by_dataset", "by_lang", "by_topic"):
        lines += [f"### {facet.replace('_', ' ')}", "", head, rule]
        for key, block in summary[facet].items():
            lines.append(f"| {key} | {block['n']} | " + " | ".join(_fmt(block[c]) for c in COLUMNS) + " |")
        lines.append("")
    if summary["failures"]:
        lines += ["### Failures", ""]
        for f in summary["failures"]:
            lines.append(f"- `{f['id']}` ({f['lang']}) {f['question'][:90]!r}: {', '.join(f['failed'])}; "
                         f"expected {f['expected_cards']}, got {f['got_cards']} in {f['language']}")
    return "\n".join(lines) + "\n"
