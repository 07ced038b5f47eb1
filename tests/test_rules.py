"""Rule tables: the real files load with the facts they must hold, and malformed files fail naming file and field."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from script_loader import load_script

from bot.checks.rules import RULE_FILES, RuleBook, Step, in_force, load_rules, rules_files
from bot.config import PROJECT_ROOT
from bot.errors import CorpusError
from bot.schema import LANGUAGES

CORPUS = PROJECT_ROOT / "corpus"


@pytest.fixture(scope="module")
def rules() -> RuleBook:
    return load_rules(CORPUS)


# ---------------------------------------------------------------- the real tables

def test_rules_files_lists_the_four_tables() -> None:
    files = rules_files(CORPUS)
    assert [p.name for p in files] == list(RULE_FILES)
    assert all(p.is_file() for p in files)


def test_load_is_cached_per_resolved_path(rules: RuleBook) -> None:
    assert load_rules(CORPUS / ".." / "corpus") is rules


def test_transit_has_55_countries_with_indonesia_added_later(rules: RuleBook) -> None:
    countries = rules.transit.countries
    assert len(countries) == 55
    assert countries["ID"].since == date(2025, 6, 12)
    assert countries["ID"].since_confirmed is False  # [!] facts E2: "June 2025, confirm"
    assert {c.since for code, c in countries.items() if code != "ID"} == {date(2024, 12, 17)}
    assert all(c.since_confirmed for code, c in countries.items() if code != "ID")
    assert "US" in countries
    assert "IN" not in countries
    assert "NO" in countries  # the YAML trap: a bare NO would load as false


def test_country_names_cover_all_languages(rules: RuleBook) -> None:
    for country in rules.transit.countries.values():
        assert set(country.names) == set(LANGUAGES), country.code
    for listed in rules.unilateral.countries.values():
        assert set(listed.names) == set(LANGUAGES), listed.code
    assert rules.transit.countries["DE"].names["de"] == "Deutschland"
    assert rules.transit.countries["JP"].names["zh-Hans"] == "日本"


def test_regions_and_provinces(rules: RuleBook) -> None:
    t = rules.transit
    assert t.regions == frozenset({"HK", "MO", "TW"})
    assert not t.regions & set(t.countries)
    codes = [p.code for p in t.provinces]
    assert len(codes) == 24
    assert "CN-GD" in codes
    guangdong = next(p for p in t.provinces if p.code == "CN-GD")
    assert guangdong.names["zh-Hans"] == "广东"


def test_transit_scalars_and_unconfirmed_clock(rules: RuleBook) -> None:
    t = rules.transit
    assert (t.hours, t.scheme_since, t.passport_min_validity_months, t.registration_hours) == (
        240, date(2024, 12, 17), 3, 24)
    assert t.not_allowed == ("work", "study", "journalism")
    assert t.clock_rule_confirmed is False  # [!] B4


def test_ports(rules: RuleBook) -> None:
    ports = rules.transit.ports
    baoan = ports["szx-baoan"]
    assert (baoan.entry, baoan.entry_since, baoan.kind) == ("confirmed", date(2024, 12, 17), "air")
    assert "SZX" in baoan.aliases and "宝安机场" in baoan.aliases
    luohu = ports["sz-luohu"]
    assert luohu.entry != "confirmed" and luohu.exit != "confirmed"
    assert luohu.entry_since is None
    for port_id in ("sz-huanggang", "sz-futian", "sz-shenzhen-bay", "sz-liantang", "sz-shekou"):
        assert ports[port_id].entry == "unconfirmed", port_id
    assert ports["hk-west-kowloon"].entry_since == date(2025, 11, 5)


def test_unilateral_list_is_partial(rules: RuleBook) -> None:
    u = rules.unilateral
    assert u.max_days == 30
    assert u.complete is False
    assert "US" in u.known_not_listed and "US" not in u.countries
    assert u.countries["JP"].until == date(2026, 12, 31)
    assert u.countries["RU"].until == date(2026, 9, 14)


def test_refund_steps_change_on_26_april_2025(rules: RuleBook) -> None:
    r = rules.refund
    assert in_force(r.min_spend, date(2025, 4, 25)) == Decimal("500")
    assert in_force(r.min_spend, date(2025, 4, 26)) == Decimal("200")
    assert in_force(r.cash_cap, date(2025, 4, 25)) == Decimal("10000")
    assert in_force(r.cash_cap, date(2025, 4, 26)) == Decimal("20000")
    # The old values have no start date in our sources: an undated first step, not an invented one.
    assert r.min_spend[0].since is None and r.cash_cap[0].since is None
    assert in_force(r.min_spend, date(2012, 1, 1)) == Decimal("500")
    assert r.rates == {13: Decimal("11"), 9: Decimal("8")}
    assert (r.fee_percent, r.max_days_after_purchase, r.max_stay_days) == (Decimal("2"), 90, 183)


def test_payment_values_are_exact_decimals(rules: RuleBook) -> None:
    p = rules.payment
    assert p.card_fee_free_up_to == Decimal("200") and p.card_fee_percent == Decimal("3")
    assert p.rmb_per_usd_band == (Decimal("6.5"), Decimal("7.5"))
    assert all(isinstance(v, Decimal) for v in p.rmb_per_usd_band)


def test_every_table_has_meta(rules: RuleBook) -> None:
    for table in (rules.transit, rules.unilateral, rules.refund, rules.payment):
        assert table.meta.sources and all(s.title for s in table.meta.sources)
        assert table.meta.valid_as_of <= date.today()
        # Checked against facts.md, whose sources end in February 2026, like the cards and guides.
        assert table.meta.valid_as_of == date(2026, 2, 28)


def test_in_force_before_first_step_is_none() -> None:
    steps = (Step(date(2025, 1, 1), 1), Step(date(2025, 6, 1), 2))
    assert in_force(steps, date(2024, 12, 31)) is None
    assert in_force(steps, date(2025, 1, 1)) == 1
    assert in_force(steps, date(2030, 1, 1)) == 2


# ---------------------------------------------------------------- malformed tables

def _drop_key(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda data: data.pop(key)


def _set(*keys: str | int, value: object) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        target: Any = data
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return mutate


def _delete(*keys: str | int) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        target: Any = data
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]
    return mutate


MALFORMED = [
    ("missing field", "refund.yaml", _drop_key("fee_percent"), "fee_percent"),
    ("missing meta", "payment.yaml", _drop_key("version"), "version"),
    ("bad ISO code", "transit.yaml", _set("countries", 0, "code", value="usa"), "countries[0].code"),
    ("bare NO", "transit.yaml", _set("countries", 0, "code", value=False), "countries[0].code"),
    ("bad province code", "transit.yaml", _set("provinces", 2, "code", value="GD"), "provinces[2].code"),
    ("54 countries", "transit.yaml", _delete("countries", -1), "countries"),
    ("duplicate country", "transit.yaml", _set("countries", 1, "code", value="AT"), "countries[1]"),
    ("23 provinces", "transit.yaml", _delete("provinces", 0), "provinces"),
    ("regions without TW", "transit.yaml", _set("regions", value=["HK", "MO"]), "regions"),
    ("unsorted steps", "refund.yaml",
     _set("min_spend", value=[{"since": date(2025, 4, 26), "value": 200}, {"since": date(2015, 1, 1), "value": 500}]),
     "min_spend[1].since"),
    ("negative amount", "refund.yaml", _set("cash_cap", 0, "value", value=-1), "cash_cap[0].value"),
    ("undated later step", "refund.yaml", _set("min_spend", 1, "since", value=None), "min_spend[1].since"),
    ("since_confirmed not a flag", "transit.yaml", _set("countries", 0, "since_confirmed", value="no"),
     "countries[0].since_confirmed"),
    ("float amount", "payment.yaml", _set("rmb_per_usd_band", value=[6.5, 7.5]), "rmb_per_usd_band[0]"),
    ("percent over 100", "payment.yaml", _set("card_fee_percent", value=300), "card_fee_percent"),
    ("bad status", "transit.yaml", _set("ports", 0, "entry", value="maybe"), "ports[0].entry"),
    ("bad kind", "transit.yaml", _set("ports", 0, "kind", value="boat"), "ports[0].kind"),
    ("confirmed entry without date", "transit.yaml", _set("ports", 0, "entry_since", value=None),
     "ports[0].entry_since"),
    ("duplicate port", "transit.yaml", _set("ports", 1, "port_id", value="szx-baoan"), "ports[1]"),
    ("future valid_as_of", "payment.yaml", _set("valid_as_of", value=date(2999, 1, 1)), "valid_as_of"),
    ("bad date", "unilateral.yaml", _set("countries", 0, "until", value="31/12/2026"), "countries[0].until"),
    ("missing language name", "transit.yaml", _delete("countries", 3, "names", "th"), "countries[3].names.th"),
    ("missing language name (unilateral)", "unilateral.yaml", _delete("countries", 0, "names", "ar"),
     "countries[0].names.ar"),
    ("source without title", "refund.yaml", _set("sources", value=[{"url": "https://example.org"}]),
     "sources[0].title"),
    ("no sources", "refund.yaml", _set("sources", value=[]), "sources"),
    ("misspelt field", "payment.yaml", _set("card_fee_percnt", value=3), "card_fee_percnt"),
]


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    shutil.copytree(CORPUS / "rules", tmp_path / "rules", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return tmp_path


@pytest.mark.parametrize(("case", "file", "mutate", "field"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_table_names_file_and_field(rules_copy: Path, case: str, file: str,
                                              mutate: Callable[[dict[str, Any]], None], field: str) -> None:
    path = rules_copy / "rules" / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(CorpusError) as caught:
        load_rules(rules_copy)
    assert caught.value.path == str(path)
    assert caught.value.field == field
    assert file in str(caught.value) and field in str(caught.value)


def test_untouched_copy_loads(rules_copy: Path) -> None:
    # Guards the table above: each case fails because of its own change, not because copies are broken.
    for path in rules_files(rules_copy):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert len(load_rules(rules_copy).transit.countries) == 55


def test_missing_file(rules_copy: Path) -> None:
    (rules_copy / "rules" / "payment.yaml").unlink()
    with pytest.raises(CorpusError) as caught:
        load_rules(rules_copy)
    assert caught.value.path.endswith("payment.yaml") and caught.value.field == "file"


def test_unsafe_yaml_is_refused(rules_copy: Path) -> None:
    path = rules_copy / "rules" / "payment.yaml"
    path.write_text("!!python/object/apply:os.system ['true']\n", encoding="utf-8")
    with pytest.raises(CorpusError) as caught:
        load_rules(rules_copy)
    assert caught.value.field == "yaml"


# ---------------------------------------------------------------- the name generator

def _generator() -> ModuleType:
    return load_script(CORPUS / "rules" / "generate_names.py", "generate_names")


def test_generated_names_are_up_to_date() -> None:
    render = _generator().render
    for name in ("transit.yaml", "unilateral.yaml"):
        text = (CORPUS / "rules" / name).read_text(encoding="utf-8")
        assert render(text) == text, f"run corpus/rules/generate_names.py ({name} is out of date)"


def test_generator_fills_a_new_country_and_keeps_comments() -> None:
    text = "rule_id: x  # keep me\ncountries:\n  # a comment\n  - code: IN\n    since: 2030-01-01\n"
    rendered = _generator().render(text)
    country = yaml.safe_load(rendered)["countries"][0]
    assert country["names"]["en"] == "India"
    assert set(country["names"]) == set(LANGUAGES)
    assert country["since"] == date(2030, 1, 1)
    assert "# keep me" in rendered and "# a comment" in rendered
