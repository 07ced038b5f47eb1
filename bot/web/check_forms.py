"""The "Check" tab: one form per rule checker (transit, refund, payment), results in the page's language.

Form labels are bilingual (English · 中文) because staff at the window and visitors share the screen; the result
follows the language chosen at the top of the page. Handlers are plain functions (testable without a server) that
return escaped HTML and turn bad input into a message, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

import gradio as gr

from bot.checks import check_fields
from bot.checks.render import fmt, locale_of, render_error, render_lines
from bot.checks.result import CheckResult
from bot.checks.rules import RuleBook
from bot.clock import today
from bot.errors import BadInput
from bot.messages import message
from bot.web.markup import esc, text_dir

log = logging.getLogger(__name__)
UNKNOWN = ""



def result_html(result: CheckResult, lang: str, rules: RuleBook) -> str:
    head, verdict, *lines = render_lines(result, lang, rules)
    direction = text_dir(lang)
    sources = "".join(f'<li><a href="{esc(s.url)}" target="_blank" rel="noopener noreferrer">{esc(s.title)}</a></li>'
                      if s.url.startswith(("https://", "http://")) else f"<li>{esc(s.title)}</li>"
                      for s in result.sources)
    items = "".join(f"<li>{esc(line)}</li>" for line in lines)
    return (f'<div class="check answer" dir="{direction}" lang="{esc(lang)}" data-verdict="{result.verdict}">'
            f"<p><small>{esc(head)}</small></p><p><b>{esc(verdict)}</b></p><ul>{items}</ul>"
            f"<div class='meta'><b>{esc(message('ui_sources', lang))}</b><ul>{sources}</ul>"
            f"{esc(message('ui_valid_as_of', lang, date=fmt(result.valid_as_of, lang)))}</div></div>")


def _guarded(lang: str, run: Callable[[], CheckResult], rules: RuleBook) -> str:
    try:
        return result_html(run(), lang, rules)
    except BadInput as exc:
        return f'<p class="check-error" dir="auto">{esc(render_error(exc, lang))}</p>'
    except Exception:
        log.exception("checker failed")
        return f'<p class="check-error">{esc(message("error_generic", lang))}</p>'


def _text(value: object) -> str | None:
    """Gradio gives "", None or numbers for empty fields; the parsers want text or None."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def transit_form(rules: RuleBook, lang: str, nationality: str, origin: str, destination: str, port: str,
                 entry: object, planned_exit: object, *, on: date | None = None) -> str:
    """``on``: the day in China (``clock.today(settings)``); the environment's when not given."""
    return _guarded(lang, lambda: check_fields(
        "transit", rules, on or today(), nationality=_text(nationality), origin=_text(origin),
        destination=_text(destination), entry_port=_text(port), entry=_when(entry), planned_exit=_when(planned_exit)),
        rules)


def refund_form(rules: RuleBook, lang: str, amount: object, vat: str, purchase: object, departure: object,
                days: object, method: str, instant: bool, *, on: date | None = None) -> str:
    return _guarded(lang, lambda: check_fields(
        "refund", rules, on or today(), amount=_text(amount), vat=_text(vat), purchase=_day(purchase),
        departure=_day(departure), days_in_china=_text(days), method=_text(method), instant=bool(instant)), rules)


def payment_form(rules: RuleBook, lang: str, amount: object, currency: str, method: str, spent_today: object, *,
                 on: date | None = None) -> str:
    return _guarded(lang, lambda: check_fields(
        "payment", rules, on or today(), amount=_text(amount), currency=currency or "CNY", method=_text(method),
        spent_today=_text(spent_today)), rules)


def _when(value: object) -> str | None:
    """``gr.DateTime`` gives "YYYY-MM-DD HH:MM:SS" (or a timestamp if typed so); keep it for the strict parser."""
    text = _text(value)
    if text is None:
        return None
    return text[:16] if len(text) >= 16 and text[10] in " T" else text


def _day(value: object) -> str | None:
    text = _text(value)
    return text[:10] if text else None


def _country_choices(rules: RuleBook) -> list[tuple[str, str]]:
    en: dict[str, str] = {str(k): str(v) for k, v in locale_of("en").territories.items()}
    zh: dict[str, str] = {str(k): str(v) for k, v in locale_of("zh-Hans").territories.items()}
    codes = sorted((c for c in en if len(c) == 2 and c.isalpha() and c not in ("ZZ", "EU", "EZ", "UN", "QO")),
                   key=lambda c: en[c])
    eligible = [c for c in codes if c in rules.transit.countries]
    others = [c for c in codes if c not in rules.transit.countries]
    return [("–", UNKNOWN)] + [(f"{en[c]} · {zh.get(c, c)}", c) for c in (*eligible, *others)]


def _port_choices(rules: RuleBook) -> list[tuple[str, str]]:
    return [("–", UNKNOWN)] + [(f"{p.names.get('en', pid)} · {p.names.get('zh-Hans', '')}", pid)
                               for pid, p in rules.transit.ports.items()]


def build_check_tab(current: Callable[[], tuple[RuleBook, date]], ui_lang: gr.State) -> None:
    """Inside an open ``gr.Blocks``: the three forms, each writing its own result box. ``current`` gives the served
    rule tables and the day in China at each click (the tables follow a hot swap; the menus are made once)."""
    rules, _ = current()
    countries = _country_choices(rules)
    with gr.Tab("Check · 计算", id="check"):
        with gr.Accordion("240-hour transit · 240小时过境免签", open=True):
            with gr.Row():
                nationality = gr.Dropdown(countries, value=UNKNOWN, label="Passport · 护照国籍", elem_id="t-nat")
                origin = gr.Dropdown(countries, value=UNKNOWN, label="Arriving from · 出发地", elem_id="t-from")
                destination = gr.Dropdown(countries, value=UNKNOWN, label="Going on to · 下一目的地",
                                          elem_id="t-to")
            with gr.Row():
                port = gr.Dropdown(_port_choices(rules), value=UNKNOWN, label="Entry port · 入境口岸",
                                   elem_id="t-port")
                entry = gr.DateTime(label="Entry (China time) · 入境时间", include_time=True, type="string",
                                    elem_id="t-entry")
                planned = gr.DateTime(label="Planned exit · 计划离境", include_time=True, type="string",
                                      elem_id="t-exit")
            transit_go = gr.Button("Check · 计算", variant="primary", size="sm", elem_id="t-go")
            transit_out = gr.HTML(elem_id="t-result")
        with gr.Accordion("Tax refund · 离境退税", open=False):
            with gr.Row():
                amount = gr.Number(value=None, label="Amount, RMB (one store, one day) · 金额（元）",
                                   elem_id="r-amount")
                vat = gr.Radio([("13%", "13"), ("9%", "9"), ("? · 不确定", UNKNOWN)], value=UNKNOWN,
                               label="VAT · 增值税率", elem_id="r-vat")
                days = gr.Number(value=None, label="Days in China · 在华天数", precision=0, elem_id="r-days")
            with gr.Row():
                purchase = gr.DateTime(label="Purchase date · 购买日期", include_time=False, type="string",
                                       elem_id="r-purchase")
                departure = gr.DateTime(label="Departure date · 离境日期", include_time=False, type="string",
                                        elem_id="r-departure")
                method = gr.Dropdown([("–", UNKNOWN), ("Cash · 现金", "cash"), ("Bank transfer · 银行转账",
                                      "bank_transfer"), ("Mobile wallet · 移动支付", "mobile_wallet")],
                                     value=UNKNOWN, label="Refund method · 退税方式", elem_id="r-method")
                instant = gr.Checkbox(label="Instant refund · 即买即退", elem_id="r-instant")
            refund_go = gr.Button("Check · 计算", variant="primary", size="sm", elem_id="r-go")
            refund_out = gr.HTML(elem_id="r-result")
        with gr.Accordion("Payment · 支付", open=False):
            with gr.Row():
                pay_amount = gr.Number(value=None, label="Amount · 金额", elem_id="p-amount")
                currency = gr.Radio([("RMB · 元", "CNY"), ("US$ · 美元", "USD")], value="CNY",
                                    label="Currency · 币种", elem_id="p-currency")
                pay_method = gr.Radio([("Foreign card on Alipay/WeChat · 外卡绑定支付宝/微信", "alipay_wechat_card"),
                                       ("e-CNY anonymous wallet · 数字人民币匿名钱包", "ecny_anonymous"),
                                       ("Cash · 现金", "cash"), ("? · 不确定", UNKNOWN)], value=UNKNOWN,
                                      label="Method · 方式", elem_id="p-method")
                spent = gr.Number(value=None, label="e-CNY spent today, RMB · 今日已用", elem_id="p-spent")
            pay_go = gr.Button("Check · 计算", variant="primary", size="sm", elem_id="p-go")
            pay_out = gr.HTML(elem_id="p-result")

    def on_transit(lang: str, *fields: Any) -> str:
        rules, on = current()
        return transit_form(rules, lang, *fields, on=on)

    def on_refund(lang: str, *fields: Any) -> str:
        rules, on = current()
        return refund_form(rules, lang, *fields, on=on)

    def on_payment(lang: str, *fields: Any) -> str:
        rules, on = current()
        return payment_form(rules, lang, *fields, on=on)

    transit_go.click(on_transit, [ui_lang, nationality, origin, destination, port, entry, planned], [transit_out],
                     api_visibility="private")
    refund_go.click(on_refund, [ui_lang, amount, vat, purchase, departure, days, method, instant], [refund_out],
                    api_visibility="private")
    pay_go.click(on_payment, [ui_lang, pay_amount, currency, pay_method, spent], [pay_out],
                 api_visibility="private")
