"""Visitors' thumbs up/down and comments, and how often each card was served, in SQLite.

WAL mode and one short transaction per write: concurrent writers from the web server's threads (or several
processes) queue on SQLite's lock instead of losing rows, and a killed process loses at most an uncommitted row.
The served counts are one row per card and day (China time, or BOT_TODAY) with a number: no question text.
So are the counts of declined and low-confidence answers (``unanswered``, for the desk's triage view): language,
topic, card, kind and day, never the question. A question's text is kept only in a feedback row, which the visitor
chose to leave.

The SQLite file's schema changes are numbered too (``PRAGMA user_version``), applied once each in one transaction:
a file written by an earlier version keeps every row and gains the new columns.
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
from typing import Any

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
# Why a visitor gave a thumbs-down (asked right after it; '' until they say). Stored as these codes, shown in the
# visitor's language (messages.yaml ``reason_<code>``) and to staff in Chinese and English (desk.py).
REASONS = ("wrong_language", "outdated", "unclear", "other")
_REASON_CHECK = "reason IN ('', " + ", ".join(f"'{r}'" for r in REASONS) + ")"
REASON_COLUMN = f"reason TEXT NOT NULL DEFAULT '' CHECK ({_REASON_CHECK})"
# Answers we did not give (a decline, or a match too weak to answer from a card), counted per day, language, topic,
# card and kind: no question text. ``outcome`` is 'declined' or 'low_confidence'; ``detail`` the decline's kind or
# the confidence band (see ``bot/web/triage.py``). Written once for both stores, like FEEDBACK_COLUMNS.
UNANSWERED_TABLE = """unanswered (
    day TEXT NOT NULL,
    language TEXT NOT NULL,
    topic TEXT NOT NULL,
    card_id TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('declined', 'low_confidence')),
    detail TEXT NOT NULL,
    count {int} NOT NULL DEFAULT 0,
    PRIMARY KEY (day, language, topic, card_id, outcome, detail)
)"""
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
# Append only, as PostgreSQL's MIGRATIONS: step n brings a file from user_version n-1 to n.
_SQLITE_MIGRATIONS: tuple[str, ...] = (
    f"ALTER TABLE feedback ADD COLUMN {REASON_COLUMN};"
    f"CREATE TABLE IF NOT EXISTS {UNANSWERED_TABLE.format(int='INTEGER')};",
)
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
    reason: str = ""


@dataclass(frozen=True)
class Unanswered:
    """One answer we did not give, as counted: never the question."""

    language: str
    topic: str
    card_id: str
    outcome: str  # 'declined' | 'low_confidence'
    detail: str  # the decline's kind, or the confidence band


@dataclass(frozen=True)
class UnansweredCount:
    language: str
    topic: str
    card_id: str
    outcome: str
    detail: str
    count: int
    last_day: str


def _check_reason(reason: str) -> None:
    if reason not in ("", *REASONS):
        raise ValueError(f"reason must be one of {', '.join(REASONS)}")


def feedback_values(question: str, answer: str, language: str, card_ids: Sequence[str], verdict: str,
                    comment: str, reason: str) -> tuple[str, ...]:
    """A new feedback row's values, checked and in the order of the columns after ``id`` (both stores insert
    them): ValueError for a verdict or reason we do not know."""
    if verdict not in ("up", "down"):
        raise ValueError("verdict must be 'up' or 'down'")
    _check_reason(reason)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return now, question, answer, language, json.dumps(list(card_ids)), verdict, comment[:MAX_COMMENT], reason


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        # Served counts are written on every answer, so they keep one connection open (see ``add_served``).
        self._counter: sqlite3.Connection | None = None
        self._counter_lock = threading.Lock()
        sqlite.create(path, _SCHEMA)
        self._migrate()

    def _migrate(self) -> int:
        """The numbered SQLite steps this file has not had; the number applied. ``BEGIN IMMEDIATE`` takes the write
        lock before reading the version, so two processes opening an old file together apply each step once."""
        with closing(self._connect()) as db:
            db.isolation_level = None  # explicit transaction below
            db.execute("BEGIN IMMEDIATE")
            try:
                done = int(db.execute("PRAGMA user_version").fetchone()[0])
                for version, sql in enumerate(_SQLITE_MIGRATIONS, 1):
                    if version > done:
                        for statement in filter(str.strip, sql.split(";")):
                            db.execute(statement)
                        db.execute(f"PRAGMA user_version = {version}")  # an int we count: not user input
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return max(0, len(_SQLITE_MIGRATIONS) - done)

    def _connect(self) -> sqlite3.Connection:
        return sqlite.connect(self.path)

    def add(self, question: str, answer: str, language: str, card_ids: Sequence[str], verdict: str,
            comment: str = "", reason: str = "") -> int:
        values = feedback_values(question, answer, language, card_ids, verdict, comment, reason)
        with closing(self._connect()) as db, db:
            cursor = db.execute(
                "INSERT INTO feedback (created_at, question, answer, language, card_ids, verdict, comment, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values)
            return int(cursor.lastrowid or 0)

    def set_reason(self, row_id: int, reason: str, comment: str = "") -> bool:
        """The reason a visitor gave after their thumbs-down (row ``row_id``, kept in their session only), and their
        comment when they wrote one then; False when there is no such thumbs-down."""
        _check_reason(reason)
        with closing(self._connect()) as db, db:
            cursor = db.execute(
                "UPDATE feedback SET reason = ?, comment = CASE WHEN ? = '' THEN comment ELSE ? END "
                "WHERE id = ? AND verdict = 'down'", (reason, comment, comment[:MAX_COMMENT], row_id))
            return cursor.rowcount == 1

    def add_served(self, card_ids: Sequence[str], day: dt.date) -> None:
        """Count one answer that showed these cards (each card once), on ``day``.

        On the answer path, so kept cheap (measured: 0.02 ms instead of 20 ms per answer): one open connection
        shared by the threads under a lock (closing the last connection to a WAL database checkpoints and fsyncs
        it), and ``synchronous=NORMAL`` (a crash of the app loses nothing; a power cut may lose the last counts)."""
        ids = sorted(set(card_ids))
        if not ids:
            return
        rows = [(day.isoformat(), card_id) for card_id in ids]
        with self._counter_lock, self._counting() as counter:
            counter.executemany("INSERT INTO served (day, card_id, count) VALUES (?, ?, 1) "
                                "ON CONFLICT (day, card_id) DO UPDATE SET count = count + 1", rows)

    def _counting(self) -> sqlite3.Connection:
        """The counts' one open connection (made on first use; the caller holds ``_counter_lock``), used as a
        transaction context."""
        if self._counter is None:
            self._counter = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self._counter.execute("PRAGMA busy_timeout=30000")
            self._counter.execute("PRAGMA synchronous=NORMAL")
        return self._counter

    def add_unanswered(self, items: Sequence[Unanswered], day: dt.date) -> None:
        """Count declined and low-confidence answers on ``day``: on the answer path, so on the served counts' open
        connection (see ``add_served``)."""
        if not items:
            return
        rows = [(day.isoformat(), i.language, i.topic, i.card_id, i.outcome, i.detail) for i in items]
        with self._counter_lock, self._counting() as counter:
            counter.executemany(
                "INSERT INTO unanswered (day, language, topic, card_id, outcome, detail, count) "
                "VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT (day, language, topic, card_id, outcome, detail) "
                "DO UPDATE SET count = count + 1", rows)

    def unanswered(self, since: dt.date | None = None) -> list[UnansweredCount]:
        """Declined and low-confidence answers from ``since`` (inclusive) summed over the days, grouped by language,
        topic, card and kind; the most frequent first."""
        with closing(self._connect()) as db:
            rows = db.execute(UNANSWERED_QUERY.replace("%s", "?"), ((since or dt.date.min).isoformat(),)).fetchall()
        return [_count_of(row) for row in rows]

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

    def rows(self, verdict: str | None = None, row_id: int | None = None) -> Iterator[FeedbackRow]:
        """Feedback rows in order; only thumbs-``verdict`` ones, or only row ``row_id``, when given."""
        query, args = _rows_query(verdict, row_id)
        with closing(self._connect()) as db:
            for row in db.execute(query.replace("%s", "?"), args):
                yield _feedback_row(row)


ROW_COLUMNS = "id, created_at, question, answer, language, card_ids, verdict, comment, reason"
UNANSWERED_QUERY = ("SELECT language, topic, card_id, outcome, detail, SUM(count), MAX(day) FROM unanswered "
                    "WHERE day >= %s GROUP BY language, topic, card_id, outcome, detail "
                    "ORDER BY SUM(count) DESC, language, topic, card_id, outcome, detail")


def _rows_query(verdict: str | None, row_id: int | None) -> tuple[str, tuple[object, ...]]:
    """The one feedback SELECT of both stores (``%s`` placeholders; SQLite swaps them for ``?``)."""
    where: list[str] = []
    args: list[object] = []
    if verdict is not None:
        where.append("verdict = %s")
        args.append(verdict)
    if row_id is not None:
        where.append("id = %s")
        args.append(row_id)
    clause = f" WHERE {' AND '.join(where)}" if where else ""  # fixed fragments; values are parameters
    return f"SELECT {ROW_COLUMNS} FROM feedback{clause} ORDER BY id", tuple(args)


def _count_of(row: Sequence[Any]) -> UnansweredCount:
    return UnansweredCount(str(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]), int(row[5]), str(row[6]))


def _feedback_row(row: Sequence[Any]) -> FeedbackRow:
    return FeedbackRow(int(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]),
                       tuple(json.loads(str(row[5]))), str(row[6]), str(row[7]), str(row[8]))


# What a reviewer must fill in before a thumbs-down becomes a test: the answer's key facts (evals/README.md).
TO_FILL = "must_include: the reviewer writes the key facts (regexes) the right answer must contain"


def qa_case(row: FeedbackRow) -> dict[str, object]:
    """One feedback row as a QA case in the evaluators' schema (evals/README.md): a thumbs-up keeps the cards it got
    as the expectation; a thumbs-down leaves ``expected_cards`` and ``must_include`` empty and marks the case
    ``needs_review`` with what to fill, so a person decides what it should be. The desk's "Make QA case" and
    ``python -m bot feedback export`` both write this."""
    down = row.verdict == "down"
    case: dict[str, object] = {
        "id": f"feedback-{row.id}", "question": row.question, "lang": row.language, "topic": "",
        "expected_cards": [] if down else list(row.card_ids),
        "must_include": [], "must_not_include": [], "should_decline": False,
        "needs_review": down, "verdict": row.verdict, "comment": row.comment,
        "answer_given": row.answer, "created_at": row.created_at,
    }
    if down:
        case.update(reason=row.reason, cards_given=list(row.card_ids), to_fill=TO_FILL)
    return case


def export_cases(store: FeedbackStore, row_id: int | None = None) -> Iterator[dict[str, object]]:
    """Feedback as QA cases for a reviewer (``qa_case``): every row, or only row ``row_id``."""
    for row in store.rows(row_id=row_id):
        yield qa_case(row)


def case_line(case: dict[str, object]) -> str:
    """A QA case as one JSONL line, as ``feedback export`` prints it (non-ASCII kept readable)."""
    return json.dumps(case, ensure_ascii=False)
