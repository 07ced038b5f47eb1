"""The SQLite files a running app writes (feedback, handoff codes): opened the same way everywhere."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path


def connect(path: Path) -> sqlite3.Connection:
    """A fresh connection per call: safe across the web server's worker threads; ``busy_timeout`` makes a writer
    wait for another instead of failing, and ``synchronous=FULL`` keeps a committed row through a power loss."""
    db = sqlite3.connect(path, timeout=30)
    db.execute("PRAGMA busy_timeout=30000")
    db.execute("PRAGMA synchronous=FULL")
    return db


def create(path: Path, schema: str) -> None:
    """The file, its folder and its tables (``CREATE … IF NOT EXISTS``: idempotent), in WAL mode so readers never
    block the writer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(connect(path)) as db, db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(schema)
