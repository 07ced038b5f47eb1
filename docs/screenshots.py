"""Take the README screenshots from the running app: `python docs/screenshots.py http://127.0.0.1:7860/`.

The service-desk shots need a staff login: `DESK_USER=wang DESK_PASSWORD=... python docs/screenshots.py URL` against
an app started with `BOT_DESK_USERS` naming that account (README, "Service desk"); without them they are skipped.
`... python docs/screenshots.py URL --triage` takes the feedback-triage shots alone; they leave thumbs-down rows in
the app's feedback store, so use a scratch one (`BOT_FEEDBACK_DB`).
"""

import os
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).parent
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def main(url: str, only: str = "") -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        if only == "--triage":  # the feedback triage shots alone (they add feedback rows to the app's store)
            triage_shots(browser, url, os.environ["DESK_USER"], os.environ["DESK_PASSWORD"])
            browser.close()
            return
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(url)
        page.wait_for_selector("#question textarea", timeout=60_000)
        for n, question in enumerate(["退稅最少要買幾多錢？", "咁喺邊度攞錢？"], start=1):
            page.fill("#question textarea", question)
            page.click("#send")
            page.wait_for_function(f"document.querySelectorAll('#chat .answer').length >= {n}", timeout=60_000)
        time.sleep(1)
        page.screenshot(path=str(OUT / "chat.png"), full_page=True)
        # A forum-style message with background and three asks: one part per ask (desktop and phone).
        for name, size, message in (
            ("multi.png", {"width": 1100, "height": 900},
             "Hi! We're a family of four from Lyon with French passports, flying Paris to Shenzhen Bao'an on "
             "18 December 2026 and on to Bangkok on 27 December. Can we use the 240-hour visa-free transit? Also my "
             "son wants to buy a 2,400 RMB game console, how much tax would we get back? And any good dim sum place "
             "in Futian?"),
            ("multi-mobile.png", {"width": 390, "height": 844},
             "Hallo! Ich bin Deutscher und bleibe eine Woche in Shenzhen. Kann ich Alipay mit meiner Visa-Karte "
             "nutzen, und was kostet das? Und wo bekomme ich am Flughafen Bao'an die Steuerrückerstattung?"),
        ):
            multi = browser.new_page(viewport=size, device_scale_factor=1)
            multi.goto(url)
            multi.wait_for_selector("#question textarea", timeout=60_000)
            multi.fill("#question textarea", message)
            multi.click("#send")
            multi.wait_for_selector("#chat .answer", timeout=60_000)
            time.sleep(2)  # the chat scrolls itself to the end first; then show the answer from its first part
            multi.locator("#chat .answer").last.evaluate("e => e.scrollIntoView({block: 'start'})")
            time.sleep(0.5)
            multi.screenshot(path=str(OUT / name), full_page=True)
        mobile = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
        mobile.goto(url)
        mobile.wait_for_selector("#question textarea", timeout=60_000)
        mobile.fill("#question textarea", "كم يوما يمكنني البقاء بدون تأشيرة في العبور؟")
        mobile.click("#send")
        mobile.wait_for_selector("#chat .answer", timeout=60_000)
        time.sleep(1)
        mobile.screenshot(path=str(OUT / "mobile-ar.png"), full_page=False)
        check = browser.new_page(viewport={"width": 1100, "height": 1000})
        check.goto(url)
        check.wait_for_selector("#question textarea", timeout=60_000)
        check.fill("#question textarea", "I land at Bao'an on 3 December 2026 at 15:00 with a US passport and fly on "
                                         "to Tokyo. When must I leave?")
        check.click("#send")
        check.wait_for_selector("#chat .answer", timeout=60_000)
        time.sleep(1)
        # The chat scrolls to its end; the computation is at the top of the answer, so scroll its container back.
        check.evaluate("""() => { let el = document.querySelector('#chat .answer');
            while (el && !(el.scrollHeight > el.clientHeight + 5 && getComputedStyle(el).overflowY !== 'visible'))
                el = el.parentElement;
            if (el) el.scrollTop = 0; }""")
        time.sleep(1)
        check.screenshot(path=str(OUT / "check-chat.png"), full_page=True)
        check.get_by_role("tab", name="Check · 计算").click()
        check.get_by_text("Tax refund · 离境退税").click()
        check.fill("#r-amount input", "3500")
        check.locator("#r-vat").get_by_text("13%").click()
        check.fill("#r-purchase input", "2026-12-01")
        check.fill("#r-departure input", "2027-01-10")
        check.click("#r-go")
        check.wait_for_selector("#r-result .check", timeout=60_000)
        time.sleep(1)
        check.screenshot(path=str(OUT / "check-form.png"), full_page=True)
        if os.environ.get("DESK_USER"):
            desk_shots(browser, url, os.environ["DESK_USER"], os.environ["DESK_PASSWORD"])
            triage_shots(browser, url, os.environ["DESK_USER"], os.environ["DESK_PASSWORD"])
        browser.close()


def desk_shots(browser, url: str, user: str, password: str) -> None:
    """The handoff: a phone's first view, two questions in Arabic, "Show to staff"; the desk opening the code; the
    printed slip."""
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1, locale="ar-EG",
                                is_mobile=True, has_touch=True)
    visitor = phone.new_page()
    visitor.goto(url)
    visitor.wait_for_selector("#chat #welcome[lang=ar]", timeout=60_000)
    time.sleep(1)
    visitor.screenshot(path=str(OUT / "mobile-welcome.png"))
    for n, question in enumerate(["كم أسترد من الضريبة على مشتريات بقيمة 1000 يوان؟",
                                  "هل يمكنني استخدام بطاقة فيزا مع أليباي في شنتشن؟"], start=1):
        visitor.fill("#question textarea", question)
        visitor.click("#send")
        visitor.wait_for_function(f"document.querySelectorAll('#chat .answer').length >= {n}", timeout=60_000)
    visitor.click("#show-staff")
    visitor.wait_for_selector("#handoff .handoff-code", timeout=30_000)
    time.sleep(1.5)
    visitor.screenshot(path=str(OUT / "handoff-mobile.png"))
    code = visitor.locator("#handoff .handoff-code").inner_text().strip()
    visitor.evaluate("window.print = () => {}")
    visitor.click("#print-answer")
    visitor.wait_for_selector("#print-slip .turn", state="attached", timeout=60_000)
    visitor.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    visitor.emulate_media(media="print")
    time.sleep(1)
    visitor.screenshot(path=str(OUT / "slip.png"), full_page=True)
    staff = browser.new_page(viewport={"width": 1200, "height": 900})
    _login(staff, url, user, password)
    staff.locator("#desk-code textarea, #desk-code input").first.fill(code)
    staff.click("#desk-open")
    staff.wait_for_selector("#desk-conversation .turn", timeout=90_000)
    time.sleep(1)
    staff.screenshot(path=str(OUT / "desk.png"), full_page=True)


# Thumbs-down with a reason, in three languages, and declined questions: what the triage shot shows.
TRIAGE_FEEDBACK = (
    ("de", "Wie viel muss ich mindestens ausgeben, um die Mehrwertsteuer zurückzubekommen?", "Falsche oder veraltete "
     "Antwort", "Der Betrag auf dem Schild im Laden war anders"),
    ("fr", "Puis-je payer le métro de Shenzhen avec ma carte Visa ?", "Mauvaise langue", ""),
    ("th", "ต้องใช้เอกสารอะไรบ้างเพื่อขอคืนภาษีที่สนามบิน", "ไม่ชัดเจน", ""),
)
TRIAGE_DECLINED = ("Which stock should I buy in Shenzhen?", "Quelle action acheter à Shenzhen ?",
                   "深圳哪家医院看牙最好？", "Which stock should I buy to get rich fast?")


def _login(staff, url: str, user: str, password: str) -> None:
    staff.goto(url + "desk")
    staff.wait_for_selector("input[type=password]", timeout=30_000)
    staff.locator("input").first.fill(user)
    staff.fill("input[type=password]", password)
    staff.keyboard.press("Enter")
    staff.wait_for_selector("#desk-code textarea, #desk-code input", timeout=30_000)


def triage_shots(browser, url: str, user: str, password: str) -> None:
    """A visitor's thumbs-down asking its reason (feedback-reason.png); the desk's Triage view with a QA case made
    (triage.png)."""
    for n, (lang, question, reason, comment) in enumerate(TRIAGE_FEEDBACK):
        visitor = browser.new_page(viewport={"width": 1000, "height": 900}, locale=lang)
        visitor.goto(url)
        visitor.wait_for_selector("#question textarea", timeout=60_000)
        visitor.fill("#question textarea", question)
        visitor.click("#send")
        visitor.wait_for_selector("#chat .answer", timeout=60_000)
        if comment:
            visitor.fill("#comment textarea, #comment input", comment)
        visitor.click("#thumbs-down")
        visitor.wait_for_selector("#reason", state="visible", timeout=30_000)
        if n == 0:
            time.sleep(1)
            visitor.screenshot(path=str(OUT / "feedback-reason.png"), full_page=True)
        visitor.get_by_label(reason).check()
        visitor.wait_for_selector("#reason", state="hidden", timeout=30_000)
        visitor.close()
    asker = browser.new_page()
    asker.goto(url)
    asker.wait_for_selector("#question textarea", timeout=60_000)
    for n, question in enumerate(TRIAGE_DECLINED, start=1):
        asker.fill("#question textarea", question)
        asker.click("#send")
        asker.wait_for_function(f"document.querySelectorAll('#chat .answer').length >= {n}", timeout=60_000)
    staff = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True).new_page()
    _login(staff, url, user, password)
    staff.get_by_text("反馈分拣 · Feedback triage").click()
    staff.wait_for_selector("#triage-feedback table", timeout=60_000)
    with staff.expect_download():
        staff.click("#make-case")
    time.sleep(1)
    staff.locator("#triage").screenshot(path=str(OUT / "triage.png"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:7860/", *sys.argv[2:3])
