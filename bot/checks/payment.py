"""Paying as a visitor: is this amount allowed with this method, what fee applies, and what to do instead.

Limits for foreign cards are in US dollars while prices are in RMB. There is no rate in our sources, so an RMB
amount is compared through a wide band of plausible rates: clearly under, clearly over, or "depends on the day's
rate" — never a made-up exact conversion.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.checks.refund import money
from bot.checks.result import CheckResult, Finding, Value, verdict_of
from bot.checks.rules import PaymentRules, RuleBook
from bot.errors import BadInput

METHODS = ("alipay_wechat_card", "ecny_anonymous", "cash")
CURRENCIES = ("CNY", "USD")


@dataclass(frozen=True)
class PaymentQuery:
    amount: Decimal | None = None
    currency: str = "CNY"  # CNY or USD
    method: str | None = None  # None = say what applies to each method
    spent_today: Decimal | None = None  # RMB already paid today from the e-CNY anonymous wallet
    # Further RMB payments told in the same message ("199, then 201, then 3,000"): a card's fees are per payment,
    # so each is charged on its own and the fees are added up; the per-payment limit is judged on the largest.
    others: tuple[Decimal, ...] = ()


def card_fee(amount_rmb: Decimal, rules: PaymentRules) -> Decimal:
    """No fee up to the free limit (inclusive); above it, the percentage applies to the *whole* amount."""
    if amount_rmb <= rules.card_fee_free_up_to:
        return Decimal(0)
    return money(amount_rmb * rules.card_fee_percent / 100)


def check_payment(query: PaymentQuery, rules: RuleBook) -> CheckResult:
    p = rules.payment
    _validate(query)
    findings: list[Finding] = []
    values: dict[str, Value] = {}
    methods = (query.method,) if query.method else ("alipay_wechat_card", "ecny_anonymous")
    if query.amount is not None:
        for method in methods:
            if method == "alipay_wechat_card" and query.others and query.currency == "CNY":
                findings += _cards(query.amount, query.others, p, values)
            elif method == "alipay_wechat_card":
                findings += _card(query.amount, query.currency, p, values)
            elif method == "ecny_anonymous":
                findings += _ecny(query, p, values)
            else:
                findings.append(Finding("payment.cash", "ok"))
    missing = ("amount",) if query.amount is None else ()
    found = tuple(findings)
    verdict = verdict_of(found, missing)
    if query.method is None and query.amount is not None and verdict == "no" and any(
            f.status == "ok" and f.key.endswith(("_ok", "_within")) for f in found):
        # One method works and another does not: the answer depends on the method, so ask for it.
        verdict, missing = "incomplete", ("method",)
    return CheckResult("payment", verdict, found, values, missing, p.meta.version, p.meta.valid_as_of,
                       p.meta.sources)


def _validate(query: PaymentQuery) -> None:
    if query.amount is not None and query.amount <= 0:
        raise BadInput("the amount must be positive", key="check.bad_amount", amount=query.amount)
    if query.currency not in CURRENCIES:
        raise BadInput(f"amounts in {query.currency} cannot be checked", key="check.bad_currency",
                       currency=query.currency)
    if query.method is not None and query.method not in METHODS:
        raise BadInput(f"unknown payment method {query.method!r}", key="check.bad_method", method=query.method)
    if query.spent_today is not None and query.spent_today < 0:
        raise BadInput("the amount must be positive", key="check.bad_amount", amount=query.spent_today)


def _card(amount: Decimal, currency: str, p: PaymentRules, values: dict[str, Value]) -> list[Finding]:
    low, high = p.rmb_per_usd_band
    found: list[Finding] = []
    if currency == "USD":
        usd_low = usd_high = amount
    else:
        usd_low, usd_high = amount / high, amount / low
        fee = card_fee(amount, p)
        values["card_fee"] = fee
        if fee == 0:
            found.append(Finding("payment.card_free", "ok", {"amount": amount, "free": p.card_fee_free_up_to}))
        else:
            found.append(Finding("payment.card_fee", "ok", {"amount": amount, "free": p.card_fee_free_up_to,
                                                            "pct": p.card_fee_percent, "fee": fee}))
    limit = p.card_per_txn_usd
    if usd_low > limit:
        found.append(Finding("payment.card_over", "fail", {"limit": limit, "year": p.card_per_year_usd}))
    elif usd_high > limit:
        found.append(Finding("payment.card_depends", "warn", {"limit": limit, "low": money(usd_low),
                                                              "high": money(usd_high)}))
    else:
        found.append(Finding("payment.card_within", "ok", {"limit": limit, "year": p.card_per_year_usd}))
    return found


def _cards(first: Decimal, others: tuple[Decimal, ...], p: PaymentRules, values: dict[str, Value]) -> list[Finding]:
    """Several card payments: the fee of each (a payment within the free limit has none), their sum, and the
    per-payment limit for the largest (the others are smaller)."""
    payments = (first, *others)
    found: list[Finding] = []
    for amount in payments:
        found += [f for f in _card(amount, "CNY", p, {}) if f.key in ("payment.card_free", "payment.card_fee")]
    total = sum((card_fee(a, p) for a in payments), Decimal(0))
    values["card_fee"] = total
    found.append(Finding("payment.card_fee_total", "ok", {"count": len(payments), "amount": sum(payments, Decimal(0)),
                                                          "fee": money(total)}))
    found += [f for f in _card(max(payments), "CNY", p, {}) if f.key not in ("payment.card_free", "payment.card_fee")]
    return found


def _ecny(query: PaymentQuery, p: PaymentRules, values: dict[str, Value]) -> list[Finding]:
    assert query.amount is not None
    if query.currency != "CNY":
        return [Finding("payment.ecny_rmb_only", "info")]
    if query.amount > p.ecny_anonymous_per_payment:
        return [Finding("payment.ecny_over", "fail", {"amount": query.amount,
                                                      "per_payment": p.ecny_anonymous_per_payment})]
    spent = query.spent_today or Decimal(0)
    values["ecny_left_today"] = max(p.ecny_anonymous_per_day - spent, Decimal(0))
    if spent + query.amount > p.ecny_anonymous_per_day:
        return [Finding("payment.ecny_day_over", "fail", {"spent": spent, "per_day": p.ecny_anonymous_per_day})]
    return [Finding("payment.ecny_ok", "ok", {"per_payment": p.ecny_anonymous_per_payment,
                                              "per_day": p.ecny_anonymous_per_day})]
