"""The feedback store on PostgreSQL, for replicas on several machines (``BOT_FEEDBACK_DSN``; README "Scale out").

Same tables, same columns and the same methods as the SQLite store (``feedback.py``), so the page, the content
report and ``python -m bot feedback export`` work on either. It subclasses ``FeedbackStore`` only to be accepted
wherever that type is expected; it shares none of its SQLite code.

- Migrations are numbered, applied once each, in one transaction under an advisory lock: replicas starting together
  do not race (``CREATE TABLE IF NOT EXISTS`` alone is not safe under concurrency in PostgreSQL), and starting a
  replica against an up-to-date database changes nothing.
- A feedback write is one transaction, committed before ``add`` returns its row id. A failure (database down, a
  connection cut) raises ``StoreError`` after logging it: the page tells the visitor; nothing is dropped silently.
- Served counts are written on every answer: one connection kept open under a lock (a connection per answer would
  cost more than the answer's retrieval). When the database is unreachable they are skipped for ``RETRY_SECONDS``
  (one log line per window, not one per answer) so that answers never wait on a dead database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from bot.errors import StoreError
from bot.store.feedback import (
    FEEDBACK_COLUMNS,
    MAX_COMMENT,
    REASON_COLUMN,
    UNANSWERED_QUERY,
    UNANSWERED_TABLE,
    FeedbackRow,
    FeedbackStore,
    Unanswered,
    UnansweredCount,
    _check_reason,
    _count_of,
    _feedback_row,
    _rows_query,
    feedback_values,
)
from bot.store.handoff import HandoffStore, utcnow

log = logging.getLogger(__name__)

# Append only: a deployed database has run the earlier steps. Column types mirror the SQLite store's (created_at as
# ISO text, card_ids as a JSON list in text) so that an export is the same from either.
MIGRATIONS: tuple[str, ...] = (
    f"""
    CREATE TABLE feedback (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        {FEEDBACK_COLUMNS}
    );
    CREATE TABLE served (
        day TEXT NOT NULL,
        card_id TEXT NOT NULL,
        count BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (day, card_id)
    );
    """,
    # Conversations a visitor hands to staff (#18, bot/store/handoff.py): in the shared database every replica opens
    # every code. Times as fixed-width UTC ISO text, as in the SQLite file (the purge compares them as text).
    """
    CREATE TABLE handoff (
        code TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        turns TEXT NOT NULL
    );
    CREATE INDEX handoff_expiry ON handoff (expires_at);
    """,
    # Feedback triage (#18): why a thumbs-down (existing rows get '': not asked then), and the counts of declined and
    # low-confidence answers without their questions. Same as the SQLite file's first numbered step.
    f"""
    ALTER TABLE feedback ADD COLUMN {REASON_COLUMN};
    CREATE TABLE {UNANSWERED_TABLE.format(int="BIGINT")};
    """,
)
MIGRATION_LOCK = 0x5A42_0017  # pg_advisory_xact_lock key: any constant shared by all replicas
CONNECT_TIMEOUT = 3  # seconds: a visitor's click must not hang on an unreachable database
RETRY_SECONDS = 5.0


def _text(value: str) -> str:
    # PostgreSQL text cannot hold NUL (SQLite can): the one character stored differently, as U+FFFD.
    return value.replace("\x00", "\ufffd")


class PostgresFeedbackStore(FeedbackStore):
    def __init__(self, dsn: str) -> None:  # no SQLite set-up: see the module docstring
        self.dsn = dsn
        self._counter: Any = None  # the served-counts connection (psycopg.Connection)
        self._counter_lock = threading.Lock()
        self._counter_retry_at = 0.0
        self.migrate()

    def _connect(self) -> Any:
        import psycopg

        try:
            return psycopg.connect(self.dsn, connect_timeout=CONNECT_TIMEOUT, application_name="shenzhen-bot")
        except psycopg.Error as exc:
            raise StoreError(f"feedback database unreachable: {_reason(exc)}") from exc

    def migrate(self) -> int:
        """Apply the migrations this database has not had yet; the number applied (0 when up to date)."""
        import psycopg

        try:
            with self._connect() as db, db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                           "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
                row = db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
                done = int(row[0]) if row else 0
                for version, sql in enumerate(MIGRATIONS, 1):
                    if version > done:
                        db.execute(sql)  # our constant DDL, not a query template
                        db.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                return max(0, len(MIGRATIONS) - done)
        except psycopg.Error as exc:
            log.error("feedback database migration failed: %s", exc)
            raise StoreError(f"feedback database migration failed: {_reason(exc)}") from exc

    def add(self, question: str, answer: str, language: str, card_ids: Sequence[str], verdict: str,
            comment: str = "", reason: str = "") -> int:
        import psycopg

        # NUL is the one character PostgreSQL text cannot hold; none of our own values carries one.
        values = tuple(_text(v) for v in feedback_values(question, answer, language, card_ids, verdict, comment,
                                                          reason))
        try:
            with self._connect() as db, db.transaction():
                row = db.execute(
                    "INSERT INTO feedback (created_at, question, answer, language, card_ids, verdict, comment, "
                    "reason) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id", values).fetchone()
        except (psycopg.Error, StoreError) as exc:
            log.error("feedback NOT stored (verdict %s, %d-char comment): %s", verdict, len(comment), exc)
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"feedback not stored: {_reason(exc)}") from exc
        return int(row[0]) if row else 0

    def set_reason(self, row_id: int, reason: str, comment: str = "") -> bool:
        import psycopg

        _check_reason(reason)
        try:
            with self._connect() as db, db.transaction():
                cursor = db.execute(
                    "UPDATE feedback SET reason = %s, comment = CASE WHEN %s = '' THEN comment ELSE %s END "
                    "WHERE id = %s AND verdict = 'down'", (reason, comment, _text(comment[:MAX_COMMENT]), row_id))
        except (psycopg.Error, StoreError) as exc:
            log.error("feedback reason NOT stored (row %d): %s", row_id, exc)
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"feedback not stored: {_reason(exc)}") from exc
        return cursor.rowcount == 1

    def add_served(self, card_ids: Sequence[str], day: dt.date) -> None:
        ids = sorted(set(card_ids))
        if not ids:
            return
        rows = [(day.isoformat(), card_id) for card_id in ids]
        self._count("INSERT INTO served (day, card_id, count) VALUES (%s, %s, 1) "
                    "ON CONFLICT (day, card_id) DO UPDATE SET count = served.count + 1", rows, "served counts")

    def add_unanswered(self, items: Sequence[Unanswered], day: dt.date) -> None:
        if not items:
            return
        rows = [(day.isoformat(), i.language, i.topic, i.card_id, i.outcome, i.detail) for i in items]
        self._count("INSERT INTO unanswered (day, language, topic, card_id, outcome, detail, count) "
                    "VALUES (%s, %s, %s, %s, %s, %s, 1) ON CONFLICT (day, language, topic, card_id, outcome, detail) "
                    "DO UPDATE SET count = unanswered.count + 1", rows, "unanswered counts")

    def _count(self, sql: str, rows: Sequence[tuple[str, ...]], what: str) -> None:
        """One counting write on the kept connection, skipped for RETRY_SECONDS once the database failed."""
        import psycopg

        with self._counter_lock:
            if time.monotonic() < self._counter_retry_at:
                return  # the database was just found unreachable: counted as skipped in the last log line
            try:
                if self._counter is None or self._counter.closed:
                    self._counter = self._connect()
                with self._counter.transaction(), self._counter.cursor() as cur:
                    cur.executemany(sql, rows)  # our constant statement; the values are parameters
            except (psycopg.Error, StoreError) as exc:
                self._drop_counter()
                self._counter_retry_at = time.monotonic() + RETRY_SECONDS
                log.error("%s not stored, skipping counts for %.0f s: %s", what, RETRY_SECONDS, exc)
                raise StoreError(f"{what} not stored: {_reason(exc)}") from exc

    def _drop_counter(self) -> None:
        if self._counter is not None:
            with contextlib.suppress(Exception):  # already broken: nothing left to close cleanly
                self._counter.close()
            self._counter = None

    def served(self, since: dt.date | None = None) -> dict[str, int]:
        with self._connect() as db:
            rows = db.execute("SELECT card_id, SUM(count) FROM served WHERE day >= %s GROUP BY card_id",
                              ((since or dt.date.min).isoformat(),)).fetchall()
        return {card_id: int(total) for card_id, total in rows}

    def unanswered(self, since: dt.date | None = None) -> list[UnansweredCount]:
        with self._connect() as db:
            rows = db.execute(UNANSWERED_QUERY, ((since or dt.date.min).isoformat(),)).fetchall()
        return [_count_of(row) for row in rows]

    def rows(self, verdict: str | None = None, row_id: int | None = None) -> Iterator[FeedbackRow]:
        query, args = _rows_query(verdict, row_id)
        with self._connect() as db:
            result = db.execute(query, args).fetchall()  # a fixed query (_rows_query); values are parameters
        for row in result:
            yield _feedback_row(row)

    def close(self) -> None:
        with self._counter_lock:
            self._drop_counter()


def _reason(exc: BaseException) -> str:
    """The first line of a driver error: enough to act on, without a DSN's password (psycopg never prints it)."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class PostgresHandoffStore(HandoffStore):
    """Handoff codes in the feedback database (``BOT_FEEDBACK_DSN``): a code made on one replica opens at the desk
    of any other. Same codes, expiry and purge as the SQLite store (``handoff.py``); only the connection and the
    placeholder style differ."""

    def __init__(self, dsn: str, ttl: dt.timedelta = dt.timedelta(hours=24),
                 now: Callable[[], dt.datetime] = utcnow) -> None:  # no SQLite file: the migrations make the table
        if ttl <= dt.timedelta(0):
            raise ValueError("the handoff lifetime must be positive")
        self.dsn, self.ttl, self._now = dsn, ttl, now
        PostgresFeedbackStore(dsn).migrate()

    def _connect(self) -> Any:
        import psycopg

        try:
            return psycopg.connect(self.dsn, connect_timeout=CONNECT_TIMEOUT, application_name="shenzhen-bot")
        except psycopg.Error as exc:
            raise StoreError(f"handoff database unreachable: {_reason(exc)}") from exc

    @staticmethod
    def _sql(query: str) -> str:
        return query.replace("?", "%s")


def open_handoffs(dsn: str, sqlite_path: Any, ttl: dt.timedelta) -> HandoffStore:
    """Where handoff codes live: the feedback database when ``dsn`` is set (replicas share them), else SQLite."""
    return PostgresHandoffStore(dsn, ttl) if dsn else HandoffStore(sqlite_path, ttl)


def open_store(dsn: str, sqlite_path: Any) -> FeedbackStore:
    """The configured store: PostgreSQL when ``dsn`` is set, else SQLite at ``sqlite_path`` (the default)."""
    return PostgresFeedbackStore(dsn) if dsn else FeedbackStore(sqlite_path)
