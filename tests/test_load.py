"""Short form of the load test (`evals/load.py`): the real app under 50 simulated visitors for 10 s, no failures.

No timing assertions: latency depends on the machine; the numbers of a full run go to BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bot.build.index import current_build
from bot.config import PROJECT_ROOT, Settings

pytestmark = pytest.mark.realmodel


def test_fifty_visitors_for_ten_seconds_get_answers_and_no_errors(tmp_path):
    if current_build(Settings.from_env().index_dir) is None and not os.environ.get("CI"):
        pytest.skip("no built index here: run `make index`")
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "evals" / "load.py"), "--users", "50", "--seconds", "10",
         "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=900,
    )
    report = json.loads((tmp_path / "load.json").read_text(encoding="utf-8"))
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert report["errors"] == 0, report["error_samples"]
    assert report["completed"] >= 50  # every visitor got at least about one answer
    assert len(report["requests_per_language"]) == 15
