"""End-to-end: the real app (real model, real index) in headless Debian Chromium, driven by Playwright.

Needs `/usr/bin/chromium` (installed by .ci/run) and the built index. Marked ``browser`` and ``realmodel``.
"""

from __future__ import annotations

import sqlite3

import pytest
from browsing import chromium, require_chromium, running_app

pytestmark = [pytest.mark.browser, pytest.mark.realmodel]

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    folder = tmp_path_factory.mktemp("fb")
    db = folder / "feedback.sqlite3"
    with running_app("browser", {"BOT_FEEDBACK_DB": str(db), "BOT_HANDOFF_DB": str(folder / "handoff.sqlite3")},
                     folder) as url:
        yield url, db


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    pg = context.new_page()
    pg.goto(server[0])
    pg.wait_for_selector("#question textarea", timeout=60_000)
    yield pg
    context.close()


def _ask(page, text: str, nth: int = 1):
    page.fill("#question textarea", text)
    page.click("#send")
    page.wait_for_function(f"document.querySelectorAll('#chat .answer').length >= {nth}", timeout=60_000)
    return page.locator("#chat .answer").nth(nth - 1)


def test_english_answer_with_citations(page):
    answer = _ask(page, "How much VAT do I get back on a 1,000 RMB purchase?")
    assert answer.get_attribute("lang") == "en" and answer.get_attribute("dir") == "ltr"
    assert answer.locator(".sources a").count() >= 1
    assert "2026" in answer.inner_text()


def test_traditional_chinese_answer_and_labels_follow(page):
    answer = _ask(page, "退稅最少要買幾多錢？")
    assert answer.get_attribute("lang") == "zh-Hant"
    assert "退稅" in answer.inner_text() and "退税" not in answer.inner_text()
    assert page.locator("#send").inner_text().strip() == "傳送"


def test_arabic_answer_is_right_to_left(page):
    answer = _ask(page, "هل يمكنني استخدام بطاقة فيزا مع أليباي في شنتشن؟")
    assert answer.get_attribute("dir") == "rtl" and answer.get_attribute("lang") == "ar"
    direction = answer.evaluate("el => getComputedStyle(el).direction")
    assert direction == "rtl"


def test_example_click_then_feedback_is_stored(page, server):
    page.locator("#examples button").first.click()
    page.wait_for_selector("#chat .answer", timeout=60_000)
    page.fill("#comment textarea", "clear and useful")
    page.click("#thumbs-up")
    # Wait for the thanks itself: while the event is pending the component shows Gradio's progress timer, which
    # is text too, and the row may not be written yet.
    page.wait_for_function("document.querySelector('#feedback-thanks').innerText.includes('✅')", timeout=30_000)
    with sqlite3.connect(server[1]) as db:
        rows = db.execute("SELECT verdict, comment, language FROM feedback").fetchall()
    assert ("up", "clear and useful", "en") in rows


def test_follow_up_in_the_page(page):
    _ask(page, "Can I link a foreign Visa card to Alipay?")
    answer = _ask(page, "and the fees?", nth=2)
    assert "3%" in answer.inner_text()


def test_bad_input_gets_a_message_not_a_traceback(page):
    answer = _ask(page, "x" * 3000)
    assert "Traceback" not in page.content()
    assert "1000" in answer.inner_text() or "1,000" in answer.inner_text()


def test_gradio_client_api(server):
    from gradio_client import Client

    client = Client(server[0], verbose=False)
    result = client.predict("Where can I get a tax refund at Luohu port?", "auto", [], api_name="/ask")
    assert result["language"] == "en" and not result["refused"]
    assert result["citations"] and result["valid_as_of"]


def test_chat_question_with_inputs_gets_the_computed_deadline(page):
    answer = _ask(page, "I land at Shenzhen Bao'an on 3 December 2026 at 15:00 with a US passport, flying on to Tokyo. "
                        "When must I leave?")
    text = answer.inner_text()
    assert "December 13, 2026" in text and "24:00" in text


def test_check_tab_refund_form(page):
    page.get_by_role("tab", name="Check · 计算").click()
    page.get_by_text("Tax refund · 离境退税").click()
    page.fill("#r-amount input", "1200")
    page.locator("#r-vat").get_by_text("13%").click()
    page.click("#r-go")
    page.wait_for_selector("#r-result .check", timeout=60_000)
    result = page.locator("#r-result .check")
    assert result.get_attribute("data-verdict") == "yes"
    assert "108" in result.inner_text() and result.locator(".meta a").count() >= 1
