"""The benchmark's agreed targets, checked against a report: met or missed, and for a miss where it is missed.

Targets are the quality bar of the benchmark issue; the gate (``gate.py``) is a different thing: it guards against
regressions from the committed baseline, whatever the level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Report = dict[str, Any]


@dataclass(frozen=True)
class Target:
    name: str
    bound: float
    higher_is_better: bool
    value: Callable[[Report], float | None]
    # The facet (by_lang / by_topic / by_dataset) and metric that show where a miss comes from.
    where: tuple[str, str, str] | None = None


def _answers(key: str) -> Callable[[Report], float | None]:
    return lambda r: r["answers"].get(key)


def _hybrid(key: str) -> Callable[[Report], float | None]:
    return lambda r: r["retrieval"]["hybrid"].get(key)


def _min_language_recall(r: Report) -> float | None:
    values = [b["recall@5"] for b in r["retrieval"]["hybrid"]["by_lang"].values()]
    return min(values) if values else None


def _chinese_margin(r: Report) -> float | None:
    """Hybrid minus the plain LangChain baseline on Recall@5 for Chinese questions (both scripts, weighted by n)."""
    base = r["retrieval"].get("langchain-baseline")
    if base is None:
        return None

    def chinese(mode: Report) -> float:
        blocks = [b for lang, b in mode["by_lang"].items() if lang.startswith("zh")]
        n = sum(b["n"] for b in blocks)
        return sum(b["recall@5"] * b["n"] for b in blocks) / n if n else 0.0

    return round(chinese(r["retrieval"]["hybrid"]) - chinese(base), 4)


TARGETS = (
    Target("hybrid Recall@5", 0.95, True, _hybrid("recall@5"), ("retrieval", "by_lang", "recall@5")),
    Target("hybrid Recall@5, weakest language", 0.90, True, _min_language_recall,
           ("retrieval", "by_lang", "recall@5")),
    Target("key-fact pass rate", 0.90, True, _answers("key_fact_pass_rate"),
           ("answers", "by_dataset", "key_fact_pass_rate")),
    Target("language and script accuracy", 0.98, True, _answers("language_accuracy"),
           ("answers", "by_lang", "language_accuracy")),
    Target("decline recall", 0.95, True, _answers("decline_recall"), ("answers", "by_lang", "decline_recall")),
    Target("false declines", 0.03, False, _answers("false_decline_rate"),
           ("answers", "by_topic", "false_decline_rate")),
    # The answers issue's bar, shown here too so an evaluator sees every agreed target in one table.
    Target("expected card answered first", 0.95, True, _answers("card_accuracy"),
           ("answers", "by_lang", "card_accuracy")),
    Target("hybrid minus LangChain baseline, Recall@5 on Chinese", 0.0, True, _chinese_margin),
    # The whole-question issue's bars, on the multi-part (narrative) sets: every case with asks.
    Target("multi-part messages: ask coverage", 0.90, True, _answers("ask_coverage"),
           ("answers", "by_dataset", "ask_coverage")),
    Target("multi-part messages: key facts per ask", 0.90, True, _answers("ask_key_facts"),
           ("answers", "by_dataset", "ask_key_facts")),
    Target("rule checkers: key-fact pass rate", 0.95, True,
           lambda r: r["answers"].get("by_dataset", {}).get("checks", {}).get("key_fact_pass_rate")),
)


def _worst(report: Report, where: tuple[str, str, str], higher: bool, n: int = 3) -> str:
    section, facet, metric = where
    block = report[section]["hybrid"] if section == "retrieval" else report[section]
    rows = [(key, b.get(metric)) for key, b in block.get(facet, {}).items() if b.get(metric) is not None]
    rows.sort(key=lambda kv: kv[1], reverse=not higher)
    return ", ".join(f"{key} {value:.3f}" for key, value in rows[:n])


def markdown_targets(report: Report) -> str:
    lines = ["## Targets", "", "| target | bound | measured | status | weakest |", "|---|---|---|---|---|"]
    for t in TARGETS:
        value = t.value(report)
        if value is None:
            lines.append(f"| {t.name} | {'≥' if t.higher_is_better else '≤'} {t.bound} | – | not measured | |")
            continue
        met = value >= t.bound if t.higher_is_better else value <= t.bound
        weakest = _worst(report, t.where, t.higher_is_better) if t.where and not met else ""
        lines.append(f"| {t.name} | {'≥' if t.higher_is_better else '≤'} {t.bound} | {value:.3f} | "
                     f"{'met' if met else '**missed**'} | {weakest} |")
    lines += ["", "A missed target's weakest facets are listed; the failures themselves are in the sections below."]
    return "\n".join(lines) + "\n"
