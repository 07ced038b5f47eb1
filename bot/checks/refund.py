"""Departure tax refund: eligible or not and why, the estimated refund after the agency fee, cash or transfer.

Money is ``Decimal`` end to end and rounded to the fen (0.01 RMB) half-up only when shown, so the estimate is
exact and monotonic in the amount. The minimum spend and the cash cap are taken as in force on the purchase date
(they changed on 26 Apr 2025), or today when no date is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from bot.checks.result import CheckResult, Finding, Value, verdict_of
from bot.checks.rules import RefundRules, RuleBook, in_force
from bot.errors import BadInput

FEN = Decimal("0.01")
METHODS = ("cash", "bank_transfer", "mobile_wallet")


@dataclass(frozen=True)
class RefundQuery:
    amount: Decimal | None = None  # RMB incl. VAT, spent at one refund store on one day
    vat_rate: int | None = None  # 13 or 9; None = say both
    purchase: date | None = None
    departure: date | None = None
    days_in_china: int | None = None  # consecutive days in the mainland before leaving
    method: str | None = None  # cash, bank_transfer, mobile_wallet
    instant: bool = False  # asks about the instant refund at purchase
    # Further purchases told in the same message (amount, VAT rate or None), each at a store or on a day of its own:
    # "2,600 RMB on the 3rd and 1,900 RMB on the 5th", "a laptop for 5,000 (13 %) and books for 2,400 (9 %)".
    others: tuple[tuple[Decimal, int | None], ...] = ()


@dataclass(frozen=True)
class Estimate:
    gross: Decimal
    fee: Decimal
    net: Decimal


def money(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def estimate(amount: Decimal, vat_rate: int, rules: RefundRules) -> Estimate:
    """Refund rate x amount, minus the agency fee (a percentage of the same VAT-inclusive amount)."""
    if vat_rate not in rules.rates:
        raise BadInput(f"VAT rate {vat_rate}% has no refund rate", key="check.bad_vat", rate=vat_rate)
    gross = amount * rules.rates[vat_rate] / 100
    fee = amount * rules.fee_percent / 100
    return Estimate(money(gross), money(fee), money(gross - fee))


def check_refund(query: RefundQuery, rules: RuleBook, today: date) -> CheckResult:
    r = rules.refund
    _validate(query)
    on = query.purchase or today
    minimum = in_force(r.min_spend, on) or r.min_spend[0].value
    cap = in_force(r.cash_cap, on) or r.cash_cap[0].value
    findings: list[Finding] = []
    values: dict[str, Value] = {"minimum": minimum, "cash_cap": cap}

    purchases = ((query.amount, query.vat_rate), *query.others) if query.amount is not None else ()
    # Several purchases: one below the minimum does not count, the others still do (it fails the refund only when
    # no purchase reaches the minimum). The minimum is per store and day, so purchases are never added up for it.
    counted = [(amount, rate) for amount, rate in purchases if amount >= minimum]
    alone = len(purchases) > 1 and bool(counted)  # a purchase below the minimum beside others that count
    for amount, _ in purchases:
        ok = amount >= minimum
        findings.append(Finding("refund.amount_ok" if ok else "refund.amount_below_one" if alone
                                else "refund.amount_below", "ok" if ok else "info" if alone else "fail",
                                {"amount": amount, "minimum": minimum, "on": on}))
    if query.purchase is not None and query.departure is not None:
        days = (query.departure - query.purchase).days
        values["days_after_purchase"] = days
        late = days > r.max_days_after_purchase
        findings.append(Finding("refund.days_late" if late else "refund.days_ok", "fail" if late else "ok",
                                {"days": days, "max": r.max_days_after_purchase,
                                 "last_day": date.fromordinal(query.purchase.toordinal()
                                                              + r.max_days_after_purchase)}))
    if query.days_in_china is not None:
        over = query.days_in_china > r.max_stay_days
        findings.append(Finding("refund.stay_over" if over else "refund.stay_ok", "fail" if over else "ok",
                                {"days": query.days_in_china, "max": r.max_stay_days}))
    # An estimate beside "not eligible" reads like a promise: amounts only when no rule failed.
    if query.amount is not None and not any(f.status == "fail" for f in findings):
        if len(purchases) > 1:
            findings += _several(counted, query.method, r, cap, values)
        else:
            findings += _estimates(query, r, cap, values)
    findings.append(Finding("refund.instant" if query.instant else "refund.procedure", "info",
                            {"max": r.max_days_after_purchase}))
    missing = tuple(name for name, value in (("amount", query.amount), ("purchase_date", query.purchase),
                                             ("departure_date", query.departure)) if value is None)
    found = tuple(findings)
    return CheckResult("refund", verdict_of(found, missing if query.amount is None else ()), found, values,
                       missing, r.meta.version, r.meta.valid_as_of, r.meta.sources)


def _validate(query: RefundQuery) -> None:
    if query.amount is not None and query.amount <= 0:
        raise BadInput("the amount must be positive", key="check.bad_amount", amount=query.amount)
    if query.days_in_china is not None and query.days_in_china < 0:
        raise BadInput("days in China cannot be negative", key="check.bad_days", days=query.days_in_china)
    if query.purchase and query.departure and query.departure < query.purchase:
        raise BadInput("the departure is before the purchase", key="check.departure_before_purchase")
    if query.method is not None and query.method not in METHODS:
        raise BadInput(f"unknown refund method {query.method!r}", key="check.bad_method", method=query.method)


def _estimates(query: RefundQuery, r: RefundRules, cap: Decimal, values: dict[str, Value]) -> list[Finding]:
    assert query.amount is not None
    rates = (query.vat_rate,) if query.vat_rate is not None else tuple(sorted(r.rates, reverse=True))
    found: list[Finding] = []
    results = {rate: estimate(query.amount, rate, r) for rate in rates}
    for rate, est in results.items():
        values[f"net_{rate}"] = est.net
        values[f"gross_{rate}"] = est.gross
        values[f"fee_{rate}"] = est.fee
    if len(results) == 1:
        (rate, est), = results.items()
        found.append(Finding("refund.estimate", "ok", {
            "amount": query.amount, "vat": rate, "rate": r.rates[rate], "gross": est.gross, "fee_pct": r.fee_percent,
            "fee": est.fee, "net": est.net}))
    else:
        found.append(Finding("refund.estimate_both", "ok", {
            "amount": query.amount, "net13": results[13].net, "net9": results[9].net, "fee_pct": r.fee_percent,
            "rate13": r.rates[13], "rate9": r.rates[9]}))
    top = max(est.net for est in results.values())
    if top > cap:
        found.append(Finding("refund.transfer_only", "warn" if query.method == "cash" else "info",
                             {"cap": cap, "net": top}))
    else:
        found.append(Finding("refund.cash_or_transfer", "info", {"cap": cap}))
    return found


def _several(purchases: list[tuple[Decimal, int | None]], method: str | None, r: RefundRules, cap: Decimal,
             values: dict[str, Value]) -> list[Finding]:
    """Each counted purchase's estimate, then their total: "how much do we get back?" asks for the sum. A purchase
    without a stated VAT rate is estimated at both rates, and so is the total."""
    found: list[Finding] = []
    total = {13: Decimal(0), 9: Decimal(0)}
    for amount, rate in purchases:
        found += _estimates(RefundQuery(amount, rate), r, cap, {})[:1]  # its estimate line, not its cash line
        for assumed in total:
            total[assumed] += estimate(amount, rate or assumed, r).net
    spent = sum((amount for amount, _ in purchases), Decimal(0))
    known = all(rate is not None for _, rate in purchases)
    values["net_total"] = total[13]
    if known:
        found.append(Finding("refund.total", "ok", {"count": len(purchases), "amount": spent, "net": total[13]}))
    else:
        values["net_total_9"] = total[9]
        found.append(Finding("refund.total_both", "ok", {"count": len(purchases), "amount": spent,
                                                           "net13": total[13], "net9": total[9]}))
    top = max(total.values())
    if top > cap:  # the cap read on the total: what one counter pays out for the forms shown together
        found.append(Finding("refund.transfer_only", "warn" if method == "cash" else "info", {"cap": cap, "net": top}))
    else:
        found.append(Finding("refund.cash_or_transfer", "info", {"cap": cap}))
    return found
