"""``python -m bot content report``: how fresh every card, guide and rule table is, and how much it is used.

One row per item: ``valid_as_of``, the optional ``valid_until`` / ``review_by``, the age of its facts in days, a
status (``expiry.status``: expired, review overdue, expiring within 60 days, ok), how often the web app served each
card (all time and the last 30 days) and the thumbs up/down it got, from the feedback store. Markdown for people,
JSON for tools, an HTML table for the web page's desk tab; the worst status first.
"""

from __future__ import annotations

import html as _html
from collections import Counter
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Literal, Protocol

from bot.answer.expiry import EXPIRING_WITHIN_DAYS, Dated, Status, status
from bot.build.corpus import load_cards, load_guides
from bot.checks.rules import RULE_FILES, load_rules
from bot.store.feedback import FeedbackStore

ItemKind = Literal["card", "guide", "rules"]
RECENT_DAYS = 30
_ORDER: dict[Status, int] = {"expired": 0, "review_overdue": 1, "expiring": 2, "ok": 3}
_LABEL: dict[Status, str] = {"expired": "**expired**", "review_overdue": "**review overdue**",
                             "expiring": f"expiring within {EXPIRING_WITHIN_DAYS} days", "ok": "ok"}


class _Dates(Dated, Protocol):
    @property
    def valid_from(self) -> date | None: ...


@dataclass(frozen=True)
class ContentRow:
    kind: ItemKind
    item_id: str
    path: str
    valid_as_of: str
    valid_from: str | None
    valid_until: str | None
    review_by: str | None
    age_days: int  # today - valid_as_of
    status: Status
    # Cards only (None for guides and rule tables, which the served counts do not track).
    served: int | None = None
    served_recent: int | None = None  # the last RECENT_DAYS days, today included
    thumbs_up: int | None = None
    thumbs_down: int | None = None


@dataclass(frozen=True)
class ContentReport:
    today: str
    feedback_db: str  # "" when there is no feedback store yet
    rows: tuple[ContentRow, ...]

    def summary(self) -> dict[Status, int]:
        counts = Counter(r.status for r in self.rows)
        return {s: counts.get(s, 0) for s in _ORDER}

    def as_json(self) -> dict[str, object]:
        return {"today": self.today, "feedback_db": self.feedback_db, "recent_days": RECENT_DAYS,
                "expiring_within_days": EXPIRING_WITHIN_DAYS, "summary": self.summary(),
                "items": [asdict(r) for r in self.rows]}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _row(kind: ItemKind, item_id: str, path: str, valid_as_of: str, item: _Dates, today: date,
         corpus_dir: Path) -> ContentRow:
    where = Path(path)
    shown = str(where.relative_to(corpus_dir.parent)) if where.is_relative_to(corpus_dir.parent) else path
    return ContentRow(kind, item_id, shown, valid_as_of, _iso(item.valid_from), _iso(item.valid_until),
                      _iso(item.review_by), (today - date.fromisoformat(valid_as_of)).days, status(item, today))


def build_report(corpus_dir: Path, today: date, store: FeedbackStore | None = None) -> ContentReport:
    """Every card, guide and rule table under ``corpus_dir`` as of ``today``, with the counts from ``store``."""
    served = store.served() if store else {}
    recent = store.served(since=today - timedelta(days=RECENT_DAYS - 1)) if store else {}
    verdicts = store.verdicts() if store else {}
    rows = []
    for card in load_cards(corpus_dir).values():
        row = _row("card", card.card_id, card.path, card.valid_as_of, card, today, corpus_dir)
        thumbs = verdicts.get(card.card_id, {})
        rows.append(replace(row, served=served.get(card.card_id, 0), served_recent=recent.get(card.card_id, 0),
                            thumbs_up=thumbs.get("up", 0), thumbs_down=thumbs.get("down", 0)))
    for guide in load_guides(corpus_dir):
        rows.append(_row("guide", guide.doc_id, guide.path, guide.valid_as_of, guide, today, corpus_dir))
    book = load_rules(corpus_dir)
    metas = (book.transit.meta, book.unilateral.meta, book.refund.meta, book.payment.meta)
    for name, meta in zip(RULE_FILES, metas, strict=True):
        rows.append(_row("rules", meta.rule_id, str(corpus_dir / "rules" / name), meta.valid_as_of.isoformat(),
                         meta, today, corpus_dir))
    rows.sort(key=lambda r: (_ORDER[r.status], r.kind, r.item_id))
    return ContentReport(today.isoformat(), str(store.path) if store else "", tuple(rows))


def _cell(value: object) -> str:
    return "–" if value is None else str(value)


def markdown(report: ContentReport) -> str:
    summary = report.summary()
    lines = [
        f"# Content report, {report.today}",
        "",
        f"Today is {report.today} (the date in China, or `BOT_TODAY`). "
        + (f"Served counts and thumbs: `{report.feedback_db}`." if report.feedback_db
           else "No feedback store yet: nothing served or rated."),
        "",
        " · ".join(f"{_LABEL[s]}: {n}" for s, n in summary.items()),
        "",
        f"| status | kind | id | valid as of | valid until | review by | age (days) | served (last {RECENT_DAYS} d) "
        "| 👍 / 👎 |",
        "|---|---|---|---|---|---|---:|---:|---:|",
    ]
    for r in report.rows:
        served = "–" if r.served is None else f"{r.served} ({r.served_recent})"
        thumbs = "–" if r.thumbs_down is None else f"{r.thumbs_up} / {r.thumbs_down}"
        lines.append(f"| {_LABEL[r.status]} | {r.kind} | `{r.item_id}` | {r.valid_as_of} | {_cell(r.valid_until)} | "
                     f"{_cell(r.review_by)} | {r.age_days} | {served} | {thumbs} |")
    return "\n".join(lines) + "\n"


_COLUMNS = ("status", "kind", "id", "valid as of", "valid until", "review by", "age (days)",
            f"served (last {RECENT_DAYS} d)", "👍 / 👎")


def html_table(report: ContentReport) -> str:
    """The same rows as ``markdown``, as an escaped HTML table (the desk tab's content report)."""
    def cell(value: object, strong: bool = False) -> str:
        text = _html.escape(_cell(value))
        return f"<td><b>{text}</b></td>" if strong else f"<td>{text}</td>"

    rows = []
    for r in report.rows:
        served = None if r.served is None else f"{r.served} ({r.served_recent})"
        thumbs = None if r.thumbs_down is None else f"{r.thumbs_up} / {r.thumbs_down}"
        label = _LABEL[r.status].strip("*")
        rows.append(f'<tr class="{r.status}">' + cell(label, strong=r.status in ("expired", "review_overdue"))
                    + "".join(cell(v) for v in (r.kind, r.item_id, r.valid_as_of, r.valid_until, r.review_by,
                                                r.age_days, served, thumbs)) + "</tr>")
    summary = " · ".join(f"{_html.escape(_LABEL[s].strip('*'))}: {n}" for s, n in report.summary().items())
    head = "".join(f"<th>{_html.escape(c)}</th>" for c in _COLUMNS)
    return (f'<div class="content-report"><p>{_html.escape(report.today)} · {summary}</p>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")
