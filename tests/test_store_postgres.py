"""The feedback store on a real private PostgreSQL (started by conftest's fixture): same schema and export as the
SQLite store, idempotent migrations under concurrent start-up, no lost rows under concurrent writers, hostile text
stored exactly, and a failed write reported (raised and logged), never dropped silently."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import psycopg
import pytest
from together import errors_when_run_together

from bot.config import PROJECT_ROOT
from bot.errors import StoreError
from bot.serve.processes import PrivatePostgres
from bot.store import postgres
from bot.store.feedback import FeedbackStore, export_cases
from bot.store.postgres import PostgresFeedbackStore, open_store

HOSTILE = ("'); DROP TABLE feedback; -- \" <script>alert(1)</script> %s %(x)s {0} \\x00 \\n "
           "مرحبا \u202e\u200f 𝕏 🧧 ｶﾀｶﾅ \r\n\ttab" + "長" * 300)


def _fill(store: FeedbackStore) -> None:
    store.add("How much tax back?", "11%", "en", ["refund-how-much"], "up", "great")
    store.add("退税多少", "11%", "zh-Hans", [], "down", HOSTILE)
    store.add_served(["refund-how-much", "pay-mobile-fees", "refund-how-much"], dt.date(2026, 3, 1))
    store.add_served(["refund-how-much"], dt.date(2026, 3, 2))


def _without_time(cases: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: v for k, v in case.items() if k != "created_at"} for case in cases]


def test_same_rows_export_and_counts_as_sqlite(pg_dsn: str, tmp_path: Path) -> None:
    sqlite, pg = FeedbackStore(tmp_path / "fb.sqlite3"), open_store(pg_dsn, tmp_path / "unused.sqlite3")
    assert isinstance(pg, PostgresFeedbackStore) and not (tmp_path / "unused.sqlite3").exists()
    for store in (sqlite, pg):
        _fill(store)
    assert _without_time(list(export_cases(pg))) == _without_time(list(export_cases(sqlite)))
    assert [r.comment for r in pg.rows()][1] == HOSTILE  # byte for byte, quotes, placeholders and all
    assert pg.served() == sqlite.served() == {"refund-how-much": 2, "pay-mobile-fees": 1}
    assert pg.served(dt.date(2026, 3, 2)) == {"refund-how-much": 1}
    assert pg.verdicts() == sqlite.verdicts()
    with pytest.raises(ValueError):
        pg.add("q", "a", "en", [], "maybe")
    with psycopg.connect(pg_dsn) as db:  # the table is still there after the hostile comment
        assert db.execute("SELECT count(*) FROM feedback").fetchone() == (2,)


def test_a_nul_character_is_the_one_replaced(pg_dsn: str) -> None:
    store = PostgresFeedbackStore(pg_dsn)
    store.add("q\x00", "a", "en", [], "up", "before\x00after")
    (row,) = store.rows()
    assert row.comment == "before\ufffdafter" and row.question == "q\ufffd"


def test_migrations_are_idempotent_and_safe_when_replicas_start_together(pg_dsn: str) -> None:
    errors = errors_when_run_together(lambda: PostgresFeedbackStore(pg_dsn))
    assert errors == []
    store = PostgresFeedbackStore(pg_dsn)
    assert store.migrate() == 0
    with psycopg.connect(pg_dsn) as db:
        assert db.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall() == [
            (v,) for v in range(1, len(postgres.MIGRATIONS) + 1)]


def _writer(dsn: str, worker: int, n: int) -> None:
    store = PostgresFeedbackStore(dsn)

    def run(thread: int) -> None:
        for i in range(n):
            store.add(f"q{worker}-{thread}-{i}", "a", "en", [], "up")
            store.add_served([f"card-{i % 3}"], dt.date(2026, 3, 1))

    threads = [threading.Thread(target=run, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_two_processes_of_four_threads_lose_nothing(pg_dsn: str) -> None:
    import multiprocessing as mp

    PostgresFeedbackStore(pg_dsn)
    procs = [mp.get_context("spawn").Process(target=_writer, args=(pg_dsn, w, 25)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = PostgresFeedbackStore(pg_dsn)
    questions = [r.question for r in store.rows()]
    assert len(questions) == len(set(questions)) == 2 * 4 * 25
    assert sum(store.served().values()) == 2 * 4 * 25


def test_feedback_export_command_reads_postgres(pg_dsn: str) -> None:
    store = PostgresFeedbackStore(pg_dsn)
    _fill(store)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    out = subprocess.run([sys.executable, "-m", "bot", "feedback", "export"], capture_output=True, text=True,
                         cwd=PROJECT_ROOT, env={**env, "BOT_FEEDBACK_DSN": pg_dsn,
                                                "BOT_FEEDBACK_DB": "/nonexistent/fb.sqlite3"}, timeout=120)
    assert out.returncode == 0, out.stderr
    cases = [json.loads(line) for line in out.stdout.splitlines()]
    assert [c["question"] for c in cases] == ["How much tax back?", "退税多少"] and cases[1]["comment"] == HOSTILE


def test_a_dead_database_is_reported_and_committed_rows_survive(caplog: pytest.LogCaptureFixture,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "RETRY_SECONDS", 0.0)
    folder = Path(tempfile.mkdtemp(prefix="bot-pg-kill-"))
    server = PrivatePostgres(folder).start()
    try:
        store = PostgresFeedbackStore(server.dsn)
        kept = [store.add(f"kept {i}", "a", "en", [], "up") for i in range(5)]
        store.add_served(["c1"], dt.date(2026, 3, 1))
        server.kill()  # SIGKILL, as a crash would
        caplog.set_level(logging.ERROR, logger="bot.store.postgres")
        with pytest.raises(StoreError, match="feedback database unreachable"):
            store.add("lost?", "a", "en", [], "down", "the visitor is told")
        with pytest.raises(StoreError):
            store.add_served(["c1"], dt.date(2026, 3, 1))
        assert "feedback NOT stored" in caplog.text and "served counts not stored" in caplog.text
        server.start()  # crash recovery replays the WAL
        assert [r.id for r in store.rows()] == kept  # every committed row is back; the failed one is not there
        store.add_served(["c1"], dt.date(2026, 3, 1))  # the counter connection comes back by itself
        assert store.served() == {"c1": 2}
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", str(folder)], check=False)


def test_handoff_codes_live_in_postgres_for_every_replica_and_expire(pg_dsn: str, tmp_path: Path) -> None:
    """With BOT_FEEDBACK_DSN a code made on one replica opens at the desk of another (the SQLite default keeps it on
    the replica that made it), hostile text comes back exactly, and an expired code is refused and deleted."""
    from bot.store.handoff import Turn
    from bot.store.postgres import PostgresHandoffStore, open_handoffs

    ttl = dt.timedelta(hours=24)
    assert isinstance(open_handoffs(pg_dsn, tmp_path / "unused.sqlite3", ttl), PostgresHandoffStore)
    assert not (tmp_path / "unused.sqlite3").exists()
    clock = [dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)]
    made_on, opened_on = (PostgresHandoffStore(pg_dsn, ttl, now=lambda: clock[0]) for _ in range(2))
    turns = [Turn("كم أسترد؟", "ar", {"text": HOSTILE.replace("\x00", ""), "card_ids": ["refund-how-much"]}),
             Turn("and the fees?", "en", {"text": "3%"}, ("Can I use Visa with Alipay?",))]
    handoff = made_on.create(turns)
    opened = opened_on.open(f"{handoff.code[:4].lower()}-{handoff.code[4:]}")  # typed as heard
    assert opened is not None and opened.turns == tuple(turns)
    clock[0] += dt.timedelta(hours=25)
    assert opened_on.open(handoff.code) is None and made_on.count() == 0  # expired: refused, and the row is gone
