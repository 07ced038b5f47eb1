"""The service window end to end (#18): the phone's first view, the visitor-to-staff handoff, the staff desk at /desk,
the printable slip and the calendar file; the real app (real model and index) in headless Debian Chromium.

Marked ``browser`` and ``realmodel``, like tests/test_browser.py, whose pattern this follows; the server here gets its
own handoff database and a staff accounts file, so it is started by this module's fixture.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.realmodel]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Debian chromium is missing: .ci/run installs it")
        pytest.skip("chromium not installed")
    port = _free_port()
    data = tmp_path_factory.mktemp("desk")
    env = {**os.environ, "BOT_PORT": str(port), "BOT_FEEDBACK_DB": str(data / "feedback.sqlite3")}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"app exited: {proc.stderr.read()[-2000:]}")
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("app did not start in 180 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _above_the_fold(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


def test_phone_first_view_welcomes_in_the_phone_language_with_input_and_examples_above_the_fold(browser, server):
    context = browser.new_context(viewport=PHONE, locale="ar-EG", is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(server)
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
