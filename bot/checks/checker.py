"""The one way into the rule checkers, for the chat, the CLI and the web form alike.

``run_checker(name, query, rules, today)`` runs a checker on its typed query; ``check_fields(name, rules, today,
**fields)`` first parses text fields (command-line flags, form fields) into that query (``inputs.py``). "Today" is
the caller's ``clock.today(settings)``, read once per request: the checkers never read a clock themselves.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, get_args

from bot.checks.inputs import payment_query, refund_query, transit_query
from bot.checks.payment import PaymentQuery, check_payment
from bot.checks.refund import RefundQuery, check_refund
from bot.checks.result import CheckResult
from bot.checks.rules import RuleBook
from bot.checks.transit import TransitQuery, check_transit

CheckerName = Literal["transit", "refund", "payment"]
CHECKERS: tuple[CheckerName, ...] = get_args(CheckerName)
CheckQuery = TransitQuery | RefundQuery | PaymentQuery


def run_checker(name: str, query: CheckQuery, rules: RuleBook, today: date) -> CheckResult:
    """The result of checker ``name`` for ``query``, on the rule tables ``rules`` as of ``today`` (China).
    Raises ``BadInput`` (a message key for the asker's language) for inputs the checker refuses."""
    if name == "transit" and isinstance(query, TransitQuery):
        return check_transit(query, rules, today)
    if name == "refund" and isinstance(query, RefundQuery):
        return check_refund(query, rules, today)
    if name == "payment" and isinstance(query, PaymentQuery):
        return check_payment(query, rules)  # fees and limits do not depend on the day
    raise ValueError(f"checker {name!r} cannot take a {type(query).__name__}; the checkers are {', '.join(CHECKERS)}")


def check_fields(name: str, rules: RuleBook, today: date, **fields: object) -> CheckResult:
    """Checker ``name`` on text fields as a form or the command line gives them (empty = not given), parsed
    strictly by ``inputs.py``: ``BadInput`` names the field at fault."""
    if name == "transit":
        query: CheckQuery = transit_query(rules, **fields)  # type: ignore[arg-type]
    elif name == "refund":
        query = refund_query(**fields)  # type: ignore[arg-type]
    elif name == "payment":
        query = payment_query(**fields)  # type: ignore[arg-type]
    else:
        raise ValueError(f"unknown checker {name!r}; the checkers are {', '.join(CHECKERS)}")
    return run_checker(name, query, rules, today)
