"""Switching to a new index while serving: ``python -m bot index`` in another process, no restart, no dropped request.

A build only becomes visible when ``index/CURRENT`` is replaced (``index.py``), so watching that one small file is
enough. ``IndexWatcher.poll`` reads it at most once every ``check_seconds``; when it names a build other than the
one in use, the build is loaded and verified with ``load_index`` and handed to a callback that builds a complete
``Snapshot`` (index, cards, rule tables: ``snapshot.py``) and swaps it in with one attribute assignment. A request
already running keeps the snapshot it started with; the old build can even be pruned from disk meanwhile, because a
loaded index lives in memory (FAISS and the chunks alike).

The load runs in the request that noticed the change (about a second for our corpus) rather than in a background
thread: no thread to manage or leak, and tests see the swap happen deterministically. The other requests do not
wait for it: the check takes its lock without blocking and, when busy, they go on with the index they have.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bot.build.index import StoredIndex, load_index

log = logging.getLogger(__name__)


class IndexWatcher:
    def __init__(self, index_dir: Path, in_use: str, model_id: str | None, check_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``in_use`` is the build name of the index already loaded (``StoredIndex.path.name``); ``check_seconds`` is
        ``Settings.reload_check_seconds``."""
        self.index_dir = index_dir
        self.in_use = in_use
        self.model_id = model_id
        self.check_seconds = check_seconds
        self._clock = clock
        self._next_check = clock() + check_seconds
        # A build that failed to load is not retried (and not logged again) every second; a newer build replaces it.
        self._rejected: str | None = None
        self._lock = threading.Lock()

    def _pointer(self) -> str | None:
        try:
            return (self.index_dir / "CURRENT").read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def poll(self, swap: Callable[[StoredIndex], None]) -> bool:
        """Load the build ``CURRENT`` names if it is new and call ``swap`` with it; True when a swap happened.

        A build that fails to load or to swap in (corrupt, another model, pruned mid-load, a corpus mid-edit) is
        logged as a warning and the index in use stays: serving the previous answers beats serving none.
        ``swap`` runs under the watcher's lock, so two swaps never race and the newest build is the one kept."""
        now = self._clock()
        if now < self._next_check or not self._lock.acquire(blocking=False):
            return False
        try:
            self._next_check = now + self.check_seconds
            name = self._pointer()
            if name is None or name in (self.in_use, self._rejected):
                return False
            try:
                index = load_index(self.index_dir, self.model_id)
                swap(index)
            except Exception as exc:  # any failure of the new build must leave the old one serving
                log.warning("index build %s not used, still serving %s: %s", name, self.in_use, exc)
                self._rejected = name
                return False
            # load_index reads CURRENT again: name what was actually loaded, which may be newer still.
            log.info("switched index from build %s to %s", self.in_use, index.path.name)
            self.in_use = index.path.name
            self._rejected = None
            return True
        finally:
            self._lock.release()
