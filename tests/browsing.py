"""What the browser tiers share: Debian's chromium, the real app started on a free loopback port, staff sign-in.

Imported by test modules as ``from browsing import …`` (tests/ is on the path, as for ``script_loader``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.serve.processes import ProcessError, Replica, free_port

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def require_chromium() -> None:
    """Skip where chromium is not installed, except on CI, which installs it (``make chromium``): there it fails."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Debian chromium is missing: make chromium installs it")
        pytest.skip("chromium not installed")


@contextmanager
def running_app(name: str, env: dict[str, str], folder: Path) -> Iterator[str]:
    """``app.py`` with these ``BOT_*`` settings on a free 127.0.0.1 port, ready on ``/healthz``; its URL (ending in
    ``/``). Stopped by its PID afterwards, whatever happened; its log is ``folder/app.log``."""
    replica = Replica(name, free_port(), env, folder / "app.log").start()
    try:
        try:
            replica.wait_ready(180)
        except ProcessError as exc:
            pytest.fail(str(exc))
        yield f"{replica.url}/"
    finally:
        replica.stop()


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def staff_sign_in(page: Any, desk_url: str, name: str, password: str) -> None:
    """Open the desk and sign in with the accounts-file login; returns when the code field is there."""
    page.goto(desk_url)
    page.wait_for_selector("input[type=password]", timeout=30_000)
    page.locator("input").first.fill(name)
    page.fill("input[type=password]", password)
    page.keyboard.press("Enter")
    page.wait_for_selector("#desk-code textarea, #desk-code input", timeout=30_000)
