"""Feedback triage for content owners (#18): what visitors said was wrong, and what we did not answer.

Two sources, both in the feedback store:

- thumbs-down rows, with the reason the visitor chose (``REASONS``) and their question (they chose to leave it);
- counts of declined and low-confidence answers, recorded at answer time from the answer alone (``unanswered_of``):
  language, topic, card and kind per day, never the question.

The desk shows both (desk.py, staff only) and turns a thumbs-down into a QA case for review with the same code as
``python -m bot feedback export`` (``qa_case`` in bot/store/feedback.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from bot.schema import Answer, Card
from bot.store.feedback import FeedbackRow, FeedbackStore, Unanswered, UnansweredCount, case_line, qa_case
from bot.web.markup import esc, text_dir

# The notes the answerers put on what they could not answer well (bot/answer/curated.py): read here, not changed.
BELOW_THRESHOLD = "best match below the calibrated score threshold"
FROM_PASSAGE = "answered from a passage; no card matched"
NOTHING_RETRIEVED = "nothing retrieved"
# Confidence bands and decline kinds as stored (``detail``); staff read them in Chinese and English.
DETAILS = {
    "below_threshold": "低于阈值，未回答 · below the score threshold: not answered",
    "passage_only": "无卡片，仅段落 · no card matched: answered from a passage",
    "decline_card": "拒答卡片 · declined by a decline card",
    "part_declined": "多问中的一问被拒答 · one ask of a message declined",
    "nothing_retrieved": "无检索结果 · nothing retrieved",
}
OUTCOMES = {"declined": "拒答 · declined", "low_confidence": "低置信度 · low confidence"}
REASON_LABELS = {
    "wrong_language": "语言不对 · wrong language",
    "outdated": "回答错误或过时 · wrong or outdated answer",
    "unclear": "不清楚 · unclear",
    "other": "其他 · other",
    "": "未选 · not given",
}
CHINA_TIME = ZoneInfo("Asia/Shanghai")
TRIAGE_DAYS = 30  # the counts shown: the last month, enough to see a pattern, short enough to see a change
SHOWN_ROWS = 200  # the newest thumbs-down rows in the table; the export has them all
QUESTION_CHARS = 300  # of a question in the table: the QA case has the whole text


def unanswered_of(answer: Answer, cards: Mapping[str, Card]) -> list[Unanswered]:
    """What of this answer was declined or answered with low confidence, as counts (no question text).

    Read from the answer's own fields: ``refused`` with a decline card (a decline), ``refused`` without one (below
    the threshold, or nothing retrieved), an answer from a passage because no card matched (low confidence), and in a
    multi-part message each declined ask. A plain card answer gives nothing."""
    lang = answer.language

    def item(card_id: str, outcome: str, detail: str) -> Unanswered:
        card = cards.get(card_id)
        return Unanswered(lang, card.topic if card else "", card_id, outcome, detail)

    if answer.refused:
        if answer.card_ids:
            return [item(answer.card_ids[0], "declined", "decline_card")]
        if NOTHING_RETRIEVED in answer.notes:
            return [item("", "declined", "nothing_retrieved")]
        return [item("", "low_confidence", "below_threshold")]
    found = [item(p.card_ids[0] if p.card_ids else "", "declined", "part_declined")
             for p in answer.parts if p.refused] if len(answer.parts) > 1 else []
    if FROM_PASSAGE in answer.notes and not answer.card_ids:
        doc = answer.citations[0].doc_id if answer.citations else ""
        found.append(item(doc, "low_confidence", "passage_only"))
    return found


def down_rows(store: FeedbackStore, limit: int = SHOWN_ROWS) -> list[FeedbackRow]:
    """The newest thumbs-down rows first."""
    return list(store.rows(verdict="down"))[::-1][:limit]


def feedback_table(rows: list[FeedbackRow]) -> str:
    """Thumbs-down rows for staff: id, date, reason, language, cards, the visitor's question and comment."""
    if not rows:
        return "<p class='triage-empty'>暂无差评 · No thumbs-down yet.</p>"
    head = ("<tr><th>#</th><th>日期 · Date</th><th>原因 · Reason</th><th>语言 · Lang</th><th>卡片 · Cards</th>"
            "<th>问题 · Question</th><th>意见 · Comment</th></tr>")
    body = []
    for row in rows:
        cards = ", ".join(f"<code>{esc(c)}</code>" for c in row.card_ids) or "–"
        direction = text_dir(row.language)
        question = row.question if len(row.question) <= QUESTION_CHARS else row.question[:QUESTION_CHARS] + "…"
        body.append(
            f"<tr data-id='{row.id}' data-reason='{esc(row.reason)}'><td>{row.id}</td>"
            f"<td>{esc(china_day(row.created_at))}</td>"
            f"<td class='reason'>{esc(REASON_LABELS.get(row.reason, row.reason))}</td>"
            f"<td>{esc(row.language)}</td><td>{cards}</td>"
            f"<td dir='{direction}' lang='{esc(row.language)}'>{esc(question)}</td>"
            f"<td dir='auto'>{esc(row.comment)}</td></tr>")
    return f"<table class='triage-feedback'>{head}{''.join(body)}</table>"


def unanswered_table(counts: list[UnansweredCount]) -> str:
    """Declined and low-confidence answers grouped by language and topic (then card and kind), most frequent first."""
    if not counts:
        return "<p class='triage-empty'>暂无拒答或低置信度回答 · No declined or low-confidence answers.</p>"
    head = ("<tr><th>语言 · Lang</th><th>主题 · Topic</th><th>卡片 · Card</th><th>结果 · Outcome</th>"
            "<th>类型 · Kind</th><th>次数 · Count</th><th>最近 · Last day</th></tr>")
    body = "".join(
        f"<tr data-outcome='{esc(c.outcome)}'><td>{esc(c.language)}</td><td>{esc(c.topic or '–')}</td>"
        f"<td>{f'<code>{esc(c.card_id)}</code>' if c.card_id else '–'}</td>"
        f"<td>{esc(OUTCOMES.get(c.outcome, c.outcome))}</td><td>{esc(DETAILS.get(c.detail, c.detail))}</td>"
        f"<td class='count'>{c.count}</td><td>{esc(c.last_day)}</td></tr>" for c in counts)
    return f"<table class='triage-unanswered'>{head}{body}</table>"


def row_choices(rows: list[FeedbackRow]) -> list[tuple[str, int]]:
    """The rows as the desk's picker shows them: ``#id · reason · language · question…``."""
    choices = []
    for row in rows:
        reason = REASON_LABELS.get(row.reason, row.reason).split(" · ")[-1]
        choices.append((f"#{row.id} · {reason} · {row.language} · {row.question[:60]}", row.id))
    return choices


def case_of(store: FeedbackStore, row_id: int) -> str | None:
    """The QA case of feedback row ``row_id`` as one JSONL line, the line ``feedback export`` prints for it; None when
    there is no such row."""
    row = next(store.rows(row_id=row_id), None)
    return None if row is None else case_line(qa_case(row))


# "Make QA case" saves the line in the staff member's browser (a Blob download): no file on the server, so the
# visitor's question is not copied into Gradio's file cache, which the visitor page's file route can also read.
DOWNLOAD_JS = """(line) => {
  if (!line || !line.startsWith('{')) return;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([line + '\\n'], {type: 'application/jsonl'}));
  a.download = 'qa-case-' + JSON.parse(line).id + '.jsonl';
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}"""


def china_day(created_at: str) -> str:
    """A feedback row's UTC time as the day at the window (China time), as the counts' days are."""
    try:
        return dt.datetime.fromisoformat(created_at).astimezone(CHINA_TIME).date().isoformat()
    except ValueError:
        return created_at[:10]


def since(day: dt.date, days: int = TRIAGE_DAYS) -> dt.date:
    return day - dt.timedelta(days=days - 1)
