"""One scratch folder per process for the files the pages hand to Gradio (calendar files, QA cases), removed when
the process exits.

A folder per page build (as before) left one behind per app and test run: /tmp held hundreds. Gradio copies a
returned file into its own cache before serving it, so ours need only live until then; one folder whose files are
overwritten by name stays small.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from pathlib import Path

_lock = threading.Lock()
_folder: Path | None = None


def scratch(name: str) -> Path:
    """``<process folder>/<name>``, made on first use; the process folder goes at exit."""
    global _folder
    with _lock:
        if _folder is None or not _folder.is_dir():
            _folder = Path(tempfile.mkdtemp(prefix=f"bot-web-{os.getpid()}-"))  # whose it is, at a glance
            atexit.register(shutil.rmtree, _folder, ignore_errors=True)
        sub = _folder / name
        sub.mkdir(exist_ok=True)
        return sub
