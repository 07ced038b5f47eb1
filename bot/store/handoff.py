"""Conversations a visitor chose to show to staff ("Show to staff"), under a short code, for a limited time (SQLite).

The button press is the visitor's consent; what is kept is only what the staff need to pick the conversation up: the
questions as typed and the answers given (text, language, cards, checker values, sources). No name, address, device
or session id. A row lives ``ttl`` (24 h by default) and expired rows are deleted whenever a code is created or
opened, so an expired code is refused and gone, not only hidden.

Codes are 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown as ``ABCD-EFGH`` and accepted with
or without the dash, in any case: 31^8 ≈ 8.5e11 codes, drawn with ``secrets``, so guessing one among the few live ones
is hopeless even before the desk's login and rate limit.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.store import sqlite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS handoff (
    code TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    turns TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS handoff_expiry ON handoff (expires_at)
"""
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
# A conversation longer than this is cut to its last turns: the window needs the recent questions, and a row must
# stay small whatever a client sends.
MAX_TURNS = 20
MAX_TURN_CHARS = 20_000  # one turn's JSON (question + answer + check values); an answer is a few KB
_NOT_CODE = re.compile(r"[^A-Z0-9]")


@dataclass(frozen=True)
class Turn:
    """One question and the answer it got, as the visitor saw it. ``history`` is the earlier questions the page sent
    with it (how a follow-up was read), so the desk can ask the same question again in Chinese."""

    question: str
    language: str
    answer: Mapping[str, Any]  # ``Answer.as_json()``
    history: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"question": self.question, "language": self.language, "answer": dict(self.answer),
                "history": list(self.history)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Turn:
        return cls(str(data["question"]), str(data["language"]), dict(data["answer"]),
                   tuple(str(h) for h in data.get("history", ())))


@dataclass(frozen=True)
class Handoff:
    code: str
    created_at: dt.datetime
    expires_at: dt.datetime
    turns: tuple[Turn, ...]


def normalize_code(text: str) -> str:
    """``abcd-efgh``, `` ABCD EFGH `` and ``ABCDEFGH`` are one code; anything else (too long, other characters)
    normalizes to a string that matches no code."""
    return _NOT_CODE.sub("", text.upper()[:40])


def shown_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    """A fixed-width UTC ISO string: such strings compare in time order (the purge relies on it)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


class HandoffStore:
    def __init__(self, path: Path, ttl: dt.timedelta = dt.timedelta(hours=24),
                 now: Callable[[], dt.datetime] = utcnow) -> None:
        if ttl <= dt.timedelta(0):
            raise ValueError("the handoff lifetime must be positive")
        self.path = path
        self.ttl = ttl
        self._now = now  # injectable so the expiry is tested without waiting a day
        sqlite.create(path, _SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite.connect(self.path)

    def create(self, turns: Sequence[Turn]) -> Handoff:
        if not turns:
            raise ValueError("a handoff needs at least one turn")
        kept = tuple(turns[-MAX_TURNS:])
        payload = json.dumps([t.as_json() for t in kept], ensure_ascii=False)
        if len(payload) > MAX_TURNS * MAX_TURN_CHARS:
            raise ValueError("the conversation is too large to hand over")
        now = self._now()
        expires = now + self.ttl
        with closing(self._connect()) as db, db:
            self._purge(db, now)
            for _ in range(5):  # a collision among ~1e12 codes is practically impossible; retry anyway
                code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
                # ON CONFLICT rather than catching the driver's error: the same SQL on SQLite and PostgreSQL, and
                # a PostgreSQL transaction stays usable after a collision.
                inserted = db.execute(self._sql("INSERT INTO handoff (code, created_at, expires_at, turns) "
                                                "VALUES (?, ?, ?, ?) ON CONFLICT (code) DO NOTHING"),
                                      (code, _stamp(now), _stamp(expires), payload)).rowcount
                if inserted == 1:
                    return Handoff(code, now, expires, kept)
        raise RuntimeError("could not draw a free handoff code")

    def open(self, code: str) -> Handoff | None:
        """The conversation under ``code``, or None when there is none (never was, or expired and deleted)."""
        key = normalize_code(code)
        if len(key) != CODE_LENGTH:
            return None
        now = self._now()
        with closing(self._connect()) as db, db:
            self._purge(db, now)
            row = db.execute(self._sql("SELECT code, created_at, expires_at, turns FROM handoff WHERE code = ?"),
                             (key,)).fetchone()
        if row is None:
            return None
        return Handoff(row[0], dt.datetime.fromisoformat(row[1]), dt.datetime.fromisoformat(row[2]),
                       tuple(Turn.from_json(t) for t in json.loads(row[3])))

    def purge(self) -> int:
        """Delete every expired conversation; returns how many."""
        with closing(self._connect()) as db, db:
            return self._purge(db, self._now())

    def count(self) -> int:
        with closing(self._connect()) as db:
            return int(db.execute("SELECT COUNT(*) FROM handoff").fetchone()[0])

    def _purge(self, db: Any, now: dt.datetime) -> int:
        return int(db.execute(self._sql("DELETE FROM handoff WHERE expires_at <= ?"), (_stamp(now),)).rowcount)

    @staticmethod
    def _sql(query: str) -> str:
        """``query`` in this database's placeholder style (SQLite's ``?``; the PostgreSQL store overrides it)."""
        return query
