"""The web layer without a browser: handlers, escaping, the feedback store (also under concurrent writers)."""

import multiprocessing as mp
import sqlite3

import pytest

from bot.schema import Answer, Citation
from bot.serve.pipeline import Bot
from bot.store.feedback import FeedbackStore, export_cases
from bot.web.page import answer_html, build_app, build_info_html


def test_answer_html_escapes_and_sets_direction():
    answer = Answer(text="<script>alert(1)</script>\n\n- one\n- two", language="ar", valid_as_of="2026-02-28",
                    citations=(Citation("T<i>", "javascript:alert(1)", "d", "c"),
                               Citation("Gov", "https://x.gov.cn", "d", "c")))
    out = answer_html(answer)
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert 'dir="rtl"' in out and "<ul><li>one</li><li>two</li></ul>" in out
    assert "javascript:" not in out and 'href="https://x.gov.cn"' in out


def test_app_builds_with_named_api(built, tmp_path):
    app = build_app(Bot.load(built), FeedbackStore(tmp_path / "fb.sqlite3"))
    public = [d["api_name"] for d in app.get_config_file()["dependencies"] if d.get("api_visibility") == "public"]
    assert public == ["ask"]  # one documented endpoint; the page's own events stay private


def test_footer_names_the_served_snapshot(built):
    bot = Bot.load(built)
    footer = build_info_html(bot)
    assert bot.snapshot.build_id in footer and bot.snapshot.corpus_hash[:12] in footer


def test_feedback_round_trip_and_export(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    store.add("q1", "a1", "en", ["refund-how-much"], "up", "great")
    store.add("q2", "a2", "zh-Hans", [], "down")
    cases = list(export_cases(store))
    assert cases[0]["expected_cards"] == ["refund-how-much"] and not cases[0]["needs_review"]
    assert cases[1]["needs_review"] and cases[1]["lang"] == "zh-Hans"
    with pytest.raises(ValueError):
        store.add("q", "a", "en", [], "maybe")


def _writer(path: str, n: int, worker: int) -> None:
    store = FeedbackStore(__import__("pathlib").Path(path))
    for i in range(n):
        store.add(f"q{worker}-{i}", "a", "en", [], "up")


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "fb.sqlite3"
    FeedbackStore(path)
    procs = [mp.Process(target=_writer, args=(str(path), 50, w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] == 200
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
