"""Facts that expire: the optional dates on cards, guides and rule tables, the one clock (BOT_TODAY), the expiry
notice on answers, the served counts and the content report."""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.answer.expiry import expiry_notice, review_overdue, staff_notes, status, with_expiry
from bot.build.corpus import load_card, load_cards, load_guide
from bot.checks.rules import load_rules
from bot.clock import today
from bot.config import PROJECT_ROOT, Settings
from bot.errors import CorpusError
from bot.schema import Answer
from bot.store.feedback import FeedbackStore
from bot.web.content_report import build_report, markdown

CORPUS = PROJECT_ROOT / "corpus"
END = date(2026, 12, 31)


def _card_file(tmp_path: Path, **changes: object) -> Path:
    data = yaml.safe_load((CORPUS / "cards" / "tax_refund" / "refund-minimum-spend.yaml").read_text("utf-8"))
    data.pop("related", None)
    data.update(changes)
    path = tmp_path / "tax_refund" / "refund-minimum-spend.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _card(tmp_path: Path, **changes: object):
    return load_card(_card_file(tmp_path, **changes))


# ---------------------------------------------------------------- loading and validation

def test_dates_are_optional_and_read_as_dates(tmp_path: Path) -> None:
    plain = _card(tmp_path)
    assert (plain.valid_from, plain.valid_until, plain.review_by) == (None, None, None)
    dated = _card(tmp_path, valid_from="2024-11-30", valid_until=END, review_by="2026-09-14")
    assert (dated.valid_from, dated.valid_until, dated.review_by) == (date(2024, 11, 30), END, date(2026, 9, 14))


@pytest.mark.parametrize(("changes", "field", "problem"), [
    ({"valid_until": "31 Dec 2026"}, "valid_until", "must be a date YYYY-MM-DD"),
    ({"valid_until": "2026-02-30"}, "valid_until", "must be a date YYYY-MM-DD"),
    ({"review_by": "20261231"}, "review_by", "must be a date YYYY-MM-DD"),
    ({"valid_from": 2026}, "valid_from", "must be a date YYYY-MM-DD"),
    ({"valid_until": datetime(2026, 12, 31, 12, 0)}, "valid_until", "must be a date YYYY-MM-DD"),
    ({"valid_from": "2027-01-01", "valid_until": "2026-12-31"}, "valid_until", "before valid_from 2027-01-01"),
])
def test_bad_dates_name_the_file_and_the_field(tmp_path: Path, changes: dict[str, object], field: str,
                                               problem: str) -> None:
    path = _card_file(tmp_path, **changes)
    with pytest.raises(CorpusError) as err:
        load_card(path)
    assert err.value.field == field
    assert err.value.path == str(path)
    assert problem in str(err.value)


def test_guide_front_matter_dates(tmp_path: Path) -> None:
    text = (CORPUS / "guides" / "payment.en.md").read_text("utf-8")
    good, bad = tmp_path / "good.en.md", tmp_path / "bad.en.md"
    good.write_text(text.replace("\n---\n", "\nvalid_until: 2026-12-31\nreview_by: 2026-10-01\n---\n", 1), "utf-8")
    bad.write_text(text.replace("\n---\n", "\nreview_by: soon\n---\n", 1), "utf-8")
    guide = load_guide(good)
    assert (guide.valid_until, guide.review_by) == (END, date(2026, 10, 1))
    with pytest.raises(CorpusError, match="field 'review_by'"):
        load_guide(bad)


def _rules_copy(tmp_path: Path, edit: str) -> Path:
    shutil.copytree(CORPUS / "rules", tmp_path / "rules", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = tmp_path / "rules" / "unilateral.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    data.pop("valid_from", None)
    data.pop("valid_until", None)
    data.pop("review_by", None)
    data.update(yaml.safe_load(edit))
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("edit", "field"), [
    ("valid_until: someday", "valid_until"),
    ("{valid_from: 2027-01-01, valid_until: 2026-12-31}", "valid_until"),
    ("valid_until: 2026-10-01", "countries[0].until"),  # a country's own end date beyond the table's
])
def test_rule_table_dates_are_validated(tmp_path: Path, edit: str, field: str) -> None:
    with pytest.raises(CorpusError) as err:
        load_rules(_rules_copy(tmp_path, edit))
    assert err.value.field == field
    assert err.value.path.endswith("unilateral.yaml")


def test_real_corpus_dates_from_the_sources() -> None:
    cards = load_cards(CORPUS)
    unilateral = cards["entry-unilateral-30-day"]
    assert (unilateral.valid_until, unilateral.review_by) == (END, END)  # reviewed after Russia/Brunei's 14 Sep 2026
    assert load_rules(CORPUS).unilateral.meta.valid_until == END
    # Only cards that rest on an announced end date expire; the rest carry at most a review date.
    assert [c.card_id for c in cards.values() if c.valid_until] == ["entry-unilateral-30-day"]


# ---------------------------------------------------------------- the clock

def test_bot_today_sets_the_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TODAY", "2027-01-15")
    assert today() == date(2027, 1, 15)
    assert Settings.from_env().today == date(2027, 1, 15)
    assert today(Settings(today=date(2030, 1, 1))) == date(2030, 1, 1)  # explicit settings win


def test_without_bot_today_it_is_the_day_in_china(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOT_TODAY", raising=False)
    before = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert today() in (before, datetime.now(ZoneInfo("Asia/Shanghai")).date())
    monkeypatch.setenv("BOT_TODAY", "")
    assert Settings.from_env().today is None


@pytest.mark.parametrize("raw", ["15/01/2027", "2027-02-30", "tomorrow", "20270115"])
def test_bad_bot_today_is_refused(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("BOT_TODAY", raw)
    with pytest.raises(ValueError, match=r"BOT_TODAY=.* is not a date YYYY-MM-DD"):
        Settings.from_env()


# ---------------------------------------------------------------- the notice

def test_expiry_notice_in_the_visitors_language(tmp_path: Path) -> None:
    card = _card(tmp_path, valid_until=END)
    assert expiry_notice(card, END, "en") is None  # the last day is still valid
    english = expiry_notice(card, date(2027, 1, 1), "en")
    assert english == ("This was announced to run until December 31, 2026; we have no newer source. "
                       "Check with 12367 before you travel.")
    german = expiry_notice(card, date(2027, 1, 1), "de")
    assert german is not None and "31. Dezember 2026" in german and "12367" in german
    chinese = expiry_notice(card, date(2027, 1, 1), "zh-Hans")
    assert chinese is not None and "2026年12月31日" in chinese
    assert expiry_notice(_card(tmp_path), date(2099, 1, 1), "en") is None  # no valid_until, never expires


def test_status_and_review(tmp_path: Path) -> None:
    card = _card(tmp_path, valid_until=END, review_by="2026-09-14")
    assert review_overdue(card, date(2026, 9, 15)) and not review_overdue(card, date(2026, 9, 14))
    assert status(card, date(2026, 6, 1)) == "ok"
    assert status(card, date(2026, 9, 15)) == "review_overdue"  # overdue outranks expiring soon
    assert status(replace(card, review_by=None), date(2026, 11, 1)) == "expiring"  # 60 days to go
    assert status(card, date(2027, 1, 1)) == "expired"


def test_with_expiry_puts_the_notice_after_the_cards_text(tmp_path: Path) -> None:
    card = _card(tmp_path, valid_until=END)
    answer = Answer(text=f"{card.answer['fr']}\n\nAppelez le 12345.", language="fr", card_ids=(card.card_id,),
                    escalation="window")
    late = with_expiry(answer, [card], date(2027, 1, 15))
    notice = expiry_notice(card, date(2027, 1, 15), "fr")
    assert late.text == f"{card.answer['fr']}\n\n{notice}\n\nAppelez le 12345."
    assert late.escalation == "window,12367"
    assert late.notes == ("expired: refund-minimum-spend (valid until 2026-12-31)",)
    assert with_expiry(late, [card], date(2027, 1, 15)) == late  # applying it twice changes nothing
    assert with_expiry(answer, [card], END) is answer
    generated = with_expiry(replace(answer, text="Une réponse rédigée autrement."), [card], date(2027, 1, 15))
    assert generated.text.endswith(str(notice))  # text not verbatim: the notice goes at the end


def test_the_bot_never_shows_an_expired_card_without_the_notice(built: Settings) -> None:
    from bot.serve.pipeline import Bot

    _card_file(built.corpus_dir / "cards", valid_until="2026-12-31")
    question = "What is the minimum purchase for a tax refund?"
    answer = Bot.load(replace(built, today=date(2027, 1, 15))).ask(question)
    assert answer.card_ids[0] == "refund-minimum-spend"
    assert "announced to run until December 31, 2026" in answer.text
    assert "12367" in answer.escalation.split(",")
    assert "expired: refund-minimum-spend (valid until 2026-12-31)" in answer.notes
    on_time = Bot.load(replace(built, today=date(2026, 12, 31))).ask(question)
    assert "announced to run until" not in on_time.text and not on_time.notes


# ---------------------------------------------------------------- served counts and the report

def test_served_counts_per_card_and_day_without_question_text(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.add_served(("a", "b", "a"), date(2027, 1, 14))
    store.add_served(("a",), date(2027, 1, 15))
    store.add_served((), date(2027, 1, 15))
    assert store.served() == {"a": 2, "b": 1}
    assert store.served(since=date(2027, 1, 15)) == {"a": 1}
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert [r[1] for r in db.execute("PRAGMA table_info(served)")] == ["day", "card_id", "count"]


def test_served_counts_from_many_threads(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: store.add_served((f"c{i % 3}",), END), range(300)))
    assert store.served() == {"c0": 100, "c1": 100, "c2": 100}
    assert FeedbackStore(store.path).served() == store.served()  # committed: another connection sees them


def test_count_served_never_breaks_an_answer(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from bot.web.page import count_served

    class Broken(FeedbackStore):
        def add_served(self, card_ids: object, day: date) -> None:
            raise sqlite3.OperationalError("disk I/O error")

    count_served(Broken(tmp_path / "f.sqlite3"), Answer(text="x", language="en", card_ids=("a",)), END)
    assert "could not count served cards" in caplog.text


def test_the_web_app_counts_what_it_serves_and_flags_expired_search_hits(built: Settings, tmp_path: Path) -> None:
    from bot.serve.pipeline import Bot
    from bot.web.page import build_app

    _card_file(built.corpus_dir / "cards", valid_until="2026-12-31")
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    app = build_app(Bot.load(replace(built, today=date(2027, 1, 15))), store)
    handlers = {block.fn.__name__: block.fn for block in app.fns.values() if block.fn is not None}
    result = handlers["ask_api"]("What is the minimum purchase for a tax refund?", "auto", [])
    assert result["card_ids"][0] == "refund-minimum-spend"
    assert store.served() == {card: 1 for card in result["card_ids"]}
    assert store.served(since=date(2027, 1, 15)) == store.served()  # counted on the bot's day
    page = handlers["search"]("minimum purchase tax refund", "all", "en")
    assert "announced to run until December 31, 2026" in page


def test_staff_notes_for_the_desk(tmp_path: Path) -> None:
    card = _card(tmp_path, valid_until=END, review_by="2026-09-14")
    assert staff_notes(card, date(2026, 9, 14), "en") == []
    assert staff_notes(card, date(2026, 12, 7), "en") == ["Not reviewed since 2026-02-28: review was due by 2026-09-14"]
    chinese = staff_notes(card, date(2026, 12, 7), "zh-Hans")
    assert chinese == ["未复核：应于 2026-09-14 前复核（资料核实至 2026-02-28）"]
    expired, overdue = staff_notes(card, date(2027, 1, 15), "de")
    assert expired.startswith("Abgelaufen: angekündigt bis 2026-12-31") and "12367" in expired
    assert overdue == "Seit 2026-02-28 nicht geprüft: Prüfung war bis 2026-09-14 fällig"
    assert staff_notes(_card(tmp_path), date(2099, 1, 1), "en") == []  # no dates, nothing to say


def test_the_desk_marks_overdue_and_expired_cards_and_shows_the_report(built: Settings, tmp_path: Path) -> None:
    from bot.serve.pipeline import Bot
    from bot.store.handoff import HandoffStore
    from bot.web.desk import build_desk

    _card_file(built.corpus_dir / "cards", valid_until="2026-12-31", review_by="2026-09-14")
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    handoffs = HandoffStore(tmp_path / "handoff.sqlite3")
    question = "What is the minimum purchase for a tax refund?"
    desk = build_desk(Bot.load(replace(built, today=date(2026, 12, 7))), store, handoffs)
    handlers = {block.fn.__name__: block.fn for block in desk.fns.values() if block.fn is not None}
    page = handlers["one_question"](question)
    # Staff notes in Chinese, then English (the desk's two staff languages).
    note = ("<code>refund-minimum-spend</code> 未复核：应于 2026-09-14 前复核（资料核实至 2026-02-28）"
            " / Not reviewed since 2026-02-28")
    assert note in page
    assert "已过期" not in page and "announced to run until" not in page

    late = build_desk(Bot.load(replace(built, today=date(2027, 1, 15))), store, handoffs)
    handlers = {block.fn.__name__: block.fn for block in late.fns.values() if block.fn is not None}
    page = handlers["one_question"](question)
    assert "已过期：此前公布的期限为 2026-12-31" in page and "Expired: announced until 2026-12-31" in page
    assert "announced to run until December 31, 2026" in page  # the visitor's text carries the notice
    report = handlers["report"]()
    assert report.startswith('<div class="content-report"><p>2027-01-15 · expired: 2 ·')
    assert '<tr class="expired"><td><b>expired</b></td><td>card</td><td>refund-minimum-spend</td>' in report
    assert "<td>2 (1)</td>" in report  # served by the two desk questions above, one of them in the last 30 days


def test_content_report_html_escapes(tmp_path: Path) -> None:
    from bot.web.content_report import ContentReport, ContentRow, html_table

    row = ContentRow("card", "<script>x</script>", "p", "2026-02-28", None, None, None, 1, "ok", 0, 0, 0, 0)
    page = html_table(ContentReport("2027-01-15", "", (row,)))
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert page.count("<tr") == 2 and "<td>–</td>" in page


def test_content_report_on_the_small_corpus(small_corpus: Path, tmp_path: Path) -> None:
    _card_file(small_corpus / "cards", valid_until="2026-12-31")
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.add_served(("refund-minimum-spend", "pay-mobile-fees"), date(2026, 11, 1))
    store.add_served(("refund-minimum-spend",), date(2027, 1, 10))
    store.add("q", "a", "en", ["refund-minimum-spend"], "down", "out of date?")
    store.add("q", "a", "en", ["refund-minimum-spend"], "up")
    report = build_report(small_corpus, date(2027, 1, 15), store)
    rows = {r.item_id: r for r in report.rows}
    first = report.rows[0]
    assert (first.item_id, first.status, first.valid_until) == ("refund-minimum-spend", "expired", "2026-12-31")
    assert (first.served, first.served_recent, first.thumbs_up, first.thumbs_down) == (2, 1, 1, 1)
    assert first.age_days == (date(2027, 1, 15) - date.fromisoformat(first.valid_as_of)).days
    assert (rows["pay-mobile-fees"].served, rows["pay-mobile-fees"].served_recent) == (1, 0)
    assert rows["unilateral-30d"].kind == "rules" and rows["unilateral-30d"].status == "expired"
    assert rows["unilateral-30d"].served is None
    assert any(r.kind == "guide" for r in report.rows)
    assert report.summary()["expired"] == 2
    data = json.loads(json.dumps(report.as_json()))
    assert data["today"] == "2027-01-15" and data["items"][0]["status"] == "expired"
    text = markdown(report)
    assert "| **expired** | card | `refund-minimum-spend` | 2026-02-28 | 2026-12-31 | – |" in text


def test_content_report_command(small_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    monkeypatch.setenv("BOT_CORPUS_DIR", str(small_corpus))
    monkeypatch.setenv("BOT_FEEDBACK_DB", str(tmp_path / "none" / "feedback.sqlite3"))
    monkeypatch.setenv("BOT_TODAY", "2026-12-07")
    assert main(["content", "report", "--json", "--out", str(tmp_path / "out")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["today"] == "2026-12-07" and data["feedback_db"] == ""
    assert not (tmp_path / "none").exists()  # the report does not create a feedback store
    assert (tmp_path / "out" / "content-report.md").read_text("utf-8").startswith("# Content report, 2026-12-07")
    monkeypatch.setenv("BOT_TODAY", "2027-01-15")
    assert main(["content", "report"]) == 0
    assert "| **expired** | rules | `unilateral-30d` | 2026-02-28 | 2026-12-31 |" in capsys.readouterr().out
