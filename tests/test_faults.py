"""Faults: a damaged index is a clear error at start-up and a rebuild fixes it; `bot index` killed with SIGKILL at
any moment leaves the previous index in use; the feedback store keeps every committed row through parallel writers
and a writer killed mid-write. (load_index's own checks are in test_index.py.)"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import queue
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.build.embed import HashEmbedder
from bot.build.index import build_index, current_build, load_index
from bot.config import PROJECT_ROOT, Settings
from bot.errors import BotError
from bot.serve.pipeline import Bot
from bot.store.feedback import FeedbackStore

CORPUS = PROJECT_ROOT / "corpus"


def _env(settings: Settings) -> dict[str, str]:
    return {**os.environ, "BOT_MODEL": "hash", "BOT_CORPUS_DIR": str(settings.corpus_dir),
            "BOT_INDEX_DIR": str(settings.index_dir), "BOT_CACHE_DIR": str(settings.cache_dir)}


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=_env(settings),
                          cwd=PROJECT_ROOT, timeout=120)


# ---------------------------------------------------------------- a damaged index


def _no_index(settings: Settings) -> None:
    shutil.rmtree(settings.index_dir)


def _pointer_to_nothing(settings: Settings) -> None:
    (settings.index_dir / "CURRENT").write_text("20990101T000000000000-gone")


def _truncated_vectors(settings: Settings) -> None:
    path = current_build(settings.index_dir) / "faiss.index"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _chunks_deleted(settings: Settings) -> None:
    (current_build(settings.index_dir) / "chunks.jsonl").unlink()


def _other_model(settings: Settings) -> None:
    from bot.build.chunk import chunk_documents
    from bot.build.corpus import load_corpus

    docs, _ = load_corpus(settings.corpus_dir)
    build_index(chunk_documents(docs), HashEmbedder(model_id="hash-other"), settings.index_dir)


@pytest.mark.parametrize("damage", [_no_index, _pointer_to_nothing, _truncated_vectors, _chunks_deleted, _other_model])
def test_a_damaged_index_names_the_fix_and_a_rebuild_fixes_it(built, damage):
    damage(built)
    with pytest.raises(BotError, match=r"python -m bot index"):
        Bot.load(built)
    result = _cli(built, "ask", "How much do I get back from the tax refund?")
    assert result.returncode == 2 and "python -m bot index" in result.stderr and "Traceback" not in result.stderr
    rebuilt = _cli(built, "index")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert Bot.load(built).ask("How much do I get back from the tax refund?").card_ids


# ---------------------------------------------------------------- `bot index` killed mid-build


def _lines(stream, into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)
    into.put("")


def test_indexer_killed_at_any_moment_leaves_a_loadable_index(built, tmp_path):
    """The full corpus (5.5k chunks) against a small previous index: the CLI embeds for a few seconds, then tokenises
    and writes for a second or two. Kills land while embedding and at random moments after the last batch, when
    the files are being written, renamed and the pointer replaced. The CLI's own progress lines time the kills."""
    template = tmp_path / "template"
    shutil.copytree(built.index_dir, template)
    full = dataclasses.replace(built, corpus_dir=tmp_path / "full-corpus")
    shutil.copytree(CORPUS, full.corpus_dir)
    rng = random.Random(20260307)
    moments = [("first", 0.0), ("last", 0.0), *[("last", rng.uniform(0.0, 2.5)) for _ in range(4)]]
    outcomes = []
    for n, (mark, delay) in enumerate(moments):
        settings = dataclasses.replace(full, index_dir=tmp_path / f"index-{n}")
        shutil.copytree(template, settings.index_dir)
        before = current_build(settings.index_dir)
        proc = subprocess.Popen([sys.executable, "-m", "bot", "index"], stderr=subprocess.PIPE, text=True,
                                env=_env(settings), cwd=PROJECT_ROOT)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_lines, args=(proc.stderr, lines), daemon=True).start()
        try:
            while True:
                line = lines.get(timeout=120)
                assert line, "the indexer ended before the moment to kill it"
                if line.startswith("embedded "):  # "embedded 768/5204 chunks"
                    done, total = line.split()[1].split("/")
                    if mark == "first" or done == total:
                        break
            time.sleep(delay)
        finally:
            proc.kill()  # SIGKILL: no handler runs, so build_index cannot clean up after itself
            proc.wait(60)
        after = current_build(settings.index_dir)
        assert after is not None and not after.name.startswith(".")
        index = load_index(settings.index_dir, "hash-256")  # whatever the moment, the index in use loads
        if after == before:
            assert index.manifest["count"] == load_index(template, "hash-256").manifest["count"]
        else:  # the build finished before the signal: it must be the whole new corpus
            assert index.manifest["count"] > 5000
        Bot.load(settings).ask("How much do I get back from the tax refund?")
        scratch = [p.name for p in (settings.index_dir / "builds").iterdir() if p.name.startswith(".tmp")]
        outcomes.append((mark, round(delay, 2), proc.returncode, after != before, scratch))
    assert any(code == -signal.SIGKILL for _, _, code, _, _ in outcomes), outcomes
    print("kill outcomes (moment, delay s, exit code, new build in use, scratch left):", *outcomes, sep="\n  ")


# ---------------------------------------------------------------- the feedback store


def _feedback_writer(db: str, log: str, worker: int, count: int | None) -> None:
    """Writes rows until ``count`` (or until killed), logging each one only after ``add`` returned, i.e. after
    its transaction committed. The log is line-buffered: a line written survives the process being killed."""
    store = FeedbackStore(Path(db))
    with open(log, "a", buffering=1, encoding="utf-8") as out:
        i = 0
        while count is None or i < count:
            question = f"writer {worker} question {i}"
            rowid = store.add(question, "answer " * 50, "en", ["refund-how-much"], "up" if i % 2 else "down")
            out.write(f"{rowid}\t{question}\n")
            i += 1


def _committed(logs: list[Path]) -> dict[int, str]:
    rows: dict[int, str] = {}
    for log in logs:
        for line in log.read_text(encoding="utf-8").splitlines():
            rowid, question = line.split("\t")
            assert int(rowid) not in rows, f"row id {rowid} reported twice"
            rows[int(rowid)] = question
    return rows


def test_feedback_keeps_committed_rows_through_parallel_and_killed_writers(tmp_path):
    db = tmp_path / "feedback.sqlite3"  # not created beforehand: the writers also race to create it
    logs = [tmp_path / f"writer-{w}.log" for w in range(8)]
    per_writer = 150
    steady = [mp.Process(target=_feedback_writer, args=(str(db), str(logs[w]), w, per_writer)) for w in range(5)]
    doomed = [mp.Process(target=_feedback_writer, args=(str(db), str(logs[w]), w, None)) for w in range(5, 8)]
    for p in steady + doomed:
        p.start()
    rng = random.Random(7)
    for p, log in zip(doomed, logs[5:], strict=True):
        deadline = time.monotonic() + 60
        while (not log.exists() or log.read_text().count("\n") < 20) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.2))  # somewhere inside a later write
        os.kill(p.pid, signal.SIGKILL)
    for p in steady + doomed:
        p.join(120)
    assert [p.exitcode for p in steady] == [0] * len(steady)
    assert [p.exitcode for p in doomed] == [-signal.SIGKILL] * len(doomed)

    committed = _committed(logs)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = dict(conn.execute("SELECT id, question FROM feedback").fetchall())
    missing = {i: q for i, q in committed.items() if stored.get(i) != q}
    assert not missing, f"{len(missing)} committed rows lost or changed, e.g. {list(missing.items())[:3]}"
    for w in range(len(steady)):
        assert sum(q.startswith(f"writer {w} ") for q in stored.values()) == per_writer
    # at most one row per killed writer may be in the table without its log line (killed between commit and log)
    assert len(stored) - len(committed) <= len(doomed)
    assert len(set(stored.values())) == len(stored)
    # and the store goes on working where the killed writers left it
    store = FeedbackStore(db)
    new = store.add("after the crash", "a", "en", [], "up")
    assert new > max(stored) and [r.question for r in store.rows()][-1] == "after the crash"
