"""The service window end to end (#18): the phone's first view, the visitor-to-staff handoff, the staff desk at /desk,
the printable slip and the calendar file; the real app (real model and index) in headless Debian Chromium.

Marked ``browser`` and ``realmodel``, like tests/test_browser.py, whose pattern this follows; the server here gets its
own handoff database and a staff accounts file, so it is started by this module's fixture.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from browsing import chromium, require_chromium, running_app, staff_sign_in

from bot.web.desk import hash_password

pytestmark = [pytest.mark.browser, pytest.mark.realmodel]
PHONE = {"width": 390, "height": 844}
STAFF_NAME, STAFF_PASSWORD = "wang", "window-7-password"
ARABIC_TURNS = ("كم أسترد من الضريبة على مشتريات بقيمة 1000 يوان؟", "هل يمكنني استخدام بطاقة فيزا مع أليباي في شنتشن؟")


@dataclass(frozen=True)
class Server:
    url: str
    handoff_db: Path
    feedback_db: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    data = tmp_path_factory.mktemp("desk")
    users = data / "desk-users.txt"
    users.write_text(f"{STAFF_NAME}:{hash_password(STAFF_PASSWORD)}\n", encoding="utf-8")
    handoff_db = data / "handoff.sqlite3"
    env = {"BOT_FEEDBACK_DB": str(data / "feedback.sqlite3"), "BOT_HANDOFF_DB": str(handoff_db),
           "BOT_DESK_USERS": str(users)}
    with running_app("desk", env, data) as url:
        yield Server(url, handoff_db, data / "feedback.sqlite3")


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def _above_the_fold(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


def test_phone_first_view_welcomes_in_the_phone_language_with_input_and_examples_above_the_fold(browser, server):
    context = browser.new_context(viewport=PHONE, locale="ar-EG", is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(server.url)
        page.wait_for_selector("#question textarea", timeout=60_000)
        # The welcome follows the browser's language (Accept-Language) before anything is typed.
        page.wait_for_selector("#chat #welcome[lang=ar]", timeout=30_000)
        welcome = page.locator("#chat #welcome")
        assert welcome.get_attribute("dir") == "rtl" and "شنتشن" in welcome.inner_text()
        chips = page.locator("#chat .examples .example")
        assert chips.count() == 5 and "استرداد الضريبة" in chips.first.inner_text()
        for locator in (page.locator("#question textarea"), page.locator("#send"), chips.first, chips.last):
            assert _above_the_fold(page, locator), locator
        assert page.evaluate("window.scrollY") == 0
        # A chip asks its topic's example question in the visitor's language.
        chips.first.tap()
        page.wait_for_selector("#chat .answer", timeout=60_000)
        assert page.locator("#chat .answer").first.get_attribute("lang") == "ar"
    finally:
        context.close()


def _ask(page, text: str, nth: int):
    page.fill("#question textarea", text)
    page.click("#send")
    page.wait_for_function(f"document.querySelectorAll('#chat .answer').length >= {nth}", timeout=60_000)
    return page.locator("#chat .answer").nth(nth - 1)


def _staff_login(browser, server):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    staff_sign_in(page, server.url + "desk", STAFF_NAME, STAFF_PASSWORD)
    return context, page


def _open_code(page, code: str, expect: str = ".turn") -> None:
    page.locator("#desk-code textarea, #desk-code input").first.fill(code)
    page.click("#desk-open")
    page.wait_for_selector(f"#desk-conversation {expect}", timeout=90_000)


def test_arabic_conversation_handed_to_staff_at_the_desk(browser, server):
    visitor_ctx = browser.new_context(viewport=PHONE, locale="ar-EG", is_mobile=True, has_touch=True)
    staff_ctx = None
    try:
        visitor = visitor_ctx.new_page()
        visitor.goto(server.url)
        visitor.wait_for_selector("#question textarea", timeout=60_000)
        answers = [_ask(visitor, q, n).inner_text() for n, q in enumerate(ARABIC_TURNS, start=1)]
        visitor.click("#show-staff")
        visitor.wait_for_selector("#handoff .handoff-code", timeout=30_000)
        code = visitor.locator("#handoff .handoff-code").inner_text().strip()
        assert len(code) == 9 and visitor.locator("#handoff svg").count() == 1
        assert visitor.locator("#handoff .handoff").get_attribute("dir") == "rtl"
        assert "24" in visitor.locator("#handoff p").inner_text()

        # The visitor's own session cannot open the desk: it gets the staff login, and the desk's API refuses it.
        visitor.goto(server.url + "desk")
        visitor.wait_for_selector("input[type=password]", timeout=30_000)
        assert visitor.locator("#desk-code").count() == 0
        assert visitor.request.get(server.url + "desk/config").status == 401

        staff_ctx, staff = _staff_login(browser, server)
        staff.wait_for_function(f"document.querySelector('#desk-user').innerText.includes('{STAFF_NAME}')",
                                timeout=30_000)
        _open_code(staff, code.lower())  # typed as heard: lower case, with the dash
        turns = staff.locator("#desk-conversation .turn")
        assert turns.count() == 2
        for n, question in enumerate(ARABIC_TURNS):
            visitor_side = turns.nth(n).locator(".visitor-side")
            chinese_side = turns.nth(n).locator(".chinese-side")
            assert question in visitor_side.inner_text()
            assert visitor_side.locator(".answer").get_attribute("lang") == "ar"
            assert visitor_side.locator(".answer").inner_text().strip()[:40] in answers[n]
            assert chinese_side.locator(".answer").get_attribute("lang") == "zh-Hans"
            assert sum("\u4e00" <= ch <= "\u9fff" for ch in chinese_side.inner_text()) > 20
        assert "refund" in turns.nth(0).locator(".staff-meta").inner_text()  # the card (and checker) used

        # Another code, and this one once expired: refused, and the row is gone.
        _open_code(staff, "ZZZZ-ZZZZ", expect=".not-found")
        assert staff.locator("#desk-conversation .turn").count() == 0
        _open_code(staff, code, expect=".turn")  # still open until the clock passes its expiry
        with sqlite3.connect(server.handoff_db) as db:
            db.execute("UPDATE handoff SET expires_at = '2000-01-01T00:00:00.000000+00:00'")
        _open_code(staff, code, expect=".not-found")
        assert staff.locator("#desk-conversation .turn").count() == 0
        with sqlite3.connect(server.handoff_db) as db:
            assert db.execute("SELECT COUNT(*) FROM handoff").fetchone()[0] == 0
    finally:
        visitor_ctx.close()
        if staff_ctx is not None:
            staff_ctx.close()


def test_desk_one_question_and_content_report(browser, server):
    """What the public page's desk tab did, now behind the login."""
    context, page = _staff_login(browser, server)
    try:
        page.get_by_text("单个问题 · One question").click()
        page.fill("#desk-question textarea", "Kann ich mit Bargeld bezahlen, wenn ein Laden nur QR-Codes nimmt?")
        page.click("#desk-send")
        page.wait_for_selector("#desk-conversation .turn", timeout=60_000)
        turn = page.locator("#desk-conversation .turn").first
        assert turn.locator(".visitor-side .answer").get_attribute("lang") == "de"
        assert turn.locator(".chinese-side .answer").get_attribute("lang") == "zh-Hans"
        assert "pay-" in turn.locator(".staff-meta").inner_text()
        page.get_by_text("内容报告 · Content report").click()
        page.wait_for_selector("#content-report-table table", timeout=60_000)
        assert "entry-unilateral-30-day" in page.locator("#content-report-table").inner_text()
    finally:
        context.close()


def _count(text: str, *ranges: tuple[str, str]) -> int:
    return sum(any(lo <= ch <= hi for lo, hi in ranges) for ch in text)


ARABIC = (("\u0600", "\u06ff"), ("\ufb50", "\ufdff"), ("\ufe70", "\ufeff"))  # letters and shaped forms
CJK = (("\u4e00", "\u9fff"), ("\u2e80", "\u2fdf"))  # ideographs, and radicals some PDF text maps use


def test_print_slip_to_pdf_has_both_scripts_sources_and_hotline(browser, server, tmp_path):
    from pypdf import PdfReader

    context = browser.new_context(viewport=PHONE, locale="ar-EG")
    try:
        page = context.new_page()
        page.goto(server.url)
        page.wait_for_selector("#question textarea", timeout=60_000)
        _ask(page, ARABIC_TURNS[0], 1)
        # Headless Chromium cannot open a print dialog: record that the button asked for one, then print to PDF.
        page.evaluate("window.print = () => { window.__printed = true; }")
        page.click("#print-answer")
        page.wait_for_selector("#print-slip .turn", state="attached", timeout=60_000)
        page.wait_for_function("window.__printed === true", timeout=10_000)
        assert not page.locator("#print-slip").is_visible()  # on screen the slip stays hidden
        page.emulate_media(media="print")
        pdf = tmp_path / "slip.pdf"
        page.pdf(path=str(pdf), format="A4")
        text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
        assert _count(text, *ARABIC) > 50 and _count(text, *CJK) > 50
        assert "12367" in text and "12345" in text and "2026" in text  # hotlines and the valid-as-of date
        assert "Try one of these" not in text and "جرّب أحد هذه الأسئلة" not in text  # the page itself is not printed
    finally:
        context.close()


def test_transit_deadline_as_an_ics_file(browser, server):
    import icalendar

    context = browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    try:
        page = context.new_page()
        page.goto(server.url)
        page.wait_for_selector("#question textarea", timeout=60_000)
        _ask(page, "I land at Shenzhen Bao'an on 3 December 2026 at 15:00 with a US passport, flying on to Tokyo. "
                   "When must I leave?", 1)
        page.wait_for_selector("#ics", state="visible", timeout=30_000)
        with page.expect_download() as download:
            page.click("#ics")
        cal = icalendar.Calendar.from_ical(Path(download.value.path()).read_bytes())
        (event,) = cal.walk("VEVENT")
        end = event.decoded("dtend")
        assert (end.year, end.month, end.day, end.hour) == (2026, 12, 14, 0)  # 24:00 on 13 December, China time
        assert end.utcoffset().total_seconds() == 8 * 3600
        assert "12367" in str(event["description"]) and "12345" in str(event["description"])
        # A question without a computed deadline offers no file.
        _ask(page, "Can I use Alipay with my Visa card?", 2)
        page.wait_for_selector("#ics", state="hidden", timeout=30_000)
    finally:
        context.close()


def test_thumbs_down_with_a_reason_reaches_triage_and_becomes_a_qa_case(browser, server):
    """A visitor's 👎 with "wrong or outdated" (asked in their language), a declined question counted without its
    text, and staff at /desk → Triage: the row with its reason, the count, and "Make QA case" downloading the same
    JSONL line as ``feedback export``. The visitor's own browser reaches none of it."""
    import json

    from bot.store.feedback import FeedbackStore, case_line, export_cases

    question = "Wie viel muss ich mindestens ausgeben, um die Mehrwertsteuer zurückzubekommen?"
    declined = "Welche Aktie soll ich in Shenzhen kaufen, um schnell reich zu werden?"
    visitor_ctx = browser.new_context(viewport={"width": 1100, "height": 900}, locale="de-DE")
    staff_ctx = None
    try:
        visitor = visitor_ctx.new_page()
        visitor.goto(server.url)
        visitor.wait_for_selector("#question textarea", timeout=60_000)
        _ask(visitor, declined, 1)
        _ask(visitor, question, 2)
        visitor.fill("#comment textarea, #comment input", "Der Betrag stimmt nicht mehr")
        visitor.click("#thumbs-down")
        visitor.wait_for_selector("#reason", state="visible", timeout=30_000)
        assert "Was war falsch?" in visitor.locator("#reason-row").inner_text()  # asked in the visitor's language
        visitor.get_by_label("Falsche oder veraltete Antwort").check()
        visitor.wait_for_selector("#reason", state="hidden", timeout=30_000)
        assert "✅" in visitor.locator("#feedback-thanks").inner_text()
        with sqlite3.connect(server.feedback_db) as db:
            rows = db.execute("SELECT id, question, reason, comment, language FROM feedback WHERE verdict = 'down'"
                              ).fetchall()
            counted = db.execute("SELECT language, card_id, outcome FROM unanswered").fetchall()
        [(row_id, stored_question, reason, comment, lang)] = rows
        assert (stored_question, reason, comment, lang) == (question, "outdated", "Der Betrag stimmt nicht mehr", "de")
        assert ("de", "decline-investment", "declined") in counted  # counted; its text kept nowhere
        with sqlite3.connect(server.feedback_db) as db:
            assert not db.execute("SELECT 1 FROM feedback WHERE question = ?", (declined,)).fetchall()
        # The visitor's session cannot reach the desk or its triage.
        assert visitor.request.get(server.url + "desk/config").status == 401

        staff_ctx = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
        staff = staff_ctx.new_page()
        staff_sign_in(staff, server.url + "desk", STAFF_NAME, STAFF_PASSWORD)
        staff.get_by_text("反馈分拣 · Feedback triage").click()
        staff.wait_for_selector(f"#triage-feedback tr[data-id='{row_id}']", timeout=60_000)
        shown = staff.locator(f"#triage-feedback tr[data-id='{row_id}']")
        assert shown.get_attribute("data-reason") == "outdated" and question in shown.inner_text()
        assert "wrong or outdated answer" in shown.inner_text()
        counts = staff.locator("#triage-unanswered tr[data-outcome='declined']")
        assert "decline-investment" in counts.first.inner_text() and declined not in staff.content()
        with staff.expect_download() as download:
            staff.click("#make-case")  # the newest thumbs-down is picked already; the browser saves the line
        assert download.value.suggested_filename == f"qa-case-feedback-{row_id}.jsonl"
        # Saved by the browser, not served as a file: Gradio's file cache (which the visitor page's file route can
        # read too) never gets a copy of the visitor's question.
        assert staff.locator("#triage a[href*='gradio_api/file=']").count() == 0
        line = Path(download.value.path()).read_text("utf-8").strip()
        case = json.loads(line)
        assert case["id"] == f"feedback-{row_id}" and case["question"] == question and case["reason"] == "outdated"
        assert case["must_include"] == [] and case["needs_review"] is True and "must_include" in case["to_fill"]
        store = FeedbackStore(server.feedback_db)
        assert line == case_line(next(export_cases(store, row_id=row_id)))  # the same as ``feedback export``
    finally:
        visitor_ctx.close()
        if staff_ctx is not None:
            staff_ctx.close()
