"""240-hour visa-free transit: eligible or not, and why; the latest exit time; what is not allowed or unconfirmed.

Pure: the rule tables and the query in, a ``CheckResult`` out. Times are China Standard Time; an entry time given
with another zone is converted first, because the day of entry (which starts the count) is the day in China.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.checks.result import CheckResult, Finding, Place, PortRef, Value, verdict_of
from bot.checks.rules import RuleBook
from bot.clock import CHINA
from bot.errors import BadInput

MAINLAND = "CN"


@dataclass(frozen=True)
class TransitQuery:
    nationality: str | None = None  # ISO 3166-1 alpha-2 of the passport
    origin: str | None = None  # where the traveller flies in from (country or region code)
    destination: str | None = None  # where they go next, after China
    entry_port: str | None = None  # port id from corpus/rules/transit.yaml
    entry: datetime | date | None = None  # naive = China time; a bare date when the time was not given
    planned_exit: datetime | date | None = None  # naive = China time; a bare date = some time that day
    exit_port: str | None = None


def china_time(moment: datetime) -> datetime:
    """Naive datetimes are already China time; aware ones are converted (the count follows the day in China)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=CHINA)
    return moment.astimezone(CHINA)


def _entry_time(entry: datetime | date | None) -> datetime | None:
    if entry is None:
        return None
    if isinstance(entry, datetime):
        return china_time(entry)
    return datetime.combine(entry, time(0, 0), tzinfo=CHINA)


def _shown(given: datetime | date, in_china: datetime) -> Value:
    """What the reader sees: China time when a time was given; a bare date stays a date (no made-up hour)."""
    return in_china.replace(tzinfo=None) if isinstance(given, datetime) else in_china.date()


def _planned_time(planned: datetime | date) -> datetime:
    """A bare date is judged by its last minute: leaving "on the last day" is in time whatever the hour."""
    if isinstance(planned, datetime):
        return china_time(planned)
    return datetime.combine(planned, time(23, 59), tzinfo=CHINA)


def exit_deadline(entry: datetime, hours: int = 240) -> datetime:
    """The first instant the traveller is late: 00:00 China time on (entry day + 1 + hours/24).

    The clock starts at 00:00 on the day after entry, so an entry at 00:05 and one at 23:55 on the same day share a
    deadline: 24:00 on the 10th day after the entry day, i.e. 00:00 on the 11th.
    """
    day = china_time(entry).date()
    return datetime.combine(day + timedelta(days=1 + hours // 24), time(0, 0), tzinfo=CHINA)


def check_transit(query: TransitQuery, rules: RuleBook, today: date | None = None) -> CheckResult:
    """Eligibility for the 240-hour scheme with reasons, the latest exit, and simpler schemes that may apply.
    ``today`` (China) dates the 30-day list when no entry date is given: a scheme that has ended is said so."""
    t = rules.transit
    _validate_codes(query, rules)
    findings: list[Finding] = []
    values: dict[str, Value] = {}
    entry = _entry_time(query.entry)
    on = entry.date() if entry else None
    # What the reader sees: the entry as given (a bare date stays a date; no made-up time of day).
    shown: Value | None = _shown(query.entry, entry) if query.entry is not None and entry else None

    findings += _nationality(query.nationality, on, rules)
    findings += route_findings(query.origin, query.destination, t.regions)
    findings += _ports(query, on, rules)
    # No deadline for a trip that does not qualify: a date next to "not eligible" reads like permission.
    if entry is not None and not any(f.status == "fail" for f in findings):
        deadline = exit_deadline(entry, t.hours)
        last_day = deadline.date() - timedelta(days=1)
        assert shown is not None
        values.update(entry=shown, count_starts=entry.date() + timedelta(days=1),
                      last_day=last_day, deadline=deadline.replace(tzinfo=None))
        findings.append(Finding("transit.deadline", "info", {
            "entry": shown, "start": entry.date() + timedelta(days=1), "deadline": last_day, "hours": t.hours}))
        if not t.clock_rule_confirmed:
            # A doubt about how to count, not about eligibility: shown and escalated, but the verdict stands.
            findings.append(Finding("transit.clock_unconfirmed", "warn"))
        if query.planned_exit is not None:
            planned = _planned_time(query.planned_exit)
            if planned < entry:
                raise BadInput("the planned exit is before the entry", key="check.exit_before_entry")
            late = planned >= deadline
            findings.append(Finding("transit.planned_late" if late else "transit.planned_ok",
                                    "fail" if late else "ok", {"planned": _shown(query.planned_exit, planned),
                                                               "deadline": last_day}))
    if query.nationality not in (None, MAINLAND, *t.regions):
        findings.append(Finding("transit.conditions", "info", {"months": t.passport_min_validity_months}))
        findings.append(Finding("transit.not_allowed", "info", {"hours": t.registration_hours}))
        findings += _unilateral(query.nationality, on or today, rules)
    missing = tuple(name for name, value in (("nationality", query.nationality), ("origin", query.origin),
                                             ("destination", query.destination), ("entry_date", query.entry))
                    if value is None)
    found = tuple(findings)
    doubtful = any(f.status in ("unconfirmed", "warn") for f in found)
    return CheckResult("transit", verdict_of(found, missing), found, values, missing, t.meta.version,
                       t.meta.valid_as_of, t.meta.sources, "12367" if doubtful or missing else "")


def _validate_codes(query: TransitQuery, rules: RuleBook) -> None:
    for name in ("entry_port", "exit_port"):
        port = getattr(query, name)
        if port is not None and port not in rules.transit.ports:
            raise BadInput(f"unknown port {port!r}", key="check.unknown_port", port=port)
    for name in ("nationality", "origin", "destination"):
        code = getattr(query, name)
        if code is not None and (len(code) != 2 or not code.isalpha() or not code.isupper()):
            raise BadInput(f"{name}: {code!r} is not a two-letter country code", key="check.unknown_country",
                           country=code)


def _nationality(code: str | None, on: date | None, rules: RuleBook) -> list[Finding]:
    t = rules.transit
    if code is None:
        return []
    if code == MAINLAND:
        return [Finding("transit.nationality_mainland", "fail")]
    if code in t.regions:
        return [Finding("transit.nationality_region", "fail", {"country": Place(code)})]
    country = t.countries.get(code)
    if country is None:
        return [Finding("transit.nationality_not_listed", "fail", {"country": Place(code), "n": len(t.countries)})]
    if on is not None and not country.since_confirmed and on < _month_after(country.since):
        # [!] A date known only from secondary reports ("June 2025, confirm"): before it or around it (to the end
        # of its month) the answer is "unconfirmed, ask 12367", never a hard "not yet eligible".
        return [Finding("transit.nationality_since_unconfirmed", "unconfirmed",
                        {"country": Place(code), "since": country.since})]
    if on is not None and on < country.since:
        return [Finding("transit.nationality_not_yet", "fail", {"country": Place(code), "since": country.since})]
    return [Finding("transit.nationality_ok", "ok", {"country": Place(code), "n": len(t.countries)})]


def _month_after(day: date) -> date:
    """The first day of the month after ``day``'s month."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def route_findings(origin: str | None, destination: str | None, regions: frozenset[str]) -> list[Finding]:
    """The third-country rule: arrive from one country or region, leave for a different one; HK, MO and TW are
    regions of their own, so HK -> mainland -> HK fails while US -> mainland -> HK passes."""
    if origin is None or destination is None:
        return []
    if MAINLAND in (origin, destination):
        return [Finding("transit.route_mainland", "fail")]
    if origin == destination:
        return [Finding("transit.route_same", "fail", {"origin": Place(origin)})]
    return [Finding("transit.route_ok", "ok", {"origin": Place(origin), "destination": Place(destination)})]


def _ports(query: TransitQuery, on: date | None, rules: RuleBook) -> list[Finding]:
    ports = rules.transit.ports
    found: list[Finding] = []
    if query.entry_port is not None:
        port = ports[query.entry_port]
        ref = PortRef(port.port_id)
        if port.entry == "confirmed" and port.entry_since is not None and on is not None and on < port.entry_since:
            found.append(Finding("transit.port_not_yet", "fail", {"port": ref, "since": port.entry_since}))
        elif port.entry == "confirmed":
            found.append(Finding("transit.port_ok", "ok", {"port": ref}))
        elif port.entry == "unconfirmed":
            found.append(Finding("transit.port_unconfirmed", "unconfirmed", {"port": ref}))
        else:
            found.append(Finding("transit.port_no", "fail", {"port": ref}))
    if query.exit_port is not None and ports[query.exit_port].exit != "confirmed":
        found.append(Finding("transit.exit_port_unconfirmed", "unconfirmed", {"port": PortRef(query.exit_port)}))
    return found


def _unilateral(code: str | None, on: date | None, rules: RuleBook) -> list[Finding]:
    """Travellers on the 30-day list usually need no transit scheme at all: say so, with its end date."""
    u = rules.unilateral
    if code is None:
        return []
    entry = u.countries.get(code)
    if entry is not None:
        if on is not None and on > entry.until:
            return [Finding("transit.unilateral_ended", "warn", {"country": Place(code), "until": entry.until})]
        return [Finding("transit.unilateral", "info", {"country": Place(code), "days": u.max_days,
                                                       "until": entry.until})]
    if code in u.known_not_listed:
        return [Finding("transit.unilateral_not_listed", "info", {"country": Place(code)})]
    return []
