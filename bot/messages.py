"""Fixed texts in every supported language (``prompts/messages.yaml``): answer templates and interface labels."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from bot.schema import LANGUAGES
from bot.yaml_text import load_yaml


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    text = resources.files("bot.prompts").joinpath("messages.yaml").read_text(encoding="utf-8")
    data = load_yaml(text)
    missing = [(k, lang) for k, v in data.items() if k != "examples" for lang in LANGUAGES if lang not in v]
    if missing:
        raise ValueError(f"bot/prompts/messages.yaml: missing translations {missing[:5]}")
    return data


def message(key: str, lang: str, **values: object) -> str:
    """The text for ``key`` in ``lang`` (English if that language lacks it), with ``{placeholders}`` filled."""
    entry = _table()[key]
    return str(entry.get(lang) or entry["en"]).format(**values)


def examples(lang: str) -> dict[str, list[str]]:
    table = _table().get("examples", {})
    return table.get(lang) or table.get("en", {})


def language_name(lang: str) -> str:
    return message("lang_name", lang)
