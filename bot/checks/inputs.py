"""Form and command-line fields to checker queries: strict parsing with messages that name the field.

Chat questions go through ``bot.checks.extract`` (free text); these fields are typed by a person into a form or a shell,
so they accept the obvious spellings (ISO codes, country names in our languages, ISO dates) and nothing fuzzy.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale

from bot.checks.payment import PaymentQuery
from bot.checks.refund import RefundQuery
from bot.checks.rules import RuleBook
from bot.checks.transit import TransitQuery
from bot.errors import BadInput
from bot.schema import LANGUAGES


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Every CLDR territory name in our 15 languages -> ISO code (two-letter codes only: no continents)."""
    names: dict[str, str] = {}
    for lang in LANGUAGES:
        for code, name in Locale.parse(lang.replace("-", "_")).territories.items():
            if len(code) == 2 and code.isalpha():
                names.setdefault(_key(name), code)
    return names


def parse_country(text: str | None, field: str = "country") -> str | None:
    """An ISO 3166-1 alpha-2 code from a code ("us") or a name in any of our languages ("Japon", "美国")."""
    if text is None or not text.strip():
        return None
    raw = text.strip()
    if len(raw) == 2 and raw.isascii() and raw.isalpha():
        code = raw.upper()
        if code in Locale.parse("en").territories:
            return code
    found = _country_names().get(_key(raw))
    if found is None:
        raise BadInput(f"{field}: unknown country {raw!r}", key="check.unknown_country", country=raw)
    return found


def parse_port(text: str | None, rules: RuleBook) -> str | None:
    """A port id, or any of the port's names and aliases."""
    if text is None or not text.strip():
        return None
    wanted = _key(text)
    for pid, port in rules.transit.ports.items():
        if wanted in {_key(pid), *(_key(n) for n in port.names.values()), *(_key(a) for a in port.aliases)}:
            return pid
    raise BadInput(f"unknown port {text!r}", key="check.unknown_port", port=text.strip())


def parse_when(text: str | None, field: str = "date") -> datetime | date | None:
    """ISO date ("2026-12-03") or date and time ("2026-12-03 15:00", "2026-12-03T15:00+09:00")."""
    if text is None or not text.strip():
        return None
    raw = text.strip()
    try:
        if len(raw) <= 10:
            return date.fromisoformat(raw)
        return datetime.fromisoformat(raw)
    except ValueError:
        raise BadInput(f"{field}: {raw!r} is not a date (use YYYY-MM-DD or YYYY-MM-DD HH:MM)",
                       key="check.bad_date", text=raw) from None


def parse_day(text: str | None, field: str = "date") -> date | None:
    when = parse_when(text, field)
    return when.date() if isinstance(when, datetime) else when


def parse_amount(text: str | float | int | None, field: str = "amount") -> Decimal | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        value = Decimal(str(text).replace(",", "").replace("_", "").strip())
    except InvalidOperation:
        raise BadInput(f"{field}: {text!r} is not a number", key="check.bad_amount", amount=text) from None
    if not value.is_finite() or value <= 0 or value > Decimal("1e12"):
        raise BadInput(f"{field}: the amount must be a positive number", key="check.bad_amount", amount=text)
    return value


def parse_days(text: str | int | None, field: str = "days") -> int | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        value = int(str(text).strip())
    except ValueError:
        raise BadInput(f"{field}: {text!r} is not a whole number", key="check.bad_days", days=text) from None
    if value < 0 or value > 100_000:
        raise BadInput(f"{field}: the number of days cannot be negative", key="check.bad_days", days=text)
    return value


def transit_query(rules: RuleBook, nationality: str | None = None, origin: str | None = None,
                  destination: str | None = None, entry_port: str | None = None, entry: str | None = None,
                  planned_exit: str | None = None, exit_port: str | None = None) -> TransitQuery:
    return TransitQuery(parse_country(nationality, "nationality"), parse_country(origin, "origin"),
                        parse_country(destination, "destination"), parse_port(entry_port, rules),
                        parse_when(entry, "entry"), parse_when(planned_exit, "exit"), parse_port(exit_port, rules))


def refund_query(amount: str | float | None = None, vat: str | int | None = None, purchase: str | None = None,
                 departure: str | None = None, days_in_china: str | int | None = None, method: str | None = None,
                 instant: bool = False) -> RefundQuery:
    vat_rate = None if vat in (None, "", "unknown") else parse_days(vat, "vat")
    return RefundQuery(parse_amount(amount), vat_rate, parse_day(purchase, "purchase"),
                       parse_day(departure, "departure"), parse_days(days_in_china, "days_in_china"),
                       method or None, instant)


def payment_query(amount: str | float | None = None, currency: str = "CNY", method: str | None = None,
                  spent_today: str | float | None = None) -> PaymentQuery:
    return PaymentQuery(parse_amount(amount), (currency or "CNY").upper().replace("RMB", "CNY"), method or None,
                        parse_amount(spent_today, "spent_today") if spent_today not in (None, "", 0, "0") else None)
