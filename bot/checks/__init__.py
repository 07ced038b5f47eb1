"""Deterministic rule checkers: exact answers to "when must I leave?", "how much do I get back?", "can I pay this?".

Each checker is a pure function of a typed query and the rule tables (``bot.checks.rules``); it returns a
``CheckResult`` with its reasoning as message keys, the rule version, ``valid_as_of`` and the sources, so the
chat, the CLI and the web form all show the same computation in the asker's language (``render``). They all go
in through ``run_checker`` / ``check_fields`` (``checker.py``).
"""

from bot.checks.checker import CHECKERS, CheckerName, CheckQuery, check_fields, run_checker
from bot.checks.payment import PaymentQuery, check_payment
from bot.checks.refund import RefundQuery, check_refund
from bot.checks.result import CheckResult, Finding, Place, PortRef
from bot.checks.transit import TransitQuery, check_transit

__all__ = [
    "CHECKERS", "CheckQuery", "CheckResult", "CheckerName", "Finding", "PaymentQuery", "Place", "PortRef",
    "RefundQuery", "TransitQuery", "check_fields", "check_payment", "check_refund", "check_transit", "run_checker",
]
