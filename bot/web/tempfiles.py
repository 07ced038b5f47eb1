"""One scratch folder per process for the files the pages hand to Gradio (calendar files), removed when the process
exits.

A folder per page build (as before) left one behind per app and test run: /tmp held hundreds. Gradio copies a
returned file into its own cache before serving it, so ours need only live until then; one folder whose files are
overwritten by name stays small. A process that could not clean up (killed, SIGKILL) leaves its folder: the next
process sweeps those of dead processes (the process id is in the name) once they are an hour old.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

PREFIX = "bot-web-"
STALE_SECONDS = 3600  # a dead process's folder is left this long: a pid reused meanwhile is then long settled
_OURS = re.compile(rf"{PREFIX}(\d+)-")
_lock = threading.Lock()
_folder: Path | None = None


def scratch(name: str) -> Path:
    """``<process folder>/<name>``, made on first use; the process folder goes at exit."""
    global _folder
    with _lock:
        if _folder is None or not _folder.is_dir():
            sweep(Path(tempfile.gettempdir()))
            _folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))  # whose it is, at a glance
            atexit.register(shutil.rmtree, _folder, ignore_errors=True)
        sub = _folder / name
        sub.mkdir(exist_ok=True)
        return sub


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def sweep(folder: Path, now: float | None = None) -> int:
    """Remove the scratch folders of processes that are gone (older than STALE_SECONDS); the number removed. Only
    folders named as ours, on this machine's process ids; a failure to remove one is ignored (the next start tries
    again)."""
    removed = 0
    now = time.time() if now is None else now
    for path in folder.glob(f"{PREFIX}*"):
        match = _OURS.match(path.name)
        try:
            stale = now - path.stat().st_mtime > STALE_SECONDS
        except OSError:
            continue
        if match and stale and path.is_dir() and not _alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            removed += not path.exists()
    return removed
