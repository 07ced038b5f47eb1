"""A ``CheckResult`` in the reader's language: templates from ``prompts/checks.yaml``, values formatted by CLDR.

Dates, numbers and country names go through Babel (Unicode CLDR), so "13 декабря 2026 г.", "2026年12月13日" and
"1 080" come out the way each language writes them, with no per-language code here.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal

from bot.checks.result import CheckResult, Place, PortRef, Value
from bot.checks.rules import RuleBook
from bot.errors import BadInput
from bot.schema import LANGUAGES
from bot.yaml_text import load_yaml


@lru_cache(maxsize=1)
def _texts() -> dict[str, dict[str, str]]:
    text = resources.files("bot.prompts").joinpath("checks.yaml").read_text(encoding="utf-8")
    data: dict[str, dict[str, str]] = load_yaml(text)
    missing = [(k, lang) for k, v in data.items() for lang in LANGUAGES if lang not in v]
    if missing:
        raise ValueError(f"bot/prompts/checks.yaml: missing translations {missing[:5]}")
    return data


def warm_up() -> None:
    """The phrase catalogue and one number locale per language, loaded before the first visitor needs them."""
    _texts()
    for lang in LANGUAGES:
        locale_of(lang)


@cache
def locale_of(lang: str) -> Locale:
    return Locale.parse(lang.replace("-", "_"))


def text(key: str, lang: str, **values: object) -> str:
    entry = _texts()[key]
    return str(entry.get(lang) or entry["en"]).format(**values)


def country_name(code: str, lang: str, rules: RuleBook | None = None) -> str:
    """The rule table's name when it has one (the 55 and the 30-day list), else CLDR's; the code as a last resort."""
    if rules is not None:
        for table in (rules.transit.countries, rules.unilateral.countries):
            entry = table.get(code)
            if entry is not None and lang in entry.names:
                return entry.names[lang]
    return str(locale_of(lang).territories.get(code, code))


def port_name(port_id: str, lang: str, rules: RuleBook) -> str:
    port = rules.transit.ports.get(port_id)
    if port is None:
        return port_id
    return port.names.get(lang) or port.names.get("zh-Hans" if lang.startswith("zh") else "en") or port_id


def fmt(value: Value, lang: str, rules: RuleBook | None = None) -> str:
    loc = locale_of(lang)
    if isinstance(value, datetime):
        return f"{format_date(value.date(), 'long', locale=loc)} {value:%H:%M}"
    if isinstance(value, date):
        return format_date(value, "long", locale=loc)
    if isinstance(value, time):
        return f"{value:%H:%M}"
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return format_decimal(value, format="#,##0.##", locale=loc)
    if isinstance(value, Place):
        return country_name(value.code, lang, rules)
    if isinstance(value, PortRef):
        return port_name(value.port_id, lang, rules) if rules else value.port_id
    if isinstance(value, tuple):
        return text("list.separator", lang).join(value)
    return str(value)


def render_lines(result: CheckResult, lang: str, rules: RuleBook) -> list[str]:
    """Header, verdict, one line per reasoning step, and what is still needed (when the verdict depends on it)."""
    lines = [text("check.header", lang, version=result.rule_version, date=fmt(result.valid_as_of, lang)),
             text(f"verdict.{result.checker}.{result.verdict}", lang)]
    for finding in result.findings:
        params = {k: fmt(v, lang, rules) for k, v in finding.params.items()}
        lines.append(text(finding.key, lang, **params))
    if result.missing and result.verdict in ("incomplete", "unsure", "yes"):
        lines.append(render_missing(result, lang))
    return lines


def render_warnings(result: CheckResult, lang: str, rules: RuleBook) -> list[str]:
    """The findings that warn about a date ("Germany's 30-day entry ended on …"): worth a line even when the
    computation itself does not lead."""
    return [text(f.key, lang, **{k: fmt(v, lang, rules) for k, v in f.params.items()})
            for f in result.findings if f.status == "warn"]


def render_missing(result: CheckResult, lang: str) -> str:
    """One line asking for the inputs a computation needs ("To answer exactly, please tell me: …")."""
    if not result.missing:
        return ""
    items = text("list.separator", lang).join(text(f"input.{name}", lang) for name in result.missing)
    return text("check.missing", lang, items=items)


def render(result: CheckResult, lang: str, rules: RuleBook) -> str:
    head, verdict, *rest = render_lines(result, lang, rules)
    return "\n".join([head, verdict, *(f"• {line}" for line in rest)])


def render_error(error: BadInput, lang: str) -> str:
    """An input error in the reader's language (``check.*`` keys); the English message if no template fits."""
    if error.key in _texts():
        values: dict[str, Any] = {k: str(v) for k, v in error.values.items()}
        try:
            return text(error.key, lang, **values)
        except (KeyError, IndexError):
            pass
    return str(error)
