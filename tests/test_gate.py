import json
import os
import subprocess
import sys

from bot.config import PROJECT_ROOT
from bot.evals.gate import compare, load_baseline

BASELINE = PROJECT_ROOT / "evals" / "baseline.json"


def test_small_drops_pass_and_big_drops_fail():
    base = {"hybrid_recall@5": 0.97, "false_decline_rate": 0.01}
    assert compare({"hybrid_recall@5": 0.955, "false_decline_rate": 0.02}, base) == []
    problems = compare({"hybrid_recall@5": 0.94, "false_decline_rate": 0.05}, base)
    assert len(problems) == 2 and "hybrid_recall@5" in problems[0] and "false_decline_rate" in problems[1]
    assert compare({"hybrid_recall@5": 1.0, "false_decline_rate": 0.0}, base) == []


def test_committed_baseline_holds_every_headline():
    headlines = load_baseline(BASELINE)
    assert set(headlines) >= {"hybrid_recall@5", "hybrid_mrr", "language_accuracy", "decline_recall"}
    assert all(0.0 <= v <= 1.0 for v in headlines.values())


def test_a_degraded_run_fails_the_gate(built, tmp_path):
    """The same command CI runs, with the hash embedder on a 6-card corpus: far below baseline, so exit 1."""
    env = {**os.environ, "BOT_MODEL": "hash", "BOT_CORPUS_DIR": str(built.corpus_dir),
           "BOT_INDEX_DIR": str(built.index_dir), "BOT_CACHE_DIR": str(built.cache_dir)}
    result = subprocess.run([sys.executable, "-m", "bot", "eval", "--gate", "--report", str(tmp_path)],
                            capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=600)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "quality gate FAILED" in result.stderr and "hybrid_recall@5" in result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["retrieval"]["hybrid"]["recall@5"] < load_baseline(BASELINE)["hybrid_recall@5"] - 0.02


def test_targets_say_which_are_missed_and_where() -> None:
    from bot.evals.targets import markdown_targets

    lang = {"en": {"n": 10, "recall@5": 0.99}, "zh-Hans": {"n": 10, "recall@5": 0.80}}
    report = {
        "retrieval": {"hybrid": {"recall@5": 0.96, "by_lang": lang},
                      "langchain-baseline": {"recall@5": 0.9, "by_lang": {k: {**v, "recall@5": 0.85}
                                                                           for k, v in lang.items()}}},
        "answers": {"key_fact_pass_rate": 0.95, "language_accuracy": 0.99, "decline_recall": 0.80,
                    "false_decline_rate": 0.01, "by_lang": {"en": {"decline_recall": 0.9},
                                                            "fr": {"decline_recall": 0.5}},
                    "by_dataset": {"checks": {"key_fact_pass_rate": 0.97}}},
    }
    text = markdown_targets(report)
    row = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    assert "**missed**" in row["hybrid Recall@5, weakest language"] and "zh-Hans 0.800" in text
    assert "**missed**" in row["decline recall"] and "fr 0.500" in row["decline recall"]
    assert "| met |" in row["hybrid Recall@5"] and "| met |" in row["rule checkers: key-fact pass rate"]
    assert "-0.025" not in text and "| met |" not in row["hybrid minus LangChain baseline, Recall@5 on Chinese"]
