"""Itineraries: which stays in mainland China a trip has, and whether each meets the third-country rule.

"UK - Beijing - Xian - Guilin - HK - Guangzhou - Shanghai - UK" has two mainland stays (UK → mainland → HK, then
HK → mainland → UK), each judged on its own; "Bangkok → HK → Nansha … Shenzhen → HK → UK" has one, HK → mainland →
HK, which fails however many cities it visits. Consecutive mainland cities merge into one stay (a domestic layover
does not end it). Pure: the places in the order written in, the stays out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MAINLAND = "CN"


@dataclass(frozen=True)
class Stay:
    """One stay in the mainland: where the traveller comes from and goes next (None when the trip does not say)."""

    before: str | None
    after: str | None

    @property
    def complete(self) -> bool:
        return self.before is not None and self.after is not None


def stays(stops: Sequence[str]) -> list[Stay]:
    """The mainland stays of a trip, in order. Repeated places merge ("Beijing - Beijing - Tokyo"); places outside
    the mainland between two stays end one and start the next."""
    merged: list[str] = []
    for code in stops:
        if not merged or merged[-1] != code:
            merged.append(code)
    out: list[Stay] = []
    for i, code in enumerate(merged):
        if code != MAINLAND:
            continue
        before = merged[i - 1] if i > 0 else None
        after = merged[i + 1] if i + 1 < len(merged) else None
        out.append(Stay(before, after))
    return out


def read_stays(stops: Sequence[str], written_as_legs: bool) -> list[Stay]:
    """The stays (with a place before and after) worth judging one by one: only when the message writes an
    itinerary (legs, arrows) or the places give more than one such stay. A plain "from the US … to Japan after
    Shanghai" is left to the cue words ("from", "to"), which read the order better than the order of mention."""
    found = [s for s in stays(stops) if s.complete]
    return found if written_as_legs or len(found) > 1 else []
