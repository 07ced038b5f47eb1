"""The CI quality gate: headline metrics of a benchmark run against a committed baseline.

A run fails when any headline metric drops more than ``TOLERANCE`` (2 points) below the baseline. Improvements pass;
refresh the baseline deliberately (`python -m bot eval --write-baseline`) when a change is meant to move it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TOLERANCE = 0.02

# name -> (section, key, higher_is_better)
HEADLINES: dict[str, tuple[str, str, bool]] = {
    "hybrid_recall@5": ("retrieval", "recall@5", True),
    "hybrid_mrr": ("retrieval", "mrr", True),
    "language_accuracy": ("answers", "language_accuracy", True),
    "card_accuracy": ("answers", "card_accuracy", True),
    "key_fact_pass_rate": ("answers", "key_fact_pass_rate", True),
    "citation_rate": ("answers", "citation_rate", True),
    "citation_validity": ("answers", "citation_validity", True),
    # Exact answers from the rule checkers (evals/datasets/qa.checks.jsonl): computed dates and amounts.
    "checks_key_fact_pass_rate": ("answers", "by_dataset/checks/key_fact_pass_rate", True),
    "decline_recall": ("answers", "decline_recall", True),
    # Multi-part messages (the narrative sets): asks answered by the right card or checker, and their key facts.
    "ask_coverage": ("answers", "ask_coverage", True),
    "ask_key_facts": ("answers", "ask_key_facts", True),
    "irrelevant_checker_rate": ("answers", "irrelevant_checker_rate", False),
    "false_decline_rate": ("answers", "false_decline_rate", False),
}


def headlines(report: dict[str, Any]) -> dict[str, float]:
    out = {}
    for name, (section, key, _) in HEADLINES.items():
        block = report[section]["hybrid"] if section == "retrieval" else report[section]
        *path, leaf = key.split("/")
        for step in path:
            block = block.get(step, {})
        if leaf in block and block[leaf] is not None:
            out[name] = float(block[leaf])
    return out


def compare(current: dict[str, float], baseline: dict[str, float], tolerance: float = TOLERANCE) -> list[str]:
    """Regressions, one line each; empty when the run holds the baseline."""
    problems = []
    for name, (_, _, higher) in HEADLINES.items():
        if name not in baseline:
            continue
        if name not in current:
            problems.append(f"{name}: missing from this run (baseline {baseline[name]:.3f})")
            continue
        drop = (baseline[name] - current[name]) if higher else (current[name] - baseline[name])
        if drop > tolerance + 1e-9:
            problems.append(f"{name}: {current[name]:.3f} vs baseline {baseline[name]:.3f} "
                            f"({'-' if higher else '+'}{drop:.3f}, more than {tolerance:.2f} allowed)")
    return problems


def load_baseline(path: Path) -> dict[str, float]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: float(v) for k, v in data["headlines"].items()}


def write_baseline(path: Path, report: dict[str, Any]) -> None:
    data = {"model": report.get("model"), "cases": report.get("cases"), "tolerance": TOLERANCE,
            "headlines": headlines(report)}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
