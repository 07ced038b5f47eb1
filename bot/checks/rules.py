"""Versioned rule tables (``corpus/rules/*.yaml``) as typed, validated objects for the checkers.

Each table carries its own sources and ``valid_as_of`` date; the checkers copy them into every result so an
answer computed from a rule can always show where the rule came from and how fresh it is. Values that changed
over time (the refund minimum went from 500 to 200 RMB on 26 Apr 2025) are kept as dated steps, and a checker
uses the step in force on the date it reasons about.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, Literal, NoReturn, TypeVar, cast

import yaml

from bot.clock import today as clock_today
from bot.errors import CorpusError
from bot.schema import LANGUAGES, Source
from bot.yaml_text import load_yaml

T = TypeVar("T")
PortStatus = Literal["confirmed", "unconfirmed", "no"]


@dataclass(frozen=True)
class RuleMeta:
    """Identity of one table: ``version`` changes whenever a value changes."""

    rule_id: str
    version: str
    valid_as_of: date
    sources: tuple[Source, ...]
    # Optional, from the sources: when the encoded rules start and stop applying (e.g. the 30-day list "until
    # 31 Dec 2026"), and when a person should look at the table again. ``python -m bot content report`` lists them.
    valid_from: date | None = None
    valid_until: date | None = None
    review_by: date | None = None


@dataclass(frozen=True)
class Step(Generic[T]):
    """A value that applies from ``since`` (inclusive) until the next step. Only the first step may have no
    ``since``: it then applies to any day before the next step, because the table does not date its start."""

    since: date | None
    value: T


def in_force(steps: tuple[Step[T], ...], on: date) -> T | None:
    """The value in force on ``on``; None before the first step. Steps are sorted by ``since``."""
    current: T | None = None
    for step in steps:
        if step.since is None or step.since <= on:
            current = step.value
    return current


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2; HK, MO, TW are regions for the third-country rule
    names: dict[str, str]  # language code -> name, all 15 languages
    since: date  # eligible from
    # False for a date known only from secondary reports ([!] in facts.md, e.g. Indonesia "June 2025"): the
    # checker then never says "not yet eligible" for an entry before or around it, only "unconfirmed, ask 12367".
    since_confirmed: bool = True


@dataclass(frozen=True)
class Port:
    port_id: str  # e.g. "szx-baoan"
    names: dict[str, str]  # at least en, zh-Hans, zh-Hant
    city: str  # English city name
    kind: Literal["air", "land", "sea", "rail"]
    entry: PortStatus  # for 240-hour transit entry
    exit: PortStatus  # for leaving under the 240-hour scheme
    entry_since: date | None  # when entry became possible (None if not an entry port)
    aliases: tuple[str, ...] = ()  # extra names used when parsing questions (IATA code, local spellings)
    note: str = ""


@dataclass(frozen=True)
class Province:
    code: str  # ISO 3166-2:CN, e.g. "CN-GD"
    names: dict[str, str]


@dataclass(frozen=True)
class TransitRules:
    meta: RuleMeta
    hours: int  # 240
    countries: dict[str, Country]
    regions: frozenset[str]  # {"HK", "MO", "TW"}: count as separate from the mainland and from each other
    provinces: tuple[Province, ...]
    ports: dict[str, Port]
    passport_min_validity_months: int  # 3
    not_allowed: tuple[str, ...]  # ("work", "study", "journalism")
    registration_hours: int  # 24
    # The clock rule (00:00 the day after entry) is documented for 72/144 hours and assumed for 240 -> [!]
    clock_rule_confirmed: bool
    scheme_since: date  # 17 Dec 2024


@dataclass(frozen=True)
class UnilateralCountry:
    code: str
    names: dict[str, str]
    until: date  # last day of the scheme for this country


@dataclass(frozen=True)
class UnilateralRules:
    """The 30-day unilateral visa-free list, *as far as our sources give it*: never treated as complete."""

    meta: RuleMeta
    max_days: int  # 30
    countries: dict[str, UnilateralCountry]
    complete: bool  # always False today: a country missing here may still be on the official list
    known_not_listed: dict[str, str]  # code -> note (e.g. "US": "not on the NIA list of 17 Feb 2026")


@dataclass(frozen=True)
class RefundRules:
    meta: RuleMeta
    min_spend: tuple[Step[Decimal], ...]  # RMB per store per day, VAT included
    cash_cap: tuple[Step[Decimal], ...]  # refunds up to this may be cash; above: bank transfer only
    rates: dict[int, Decimal]  # VAT rate (13, 9) -> refund rate in percent (11, 8)
    fee_percent: Decimal  # 2, of the invoice value
    max_days_after_purchase: int  # 90
    max_stay_days: int  # 183 consecutive days
    instant_since: date  # nationwide instant refund (STA 2025 No.9, 8 Apr 2025)
    instant_needs: tuple[str, ...]  # ("credit_card_preauth", "passport", ...)
    methods: tuple[str, ...]  # ("cash", "bank_transfer", "mobile_wallet")


@dataclass(frozen=True)
class PaymentRules:
    meta: RuleMeta
    card_fee_free_up_to: Decimal  # 200 RMB, inclusive
    card_fee_percent: Decimal  # 3, of the whole amount when above the free limit
    card_per_txn_usd: Decimal  # 5,000
    card_per_year_usd: Decimal  # 50,000
    ecny_anonymous_per_payment: Decimal  # 2,000 RMB
    ecny_anonymous_per_day: Decimal  # 5,000 RMB
    # Not a rule: the band of RMB per US$ used only to say whether an RMB amount is clearly under or over a
    # US$ limit. Inside the band the answer is "depends on the day's rate".
    rmb_per_usd_band: tuple[Decimal, Decimal]


@dataclass(frozen=True)
class RuleBook:
    transit: TransitRules
    unilateral: UnilateralRules
    refund: RefundRules
    payment: PaymentRules
    extra: dict[str, object] = field(default_factory=dict)


# ---------------------------------------------------------------- loading and validation

RULE_FILES = ("transit.yaml", "unilateral.yaml", "refund.yaml", "payment.yaml")
TRANSIT_COUNTRY_COUNT = 55
TRANSIT_REGIONS = frozenset({"HK", "MO", "TW"})
TRANSIT_PROVINCE_COUNT = 24
PORT_STATUSES: tuple[str, ...] = ("confirmed", "unconfirmed", "no")
PORT_KINDS: tuple[str, ...] = ("air", "land", "sea", "rail")
PORT_NAME_LANGUAGES = ("en", "zh-Hans", "zh-Hant")
_META_KEYS = ("rule_id", "version", "valid_as_of", "sources", "valid_from", "valid_until", "review_by")
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}\.\d+$")
_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
_PROVINCE_CODE = re.compile(r"^CN-[A-Z]{2}$")
_KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@dataclass(frozen=True)
class _Fields:
    """One mapping of a rule file. Every accessor raises ``CorpusError`` naming the file and the full field path
    (``ports[3].entry``), so a reviewer can go straight to the line."""

    path: Path
    data: Mapping[str, Any]
    prefix: str = ""

    def fail(self, key: str, problem: str) -> NoReturn:
        raise CorpusError(self.path, f"{self.prefix}{key}", problem)

    def only(self, *allowed: str) -> None:
        # A misspelt optional key would otherwise be ignored silently.
        unknown = sorted(str(k) for k in self.data if k not in allowed)
        if unknown:
            self.fail(unknown[0], f"unknown field; known fields: {', '.join(allowed)}")

    def raw(self, key: str) -> Any:
        if self.data.get(key) is None:
            self.fail(key, "is required")
        return self.data[key]

    def text(self, key: str) -> str:
        value = self.raw(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be a non-empty string, got {value!r}")
        return value.strip()

    def flag(self, key: str) -> bool:
        value = self.raw(key)
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, got {value!r}")
        return value

    def positive_int(self, key: str) -> int:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            self.fail(key, f"must be a positive whole number, got {value!r}")
        return value

    def positive_decimal(self, key: str) -> Decimal:
        return _positive_decimal(self.raw(key), self, key)

    def percent(self, key: str) -> Decimal:
        return _percent(self.raw(key), self, key)

    def day(self, key: str) -> date:
        return _day(self.raw(key), self, key)

    def optional_day(self, key: str) -> date | None:
        return None if self.data.get(key) is None else self.day(key)

    def mapping(self, key: str) -> Mapping[Any, Any]:
        value = self.raw(key)
        if not isinstance(value, dict) or not value:
            self.fail(key, "must be a non-empty mapping")
        return value

    def items(self, key: str) -> list[_Fields]:
        """A list of mappings, each with its own position in error messages."""
        value = self.raw(key)
        if not isinstance(value, list) or not value:
            self.fail(key, "must be a non-empty list")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                self.fail(f"{key}[{i}]", "must be a mapping")
            out.append(_Fields(self.path, item, f"{self.prefix}{key}[{i}]."))
        return out

    def strings(self, key: str, pattern: re.Pattern[str] | None = None, required: bool = True) -> tuple[str, ...]:
        value = self.raw(key) if required else (self.data.get(key) or [])
        if not isinstance(value, list) or (required and not value):
            self.fail(key, "must be a non-empty list of strings" if required else "must be a list of strings")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip() or (pattern and not pattern.match(item)):
                shape = f" matching {pattern.pattern}" if pattern else ""
                self.fail(f"{key}[{i}]", f"must be a non-empty string{shape}, got {item!r}")
        return tuple(item.strip() for item in value)

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        value = self.raw(key)
        if value not in options:
            self.fail(key, f"must be one of {', '.join(options)}, got {value!r}")
        return str(value)

    def code(self, key: str, pattern: re.Pattern[str] = _COUNTRY_CODE) -> str:
        return _code(self.raw(key), pattern, self, key)

    def names(self, key: str, required: tuple[str, ...]) -> dict[str, str]:
        names = self.mapping(key)
        for lang in names:
            if lang not in LANGUAGES:
                self.fail(f"{key}.{lang}", f"unknown language code; known: {', '.join(LANGUAGES)}")
        for lang in required:
            value = names.get(lang)
            if not isinstance(value, str) or not value.strip():
                self.fail(f"{key}.{lang}", "is required: a name in this language is missing")
        return {lang: str(names[lang]).strip() for lang in LANGUAGES if lang in names}


def _code(value: object, pattern: re.Pattern[str], where: _Fields, key: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        # PyYAML reads a bare NO (Norway) as false: say so rather than report a puzzling "False".
        hint = ' (write "NO" in quotes: YAML reads a bare NO as false)' if isinstance(value, bool) else ""
        where.fail(key, f"must be an ISO code matching {pattern.pattern}, got {value!r}{hint}")
    return value


def _day(value: object, where: _Fields, key: str) -> date:
    # yaml.safe_load already turns an unquoted 2025-04-26 into a date; a datetime (with a time) is not a date here.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        where.fail(key, f"must be a date YYYY-MM-DD, got {value!r}")


def _decimal(value: object, where: _Fields, key: str) -> Decimal:
    # Floats are refused: money and rates must be exact, and "6.5" as a string says so.
    if isinstance(value, bool) or not isinstance(value, int | str):
        where.fail(key, f'must be a whole number or a decimal written as a string (e.g. "6.5"), got {value!r}')
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        where.fail(key, f"must be a number, got {value!r}")
    if not number.is_finite():
        where.fail(key, f"must be a finite number, got {value!r}")
    return number


def _positive_decimal(value: object, where: _Fields, key: str) -> Decimal:
    number = _decimal(value, where, key)
    if number <= 0:
        where.fail(key, f"must be positive, got {value!r}")
    return number


def _percent(value: object, where: _Fields, key: str) -> Decimal:
    number = _decimal(value, where, key)
    if not 0 <= number <= 100:
        where.fail(key, f"must be a percentage between 0 and 100, got {value!r}")
    return number


def _unique(keys: list[str], where: _Fields, field_name: str, what: str) -> None:
    seen: set[str] = set()
    for i, key in enumerate(keys):
        if key in seen:
            where.fail(f"{field_name}[{i}]", f"duplicate {what} {key!r}")
        seen.add(key)


def _steps(where: _Fields, key: str) -> tuple[Step[Decimal], ...]:
    """Dated values, strictly increasing by ``since`` (``in_force`` relies on the order). The first step may
    have ``since: null`` (a value older than any date the table records); every later step needs its date."""
    steps: list[Step[Decimal]] = []
    for i, item in enumerate(where.items(key)):
        item.only("since", "value")
        step = Step(item.optional_day("since") if i == 0 else item.day("since"), item.positive_decimal("value"))
        previous = steps[-1].since if steps else None
        if step.since is not None and previous is not None and step.since <= previous:
            item.fail("since", f"steps must be sorted by date with no repeats: {step.since} follows {previous}")
        steps.append(step)
    return tuple(steps)


def _meta(where: _Fields) -> RuleMeta:
    version = where.text("version")
    if not _VERSION.match(version):
        where.fail("version", f"must look like 2025-11-05.1 (date of the newest rule change.revision), got {version!r}")
    valid_as_of = where.day("valid_as_of")
    # "Today" is the day in China (the facts are dated there, and China is ahead of most zones), or BOT_TODAY.
    today = clock_today()
    if valid_as_of > today:
        where.fail("valid_as_of", f"{valid_as_of} is in the future (today is {today}: the date in China, or "
                                  "BOT_TODAY when set): it is the date the facts were last checked")
    valid_from, valid_until = where.optional_day("valid_from"), where.optional_day("valid_until")
    if valid_from is not None and valid_until is not None and valid_from > valid_until:
        where.fail("valid_until", f"{valid_until} is before valid_from {valid_from}")
    sources = []
    for item in where.items("sources"):
        item.only("title", "url")
        url = item.data.get("url") or ""
        if url and not (isinstance(url, str) and url.startswith(("https://", "http://"))):
            item.fail("url", f"must start with http:// or https://, got {url!r}")
        sources.append(Source(title=item.text("title"), url=url))
    return RuleMeta(where.text("rule_id"), version, valid_as_of, tuple(sources), valid_from, valid_until,
                    where.optional_day("review_by"))


# ---------------------------------------------------------------- one function per table

def _transit(where: _Fields) -> TransitRules:
    where.only(*_META_KEYS, "names_source", "hours", "scheme_since", "passport_min_validity_months", "not_allowed",
               "registration_hours", "clock_rule_confirmed", "regions", "provinces", "ports", "countries")
    scheme_since = where.day("scheme_since")
    regions = where.strings("regions", _COUNTRY_CODE)
    if set(regions) != TRANSIT_REGIONS or len(regions) != len(TRANSIT_REGIONS):
        where.fail("regions", f"must be exactly {', '.join(sorted(TRANSIT_REGIONS))}, got {', '.join(regions)}")
    return TransitRules(
        meta=_meta(where), hours=where.positive_int("hours"),
        countries=_transit_countries(where, scheme_since), regions=frozenset(regions),
        provinces=_provinces(where), ports=_ports(where),
        passport_min_validity_months=where.positive_int("passport_min_validity_months"),
        not_allowed=where.strings("not_allowed", _SNAKE), registration_hours=where.positive_int("registration_hours"),
        clock_rule_confirmed=where.flag("clock_rule_confirmed"), scheme_since=scheme_since,
    )


def _transit_countries(where: _Fields, scheme_since: date) -> dict[str, Country]:
    countries = []
    for item in where.items("countries"):
        item.only("code", "names", "since", "since_confirmed")
        code = item.code("code")
        if code in TRANSIT_REGIONS or code == "CN":
            item.fail("code", f"{code} is the mainland or a region, not an eligible country")
        since = item.day("since")
        if since < scheme_since:
            item.fail("since", f"{since} is before the scheme started ({scheme_since})")
        # Optional; absent means the date is confirmed. A [!] date is written `since_confirmed: false`.
        since_confirmed = item.flag("since_confirmed") if "since_confirmed" in item.data else True
        countries.append(Country(code, item.names("names", LANGUAGES), since, since_confirmed))
    _unique([c.code for c in countries], where, "countries", "country code")
    if len(countries) != TRANSIT_COUNTRY_COUNT:
        where.fail("countries", f"must list exactly {TRANSIT_COUNTRY_COUNT} countries, got {len(countries)}")
    return {c.code: c for c in countries}


def _provinces(where: _Fields) -> tuple[Province, ...]:
    provinces = []
    for item in where.items("provinces"):
        item.only("code", "names")
        provinces.append(Province(item.code("code", _PROVINCE_CODE), item.names("names", PORT_NAME_LANGUAGES)))
    _unique([p.code for p in provinces], where, "provinces", "province code")
    if len(provinces) != TRANSIT_PROVINCE_COUNT:
        where.fail("provinces", f"must list exactly {TRANSIT_PROVINCE_COUNT} provinces, got {len(provinces)}")
    return tuple(provinces)


def _ports(where: _Fields) -> dict[str, Port]:
    ports = [_port(item) for item in where.items("ports")]
    _unique([p.port_id for p in ports], where, "ports", "port id")
    # A name or alias shared by two ports would make a question like "entering at X" ambiguous.
    owner: dict[str, str] = {}
    for i, port in enumerate(ports):
        for label in {s.casefold() for s in (*port.names.values(), *port.aliases)}:
            if owner.setdefault(label, port.port_id) != port.port_id:
                where.fail(f"ports[{i}].aliases", f"{label!r} also names port {owner[label]!r}")
    return {p.port_id: p for p in ports}


def _port(item: _Fields) -> Port:
    item.only("port_id", "names", "city", "kind", "entry", "exit", "entry_since", "aliases", "note")
    port_id = item.text("port_id")
    if not _KEBAB.match(port_id):
        item.fail("port_id", f"must be kebab-case (e.g. szx-baoan), got {port_id!r}")
    entry = item.choice("entry", PORT_STATUSES)
    entry_since = item.optional_day("entry_since")
    # entry_since dates a confirmed entry; on an unconfirmed port it would read as a fact we do not have.
    if entry == "confirmed" and entry_since is None:
        item.fail("entry_since", "is required when entry is confirmed")
    if entry != "confirmed" and entry_since is not None:
        item.fail("entry_since", f"must be null when entry is {entry!r}")
    note = item.data.get("note") or ""
    if not isinstance(note, str):
        item.fail("note", f"must be a string, got {note!r}")
    return Port(
        port_id=port_id, names=item.names("names", PORT_NAME_LANGUAGES), city=item.text("city"),
        kind=cast(Literal["air", "land", "sea", "rail"], item.choice("kind", PORT_KINDS)),
        entry=cast(PortStatus, entry), exit=cast(PortStatus, item.choice("exit", PORT_STATUSES)),
        entry_since=entry_since, aliases=item.strings("aliases", required=False), note=note.strip(),
    )


def _unilateral(where: _Fields) -> UnilateralRules:
    where.only(*_META_KEYS, "names_source", "max_days", "complete", "known_not_listed", "countries")
    countries = []
    for item in where.items("countries"):
        item.only("code", "names", "until")
        countries.append(UnilateralCountry(item.code("code"), item.names("names", LANGUAGES), item.day("until")))
    _unique([c.code for c in countries], where, "countries", "country code")
    codes = {c.code for c in countries}
    not_listed: dict[str, str] = {}
    for code, note in (where.data.get("known_not_listed") or {}).items():
        field_name = f"known_not_listed.{code}"
        _code(code, _COUNTRY_CODE, where, field_name)
        if code in codes:
            where.fail(field_name, "is also in countries: a country is either listed or known not to be")
        if not isinstance(note, str) or not note.strip():
            where.fail(field_name, "needs a note saying where the absence was seen")
        not_listed[code] = note.strip()
    meta = _meta(where)
    for i, country in enumerate(countries):
        # The table's valid_until is the last day any listed country is covered by what our sources say.
        if meta.valid_until is not None and country.until > meta.valid_until:
            where.fail(f"countries[{i}].until", f"{country.until} is after the table's valid_until {meta.valid_until}")
    return UnilateralRules(meta=meta, max_days=where.positive_int("max_days"),
                           countries={c.code: c for c in countries}, complete=where.flag("complete"),
                           known_not_listed=not_listed)


def _refund(where: _Fields) -> RefundRules:
    where.only(*_META_KEYS, "min_spend", "cash_cap", "rates", "fee_percent", "max_days_after_purchase",
               "max_stay_days", "instant_since", "instant_needs", "methods")
    rates: dict[int, Decimal] = {}
    for vat, refund in where.mapping("rates").items():
        field_name = f"rates.{vat}"
        if isinstance(vat, bool) or not isinstance(vat, int) or not 0 < vat <= 100:
            where.fail(field_name, "the key must be a VAT rate in percent (a whole number, e.g. 13)")
        rate = _percent(refund, where, field_name)
        if rate > vat:
            where.fail(field_name, f"the refund rate {rate}% cannot exceed the VAT rate {vat}%")
        rates[vat] = rate
    return RefundRules(
        meta=_meta(where), min_spend=_steps(where, "min_spend"), cash_cap=_steps(where, "cash_cap"), rates=rates,
        fee_percent=where.percent("fee_percent"), max_days_after_purchase=where.positive_int("max_days_after_purchase"),
        max_stay_days=where.positive_int("max_stay_days"), instant_since=where.day("instant_since"),
        instant_needs=where.strings("instant_needs", _SNAKE), methods=where.strings("methods", _SNAKE),
    )


def _payment(where: _Fields) -> PaymentRules:
    where.only(*_META_KEYS, "card_fee_free_up_to", "card_fee_percent", "card_per_txn_usd", "card_per_year_usd",
               "ecny_anonymous_per_payment", "ecny_anonymous_per_day", "rmb_per_usd_band")
    band = where.raw("rmb_per_usd_band")
    if not isinstance(band, list) or len(band) != 2:
        where.fail("rmb_per_usd_band", f"must be a list of two numbers [low, high], got {band!r}")
    low, high = (_positive_decimal(v, where, f"rmb_per_usd_band[{i}]") for i, v in enumerate(band))
    if low >= high:
        where.fail("rmb_per_usd_band", f"the low end {low} must be below the high end {high}")
    return PaymentRules(
        meta=_meta(where), card_fee_free_up_to=where.positive_decimal("card_fee_free_up_to"),
        card_fee_percent=where.percent("card_fee_percent"), card_per_txn_usd=where.positive_decimal("card_per_txn_usd"),
        card_per_year_usd=where.positive_decimal("card_per_year_usd"),
        ecny_anonymous_per_payment=where.positive_decimal("ecny_anonymous_per_payment"),
        ecny_anonymous_per_day=where.positive_decimal("ecny_anonymous_per_day"), rmb_per_usd_band=(low, high),
    )


# ---------------------------------------------------------------- entry points

def rules_files(corpus_dir: Path) -> list[Path]:
    """The rule tables ``load_rules`` reads, in a fixed order (whether or not they exist yet)."""
    return [corpus_dir / "rules" / name for name in RULE_FILES]


def load_rules(corpus_dir: Path) -> RuleBook:
    """The validated rule tables under ``corpus_dir / "rules"``; raises ``CorpusError`` naming file and field.

    Cached per folder and content: parsing and validating them again is skipped while the files are unchanged, and
    an edit is read by the next call (a rebuilt index's snapshot, ``snapshot.py``, carries the tables as they are).
    """
    folder = corpus_dir.resolve()
    return _load_rules_cached(folder, tuple(_digest(path) for path in rules_files(folder)))


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None  # missing: _read names it


@lru_cache(maxsize=8)
def _load_rules_cached(corpus_dir: Path, digests: tuple[str | None, ...]) -> RuleBook:
    """``digests`` is only the cache key: the files' contents when they were read."""
    transit, unilateral, refund, payment = (_read(path) for path in rules_files(corpus_dir))
    return RuleBook(transit=_transit(transit), unilateral=_unilateral(unilateral), refund=_refund(refund),
                    payment=_payment(payment))


def _read(path: Path) -> _Fields:
    if not path.is_file():
        raise CorpusError(path, "file", "is missing: every rule table in RULE_FILES is required")
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CorpusError(path, "yaml", f"does not parse: {exc}") from None
    if not isinstance(data, dict):
        raise CorpusError(path, "yaml", "must be a mapping of fields")
    return _Fields(path, data)
