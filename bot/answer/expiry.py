"""Facts that expire. Pure: a card (or guide, or rule table) and a day in, a status or a notice out.

A card past its ``valid_until`` (e.g. the 30-day visa-free list, "announced until 31 Dec 2026") is still the best
answer we have, but it is never shown without a notice in the visitor's language that names the end date and sends
them to 12367. ``review_by`` only concerns staff: the desk view shows "not reviewed since …" (``staff_notes``) and
``python -m bot content report`` lists it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from typing import Literal, Protocol

from babel.dates import format_date

from bot.checks.render import locale_of
from bot.messages import message
from bot.schema import Answer, Card

Status = Literal["ok", "expiring", "expired", "review_overdue"]
# "expiring" in the content report: valid_until falls within this many days from today.
EXPIRING_WITHIN_DAYS = 60
EXPIRY_ESCALATION = "12367"


class Dated(Protocol):
    """Anything with the optional dates: a ``Card``, a guide ``Document``, a rule table's ``RuleMeta``."""

    @property
    def valid_until(self) -> date | None: ...

    @property
    def review_by(self) -> date | None: ...


def is_expired(item: Dated, today: date) -> bool:
    """Past ``valid_until`` (the last day the sources give is still valid)."""
    return item.valid_until is not None and today > item.valid_until


def review_overdue(item: Dated, today: date) -> bool:
    return item.review_by is not None and today > item.review_by


def status(item: Dated, today: date) -> Status:
    """The worst that applies: expired, then review overdue, then expiring within 60 days, else ok."""
    if is_expired(item, today):
        return "expired"
    if review_overdue(item, today):
        return "review_overdue"
    if item.valid_until is not None and item.valid_until - today <= timedelta(days=EXPIRING_WITHIN_DAYS):
        return "expiring"
    return "ok"


def expiry_notice(card: Card, today: date, lang: str) -> str | None:
    """The notice an expired card carries, in ``lang`` with the date as that language writes it; None if valid."""
    if card.valid_until is None or not is_expired(card, today):
        return None
    return message("expiry_notice", lang, date=format_date(card.valid_until, "long", locale=locale_of(lang)))


def staff_notes(card: Card, today: date, lang: str) -> list[str]:
    """For the service desk, in ``lang``: the card is past ``valid_until`` (the visitor's answer carries the notice)
    and/or past ``review_by`` ("not reviewed since <valid_as_of>, review was due <review_by>"). Empty if neither."""
    notes = []
    if card.valid_until is not None and is_expired(card, today):
        notes.append(message("ui_expired", lang, valid_until=card.valid_until.isoformat()))
    if card.review_by is not None and review_overdue(card, today):
        notes.append(message("ui_review_overdue", lang, valid_as_of=card.valid_as_of,
                             review_by=card.review_by.isoformat()))
    return notes


def expiry_note(card: Card) -> str:
    """The machine-readable note on an answer that used an expired card."""
    return f"expired: {card.card_id} (valid until {card.valid_until})"


def with_expiry(answer: Answer, cards: Iterable[Card], today: date) -> Answer:
    """``answer`` with, for each of ``cards`` that has expired: its notice right after the card's own text (at the
    end when the text is not there verbatim, e.g. a generated answer), 12367 in the escalation and a note. Applying
    it twice changes nothing."""
    text, notes, escalation = answer.text, list(answer.notes), answer.escalation
    for card in cards:
        notice = expiry_notice(card, today, answer.language)
        if notice is None:
            continue
        if notice not in text:
            own = card.answer.get(answer.language) or card.answer["en"]
            text = text.replace(own, f"{own}\n\n{notice}", 1) if own in text else f"{text}\n\n{notice}"
        if expiry_note(card) not in notes:
            notes.append(expiry_note(card))
        if EXPIRY_ESCALATION not in escalation.split(","):
            escalation = ",".join(filter(None, (escalation, EXPIRY_ESCALATION)))
    if text == answer.text and tuple(notes) == answer.notes and escalation == answer.escalation:
        return answer
    return replace(answer, text=text, notes=tuple(notes), escalation=escalation)
