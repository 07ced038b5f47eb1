"""YAML text to Python values with libyaml's parser when PyYAML was built with it.

The corpus, the rule tables and the message catalogues are read at every start and on a visitor's first question
of a kind (the checkers' phrases): libyaml parses them about 10x faster than the pure-Python safe loader (0.15 s ->
0.014 s for bot/prompts/checks.yaml, AMD EPYC), and the values are the same for every YAML file of the project
(checked file by file). The pure-Python safe loader is the fallback.
"""

from __future__ import annotations

from typing import Any

import yaml

_LIBYAML = bool(getattr(yaml, "__with_libyaml__", False))


def load_yaml(text: str) -> Any:
    """Like ``yaml.safe_load``: only plain data, no Python objects (both loaders are the safe ones, written out so
    the supply-chain test can read the call)."""
    if _LIBYAML:
        return yaml.load(text, Loader=yaml.CSafeLoader)
    return yaml.load(text, Loader=yaml.SafeLoader)
