"""Feedback triage (#18): the thumbs-down reason in both stores and their migrations (nothing stored before is lost),
counts of declined and low-confidence answers without question text, the desk's Triage view and its "Make QA case"
(the same line as ``feedback export``), and that the visitor page reaches none of it."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.schema import Answer, AnswerPart, Card, Citation
from bot.store.feedback import FEEDBACK_COLUMNS, REASONS, TO_FILL, FeedbackStore, Unanswered, export_cases, qa_case
from bot.web import triage

DAY = dt.date(2026, 12, 7)
# The SQLite file as the previous version wrote it: the feedback columns without a reason, no unanswered table.
OLD_SCHEMA = f"""
CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, {FEEDBACK_COLUMNS});
CREATE TABLE served (day TEXT NOT NULL, card_id TEXT NOT NULL, count INTEGER NOT NULL DEFAULT 0,
                     PRIMARY KEY (day, card_id));
"""


def _old_file(path: Path) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        db.executescript(OLD_SCHEMA)
        db.execute("INSERT INTO feedback (created_at, question, answer, language, card_ids, verdict, comment) "
                   "VALUES ('2026-11-30T08:00:00+00:00', '退税最低多少？', '200元', 'zh-Hans', "
                   "'[\"refund-minimum-spend\"]', 'down', '旧的')")
        db.execute("INSERT INTO served VALUES ('2026-11-30', 'refund-minimum-spend', 4)")


def test_an_old_sqlite_file_keeps_every_row_and_gains_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "fb.sqlite3"
    _old_file(path)
    store = FeedbackStore(path)
    [row] = list(store.rows())
    assert (row.question, row.comment, row.reason) == ("退税最低多少？", "旧的", "")
    assert row.card_ids == ("refund-minimum-spend",)
    assert store.served() == {"refund-minimum-spend": 4}
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (1,)
    assert store._migrate() == 0 and FeedbackStore(path)._migrate() == 0  # applied once; reopening changes nothing
    assert store.set_reason(row.id, "outdated", "") and next(store.rows()).comment == "旧的"  # comment kept
    assert store.set_reason(row.id, "unclear", "now clearer") and next(store.rows()).comment == "now clearer"


def test_processes_opening_an_old_file_together_migrate_it_once(tmp_path: Path) -> None:
    from together import errors_when_run_together

    path = tmp_path / "fb.sqlite3"
    _old_file(path)
    errors = errors_when_run_together(lambda: FeedbackStore(path))
    assert errors == [] and len(list(FeedbackStore(path).rows())) == 1


def test_reasons_only_on_a_thumbs_down_and_only_the_four(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    up = store.add("q", "a", "en", ["c"], "up")
    down = store.add("q2", "a2", "fr", [], "down", "trop vieux", reason="outdated")
    assert not store.set_reason(up, "outdated") and not store.set_reason(999, "other")
    with pytest.raises(ValueError, match="wrong_language"):
        store.set_reason(down, "rude")
    with pytest.raises(ValueError):
        store.add("q", "a", "en", [], "down", reason="rude")
    with closing(sqlite3.connect(store.path)) as db, pytest.raises(sqlite3.IntegrityError):  # and in the table itself
        db.execute("UPDATE feedback SET reason = 'rude' WHERE id = ?", (down,))
    assert [r.reason for r in store.rows()] == ["", "outdated"]
    assert [r.id for r in store.rows(verdict="down")] == [down] and [r.id for r in store.rows(row_id=up)] == [up]


def test_unanswered_counts_grouped_by_language_and_topic_without_question_text(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    stock = Unanswered("en", "decline", "decline-investment", "declined", "decline_card")
    weak = Unanswered("th", "", "", "low_confidence", "below_threshold")
    for day in (DAY - dt.timedelta(days=40), DAY - dt.timedelta(days=1), DAY):
        store.add_unanswered([stock], day)
    store.add_unanswered([weak, weak], DAY)  # two in one message: counted twice
    counts = store.unanswered(triage.since(DAY))
    assert [(c.language, c.card_id, c.count, c.last_day) for c in counts] == [
        ("en", "decline-investment", 2, "2026-12-07"), ("th", "", 2, "2026-12-07")]
    assert sum(c.count for c in store.unanswered()) == 5  # the 40-day-old one too, when asked from the start
    with closing(sqlite3.connect(store.path)) as db:
        columns = [r[1] for r in db.execute("PRAGMA table_info(unanswered)")]
    assert columns == ["day", "language", "topic", "card_id", "outcome", "detail", "count"]  # no question


def _card(card_id: str, topic: str) -> Card:
    return Card(card_id=card_id, topic=topic, kind="decline" if topic == "decline" else "answer",
                questions={"en": ("q",)}, answer={"en": "a"}, sources=(), valid_as_of="2026-01-01")


def test_unanswered_of_reads_declines_and_bands_from_the_answer() -> None:
    cards = {"decline-investment": _card("decline-investment", "decline"),
             "refund-minimum-spend": _card("refund-minimum-spend", "tax_refund")}
    declined = Answer("no", "en", refused=True, card_ids=("decline-investment",))
    assert triage.unanswered_of(declined, cards) == [
        Unanswered("en", "decline", "decline-investment", "declined", "decline_card")]
    low = Answer("?", "th", refused=True, notes=(triage.BELOW_THRESHOLD,))
    assert triage.unanswered_of(low, cards) == [Unanswered("th", "", "", "low_confidence", "below_threshold")]
    nothing = Answer("?", "de", refused=True, notes=(triage.NOTHING_RETRIEVED,))
    assert triage.unanswered_of(nothing, cards)[0].detail == "nothing_retrieved"
    passage = Answer("p", "fr", citations=(Citation("Guide", "", "guide-metro", "guide-metro#0"),),
                     notes=(triage.FROM_PASSAGE,))
    assert triage.unanswered_of(passage, cards) == [
        Unanswered("fr", "", "guide-metro", "low_confidence", "passage_only")]
    multi = Answer("1. … 2. …", "it", card_ids=("refund-minimum-spend",),
                   parts=(AnswerPart("refund?", ("refund-minimum-spend",)),
                          AnswerPart("stocks?", ("decline-investment",), None, True)))
    assert triage.unanswered_of(multi, cards) == [
        Unanswered("it", "decline", "decline-investment", "declined", "part_declined")]
    plain = Answer("200", "en", card_ids=("refund-minimum-spend",),
                   parts=(AnswerPart("refund?", ("refund-minimum-spend",)),))
    assert triage.unanswered_of(plain, cards) == []


def test_count_served_records_unanswered_and_never_breaks_an_answer(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    from bot.web.page import count_served

    store = FeedbackStore(tmp_path / "fb.sqlite3")
    count_served(store, Answer("no", "ar", refused=True, card_ids=("decline-politics",)), DAY)
    assert [(c.language, c.card_id, c.count) for c in store.unanswered()] == [("ar", "decline-politics", 1)]

    class Broken(FeedbackStore):
        def add_unanswered(self, items: object, day: dt.date) -> None:
            raise sqlite3.OperationalError("disk I/O error")

    count_served(Broken(tmp_path / "f2.sqlite3"), Answer("no", "en", refused=True), DAY)
    assert "could not count a declined or low-confidence answer" in caplog.text


def test_a_thumbs_down_becomes_a_case_to_review_the_same_from_desk_and_export(tmp_path: Path) -> None:
    db = tmp_path / "fb.sqlite3"
    store = FeedbackStore(db)
    store.add("How much tax back?", "11%", "en", ["refund-how-much"], "up")
    down = store.add("Mindestbetrag für die Steuerrückerstattung?", "500 Yuan", "de", ["refund-minimum-spend"],
                     "down", "Das ist alt", reason="outdated")
    case = qa_case(next(store.rows(row_id=down)))
    assert case["needs_review"] is True and case["must_include"] == [] and case["to_fill"] == TO_FILL
    assert case["expected_cards"] == [] and case["cards_given"] == ["refund-minimum-spend"]
    assert (case["id"], case["lang"], case["reason"]) == (f"feedback-{down}", "de", "outdated")
    line = triage.case_of(store, down)
    assert line is not None and triage.case_of(store, 999) is None
    exported = subprocess.run([sys.executable, "-m", "bot", "feedback", "export"], capture_output=True, text=True,
                              env={**os.environ, "BOT_FEEDBACK_DB": str(db)}, cwd=PROJECT_ROOT, timeout=60)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.splitlines()[1] == line
    assert [c["id"] for c in export_cases(store, row_id=down)] == [f"feedback-{down}"]
    # The reviewers' loader takes it as it is (evals/README.md: only id and question are required).
    from bot.evals.evaluate import load_cases

    (tmp_path / "x.jsonl").write_text(line + "\n", encoding="utf-8")
    [loaded] = load_cases([tmp_path / "x.jsonl"])
    assert loaded.question.startswith("Mindestbetrag") and loaded.lang == "de"


def test_triage_tables_escape_and_group(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    store.add("<script>alert(1)</script>", "x", "ar", ["c-1"], "down", "<b>", reason="wrong_language")
    html = triage.feedback_table(triage.down_rows(store))
    assert "<script>" not in html and "&lt;script&gt;" in html and "语言不对 · wrong language" in html
    assert "dir='rtl'" in html and "data-reason='wrong_language'" in html
    assert "No thumbs-down yet" in triage.feedback_table([])
    assert set(REASONS) < set(triage.REASON_LABELS)
    assert triage.china_day("2026-12-07T16:30:00+00:00") == "2026-12-08"  # the window's day, as the counts'


def test_desk_triage_handlers_and_the_visitor_page_without_them(built, tmp_path: Path) -> None:
    from bot.serve.pipeline import Bot
    from bot.store.handoff import HandoffStore
    from bot.web.desk import build_desk
    from bot.web.page import build_app

    store = FeedbackStore(tmp_path / "fb.sqlite3")
    bot = Bot.load(built)
    page = build_app(bot, store, HandoffStore(tmp_path / "h.sqlite3"))
    fns = {b.fn.__name__: b.fn for b in page.fns.values() if b.fn is not None}
    last = fns["visitor_turn"]("How much do I need to spend for a tax refund?", [], [], "auto", "en")[3]
    _, thanks, row_id, row_shown, _ = _thumbs_down(page, last)
    assert row_id > 0 and row_shown["visible"] is True and "✅" in thanks
    out = fns["give_reason"]("outdated", "still says 500", row_id, "en")
    assert out[2] == 0 and out[3]["visible"] is False
    assert fns["give_reason"]("not-a-reason", "", row_id, "en")[2] == row_id  # nothing stored, still asked
    row = next(store.rows())
    assert (row.reason, row.comment, row.verdict) == ("outdated", "still says 500", "down")
    # The chat's own 👎 asks the reason too; its 👍 does not.
    import gradio as gr

    chat = [{"role": "user", "content": "<div>q?</div>"}, {"role": "assistant", "content": "<div>a</div>"}]
    said, liked_row, shown, _ = fns["on_like"](gr.LikeData(None, {"index": 1, "value": "a", "liked": False}), chat,
                                              [], "en")
    assert said == "" and liked_row > row_id and shown["visible"] is True
    assert fns["on_like"](gr.LikeData(None, {"index": 1, "value": "a", "liked": True}), chat, [], "en")[1] == 0
    # Nothing of triage is on the visitor page: no handler, no component.
    assert not {"triage_view", "make_case"} & set(fns)
    config = json.dumps(page.config, default=str)
    assert "make-case" not in config and "triage" not in config

    desk = build_desk(bot, store, HandoffStore(tmp_path / "h.sqlite3"))
    dfns = {b.fn.__name__: b.fn for b in desk.fns.values() if b.fn is not None}
    from bot.clock import today

    fraud = Unanswered("vi", "decline", "decline-fraud", "declined", "decline_card")
    store.add_unanswered([fraud], today(bot.settings))
    table, picker, unanswered = dfns["triage_view"]()
    assert "still says 500" in table and picker["value"] == liked_row  # the newest thumbs-down first
    assert "<code>decline-fraud</code>" in unanswered and "<td>vi</td>" in unanswered

    class Request:
        username = "wang"

    line = dfns["make_case"](row.id, Request())
    assert json.loads(line)["reason"] == "outdated" and line == triage.case_of(store, row.id)
    assert "Choose a feedback row" in dfns["make_case"](None, Request())
    assert "Choose a feedback row" in dfns["make_case"](12345, Request())


def _thumbs_down(page, last):
    """Click the page's 👎 handler (a lambda bound to ``verdict='down'``)."""
    for block in page.fns.values():
        fn = block.fn
        if fn is not None and fn.__name__ == "<lambda>" and getattr(fn, "__defaults__", None) == ("down",):
            return fn("", last, "en")
    raise AssertionError("no thumbs-down handler")


def test_pages_leave_no_scratch_folder_per_build(built, tmp_path: Path) -> None:
    import tempfile

    from bot.serve.pipeline import Bot
    from bot.web.page import build_app
    from bot.web.tempfiles import scratch

    before = set(Path(tempfile.gettempdir()).glob("bot-ics-*")) | set(Path(tempfile.gettempdir()).glob("bot-web-*"))
    bot = Bot.load(built)
    for _ in range(3):
        build_app(bot, FeedbackStore(tmp_path / "fb.sqlite3"))
    after = set(Path(tempfile.gettempdir()).glob("bot-ics-*")) | set(Path(tempfile.gettempdir()).glob("bot-web-*"))
    assert len(after - before) <= 1 and scratch("ics").parent == scratch("qa-cases").parent
    # The process folder goes at exit.
    code = "from bot.web.tempfiles import scratch; print(scratch('ics').parent)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    assert out.returncode == 0 and not Path(out.stdout.strip()).exists()


# ---------------------------------------------------------------- the same on PostgreSQL (conftest's private server)


def test_postgres_migration_keeps_rows_written_before_it(pg_dsn: str) -> None:
    import psycopg

    from bot.store import postgres

    # A database as the previous version left it: the first two migrations, one thumbs-down, some counts.
    with psycopg.connect(pg_dsn) as db, db.transaction():
        db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                   "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        for version, sql in enumerate(postgres.MIGRATIONS[:2], 1):
            db.execute(sql)
            db.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
        db.execute("INSERT INTO feedback (created_at, question, answer, language, card_ids, verdict, comment) "
                   "VALUES ('2026-11-30T08:00:00+00:00', '退税最低多少？', '200元', 'zh-Hans', '[]', 'down', '旧的')")
        db.execute("INSERT INTO served VALUES ('2026-11-30', 'refund-minimum-spend', 4)")
    store = postgres.PostgresFeedbackStore(pg_dsn)  # migrates on opening
    assert store.migrate() == 0
    [row] = list(store.rows())
    assert (row.question, row.comment, row.reason) == ("退税最低多少？", "旧的", "")
    assert store.served() == {"refund-minimum-spend": 4}
    assert store.set_reason(row.id, "wrong_language") and next(store.rows()).reason == "wrong_language"
    with psycopg.connect(pg_dsn) as db, pytest.raises(psycopg.errors.CheckViolation):
        db.execute("UPDATE feedback SET reason = 'rude'")


def test_postgres_and_sqlite_triage_read_the_same(pg_dsn: str, tmp_path: Path) -> None:
    from bot.store.postgres import PostgresFeedbackStore

    stores = (FeedbackStore(tmp_path / "fb.sqlite3"), PostgresFeedbackStore(pg_dsn))
    for store in stores:
        store.add("q", "a", "en", ["c"], "up")
        down = store.add("Où rembourser ?", "…", "fr", ["refund-where"], "down", "vieux", reason="outdated")
        assert not store.set_reason(down - 1, "unclear")  # the thumbs-up row takes no reason
        store.add_unanswered([Unanswered("fr", "decline", "decline-politics", "declined", "decline_card")] * 2, DAY)
        store.add_unanswered([Unanswered("ko", "", "", "low_confidence", "below_threshold")], DAY)
    sqlite_store, pg_store = stores
    assert pg_store.unanswered() == sqlite_store.unanswered()
    assert pg_store.unanswered()[0].count == 2
    strip = [{k: v for k, v in case.items() if k != "created_at"} for case in export_cases(pg_store)]
    assert strip == [{k: v for k, v in case.items() if k != "created_at"} for case in export_cases(sqlite_store)]
    assert [r.reason for r in pg_store.rows(verdict="down")] == ["outdated"]


def test_a_stopped_server_removes_its_scratch_folder(built, tmp_path: Path) -> None:
    """SIGTERM (how replicas and tests stop the app): uvicorn shuts down gracefully, then the process exits through
    ``atexit``, which removes the folder of calendar files and QA cases (it once stayed: uvicorn re-raised the signal
    with the default handler)."""
    import tempfile
    import urllib.request

    from bot.serve.processes import Replica, free_port

    env = {"BOT_CORPUS_DIR": str(built.corpus_dir), "BOT_INDEX_DIR": str(built.index_dir), "BOT_MODEL": "hash",
           "BOT_CACHE_DIR": str(built.cache_dir), "BOT_MIN_DENSE_SCORE": "0", "BOT_FEEDBACK_DB": str(tmp_path / "f.db"),
           "BOT_HANDOFF_DB": str(tmp_path / "h.db")}
    replica = Replica("scratch", free_port(), env, tmp_path / "app.log").start()
    try:
        replica.wait_ready(120)
        urllib.request.urlopen(f"{replica.url}/", timeout=30).read()
        assert replica.proc is not None
        folders = list(Path(tempfile.gettempdir()).glob(f"bot-web-{replica.proc.pid}-*"))
        assert len(folders) == 1 and (folders[0] / "ics").is_dir()  # made when the page was built
    finally:
        replica.stop()
    assert replica.proc.returncode == 0, (tmp_path / "app.log").read_text("utf-8")
    assert not folders[0].exists()



def test_a_killed_process_scratch_folder_is_swept_by_the_next(tmp_path: Path) -> None:
    from bot.web.tempfiles import STALE_SECONDS, sweep

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone, alive = tmp_path / f"bot-web-{dead.stdout.strip()}-abc", tmp_path / f"bot-web-{os.getpid()}-def"
    fresh = tmp_path / f"bot-web-{dead.stdout.strip()}-new"
    for folder in (gone, alive, fresh, tmp_path / "bot-web-notapid"):
        (folder / "ics").mkdir(parents=True)
    old = gone.stat().st_mtime - STALE_SECONDS - 10
    for folder in (gone, alive, tmp_path / "bot-web-notapid"):
        os.utime(folder, (old, old))
    assert sweep(tmp_path) == 1
    assert not gone.exists() and alive.exists() and fresh.exists() and (tmp_path / "bot-web-notapid").exists()
