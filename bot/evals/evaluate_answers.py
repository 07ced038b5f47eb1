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

from bot.errors import BotError
from bot.evals.evaluate import QACase, percentile
from bot.schema import Answer


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

    # A rule checker's output that names a port or country the question never mentioned (see ``irrelevant``).
    irrelevant_check: bool | None = None

    @property
    def refused(self) -> bool:
        return self.answer is None or self.answer.refused

    def ask_results(self) -> list[tuple[bool, bool | None]]:
        """Per ask of a multi-part case: (covered, key facts) — covered when an accepted card or the checker answered
        it (an out-of-scope ask: when that part alone was declined); key facts None when the ask lists none."""
        a, c = self.answer, self.case
        out: list[tuple[bool, bool | None]] = []
        for spec in c.asks:
            has_facts = bool(spec.must_include or spec.must_not_include)
            if a is None:
                out.append((False, False if has_facts else None))
                continue
            if spec.out_of_scope:
                # A message that asks nothing we answer is declined whole (one decline, not a part per ask): that is
                # each of its asks answered right, whether or not the case says ``should_decline``.
                whole = c.should_decline or all(s.out_of_scope for s in c.asks)
                covered = a.refused if whole else (not a.refused and any(p.refused for p in a.parts))
            else:
                checkers = {p.checker for p in a.parts} | {a.check.get("checker") if a.check else None}
                covered = not a.refused and (bool(set(spec.cards) & set(a.card_ids))
                                             or (spec.check is not None and spec.check in checkers))
            facts = _facts(a.text, spec.must_include, spec.must_not_include) if has_facts else None
            out.append((covered, facts))
        return out

    def checks(self) -> dict[str, bool | None]:
        """True/False per metric, None where the metric does not apply to this case."""
        a, c = self.answer, self.case
        asks = self.ask_results()
        complete = all(ok and facts is not False for ok, facts in asks) if asks else None
        if a is None:
            return {"language": False if c.answer_lang else None,
                    "card": False if c.expected_cards and not c.should_decline else None,
                    "cited": None, "key_facts": False if c.must_include else None, "citations_valid": None,
                    "complete": False if asks else None}
        text = a.text
        facts_ok = _facts(text, c.must_include, c.must_not_include)
        if asks and complete is not None and (c.must_include or c.must_not_include):
            complete = complete and facts_ok
        return {
            "complete": complete,
            "language": a.language == c.answer_lang if c.answer_lang else None,
            "card": (bool(a.card_ids) and a.card_ids[0] in c.expected_cards)
            if c.expected_cards and not c.should_decline else None,
            "cited": bool(a.citations) if not a.refused else None,
            "key_facts": facts_ok if (c.must_include or c.must_not_include) else None,
            "citations_valid": None if a.refused or self.resolved is None
            else bool(self.resolved and self.supported is not False),
        }


def _facts(text: str, must: Sequence[str], must_not: Sequence[str]) -> bool:
    return all(re.search(p, text, re.IGNORECASE) for p in must) and not any(
        re.search(p, text, re.IGNORECASE) for p in must_not)


def irrelevant(bot: Any, question: str, lang: str, answer: Answer) -> bool | None:
    """Whether the rule checker's output names a port or a country that the question does not mention (the
    transit checker once named an entry port nobody asked about). None when no checker ran. ``question`` is what
    the visitor wrote: the conversation's earlier turns and the message."""
    if not answer.check:
        return None
    from bot.checks.extract_places import find_places
    from bot.checks.extract_text import fold, prepare

    folded = fold(question)
    mentioned = {p.code for p in find_places(prepare(question, lang))}
    ports = bot.rules.transit.ports
    findings: Any = answer.check.get("findings", [])
    for finding in findings:
        for key, value in finding.get("params", {}).items():
            if key == "port" and value in ports:
                port = ports[value]
                names = (*port.names.values(), *port.aliases)
                if not any(fold(n) in folded for n in names if n):
                    return True
            if key in ("country", "origin", "destination") and isinstance(value, str) and value not in mentioned:
                return True
    return False


def cited_text(bot: Any, answer: Answer, chunks: dict[str, Any]) -> tuple[bool, str]:
    """Whether every citation resolves, and the text of everything cited, in the answer's language.

    A card citation stands for the card (its reviewed answer in the asker's language); a plan or guide citation
    for the stored passage; a rule-table citation for the checker's computations shown (the blocks that open with
    the checker's header), which is what the table supports.
    """
    from bot.checks.render import text as check_text

    texts: list[str] = []
    resolved = bool(answer.citations)
    header = check_text("check.header", answer.language)
    computed = [block for block in answer.text.split("\n\n") if block.startswith(header)]
    for c in answer.citations:
        if c.doc_id.startswith("rules/"):
            texts += computed  # every computation shown (a multi-part answer may have several), header first
            resolved &= bool(computed)
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
        said = " ".join([*case.history, case.question])  # a trip told in an earlier turn is the visitor's too
        wrong_check = irrelevant(bot, said, answer.language, answer) if answer is not None else None
        if answer is not None and not answer.refused and chunks:
            resolved, text = cited_text(bot, answer, chunks)
            if case.must_include:
                supported = all(re.search(p, text, re.IGNORECASE) for p in case.must_include)
        outcomes.append(Outcome(case, answer, elapsed, error, resolved, supported, wrong_check))
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
    asks = [r for o in outcomes for r in o.ask_results()]
    in_scope = [r for o in outcomes for spec, r in zip(o.case.asks, o.ask_results(), strict=True)
                if not spec.out_of_scope]
    per_ask = [len(o.answer.text) / max(1, len(o.case.asks)) for o in outcomes
               if o.case.asks and o.answer is not None and not o.answer.refused]
    checked = [o.irrelevant_check for o in outcomes if o.irrelevant_check is not None]
    return {
        "n": len(outcomes),
        "asks": len(asks),
        "ask_coverage": _rate([ok for ok, _ in asks]),
        "ask_coverage_in_scope": _rate([ok for ok, _ in in_scope]),
        "ask_key_facts": _rate([f for _, f in asks if f is not None]),
        "complete_rate": _rate(per["complete"]),
        "irrelevant_checker_rate": _rate(checked),
        "chars_per_ask": round(statistics.median(per_ask)) if per_ask else None,
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
        by_lang[o.case.lang or "unstated"].append(o)
        by_topic[o.case.topic or "unstated"].append(o)
        by_dataset[dataset_name(o.case.source)].append(o)
    latencies = [o.latency_ms for o in outcomes]
    failures = []
    for o in outcomes:
        failed = [name for name, ok in o.checks().items() if ok is False]
        failed += [f"ask {i} not covered" if not ok else f"ask {i} key facts"
                   for i, (ok, facts) in enumerate(o.ask_results(), start=1) if not ok or facts is False]
        if o.irrelevant_check:
            failed.append("checker names a port or country not asked about")
        if o.refused != o.case.should_decline:
            failed.append("false decline" if o.refused else "missed decline")
        if failed:
            failures.append({
                "id": o.case.id, "lang": o.case.lang, "question": o.case.question, "failed": failed,
                "expected_cards": list(o.case.expected_cards), "got_cards": list(o.answer.card_ids) if o.answer else [],
                "language": o.answer.language if o.answer else None, "error": o.error,
                "asks": [a.ask for a in o.case.asks],
                "got_parts": [p.ask[:60] for p in o.answer.parts] if o.answer else [],
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
    if summary.get("asks"):
        ask_head = "| | n | asks | ask coverage | in-scope asks covered | key facts per ask | complete | " \
                   "irrelevant checker output | chars per ask |"
        lines += ["## Multi-part messages (cases with asks)", "",
                  "Ask coverage: an accepted card or the checker answered the ask (an out-of-scope ask: that part "
                  "alone was declined). Complete: every ask covered with its key facts.", "",
                  ask_head, "|---|---|---|---|---|---|---|---|---|"]
        rows = [("all", summary)] + [(f"{facet[3:]}: {k}", b) for facet in ("by_dataset", "by_lang")
                                     for k, b in summary[facet].items() if b.get("asks")]
        for key, b in rows:
            lines.append(f"| {key} | {b['n']} | {b['asks']} | {_fmt(b['ask_coverage'])} | "
                         f"{_fmt(b['ask_coverage_in_scope'])} | {_fmt(b['ask_key_facts'])} | "
                         f"{_fmt(b['complete_rate'])} | {_fmt(b['irrelevant_checker_rate'])} | "
                         f"{b['chars_per_ask'] if b['chars_per_ask'] is not None else '–'} |")
        lines.append("")
    if summary["failures"]:
        lines += ["### Failures", ""]
        for f in summary["failures"]:
            lines.append(f"- `{f['id']}` ({f['lang']}) {f['question'][:90]!r}: {', '.join(f['failed'])}; "
                         f"expected {f['expected_cards']}, got {f['got_cards']} in {f['language']}")
    return "\n".join(lines) + "\n"
