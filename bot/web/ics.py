"""Deadlines a checker computed, as an ``.ics`` calendar file the visitor can add to their phone (#18).

Two deadlines qualify: the 240-hour transit's exit deadline (24:00 China time on the last day), and the tax refund's
export window (goods out of China within 90 days of purchase: its last day). Both are read from the answer's checker
JSON (``CheckResult.as_json``), so nothing here recomputes a rule. The event's text is in the visitor's language,
with the 12367 / 12345 hotlines.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.messages import message

CHINA_TIME = ZoneInfo("Asia/Shanghai")
REMINDER_BEFORE = dt.timedelta(days=1)  # a day ahead: time to rebook a flight or reach the refund counter


@dataclass(frozen=True)
class Deadline:
    kind: Literal["transit", "refund"]
    day: dt.date  # the last day
    moment: dt.datetime | None  # transit: the exact deadline (aware, China time); refund: the whole last day
    days: int = 0  # refund: the export window in days


def deadline_of(check: Mapping[str, Any] | None) -> Deadline | None:
    """The deadline a checker's JSON carries, if any (a trip that does not qualify carries none)."""
    if not check:
        return None
    values = check.get("values") or {}
    try:
        if check.get("checker") == "transit" and values.get("deadline") and values.get("last_day"):
            moment = dt.datetime.fromisoformat(str(values["deadline"])).replace(tzinfo=CHINA_TIME)
            return Deadline("transit", dt.date.fromisoformat(str(values["last_day"])), moment)
        if check.get("checker") == "refund":
            for finding in check.get("findings") or ():
                if finding.get("key") == "refund.days_ok":
                    params = finding.get("params") or {}
                    return Deadline("refund", dt.date.fromisoformat(str(params["last_day"])), None,
                                    int(params.get("max", 0)))
    except (KeyError, TypeError, ValueError):
        return None
    return None


def ics_bytes(deadline: Deadline, lang: str, stamp: dt.datetime | None = None) -> bytes:
    from icalendar import Alarm, Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Shenzhen visitor assistant//deadline//EN")
    cal.add("version", "2.0")
    event = Event()
    if deadline.kind == "transit":
        assert deadline.moment is not None
        summary = message("ics_transit_deadline", lang)
        # A one-hour block ending at the deadline: calendars show it on the right evening, and its end is the time.
        event.add("dtstart", deadline.moment - dt.timedelta(hours=1))
        event.add("dtend", deadline.moment)
    else:
        summary = message("ics_refund_window", lang, days=deadline.days)
        event.add("dtstart", deadline.day)  # an all-day event on the last day
        event.add("dtend", deadline.day + dt.timedelta(days=1))
    event.add("summary", summary)
    event.add("description", "\n".join((summary, message("escalation_12367", lang), message("escalation_12345", lang))))
    uid = hashlib.sha256(f"{deadline.kind}|{deadline.day}|{deadline.moment}|{lang}".encode()).hexdigest()[:24]
    event.add("uid", f"{uid}@shenzhen-visitor-assistant")
    event.add("dtstamp", stamp or dt.datetime.now(dt.UTC))
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", -REMINDER_BEFORE)
    event.add_component(alarm)
    cal.add_component(event)
    cal.add_missing_timezones()  # the VTIMEZONE for Asia/Shanghai, so every calendar reads the time alike
    return bytes(cal.to_ical())
