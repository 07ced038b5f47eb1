"""Load a script that is not part of the ``bot`` package (``evals/*.py``, ``corpus/rules/generate_names.py``) as a
module, so tests can call its functions without running it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType


def load_script(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
