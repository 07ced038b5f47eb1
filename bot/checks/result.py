"""What every checker returns: a verdict, its reasons as message keys with typed values, and the rule's pedigree."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Literal

from bot.schema import Source

Verdict = Literal["yes", "no", "unsure", "incomplete"]
Status = Literal["ok", "fail", "warn", "info", "unconfirmed"]


@dataclass(frozen=True)
class Place:
    """A country or region, named in the reader's language when rendered (ISO 3166-1 alpha-2)."""

    code: str


@dataclass(frozen=True)
class PortRef:
    """A port from the transit table, named in the reader's language when rendered."""

    port_id: str


Value = str | int | Decimal | date | datetime | time | Place | PortRef | tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    """One step of the reasoning: ``key`` names a template in ``prompts/checks.yaml``."""

    key: str
    status: Status
    params: Mapping[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckResult:
    checker: Literal["transit", "refund", "payment"]
    verdict: Verdict
    findings: tuple[Finding, ...]
    values: Mapping[str, Value]  # the computed figures (deadline, net refund, fee …) for machines
    missing: tuple[str, ...]  # input names still needed for a full answer
    rule_version: str
    valid_as_of: date
    sources: tuple[Source, ...]
    escalation: str = ""  # "12367" / "12345" when something is unconfirmed

    def as_json(self) -> dict[str, object]:
        return {
            "checker": self.checker, "verdict": self.verdict, "missing": list(self.missing),
            "values": {k: _plain(v) for k, v in self.values.items()},
            "findings": [{"key": f.key, "status": f.status, "params": {k: _plain(v) for k, v in f.params.items()}}
                         for f in self.findings],
            "rule_version": self.rule_version, "valid_as_of": self.valid_as_of.isoformat(),
            "sources": [{"title": s.title, "url": s.url} for s in self.sources], "escalation": self.escalation,
        }


def _plain(value: object) -> object:
    """JSON-safe form: ISO dates, decimal strings (exact, unlike floats), codes for places and ports."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Place):
        return value.code
    if isinstance(value, PortRef):
        return value.port_id
    if isinstance(value, tuple):
        return list(value)
    return value


def verdict_of(findings: tuple[Finding, ...], missing: tuple[str, ...]) -> Verdict:
    """A failed rule decides "no" even with inputs missing; otherwise missing inputs, then doubts, lower it."""
    statuses = {f.status for f in findings}
    if "fail" in statuses:
        return "no"
    if missing:
        return "incomplete"
    if "unconfirmed" in statuses:
        return "unsure"
    return "yes"
