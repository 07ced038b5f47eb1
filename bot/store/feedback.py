"""Visitors' thumbs up/down and comments, and how often each card was served, in SQLite.

WAL mode and one short transaction per write: concurrent writers from the web server's threads (or several
processes) queue on SQLite's lock instead of losing rows, and a killed process loses at most an uncommitted row.
The served counts are one row per card and day (China time, or BOT_TODAY) with a number: no question text.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bot.store import sqlite

# The feedback columns after the id, written once for both stores: the PostgreSQL store's first migration uses them
# too (bot/store/postgres.py), so an export reads the same from either. A change to them needs a migration there.
FEEDBACK_COLUMNS = """created_at TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    language TEXT NOT NULL,
    card_ids TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT ''"""
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    {FEEDBACK_COLUMNS}
);
CREATE TABLE IF NOT EXISTS served (
    day TEXT NOT NULL,
    card_id TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, card_id)
)
"""
MAX_COMMENT = 2000


@dataclass(frozen=True)
class FeedbackRow:
    id: int
    created_at: str
    question: str
    answer: str
    language: str
    card_ids: tuple[str, ...]
    verdict: str
    comment: str


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        # Served counts are written on every answer, so they keep one connection open (see ``add_served``).
        self._counter: sqlite3.Connection | None = None
        self._counter_lock = threading.Lock()
        sqlite.create(path, _SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite.connect(self.path)

    def add(self, question: str, answer: str, language: str, card_ids: Sequence[str], verdict: str,
            comment: str = "") -> int:
        if verdict not in ("up", "down"):
            raise ValueError("verdict must be 'up' or 'down'")
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with closing(self._connect()) as db, db:
            cursor = db.execute(
                "INSERT INTO feedback (created_at, question, answer, language, card_ids, verdict, comment) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (now, question, answer, language, json.dumps(list(card_ids)), verdict, comment[:MAX_COMMENT]),
            )
            return int(cursor.lastrowid or 0)

    def add_served(self, card_ids: Sequence[str], day: dt.date) -> None:
        """Count one answer that showed these cards (each card once), on ``day``.

        On the answer path, so kept cheap (measured: 0.02 ms instead of 20 ms per answer): one open connection
        shared by the threads under a lock (closing the last connection to a WAL database checkpoints and fsyncs
        it), and ``synchronous=NORMAL`` (a crash of the app loses nothing; a power cut may lose the last counts)."""
        ids = sorted(set(card_ids))
        if not ids:
            return
        rows = [(day.isoformat(), card_id) for card_id in ids]
        with self._counter_lock:
            if self._counter is None:
                self._counter = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
                self._counter.execute("PRAGMA busy_timeout=30000")
                self._counter.execute("PRAGMA synchronous=NORMAL")
            with self._counter:
                self._counter.executemany("INSERT INTO served (day, card_id, count) VALUES (?, ?, 1) "
                                          "ON CONFLICT (day, card_id) DO UPDATE SET count = count + 1", rows)

    def served(self, since: dt.date | None = None) -> dict[str, int]:
        """Answers per card, in total or from ``since`` (inclusive)."""
        with closing(self._connect()) as db:
            rows = db.execute("SELECT card_id, SUM(count) FROM served WHERE day >= ? GROUP BY card_id",
                              ((since or dt.date.min).isoformat(),))
            return {card_id: int(total) for card_id, total in rows}

    def verdicts(self) -> dict[str, dict[str, int]]:
        """Thumbs per card: ``{card_id: {"up": n, "down": m}}`` (feedback given without card ids is not counted)."""
        counts: dict[str, dict[str, int]] = {}
        for row in self.rows():
            for card_id in set(row.card_ids):
                per_card = counts.setdefault(card_id, {"up": 0, "down": 0})
                per_card[row.verdict] += 1
        return counts

    def rows(self) -> Iterator[FeedbackRow]:
        with closing(self._connect()) as db:
            for row in db.execute("SELECT id, created_at, question, answer, language, card_ids, verdict, comment "
                                  "FROM feedback ORDER BY id"):
                yield FeedbackRow(row[0], row[1], row[2], row[3], row[4], tuple(json.loads(row[5])), row[6], row[7])


def export_cases(store: FeedbackStore) -> Iterator[dict[str, object]]:
    """Feedback as QA cases for a reviewer: a thumbs-up keeps the cards it got as the expectation; a thumbs-down
    leaves ``expected_cards`` empty and marks the case ``needs_review`` so a person decides what it should be."""
    for row in store.rows():
        yield {
            "id": f"feedback-{row.id}", "question": row.question, "lang": row.language, "topic": "",
            "expected_cards": list(row.card_ids) if row.verdict == "up" else [],
            "must_include": [], "must_not_include": [], "should_decline": False,
            "needs_review": row.verdict == "down", "verdict": row.verdict, "comment": row.comment,
            "answer_given": row.answer, "created_at": row.created_at,
        }
