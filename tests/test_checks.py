"""Rule checkers: a table row per rule and edge, and properties that must hold for every input."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checks import PaymentQuery, RefundQuery, TransitQuery, check_payment, check_refund, check_transit
from bot.checks.payment import card_fee
from bot.checks.refund import estimate
from bot.checks.rules import RuleBook, load_rules
from bot.checks.transit import CHINA, exit_deadline
from bot.errors import BadInput

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 11, 27)


@pytest.fixture(scope="module")
def rules() -> RuleBook:
    return load_rules(ROOT / "corpus")


def keys(result: object) -> list[str]:
    return [f.key for f in result.findings]  # type: ignore[attr-defined]


# ---------------------------------------------------------------- transit: table

@pytest.mark.parametrize(("entry", "last_day"), [
    (datetime(2026, 12, 3, 15, 0), date(2026, 12, 13)),
    (datetime(2026, 12, 3, 0, 0), date(2026, 12, 13)),  # midnight entry: still the day of entry
    (datetime(2026, 12, 3, 23, 59), date(2026, 12, 13)),
    (datetime(2026, 12, 31, 23, 59), date(2027, 1, 10)),  # across the year
    (datetime(2027, 2, 22, 8, 0), date(2027, 3, 4)),  # across February (28 days)
    (datetime(2028, 2, 22, 8, 0), date(2028, 3, 3)),  # leap year
    (date(2026, 12, 3), date(2026, 12, 13)),  # date without a time
])
def test_transit_deadline_table(rules: RuleBook, entry: datetime | date, last_day: date) -> None:
    result = check_transit(TransitQuery("US", "US", "HK", "szx-baoan", entry), rules)
    assert result.values["last_day"] == last_day
    assert result.values["deadline"] == datetime.combine(last_day + timedelta(days=1), time(0, 0))


@pytest.mark.parametrize(("moment", "china_day"), [
    # 23:30 UTC on 2 Dec is 07:30 on 3 Dec in China: the count follows the day in China.
    (datetime(2026, 12, 2, 23, 30, tzinfo=UTC), date(2026, 12, 3)),
    (datetime(2026, 12, 3, 1, 0, tzinfo=timezone(timedelta(hours=9))), date(2026, 12, 3)),  # Tokyo 01:00 = 00:00
    (datetime(2026, 12, 3, 0, 30, tzinfo=timezone(timedelta(hours=9))), date(2026, 12, 2)),  # Tokyo 00:30 = 23:30
])
def test_transit_time_zones(rules: RuleBook, moment: datetime, china_day: date) -> None:
    result = check_transit(TransitQuery("US", "US", "HK", "szx-baoan", moment), rules)
    assert result.values["last_day"] == china_day + timedelta(days=10)


@pytest.mark.parametrize(("nationality", "origin", "destination", "key", "verdict"), [
    ("US", "US", "HK", "transit.route_ok", "yes"),
    ("US", "HK", "HK", "transit.route_same", "no"),  # HK -> mainland -> HK
    ("US", "JP", "JP", "transit.route_same", "no"),  # same origin and destination
    ("US", "HK", "MO", "transit.route_ok", "yes"),  # two regions are different places
    ("US", "TW", "HK", "transit.route_ok", "yes"),
    ("US", "CN", "HK", "transit.route_mainland", "no"),
    ("IN", "US", "HK", "transit.nationality_not_listed", "no"),
    ("CN", "US", "HK", "transit.nationality_mainland", "no"),
    ("HK", "US", "JP", "transit.nationality_region", "no"),
])
def test_transit_eligibility_table(rules: RuleBook, nationality: str, origin: str, destination: str, key: str,
                                   verdict: str) -> None:
    result = check_transit(TransitQuery(nationality, origin, destination, "szx-baoan", datetime(2026, 12, 3, 15)),
                           rules)
    assert key in keys(result)
    assert result.verdict == verdict


def test_transit_no_deadline_when_not_eligible(rules: RuleBook) -> None:
    result = check_transit(TransitQuery("IN", "US", "HK", "szx-baoan", datetime(2026, 12, 3, 15)), rules)
    assert "transit.deadline" not in keys(result)
    assert "deadline" not in result.values


def test_transit_indonesia_date_is_unconfirmed_around_june_2025(rules: RuleBook) -> None:
    # [!] facts E2: "June 2025, confirm" (12 Jun 2025 is only reported): before it or around it the checker must
    # not say a hard "not yet eligible", but "unconfirmed, ask 12367".
    for day in (date(2025, 5, 20), date(2025, 6, 11), date(2025, 6, 12), date(2025, 6, 30)):
        result = check_transit(TransitQuery("ID", "SG", "JP", "szx-baoan", day), rules)
        assert "transit.nationality_since_unconfirmed" in keys(result), day
        assert "transit.nationality_not_yet" not in keys(result), day
        assert result.verdict == "unsure" and result.escalation == "12367", day
    after = check_transit(TransitQuery("ID", "SG", "JP", "szx-baoan", date(2025, 7, 1)), rules)
    assert "transit.nationality_ok" in keys(after) and after.verdict == "yes"


def test_transit_confirmed_date_still_says_not_yet(rules: RuleBook) -> None:
    # Every other country's date (17 Dec 2024) is confirmed: an earlier entry is a hard "no".
    result = check_transit(TransitQuery("US", "US", "JP", "szx-baoan", date(2024, 12, 16)), rules)
    assert result.verdict == "no" and "transit.nationality_not_yet" in keys(result)


def test_transit_land_port_is_unconfirmed(rules: RuleBook) -> None:
    result = check_transit(TransitQuery("US", "US", "JP", "sz-luohu", date(2026, 12, 3)), rules)
    assert result.verdict == "unsure"
    assert "transit.port_unconfirmed" in keys(result)
    assert result.escalation == "12367"


def test_transit_new_guangdong_port_opens_5_nov_2025(rules: RuleBook) -> None:
    assert "transit.port_not_yet" in keys(check_transit(TransitQuery("US", "US", "JP", "zhuhai-hengqin",
                                                                     date(2025, 11, 4)), rules))
    assert "transit.port_ok" in keys(check_transit(TransitQuery("US", "US", "JP", "zhuhai-hengqin",
                                                                date(2025, 11, 5)), rules))


@pytest.mark.parametrize(("planned", "late"), [
    (datetime(2026, 12, 13, 23, 59), False),
    (datetime(2026, 12, 14, 0, 0), True),  # 24:00 on the 13th is the first late instant
    (date(2026, 12, 13), False),
    (date(2026, 12, 14), True),
])
def test_transit_planned_exit(rules: RuleBook, planned: datetime | date, late: bool) -> None:
    result = check_transit(TransitQuery("US", "US", "HK", "szx-baoan", datetime(2026, 12, 3, 15), planned), rules)
    assert ("transit.planned_late" in keys(result)) is late
    assert (result.verdict == "no") is late


def test_transit_missing_inputs_are_named(rules: RuleBook) -> None:
    result = check_transit(TransitQuery(nationality="FR"), rules)
    assert result.verdict == "incomplete"
    assert set(result.missing) == {"origin", "destination", "entry_date"}
    assert "transit.unilateral" in keys(result)  # France: the 30-day scheme is the simpler route


def test_transit_bad_inputs(rules: RuleBook) -> None:
    with pytest.raises(BadInput) as err:
        check_transit(TransitQuery(entry_port="atlantis"), rules)
    assert err.value.key == "check.unknown_port"
    with pytest.raises(BadInput):
        check_transit(TransitQuery(nationality="usa"), rules)
    with pytest.raises(BadInput) as err:
        check_transit(TransitQuery("US", entry=datetime(2026, 12, 3, 15), planned_exit=datetime(2026, 12, 1)), rules)
    assert err.value.key == "check.exit_before_entry"


# ---------------------------------------------------------------- transit: properties

@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2030, 12, 31)),
       st.integers(min_value=-12, max_value=14))
def test_deadline_is_always_24h00_on_day_ten(moment: datetime, offset_hours: int) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(hours=offset_hours)))
    day_in_china = aware.astimezone(CHINA).date()
    deadline = exit_deadline(aware)
    assert deadline.time() == time(0, 0)
    assert deadline.date() == day_in_china + timedelta(days=11)  # 24:00 on day + 10 == 00:00 on day + 11
    assert timedelta(hours=240) < deadline - aware.astimezone(CHINA) <= timedelta(hours=264)


# ---------------------------------------------------------------- refund: table

@pytest.mark.parametrize(("amount", "vat", "net"), [
    ("1200", 13, "108.00"), ("1200", 9, "72.00"), ("200", 13, "18.00"), ("1000", 13, "90.00"),
    ("250000", 13, "22500.00"), ("333.33", 13, "30.00"), ("201", 9, "12.06"),
])
def test_refund_estimate_table(rules: RuleBook, amount: str, vat: int, net: str) -> None:
    result = check_refund(RefundQuery(Decimal(amount), vat), rules, TODAY)
    assert result.values[f"net_{vat}"] == Decimal(net)


@pytest.mark.parametrize(("amount", "eligible"), [("199", False), ("199.99", False), ("200", True), ("201", True)])
def test_refund_minimum_spend(rules: RuleBook, amount: str, eligible: bool) -> None:
    result = check_refund(RefundQuery(Decimal(amount)), rules, TODAY)
    assert ("refund.amount_ok" in keys(result)) is eligible
    assert (result.verdict == "no") is not eligible


def test_refund_minimum_was_500_before_26_april_2025(rules: RuleBook) -> None:
    old = check_refund(RefundQuery(Decimal(300), purchase=date(2025, 4, 25), departure=date(2025, 5, 1)), rules,
                       TODAY)
    new = check_refund(RefundQuery(Decimal(300), purchase=date(2025, 4, 26), departure=date(2025, 5, 1)), rules,
                       TODAY)
    assert old.verdict == "no" and new.verdict == "yes"


@pytest.mark.parametrize(("days", "ok"), [(89, True), (90, True), (91, False)])
def test_refund_90_days(rules: RuleBook, days: int, ok: bool) -> None:
    purchase = date(2026, 12, 1)
    result = check_refund(RefundQuery(Decimal(1000), 13, purchase, purchase + timedelta(days=days)), rules, TODAY)
    assert ("refund.days_ok" in keys(result)) is ok
    assert result.values["days_after_purchase"] == days


@pytest.mark.parametrize(("days", "ok"), [(182, True), (183, True), (184, False)])
def test_refund_183_days(rules: RuleBook, days: int, ok: bool) -> None:
    result = check_refund(RefundQuery(Decimal(1000), days_in_china=days), rules, TODAY)
    assert (result.verdict != "no") is ok


@pytest.mark.parametrize(("amount", "key"), [
    ("222222", "refund.cash_or_transfer"),  # net 19,999.98: cash still possible
    ("222223", "refund.transfer_only"),  # net 20,000.07: above the cap
])
def test_refund_cash_cap(rules: RuleBook, amount: str, key: str) -> None:
    assert key in keys(check_refund(RefundQuery(Decimal(amount), 13), rules, TODAY))


def test_refund_without_vat_gives_both_and_asks_for_dates(rules: RuleBook) -> None:
    result = check_refund(RefundQuery(Decimal(1200)), rules, TODAY)
    assert "refund.estimate_both" in keys(result)
    assert result.verdict == "yes"
    assert set(result.missing) == {"purchase_date", "departure_date"}


@pytest.mark.parametrize("query", [
    RefundQuery(Decimal(-5)), RefundQuery(Decimal(0)), RefundQuery(Decimal(500), 7),
    RefundQuery(Decimal(500), purchase=date(2026, 12, 5), departure=date(2026, 12, 1)),
    RefundQuery(Decimal(500), days_in_china=-1), RefundQuery(Decimal(500), method="bitcoin"),
])
def test_refund_bad_inputs(rules: RuleBook, query: RefundQuery) -> None:
    with pytest.raises(BadInput) as err:
        check_refund(query, rules, TODAY)
    assert err.value.key.startswith("check.")


# ---------------------------------------------------------------- refund: properties

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000000"), places=2)


@settings(max_examples=300, deadline=None)
@given(amounts, amounts, st.sampled_from([13, 9]))
def test_refund_is_monotonic_in_the_amount(rules: RuleBook, a: Decimal, b: Decimal, vat: int) -> None:
    low, high = sorted((a, b))
    assert estimate(low, vat, rules.refund).net <= estimate(high, vat, rules.refund).net


@settings(max_examples=300, deadline=None)
@given(amounts, st.sampled_from([13, 9]))
def test_no_refund_below_the_minimum_and_net_below_gross(rules: RuleBook, amount: Decimal, vat: int) -> None:
    result = check_refund(RefundQuery(amount, vat), rules, TODAY)
    if amount < 200:
        assert result.verdict == "no" and f"net_{vat}" not in result.values
    else:
        net, gross = result.values[f"net_{vat}"], result.values[f"gross_{vat}"]
        assert Decimal(0) < net < gross < amount  # type: ignore[operator]


# ---------------------------------------------------------------- payment

@pytest.mark.parametrize(("amount", "fee"), [("1", "0"), ("200", "0"), ("200.01", "6.00"), ("201", "6.03"),
                                             ("300", "9.00"), ("450", "13.50")])
def test_card_fee_table(rules: RuleBook, amount: str, fee: str) -> None:
    assert card_fee(Decimal(amount), rules.payment) == Decimal(fee)


@pytest.mark.parametrize(("amount", "currency", "key"), [
    ("5000", "USD", "payment.card_within"), ("5001", "USD", "payment.card_over"),
    ("30000", "CNY", "payment.card_within"),  # under US$5,000 at any plausible rate
    ("36000", "CNY", "payment.card_depends"),  # US$4,800-5,538: depends on the day's rate
    ("40000", "CNY", "payment.card_over"),
])
def test_card_limit(rules: RuleBook, amount: str, currency: str, key: str) -> None:
    result = check_payment(PaymentQuery(Decimal(amount), currency, "alipay_wechat_card"), rules)
    assert key in keys(result)


@pytest.mark.parametrize(("amount", "spent", "key"), [
    ("2000", None, "payment.ecny_ok"), ("2000.01", None, "payment.ecny_over"),
    ("1500", "3500", "payment.ecny_ok"), ("1500", "3600", "payment.ecny_day_over"),
])
def test_ecny_anonymous_limits(rules: RuleBook, amount: str, spent: str | None, key: str) -> None:
    query = PaymentQuery(Decimal(amount), "CNY", "ecny_anonymous", Decimal(spent) if spent else None)
    assert key in keys(check_payment(query, rules))


def test_several_card_payments_add_up_their_fees(rules: RuleBook) -> None:
    # each payment is charged on its own: 199 has none, 201 pays 6.03, 3,000 pays 90; the limit is the largest's
    query = PaymentQuery(Decimal(199), "CNY", "alipay_wechat_card", others=(Decimal(201), Decimal(3000)))
    result = check_payment(query, rules)
    assert result.values["card_fee"] == Decimal("96.03")
    assert keys(result).count("payment.card_fee") == 2 and "payment.card_within" in keys(result)


def test_payment_without_method_covers_both(rules: RuleBook) -> None:
    result = check_payment(PaymentQuery(Decimal(2500)), rules)
    assert {"payment.card_fee", "payment.ecny_over"} <= set(keys(result))


@pytest.mark.parametrize("query", [PaymentQuery(Decimal(-1)), PaymentQuery(Decimal(10), "EUR"),
                                   PaymentQuery(Decimal(10), method="gold")])
def test_payment_bad_inputs(rules: RuleBook, query: PaymentQuery) -> None:
    with pytest.raises(BadInput):
        check_payment(query, rules)


@settings(max_examples=300, deadline=None)
@given(amounts, amounts)
def test_card_fee_is_monotonic_and_zero_up_to_200(rules: RuleBook, a: Decimal, b: Decimal) -> None:
    low, high = sorted((a, b))
    assert card_fee(low, rules.payment) <= card_fee(high, rules.payment)
    if high <= 200:
        assert card_fee(high, rules.payment) == 0


def test_every_result_carries_version_sources_and_date(rules: RuleBook) -> None:
    for result in (check_transit(TransitQuery("US"), rules), check_refund(RefundQuery(Decimal(300)), rules, TODAY),
                   check_payment(PaymentQuery(Decimal(300)), rules)):
        assert result.rule_version and result.sources and result.valid_as_of <= TODAY
        data = result.as_json()
        assert data["rule_version"] == result.rule_version and data["sources"]


def test_refund_several_purchases_count_each_and_add_up(rules: RuleBook) -> None:
    """"2,600 RMB on the 3rd and 1,900 on the 5th": each purchase meets the minimum on its own (never added up for
    it), one below the minimum does not count, and the answer to "how much in total?" is the sum of the others."""
    result = check_refund(RefundQuery(Decimal(2600), 13, others=((Decimal(1900), 13), (Decimal(150), 13))), rules,
                          date(2026, 12, 7))
    keys = [f.key for f in result.findings]
    assert result.verdict != "no"
    assert keys.count("refund.amount_ok") == 2 and "refund.amount_below_one" in keys
    assert result.values["net_total"] == Decimal("405.00")  # (2,600 + 1,900) x (11 % - 2 %)
    # a rate not stated: the total at both rates
    both = check_refund(RefundQuery(Decimal(1000), 9, others=((Decimal(2000), None),)), rules, date(2026, 12, 7))
    assert both.values["net_total"] == Decimal("240.00") and both.values["net_total_9"] == Decimal("180.00")
    # no purchase reaches the minimum: no refund
    none = check_refund(RefundQuery(Decimal(150), 13, others=((Decimal(120), 13),)), rules, date(2026, 12, 7))
    assert none.verdict == "no" and "net_total" not in none.values
