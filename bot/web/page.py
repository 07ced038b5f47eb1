"""The web page: a chat for visitors, a desk view for service-window staff, a search over the sources.

``build_app(bot, store)`` returns a ``gr.Blocks`` and launches nothing; all business logic stays in ``Bot``. Each
handler turns expected errors into a message in the visitor's language and logs unexpected ones: the page never
shows a traceback. Everything shown is built here as escaped HTML, so text from anywhere (a question, a generated
answer) cannot inject markup.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

import gradio as gr

from bot.answer.expiry import expiry_notice, staff_notes
from bot.clock import today
from bot.errors import BadInput, BotError
from bot.lang import detect
from bot.messages import examples, language_name, message
from bot.schema import LANGUAGES, TOPICS, Answer, Card
from bot.serve.pipeline import Bot
from bot.store.feedback import REASONS, FeedbackStore
from bot.store.handoff import HandoffStore, Turn, shown_code
from bot.web.check_forms import build_check_tab
from bot.web.ics import deadline_of, ics_bytes
from bot.web.markup import esc, text_dir
from bot.web.tempfiles import scratch
from bot.web.triage import unanswered_of

log = logging.getLogger(__name__)

AUTO = "auto"
EXAMPLE_TOPICS = ("tax_refund", "transit", "entry", "payment", "services")
CSS = """
.answer p { margin: 0.35em 0; }
.answer .meta { font-size: 0.85em; opacity: 0.85; margin-top: 0.6em; }
.answer .hotline { font-weight: 600; }
.answer h4.ask { margin: 0.9em 0 0.2em; padding-inline-start: 0.5em; border-inline-start: 3px solid #ea580c;
                 font-size: 1em; font-weight: 600; }
.answer h4.ask:first-child { margin-top: 0.2em; }
#examples button { white-space: normal; text-align: start; }
#desk-info .staff-note { color: #b45309; font-weight: 600; }
.content-report table { font-size: 0.85em; }
#print-slip { display: none; }
.handoff { text-align: center; padding: 8px; border: 2px dashed #ea580c; border-radius: 8px; }
.handoff-code { font: 700 2em/1.2 ui-monospace, monospace; letter-spacing: 0.08em; }
.handoff-qr svg { display: block; margin: 6px auto; }
.content-report tr.expired td, .content-report tr.review_overdue td { color: #b91c1c; }
@media (max-width: 640px) { .gradio-container { padding: 4px !important; } }
/* First view on a phone (#18): title, compact language picker, chat with its welcome and topic chips, and the input
   all on the first screen of 390x844; the subtitle is in the welcome already. */
#top-row { align-items: center; flex-wrap: nowrap; gap: 8px; }
#language { max-width: 190px; }
#chat .placeholder-content, #chat .placeholder { text-align: start; }
#welcome { padding: 0 12px; }
#chat .examples { display: flex; flex-wrap: wrap; gap: 6px; justify-content: flex-start; }
#chat .examples .example { width: auto; flex: 0 0 auto; border-radius: 999px; padding: 5px 12px; min-height: 0; }
@media (max-width: 640px) {
  #header h2 { font-size: 1.1em; margin: 0; }
  #header p { display: none; }
  #language { max-width: 140px; min-width: 110px !important; }
  #chat { height: min(430px, calc(100dvh - 330px)) !important; min-height: 260px; }
}
"""

# The print view, as a plain <style> in the page's head: Gradio rewrites the selectors of its ``css`` (``body`` among
# them), and printing must hide the whole page but the slip. The browser prints, so every script is shaped by the same
# engine that shows it (Arabic, Thai, CJK).
PRINT_HEAD = """<style media="print">
body * { visibility: hidden !important; }
#print-slip, #print-slip * { visibility: visible !important; }
#print-slip { display: block !important; position: absolute; left: 0; top: 0; width: 100%; }
#print-slip .slip-head, #print-slip .slip-foot { display: block; margin: 8px 0; }
#print-slip .side-by-side { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
#print-slip .turn { border-top: 2px solid #444; padding-top: 6px; }
#print-slip .label { font-size: 0.8em; }
#print-slip a { color: inherit; text-decoration: none; }
</style>"""

_HEADING = re.compile(r"\*\*(.+)\*\*")  # a part's heading in a multi-part answer (compose.py)
OPEN_SOURCES = 4  # more sources than this fold under their count
# A question's language is guessed on its first characters only, and a failed question is echoed that long: a
# megabyte question is refused anyway (max_query_chars) and must not cost half a second of detection first.
ECHO_CHARS = 2000
# Earlier questions the page keeps (and sends back with each question) for reading follow-ups: a few suffice, and
# the list travels with every request.
HISTORY_TURNS = 6
SEARCH_HITS = 8  # results in the search tab: one screen's worth
SNIPPET_CHARS = 700  # of each search result's text: enough to judge it, the link has the rest
QUEUE_SIZE = 256  # requests waiting beyond the concurrent ones; bounds memory under a burst or abuse



def answer_html(answer: Answer) -> str:
    """Answer text, sources as links, valid-as-of date; right-to-left for Arabic."""
    lang = answer.language
    direction = text_dir(lang)
    paragraphs = []
    for block in answer.text.split("\n\n"):
        lines = block.split("\n")
        heading = _HEADING.fullmatch(block.strip())
        if heading:  # one part of a multi-part answer: the visitor's own ask
            paragraphs.append(f"<h4 class='ask'>{esc(heading.group(1))}</h4>")
        elif all(line.startswith("- ") for line in lines if line.strip()):
            items = "".join(f"<li>{esc(line[2:])}</li>" for line in lines if line.strip())
            paragraphs.append(f"<ul>{items}</ul>")
        else:
            paragraphs.append("<p>" + "<br>".join(esc(line) for line in lines) + "</p>")
    meta = []
    if answer.citations:
        links = []
        for c in answer.citations:
            if c.url.startswith(("https://", "http://")):
                links.append(f'<li><a href="{esc(c.url)}" target="_blank" rel="noopener noreferrer">'
                             f"{esc(c.title)}</a></li>")
            else:
                links.append(f"<li>{esc(c.title)}</li>")
        title = esc(message("ui_sources", lang))
        if len(links) <= OPEN_SOURCES:
            meta.append(f"<div class='sources'><b>{title}</b><ul>{''.join(links)}</ul></div>")
        else:  # a multi-part answer cites many: on a phone they would bury the answer, so they fold
            meta.append(f"<details class='sources'><summary><b>{title}</b> ({len(links)})</summary>"
                        f"<ul>{''.join(links)}</ul></details>")
    if answer.valid_as_of:
        meta.append(f"<div class='valid'>{esc(message('ui_valid_as_of', lang, date=answer.valid_as_of))}</div>")
    return (f'<div class="answer" dir="{direction}" lang="{esc(lang)}">{"".join(paragraphs)}'
            f'<div class="meta">{"".join(meta)}</div></div>')


def count_served(store: FeedbackStore, answer: Answer, day: date, cards: Mapping[str, Card] | None = None) -> None:
    """Count the cards an answer showed, per card and day (no question text), for ``python -m bot content report``;
    and a declined or low-confidence answer by language, topic, card and kind (no question text either) for the
    desk's triage view. A failure is logged and the visitor still gets the answer."""
    try:
        store.add_served(answer.card_ids, day)
    except Exception:
        log.exception("could not count served cards")
    try:
        store.add_unanswered(unanswered_of(answer, cards or {}), day)
    except Exception:
        log.exception("could not count a declined or low-confidence answer")


def _plain(markup: str) -> str:
    """Text of a chat message we rendered, for the feedback log."""
    return html.unescape(re.sub(r"<[^>]+>", " ", markup)).strip()


def reason_choices(lang: str) -> list[tuple[str, str]]:
    """The thumbs-down reasons in the visitor's language (stored as their codes)."""
    return [(message(f"reason_{code}", lang), code) for code in REASONS]


def _user_html(text: str) -> str:
    return f'<div dir="auto">{esc(text)}</div>'


def _error_text(exc: Exception, lang: str) -> str:
    if isinstance(exc, BadInput) and exc.key:
        return message(exc.key, lang, **exc.values)
    if isinstance(exc, BotError):
        return str(exc)
    log.exception("unexpected error while answering")
    return message("error_generic", lang)


def _guess_lang(text: object, choice: str) -> str:
    if choice in LANGUAGES:
        return choice
    return detect(text).lang if isinstance(text, str) and text.strip() else "en"


def _language_choices() -> list[tuple[str, str]]:
    return [("Auto", AUTO)] + [(language_name(code), code) for code in LANGUAGES]


def _staff_label(key: str, lang: str) -> str:
    """A staff text in the interface language with the Chinese beside it (staff read Chinese), once in Chinese."""
    chinese = message(key, "zh-Hans")
    return chinese if lang == "zh-Hans" else f"{message(key, lang)} · {chinese}"


def _staff_notes_html(bot: Bot, card_ids: tuple[str, ...] | list[str], day: date, lang: str) -> str:
    """One line per matched card that is past its valid_until or review_by, in Chinese and the interface language."""
    lines = []
    for card_id in card_ids:
        card = bot.cards.get(card_id)
        if card is None:
            continue
        chinese = staff_notes(card, day, "zh-Hans")
        local = staff_notes(card, day, lang) if lang != "zh-Hans" else chinese
        for pair in zip(chinese, local, strict=True):
            text = " / ".join(esc(t) for t in dict.fromkeys(pair))
            lines.append(f"<div class='staff-note'><code>{esc(card_id)}</code> {text}</div>")
    return "".join(lines)


def build_info_html(bot: Bot) -> str:
    """The footer's line: which index build and corpus state answer (the served snapshot, after any swap)."""
    health = bot.health()
    return (f"<small class='build-info'>index {esc(str(health['build_id']))} · corpus "
            f"{esc(str(health['corpus_hash'])[:12])}</small>")


def _example_list(lang: str) -> list[str]:
    table = examples(lang)
    return [table[t][0] for t in EXAMPLE_TOPICS if table.get(t)]


def topic_chips(lang: str) -> list[dict[str, str]]:
    """The empty chat's topic chips: the topic's name shown, its first example question sent."""
    table = examples(lang)
    return [{"text": table[t][0], "display_text": message(f"topic_{t}", lang)} for t in EXAMPLE_TOPICS if table.get(t)]


def welcome(lang: str) -> str:
    """The empty chat's welcome, in the visitor's language (Markdown; the chat shows it until the first question)."""
    direction = text_dir(lang)
    return (f'<div dir="{direction}" lang="{esc(lang)}" id="welcome">\n\n**{esc(message("ui_title", lang))}**\n\n'
            f"{esc(message('ui_welcome', lang))}\n\n</div>")


def accept_language(header: str) -> str | None:
    """The first supported language of an HTTP Accept-Language header (q-values in order of preference), if any:
    the welcome greets a first-time visitor in the phone's language before anything is typed."""
    ranked = []
    for n, item in enumerate(header.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-q, n, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag.startswith("zh"):
            return "zh-Hant" if any(x in tag for x in ("hant", "-tw", "-hk", "-mo")) else "zh-Hans"
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return None


def qr_svg(text: str) -> str:
    """A QR code (not Micro QR: phone cameras and desk scanners read the full kind) as inline SVG."""
    import segno

    return str(segno.make(text, error="m", micro=False).svg_inline(scale=6, dark="#111", light="#fff"))


def handoff_html(code: str, hours: float, lang: str) -> str:
    """The code the visitor shows at the window: big, as a QR code, and what happens to it, in their language."""
    direction = text_dir(lang)
    hours_shown = f"{hours:g}"
    return (f'<div class="handoff" dir="{direction}" lang="{esc(lang)}">'
            f'<div class="handoff-code" dir="ltr">{esc(shown_code(code))}</div>'
            f'<div class="handoff-qr">{qr_svg(code)}</div>'
            f"<p>{esc(message('ui_handoff_ready', lang, hours=hours_shown))}</p></div>")


def build_app(bot: Bot, store: FeedbackStore, handoffs: HandoffStore | None = None) -> gr.Blocks:
    def label_updates(lang: str) -> list[Any]:
        return [
            gr.update(value=f"## {message('ui_title', lang)}\n{message('ui_subtitle', lang)}"),
            gr.update(label=message("ui_language", lang)),
            gr.update(placeholder=message("ui_placeholder", lang)),
            gr.update(value=message("ui_send", lang)),
            gr.update(value=message("ui_clear", lang)),
            gr.update(value=f"**{message('ui_examples', lang)}**"),
            *[gr.update(value=q) for q in _example_list(lang)],
            gr.update(label=message("ui_comment", lang)),
            gr.update(value="👍 " + message("ui_thumbs_up", lang)),
            gr.update(value="👎 " + message("ui_thumbs_down", lang)),
            gr.update(label=message("ui_search_box", lang)),
            gr.update(label=message("ui_tab_chat", lang)),
            gr.update(label=message("ui_tab_search", lang)),
            gr.update(label=message("ui_reason_question", lang), choices=reason_choices(lang)),
        ]

    def on_language(choice: str, current: str) -> list[Any]:
        lang = choice if choice in LANGUAGES else current
        return [lang, *label_updates(lang)]

    def visitor_turn(question: str, chat: list[dict[str, Any]], history: list[str], choice: str, ui_lang: str):
        """One visitor turn: the answer (or a friendly message) is appended; labels follow the answer language."""
        chat = list(chat or [])
        history = list(history or [])
        # Detect on a slice (ECHO_CHARS). A lone surrogate cannot be sent to the page, so the echo replaces it.
        text = question if isinstance(question, str) else ""
        lang = _guess_lang(text[:ECHO_CHARS], choice)
        shown = text.encode("utf-8", "replace").decode("utf-8")
        try:
            answer = bot.ask(question, history=history, lang=choice if choice in LANGUAGES else None)
            count_served(store, answer, today(bot.settings), bot.cards)
            lang = answer.language
            chat += [{"role": "user", "content": _user_html(shown)},
                     {"role": "assistant", "content": answer_html(answer)}]
            history.append(shown)
            last = {"question": shown, "answer": answer.text, "language": lang, "card_ids": list(answer.card_ids),
                    # for "Show to staff": the whole answer and the earlier questions it was read with
                    "json": answer.as_json(), "history": history[:-1][-HISTORY_TURNS:]}
        except Exception as exc:  # every failure becomes a message in the page, never a traceback
            chat += [{"role": "user", "content": _user_html(shown[:ECHO_CHARS])},
                     {"role": "assistant", "content": f'<div class="answer notice" dir="auto">'
                                                      f"{esc(_error_text(exc, lang))}</div>"}]
            last = {}
        new_ui = lang if choice == AUTO else ui_lang
        return [chat, history[-HISTORY_TURNS:], "", last, new_ui, *label_updates(new_ui), ""]

    def ask_reason(row_id: int) -> list[Any]:
        """After a stored thumbs-down: the reason question (its row waits in the session); after a thumbs-up or a
        failed write: nothing to ask."""
        return [row_id, gr.update(visible=row_id > 0), gr.update(value=None)]

    def feedback(verdict: str, comment: str, last: dict[str, Any], ui_lang: str) -> list[Any]:
        if not last:
            return [comment, "", *ask_reason(0)]
        try:
            row_id = store.add(last["question"], last["answer"], last["language"], last["card_ids"], verdict,
                               comment or "")
        except Exception:
            log.exception("could not store feedback")
            return [comment, message("error_generic", ui_lang), *ask_reason(0)]
        return ["", "✅ " + message("ui_feedback_thanks", ui_lang), *ask_reason(row_id if verdict == "down" else 0)]

    def give_reason(reason: str, comment: str, row_id: int, ui_lang: str) -> list[Any]:
        """The visitor's reason for their thumbs-down (and a comment written since), on the row they just stored:
        its id lives in their session state only, so no one can set the reason of another's row."""
        if not row_id or reason not in REASONS:
            return [comment, "", *ask_reason(row_id)]
        try:
            store.set_reason(row_id, reason, comment or "")
        except Exception:
            log.exception("could not store a feedback reason")
            return [comment, message("error_generic", ui_lang), *ask_reason(row_id)]
        return ["", "✅ " + message("ui_feedback_thanks", ui_lang), 0, gr.update(visible=False), gr.update()]

    def on_like(data: gr.LikeData, chat: list[dict[str, Any]], history: list[str], ui_lang: str) -> list[Any]:
        """The chat's own thumbs: stored with the question that led to that answer; a failed write is said. A
        thumbs-down then asks its reason, as the button's does."""
        index = data.index if isinstance(data.index, int) else data.index[0]
        if index < 1 or index >= len(chat or []):
            return ["", *ask_reason(0)]
        question = _plain(str(chat[index - 1].get("content", "")))
        answer = _plain(str(chat[index].get("content", "")))
        try:
            lang = detect(question).lang
            row_id = store.add(question, answer, lang, [], "up" if data.liked else "down")
        except Exception:
            log.exception("could not store feedback")
            return [message("error_generic", ui_lang), *ask_reason(0)]
        return ["", *ask_reason(0 if data.liked else row_id)]

    def search(query: str, topic: str, ui_lang: str) -> str:
        try:
            hits = bot.search(query, k=SEARCH_HITS, topics=None if topic in ("", "all") else [topic])
        except Exception as exc:
            return f"<p>{esc(_error_text(exc, _guess_lang(query, AUTO)))}</p>"
        rows = []
        day = today(bot.settings)
        for h in hits:
            c = h.chunk
            card = bot.cards.get(c.doc_id) if c.kind == "card" else None
            # An expired card is never shown without its notice, here either.
            notice = expiry_notice(card, day, c.lang) if card else None
            source = c.sources[0] if c.sources else None
            link = (f'<a href="{esc(source.url)}" target="_blank" rel="noopener noreferrer">{esc(source.title)}</a>'
                    if source and source.url else esc(source.title if source else ""))
            rows.append(f'<div class="hit" dir="auto"><b>{esc(c.title)}</b> <small>[{c.kind} · {c.topic} · '
                        f"{c.lang} · {esc(message('ui_valid_as_of', ui_lang, date=c.valid_as_of))}]</small>"
                        f"<p>{esc(c.text[:SNIPPET_CHARS])}</p>"
                        + (f"<p class='notice'>{esc(notice)}</p>" if notice else "")
                        + f"<small>{link}</small></div><hr>")
        return "".join(rows) or "<p>–</p>"

    def ask_api(question: str, language: str = AUTO, history: list[str] | None = None) -> dict[str, Any]:
        """Named API endpoint ``/ask`` for gradio_client: the answer as JSON."""
        try:
            answer = bot.ask(question, history=history or [], lang=language if language in LANGUAGES else None)
        except Exception as exc:
            return {"error": _error_text(exc, _guess_lang(question, language))}
        count_served(store, answer, today(bot.settings), bot.cards)
        return answer.as_json()

    with gr.Blocks(title=message("ui_title", "en")) as app:
        ui_lang = gr.State("en")
        history = gr.State([])
        last = gr.State({})
        pending = gr.State(0)  # the visitor's thumbs-down row waiting for its reason (server-side session state)
        turns = gr.State([])  # this conversation's turns, kept in the browser session until "Show to staff"
        with gr.Row(elem_id="top-row", equal_height=True):
            header = gr.Markdown(f"## {message('ui_title', 'en')}\n{message('ui_subtitle', 'en')}", elem_id="header")
            # Compact: no label box on the page (the label stays for screen readers), beside the title.
            language = gr.Dropdown(choices=_language_choices(), value=AUTO, label=message("ui_language", "en"),
                                   elem_id="language", scale=0, min_width=110, show_label=False, container=False)
        with gr.Tabs():
            with gr.Tab(message("ui_tab_chat", "en"), id="chat") as chat_tab:
                chat = gr.Chatbot(elem_id="chat", height=460, sanitize_html=True, render_markdown=False,
                                  feedback_options=("Like", "Dislike"), buttons=["copy"], show_label=False,
                                  placeholder=welcome("en"), examples=topic_chips("en"))  # type: ignore[arg-type]
                with gr.Row(equal_height=True):
                    box = gr.Textbox(placeholder=message("ui_placeholder", "en"), show_label=False, lines=1,
                                     max_lines=6, scale=5, elem_id="question", autofocus=True)
                    send = gr.Button(message("ui_send", "en"), variant="primary", scale=1, elem_id="send",
                                     min_width=90)
                examples_title = gr.Markdown(f"**{message('ui_examples', 'en')}**")
                with gr.Row(elem_id="examples"):
                    example_buttons = [gr.Button(q, size="sm", elem_classes="example", min_width=160)
                                       for q in _example_list("en")]
                with gr.Row(equal_height=True):
                    comment = gr.Textbox(label=message("ui_comment", "en"), lines=1, scale=4, elem_id="comment",
                                         max_length=2000)
                    up = gr.Button("👍 " + message("ui_thumbs_up", "en"), scale=1, elem_id="thumbs-up", min_width=90)
                    down = gr.Button("👎 " + message("ui_thumbs_down", "en"), scale=1, elem_id="thumbs-down",
                                     min_width=90)
                with gr.Row(visible=False, elem_id="reason-row") as reason_row:
                    reason = gr.Radio(choices=reason_choices("en"), label=message("ui_reason_question", "en"),
                                      elem_id="reason")
                thanks = gr.Markdown("", elem_id="feedback-thanks")
                with gr.Row():
                    show_staff = gr.Button(message("ui_show_staff", "en"), size="sm", elem_id="show-staff",
                                           visible=handoffs is not None)
                    print_answer = gr.Button(message("ui_print", "en"), size="sm", elem_id="print-answer")
                    calendar = gr.DownloadButton(message("ui_add_calendar", "en"), size="sm", elem_id="ics",
                                                 visible=False)
                    clear = gr.Button(message("ui_clear", "en"), size="sm", elem_id="clear")
                handoff_out = gr.HTML(elem_id="handoff")
                slip = gr.HTML(elem_id="print-slip")  # shown only when printing (CSS @media print)
            with gr.Tab(message("ui_tab_search", "en"), id="search") as search_tab:
                with gr.Row():
                    search_in = gr.Textbox(label=message("ui_search_box", "en"), scale=4, elem_id="search-query")
                    topic = gr.Dropdown(choices=[("All topics", "all")] + [(t, t) for t in TOPICS if t != "decline"],
                                        value="all", label="Topic", scale=1, elem_id="search-topic")
                search_go = gr.Button(message("ui_tab_search", "en"), elem_id="search-go", size="sm")
                search_out = gr.HTML(elem_id="search-results")
            build_check_tab(lambda: (bot.rules, today(bot.settings)), ui_lang)
        build_info = gr.HTML(elem_id="build-info")

        # The staff desk is no longer a tab of the public page: it is /desk, behind a login (desk.py).
        labelled = [header, language, box, send, clear, examples_title, *example_buttons, comment, up, down,
                    search_in, chat_tab, search_tab, reason]
        language.change(on_language, [language, ui_lang], [ui_lang, *labelled], api_visibility="private")
        turn_outputs = [chat, history, box, last, ui_lang, *labelled, thanks]
        ics_dir = scratch("ics")  # one per process, removed at exit (tempfiles.py)

        def record(seen: dict[str, Any], kept: list[dict[str, Any]], lang: str) -> tuple[list[dict[str, Any]], Any]:
            """After a turn: keep it for "Show to staff" and "Print", and offer its deadline as an .ics file."""
            if not seen or "json" not in seen:  # a failed turn (a message, no answer) is not handed over
                return kept, gr.update(visible=False)
            turn = Turn(seen["question"], seen["language"], seen["json"], tuple(seen.get("history", ())))
            return [*(kept or []), turn.as_json()][-HISTORY_TURNS * 3:], calendar_file(seen["json"], lang)

        def calendar_file(answer: dict[str, Any], lang: str) -> Any:
            deadline = deadline_of(answer.get("check"))
            if deadline is None:
                return gr.update(visible=False)
            try:
                data = ics_bytes(deadline, str(answer.get("language") or lang))
                path = ics_dir / f"deadline-{deadline.kind}-{deadline.day.isoformat()}-{answer.get('language')}.ics"
                path.write_bytes(data)
            except Exception:
                log.exception("could not write a calendar file")
                return gr.update(visible=False)
            return gr.update(value=str(path), visible=True, label=message("ui_add_calendar", lang))

        def print_slip(kept: list[dict[str, Any]]) -> str:
            """The last answer as a one-page slip in the visitor's language and Chinese (the browser prints it)."""
            from bot.web.desk import conversation_html

            if not kept:
                return ""
            try:
                return conversation_html(bot, (Turn.from_json(kept[-1]),), today(bot.settings), staff=False)
            except Exception:
                log.exception("could not build the print slip")
                return ""

        after_turn: dict[str, Any] = {"fn": record, "inputs": [last, turns, ui_lang], "outputs": [turns, calendar],
                                      "api_visibility": "private"}

        def show_to_staff(kept: list[dict[str, Any]], lang: str) -> str:
            if handoffs is None:
                return ""
            if not kept:
                return f"<p class='notice'>{esc(message('ui_handoff_nothing', lang))}</p>"
            try:
                made = handoffs.create([Turn.from_json(t) for t in kept])
            except Exception:
                log.exception("could not create a handoff")
                return f"<p class='notice'>{esc(message('error_generic', lang))}</p>"
            return handoff_html(made.code, handoffs.ttl.total_seconds() / 3600, lang)

        for trigger in (send.click, box.submit):
            trigger(visitor_turn, [box, chat, history, language, ui_lang], turn_outputs,
                    api_visibility="private").then(**after_turn)
        for button in example_buttons:
            button.click(visitor_turn, [button, chat, history, language, ui_lang], turn_outputs,
                         api_visibility="private").then(**after_turn)
        print_answer.click(print_slip, [turns], [slip], api_visibility="private").then(
            None, None, None, js="() => window.print()")
        show_staff.click(show_to_staff, [turns, ui_lang], [handoff_out], api_visibility="private").then(
            None, None, None, js="() => document.querySelector('#handoff')?.scrollIntoView({block: 'center'})")
        for button, verdict in ((up, "up"), (down, "down")):
            button.click(lambda text, seen, lang, v=verdict: feedback(v, text, seen, lang), [comment, last, ui_lang],
                         [comment, thanks, pending, reason_row, reason], api_visibility="private")
        # ``input``: only the visitor's own choice stores it, not the reset after a new thumbs-down.
        reason.input(give_reason, [reason, comment, pending, ui_lang], [comment, thanks, pending, reason_row, reason],
                     api_visibility="private")
        chat.like(on_like, [chat, history, ui_lang], [thanks, pending, reason_row, reason], api_visibility="private")
        clear.click(lambda: ([], [], {}, "", [], "", "", gr.update(visible=False), 0, gr.update(visible=False)), None,
                    [chat, history, last, thanks, turns, handoff_out, slip, calendar, pending, reason_row],
                    api_visibility="private")
        for trigger in (search_go.click, search_in.submit):
            trigger(search, [search_in, topic, ui_lang], [search_out], api_visibility="private")
        app.load(lambda: build_info_html(bot), None, [build_info], api_visibility="private")

        def chat_welcome(lang: str) -> Any:
            return gr.update(placeholder=welcome(lang), examples=topic_chips(lang))

        def on_load(request: gr.Request) -> list[Any]:
            """A first visit greets in the browser's language (the answer still follows the question's language)."""
            headers = getattr(request, "headers", None) or {}
            lang = accept_language(str(headers.get("accept-language", ""))) or "en"
            return [lang, *label_updates(lang), chat_welcome(lang)]

        def on_chip(data: gr.SelectData, chat_now: list[dict[str, Any]], asked: list[str], choice: str, lang: str):
            value = data.value if isinstance(data.value, dict) else {}
            return visitor_turn(str(value.get("text", "")), chat_now, asked, choice, lang)

        app.load(on_load, None, [ui_lang, *labelled, chat], api_visibility="private")
        language.change(lambda choice, lang: chat_welcome(choice if choice in LANGUAGES else lang),
                        [language, ui_lang], [chat], api_visibility="private")
        chat.example_select(on_chip, [chat, history, language, ui_lang], turn_outputs,
                            api_visibility="private").then(**after_turn)
        # The button follows the interface language (kept out of ``labelled``: it is absent without a store).
        ui_lang.change(lambda lang: (gr.update(value=message("ui_show_staff", lang)),
                                     gr.update(value=message("ui_print", lang))),
                       [ui_lang], [show_staff, print_answer], api_visibility="private")
        gr.api(ask_api, api_name="ask")
    return app


def launch(bot: Bot, store: FeedbackStore, host: str, port: int, concurrency: int) -> None:
    """The visitor page at / and the staff desk at /desk in one server (desk.py); a burst of visitors waits in the
    queue (QUEUE_SIZE) instead of failing."""
    import sys

    from bot.errors import ConfigError
    from bot.web.desk import serve

    try:
        serve(bot, store, dataclasses.replace(bot.settings, host=host, port=port, concurrency=concurrency))
    except ConfigError as exc:  # a bad staff accounts file or handoff setting: one line, as app.py does for others
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
