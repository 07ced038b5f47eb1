"""The staff desk at ``/desk`` (#18) and the server that puts it beside the visitor page at ``/``.

Staff sign in (accounts from a file of scrypt hashes, or a header set by a trusted reverse proxy that did the login),
type or scan a visitor's handoff code and see the whole conversation side by side: the visitor's language and
Simplified Chinese (asked again in Chinese with the same earlier questions, so follow-ups read alike), with the cards,
the checker's inputs and figures, the sources and any staff notes, printable as a bilingual slip. The one-question
form and the content report that were the public page's desk tab live here now.

Visitors cannot reach any of it: every route under /desk (page, config, API, queue) needs the login, and the visitor
page has no endpoint that reads a handoff. Both entry points are rate limited per client (ratelimit.py).

Staff-facing labels are Chinese with English beside them (staff read Chinese; visitors never see them), so they are
kept here rather than in the 15-language message table.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import hmac
import logging
import secrets
import sys
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import gradio as gr

from bot.clock import today
from bot.config import Settings
from bot.errors import ConfigError
from bot.messages import language_name, message
from bot.schema import Answer, Citation
from bot.serve.pipeline import Bot
from bot.store.feedback import FeedbackStore
from bot.store.handoff import HandoffStore, Turn, shown_code
from bot.store.postgres import open_handoffs
from bot.web.markup import esc, text_dir

log = logging.getLogger(__name__)

CHINESE = "zh-Hans"
GRACE_SECONDS = 5
STAFF_SECOND = "en"  # the staff texts' second language, after Chinese (as the labels below)
CHINA_TIME = ZoneInfo("Asia/Shanghai")  # the window's clock
STAFF = {
    "title": "服务窗口 · Service desk",
    "code": "访客代码 · Visitor's code",
    "open": "打开 · Open",
    "not_found": "没有此代码的对话（代码有误或已过期删除）· No conversation under this code (mistyped, or expired "
                 "and deleted).",
    "turn": "第{n}问 · Question {n}",
    "visitor": "访客语言 · Visitor's language",
    "chinese": "简体中文 · Simplified Chinese",
    "cards": "卡片 · Cards",
    "check": "计算输入与结果 · Checker inputs and figures",
    "expires": "有效至 · Valid until",
    "print": "打印 · Print",
    "hotline": "热线 · Hotlines",
    "ask": "单个问题 · One question",
    "signed_in": "已登录 · Signed in as",
    "logout": "退出 · Sign out",
    "report": "内容报告 · Content report",
    "login": "服务窗口工作人员登录 · Service-desk staff sign-in",
    "triage": "反馈分拣 · Feedback triage",
    "thumbs_down": "差评（访客留下的问题与原因）· Thumbs-down (the visitor left the question and reason)",
    "unanswered": "拒答与低置信度（近{days}天，不存问题原文）· Declined and low-confidence (last {days} days, no "
                  "question text kept)",
    "row": "反馈行 · Feedback row",
    "make_case": "生成QA案例 · Make QA case",
    "refresh": "刷新 · Refresh",
    "no_row": "请选择一行反馈 · Choose a feedback row first.",
}
# scrypt parameters: n=2^14, r=8 costs 16 MB and ~50 ms per check: cheap for a login, dear for a guessing attacker.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
DESK_CSS = """
.turn { border-top: 2px solid #ea580c; margin-top: 12px; padding-top: 6px; }
.turn h3 { margin: 4px 0; font-size: 1em; }
.side-by-side { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.side-by-side > div { min-width: 0; }
.side-by-side .label { font-size: 0.8em; opacity: 0.75; }
.question { font-weight: 600; margin: 4px 0; }
.staff-meta { font-size: 0.85em; margin-top: 6px; }
.staff-meta table { border-collapse: collapse; }
.staff-meta td { padding: 1px 8px 1px 0; }
.staff-note { color: #b45309; font-weight: 600; }
.slip-head, .slip-foot { display: none; }
#triage table { border-collapse: collapse; font-size: 0.85em; width: 100%; }
#triage th, #triage td { border-bottom: 1px solid #ddd; padding: 2px 6px; text-align: start; vertical-align: top; }
#triage td.count { text-align: end; font-weight: 600; }
@media (max-width: 700px) { .side-by-side { grid-template-columns: 1fr; } }
"""
# As page.PRINT_HEAD: a plain <style> in the head, since Gradio rewrites its ``css`` selectors.
DESK_PRINT_HEAD = """<style media="print">
body * { visibility: hidden !important; }
#desk-conversation, #desk-conversation * { visibility: visible !important; }
#desk-conversation { position: absolute; left: 0; top: 0; width: 100%; }
#desk-conversation .slip-head, #desk-conversation .slip-foot { display: block !important; margin: 8px 0; }
#desk-conversation .turn { break-inside: avoid; }
#desk-conversation a { color: inherit; text-decoration: none; }
</style>"""



# ---------------------------------------------------------------- accounts


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def load_accounts(path: Path) -> dict[str, str]:
    """``name:hash`` lines; ``#`` comments and blank lines ignored. A malformed line is a ConfigError naming it."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"BOT_DESK_USERS: cannot read {path}: {exc.strerror}") from None
    accounts: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, stored = line.partition(":")
        if not sep or not name.strip() or not stored.startswith("scrypt$") or stored.count("$") != 5:
            raise ConfigError(f"{path}:{number}: expected 'name:scrypt$…' "
                              f"(make one with: python -m bot.web.desk add-user {path} NAME)")
        accounts[name.strip()] = stored.strip()
    return accounts


def password_check(accounts: Mapping[str, str]) -> Callable[[str, str], bool]:
    dummy = hash_password("not-a-password")

    def check(username: str, password: str) -> bool:
        stored = accounts.get(username)
        # An unknown name costs the same scrypt as a known one: the timing does not tell which names exist.
        ok = verify_password(password, stored or dummy)
        return ok and stored is not None

    return check


# ---------------------------------------------------------------- the conversation, side by side


def answer_from_json(data: Mapping[str, Any]) -> Answer:
    citations = tuple(Citation(str(c.get("title", "")), str(c.get("url", "")), str(c.get("doc_id", "")),
                               str(c.get("chunk_id", "")), c.get("measure")) for c in data.get("citations", ()))
    check = data.get("check")
    return Answer(text=str(data.get("answer", "")), language=str(data.get("language", "en")), citations=citations,
                  valid_as_of=str(data.get("valid_as_of", "")), refused=bool(data.get("refused", False)),
                  card_ids=tuple(str(c) for c in data.get("card_ids", ())),
                  escalation=str(data.get("escalation", "")), check=dict(check) if isinstance(check, dict) else None)


def chinese_answer(bot: Bot, turn: Turn) -> Answer:
    if turn.language == CHINESE:
        return answer_from_json(turn.answer)
    return bot.ask(turn.question, history=list(turn.history), lang=CHINESE)


def check_table(check: Mapping[str, Any] | None) -> str:
    """The checker's inputs and computed figures as staff see them (machine values: dates ISO, amounts exact)."""
    if not check:
        return ""
    values = check.get("values") or {}
    rows = "".join(f"<tr><td><code>{esc(k)}</code></td><td>{esc(v)}</td></tr>" for k, v in values.items())
    missing = ", ".join(str(m) for m in check.get("missing") or ())
    return (f"<div class='check-values'><b>{esc(STAFF['check'])}</b> — {esc(check.get('checker', ''))}: "
            f"<b>{esc(check.get('verdict', ''))}</b>" + (f" (missing: {esc(missing)})" if missing else "")
            + f"<table>{rows}</table></div>")


def hotline_html(lang: str) -> str:
    direction = text_dir(lang)
    lines = [message("escalation_12367", lang), message("escalation_12345", lang)]
    return "".join(f"<div dir='{direction}' lang='{esc(lang)}'>{esc(line)}</div>" for line in lines)


def conversation_html(bot: Bot, turns: tuple[Turn, ...], day: date, code: str = "", expires: str = "",
                      staff: bool = True) -> str:
    """Each turn in the visitor's language and Chinese side by side; printed, a slip with a head and the hotlines.
    ``staff=False`` (the visitor's own print) leaves out the cards, checker values and staff notes."""
    from bot.web.page import _staff_notes_html, answer_html  # the page's own rendering, one look for both

    lang = turns[0].language if turns else "en"
    parts = [f"<div class='slip-head'><h2>{esc(message('ui_title', lang))} · {esc(message('ui_title', CHINESE))}"
             f"</h2><div>{esc(day.isoformat())}" + (f" · {esc(shown_code(code))}" if code else "") + "</div></div>"]
    if code:
        parts.append(f"<div class='staff-meta'>{esc(STAFF['code'])}: <b>{esc(shown_code(code))}</b> · "
                     f"{esc(STAFF['expires'])}: {esc(expires)} · "
                     f"{esc(language_name(lang))}</div>")
    for n, turn in enumerate(turns, start=1):
        visitor = answer_from_json(turn.answer)
        try:
            chinese = chinese_answer(bot, turn)
            chinese_html = answer_html(chinese)
        except Exception:
            log.exception("could not answer a handed-over question in Chinese")
            chinese_html = f"<p>{esc(message('error_generic', CHINESE))}</p>"
        direction = text_dir(turn.language)
        cards = ", ".join(f"<code>{esc(c)}</code>" for c in visitor.card_ids) or "–"
        parts.append(
            f"<div class='turn' data-turn='{n}'><h3>{esc(STAFF['turn'].format(n=n))}</h3>"
            f"<div class='side-by-side'>"
            f"<div class='visitor-side'><div class='label'>{esc(STAFF['visitor'])} · "
            f"{esc(language_name(turn.language))}</div>"
            f"<p class='question' dir='{direction}' lang='{esc(turn.language)}'>{esc(turn.question)}</p>"
            f"{answer_html(visitor)}</div>"
            f"<div class='chinese-side'><div class='label'>{esc(STAFF['chinese'])}</div>{chinese_html}</div>"
            "</div>"
            + (f"<div class='staff-meta'><b>{esc(STAFF['cards'])}:</b> {cards}"
               f"{_staff_notes_html(bot, visitor.card_ids, day, STAFF_SECOND)}{check_table(visitor.check)}</div>"
               if staff else "")
            + "</div>")
    hotline = f"{message('ui_hotline', lang)} · {message('ui_hotline', CHINESE)}"
    parts.append(f"<div class='slip-foot'><b>{esc(hotline)}</b>{hotline_html(lang)}"
                 + (hotline_html(CHINESE) if lang != CHINESE else "") + "</div>")
    return "".join(parts)


# ---------------------------------------------------------------- the desk page


def build_desk(bot: Bot, store: FeedbackStore, handoffs: HandoffStore) -> gr.Blocks:
    from bot.web import triage
    from bot.web.content_report import build_report, html_table
    from bot.web.page import count_served

    def open_code(code: str, request: gr.Request) -> str:
        handoff = handoffs.open(code or "")
        if handoff is None:
            return f"<p class='not-found'>{esc(STAFF['not_found'])}</p>"
        log.info("desk: %s opened a handoff", getattr(request, "username", "?"))  # who, never which code
        expires = handoff.expires_at.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M") + " (UTC+8)"
        return conversation_html(bot, handoff.turns, today(bot.settings), handoff.code, expires)

    def one_question(question: str) -> str:
        try:
            visitor = bot.ask(question)
        except Exception as exc:
            from bot.web.page import AUTO, _error_text, _guess_lang

            return f"<p>{esc(_error_text(exc, _guess_lang(question, AUTO)))}</p>"
        count_served(store, visitor, today(bot.settings), bot.cards)
        turn = Turn(question, visitor.language, visitor.as_json())
        return conversation_html(bot, (turn,), today(bot.settings))

    def report() -> str:
        try:
            return html_table(build_report(bot.settings.corpus_dir, today(bot.settings), store))
        except Exception:
            log.exception("could not build the content report")
            return f"<p>{esc(message('error_generic', CHINESE))}</p>"

    def triage_view() -> list[Any]:
        """The thumbs-down rows (newest first), the picker for "Make QA case", the unanswered counts."""
        try:
            rows = triage.down_rows(store)
            counts = store.unanswered(triage.since(today(bot.settings)))
        except Exception:
            log.exception("could not read the feedback store for triage")
            failed = f"<p>{esc(message('error_generic', CHINESE))}</p>"
            return [failed, gr.update(choices=[], value=None), failed]
        choices = triage.row_choices(rows)
        return [triage.feedback_table(rows), gr.update(choices=choices, value=choices[0][1] if choices else None),
                triage.unanswered_table(counts)]

    def make_case(row_id: int | None, request: gr.Request) -> str:
        """One feedback row as a QA-case JSONL line for the reviewers, the same line ``feedback export`` writes; the
        browser then saves it as a file (triage.DOWNLOAD_JS)."""
        if not row_id:
            return STAFF["no_row"]
        try:
            line = triage.case_of(store, int(row_id))
        except Exception:
            log.exception("could not make a QA case")
            return message("error_generic", CHINESE)
        if line is None:
            return STAFF["no_row"]
        log.info("desk: %s made a QA case from feedback row %s", getattr(request, "username", "?"), row_id)
        return line

    def who(request: gr.Request) -> str:
        return f"{STAFF['signed_in']}: **{getattr(request, 'username', None) or '?'}** · [{STAFF['logout']}](logout)"

    with gr.Blocks(title=STAFF["title"]) as desk:
        gr.Markdown(f"## {STAFF['title']}")
        signed_in = gr.Markdown(elem_id="desk-user")
        with gr.Row(equal_height=True):
            code = gr.Textbox(label=STAFF["code"], placeholder="ABCD-2345", scale=3, elem_id="desk-code",
                              max_length=40, autofocus=True)
            go = gr.Button(STAFF["open"], variant="primary", scale=1, elem_id="desk-open")
            printing = gr.Button(STAFF["print"], scale=1, elem_id="desk-print")
        conversation = gr.HTML(elem_id="desk-conversation")
        with gr.Accordion(STAFF["ask"], open=False, elem_id="desk-ask"):
            question = gr.Textbox(label=STAFF["ask"], lines=2, elem_id="desk-question", max_length=4000)
            ask = gr.Button(STAFF["open"], elem_id="desk-send")
        with gr.Accordion(STAFF["report"], open=False, elem_id="content-report") as report_box:
            report_out = gr.HTML(elem_id="content-report-table")
        with gr.Accordion(STAFF["triage"], open=False, elem_id="triage") as triage_box:
            refresh = gr.Button(STAFF["refresh"], size="sm", elem_id="triage-refresh")
            gr.Markdown(f"**{STAFF['thumbs_down']}**")
            feedback_out = gr.HTML(elem_id="triage-feedback")
            with gr.Row(equal_height=True):
                row_pick = gr.Dropdown(label=STAFF["row"], choices=[], scale=4, elem_id="triage-row")
                make = gr.Button(STAFF["make_case"], variant="primary", scale=1, elem_id="make-case")
            case_line = gr.Code(language="json", elem_id="case-line", show_label=False, interactive=False)
            gr.Markdown(f"**{STAFF['unanswered'].format(days=triage.TRIAGE_DAYS)}**")
            unanswered_out = gr.HTML(elem_id="triage-unanswered")
        triage_outputs = [feedback_out, row_pick, unanswered_out]
        triage_box.expand(triage_view, None, triage_outputs, api_visibility="private")
        refresh.click(triage_view, None, triage_outputs, api_visibility="private")
        make.click(make_case, [row_pick], [case_line], api_visibility="private").then(
            None, [case_line], None, js=triage.DOWNLOAD_JS)
        for trigger in (go.click, code.submit):
            trigger(open_code, [code], [conversation], api_visibility="private")
        for trigger in (ask.click, question.submit):
            trigger(one_question, [question], [conversation], api_visibility="private")
        # The browser prints: every script (Arabic, Thai, CJK) is shaped by the same engine that shows it.
        printing.click(None, None, None, js="() => window.print()")
        report_box.expand(report, None, [report_out], api_visibility="private")
        desk.load(who, None, [signed_in], api_visibility="private")
    return desk


# ---------------------------------------------------------------- the server


def build_server(bot: Bot, store: FeedbackStore, settings: Settings) -> Any:
    """One ASGI app: the desk at /desk (when a login is configured), the visitor page at /, a per-client rate limit
    in front of both."""
    import fastapi

    from bot.web.health import health_route
    from bot.web.page import CSS, PRINT_HEAD, QUEUE_SIZE, build_app
    from bot.web.ratelimit import RateLimitMiddleware

    if settings.handoff_hours <= 0:
        raise ConfigError("BOT_HANDOFF_HOURS must be positive")
    # With BOT_FEEDBACK_DSN the codes live in that PostgreSQL database, so every replica opens every code.
    handoffs = open_handoffs(settings.feedback_dsn, settings.handoff_db, timedelta(hours=settings.handoff_hours))
    handoffs.purge()
    server = fastapi.FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    # ``/healthz`` for the balancer and the probes (deploy/, README "Scale out"): before the page, mounted at the root.
    server.router.routes.append(health_route(bot))
    if settings.desk_users or settings.desk_user_header:
        @server.get("/desk", include_in_schema=False)
        def desk_slash() -> fastapi.Response:  # the mounted app lives at /desk/
            return fastapi.responses.RedirectResponse("/desk/")

        desk = build_desk(bot, store, handoffs)
        desk.queue(default_concurrency_limit=settings.concurrency, max_size=QUEUE_SIZE, api_open=False)
        if settings.desk_users:
            accounts = load_accounts(Path(settings.desk_users).expanduser())
            server = gr.mount_gradio_app(server, desk, path="/desk", auth=password_check(accounts),
                                         auth_message=STAFF["login"], css=DESK_CSS, head=DESK_PRINT_HEAD,
                                         show_error=False,
                                         ssr_mode=False, max_file_size="1kb")
        else:
            header = settings.desk_user_header.lower()
            server = gr.mount_gradio_app(server, desk, path="/desk",
                                         auth_dependency=lambda request: request.headers.get(header) or None,
                                         css=DESK_CSS, head=DESK_PRINT_HEAD, show_error=False, ssr_mode=False,
                                         max_file_size="1kb")
    else:
        @server.get("/desk")
        @server.get("/desk/{rest:path}")
        def desk_closed(rest: str = "") -> fastapi.Response:
            return fastapi.responses.PlainTextResponse(
                "The service desk is not configured (BOT_DESK_USERS or BOT_DESK_USER_HEADER).", status_code=404)

    page = build_app(bot, store, handoffs)
    # ``api_open=False``: Gradio otherwise also serves every queued event at ``/gradio_api/run/<name>``, which skips
    # the queue and its limits (issue #17).
    page.queue(default_concurrency_limit=settings.concurrency, max_size=QUEUE_SIZE, api_open=False)
    server = gr.mount_gradio_app(server, page, path="", css=CSS, head=PRINT_HEAD, footer_links=["api"],
                                 show_error=False, ssr_mode=False, max_file_size="1kb")
    return RateLimitMiddleware(server, settings.rate_limit_per_minute)


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(0)


def serve(bot: Bot, store: FeedbackStore, settings: Settings) -> None:
    import signal

    import uvicorn

    # uvicorn re-raises the stop signal once its graceful shutdown is done; with the default handler the process
    # would die there without running ``atexit`` (the scratch folder of calendar files, tempfiles.py, stayed
    # behind). As SystemExit(0) it exits cleanly, after the shutdown.
    signal.signal(signal.SIGTERM, _stopped)
    log.info("visitor page at http://%s:%d/, staff desk at /desk", settings.host, settings.port)
    # A stop (SIGTERM) waits at most GRACE seconds for open requests: a client holding a stream open (gradio_client
    # keeps one) would otherwise hold the process up indefinitely.
    uvicorn.run(build_server(bot, store, settings), host=settings.host, port=settings.port, log_level="warning",
                timeout_graceful_shutdown=GRACE_SECONDS)


# ---------------------------------------------------------------- accounts file tool


def main(argv: list[str] | None = None) -> int:
    """``python -m bot.web.desk add-user FILE NAME``: add or replace a staff account (password asked, or read from
    standard input when it is not a terminal)."""
    parser = argparse.ArgumentParser(prog="python -m bot.web.desk")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add-user", help="add or replace a staff account in an accounts file")
    add.add_argument("file", type=Path)
    add.add_argument("name")
    args = parser.parse_args(argv)
    if ":" in args.name or not args.name.strip():
        print("error: a name cannot be empty or contain ':'", file=sys.stderr)
        return 2
    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        print("error: use a password of at least 8 characters", file=sys.stderr)
        return 2
    lines = args.file.read_text(encoding="utf-8").splitlines() if args.file.exists() else []
    lines = [line for line in lines if line.partition(":")[0].strip() != args.name]
    lines.append(f"{args.name}:{hash_password(password)}")
    args.file.parent.mkdir(parents=True, exist_ok=True)
    args.file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args.file.chmod(0o600)
    print(f"{args.name} added to {args.file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

