"""From a chat question to a checker run: which checker (if any), its inputs, and the rendered result.

A checker runs only when the question carries an input for it (an amount, a date, a nationality, a route) or
plainly asks for a computation ("how much will I get back?"); general questions keep the plain card answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from bot.checks.checker import run_checker
from bot.checks.extract import PURCHASE, Extracted, Money, extract
from bot.checks.itinerary import Stay, read_stays, stays
from bot.checks.payment import PaymentQuery
from bot.checks.refund import RefundQuery
from bot.checks.render import render, render_error, render_missing, render_warnings
from bot.checks.result import CheckResult, verdict_of
from bot.checks.rules import RuleBook, RuleMeta
from bot.checks.transit import TransitQuery, route_findings
from bot.errors import BadInput
from bot.lang import fold
from bot.schema import Answer, AnswerPart, Citation

TOPIC_CHECKER = {"tax_refund": "refund", "transit": "transit", "entry": "transit", "payment": "payment"}
# Cards whose subject is the computation itself: an ask that retrieval answers with one of them asks for the figure,
# in whatever words ("hoeveel krijg ik terug?", "ne kadar geri alırım?" in languages whose phrasing we do not list).
COMPUTING_CARDS = {"refund-how-much": "refund", "pay-mobile-fees": "payment", "transit-how-hours-counted": "transit"}

# Words that name a checker's subject, on folded text (t2s, lower case, no accents), so a question about
# "refund" with an amount goes to the refund checker even when retrieval ranked another topic first.
SUBJECT = {
    "refund": re.compile(r"refund|tax.?free|tax back|退税|能退|可以退|退多少|退几多|即买即退|税金|還付|还付|免税|"
                         r"환급|세금|возврат|ндс|recuperer|"
                         r"detaxe|remboursement|reembolso|devolucion|steuerruckerstattung|rimborso|"
                         r"hoan thue|คืนภาษี|pengembalian pajak|erstattung|استرداد|الضريبه|ضريبه القيمه"),
    "transit": re.compile(r"transit|visa.?free|240|过境|免签|トランジット|ビザ|경유|무비자|транзит|безвиз|"
                          r"sans visa|sin visa|visumfrei|ohne visum|senza visto|sem visto|isencao de visto|"
                          r"mien thi thuc|mien visa|"
                          r"qua canh|ฟรีวีซ่า|ผ่านแดน|ไม่ต้องใช้วีซ่า|bebas visa|без виз|عبور|ترانزيت|بدون تاشيره|"
                          r"دون تاشيره"),
    "payment": re.compile(r"alipay|wechat|支付宝|微信|e-?cny|数字人民币|デジタル人民元|디지털|알리페이|위챗|"
                          r"алипэй|вичат|цифров.{0,3} юан|payer|pagar|bezahlen|pagare|thanh toan|จ่าย|bayar|"
                          r"\bpay\b|payment|付款|支付|決済|支払|払う|払え|결제|지불|оплат|pembayaran|tra tien|ชำระ|"
                          r"اليباي|علي باي|ويتشات|وي تشات|الدفع|ادفع"),
}

# A request to compute, with no inputs yet: answer with what is missing instead of staying silent about it.
ASKS_TO_COMPUTE = {
    "refund": re.compile(r"how much .{0,20}(get|receive|back|refund)|能退多少|可以退多少|退多少|退几多|退返几多|"
                         r"いくら.{0,6}(戻|還付|返)|얼마.{0,6}(돌려|환급)|сколько .{0,20}(верн|возврат)|"
                         r"combien .{0,30}(rembours|recuper|recevoir)|cuanto .{0,30}(devuelv|reembols|recib)|"
                         r"wie viel .{0,30}(zuruck|erstatt|bekomm)|"
                         r"quanto .{0,30}(rimbors|restitu|recuper|receb|devolv|reembols|volta)|"
                         r"cuanto .{0,30}recuper|bao nhieu .{0,20}(hoan|lai)|(hoan|lai|duoc) .{0,30}bao nhieu|"
                         r"berapa .{0,30}(kembali|refund|pengembalian|dapat)|"
                         r"(ได้คืน|คืนภาษี|คืนเงิน|เงินคืน).{0,20}(เท่าไร|เท่าไหร่|กี่)|"
                         r"كم .{0,30}(ساسترد|استرد|نسترد|يسترد|ساحصل|احصل|استرداد)"),
    "transit": re.compile(r"(when|by when|until when) .{0,20}(leave|exit|depart)|how long can i stay|"
                          r"什么时候.{0,6}(离开|离境|出境|走)|最晚|最迟|几号.{0,4}(走|离)|几时.{0,4}(走|离)|"
                          r"いつまで|언제까지|до какого|когда .{0,20}(уехать|покинуть|выехать)|"
                          r"jusqu.{0,3}(quand|a quelle date)|hasta cuando|hasta que fecha|bis wann|bis zu welchem|"
                          r"fino a quando|entro quando|ate quando|ate que dia|last day|latest (exit|date|day)|"
                          r"must (i|we) leave|最終日|何日まで|마지막 날|последний день|до какого числа|"
                          r"dernier jour|ultimo dia|ultimo giorno|letzter tag|spatestens|ngay cuoi|han chot|"
                          r"cham nhat|den ngay nao|paling lambat|hari terakhir|sampai kapan|วันสุดท้าย|"
                          r"ต้องออก.{0,20}(ภายใน|วันไหน|เมื่อไร)|اخر يوم|حتى متى|متى .{0,20}(اغادر|المغادره|مغادره)"),
    "payment": re.compile(r"how much .{0,10}fee|手续费|手續費|手数料|수수료|комисси|frais|comision|gebuhr|commissione|"
                          r"taxa|phi giao dich|ค่าธรรมเนียม|biaya|رسوم|عموله"),
}
# The 240-hour scheme named (not just "visa-free", which is also the 30-day list): whether it applies is the question.
TRANSIT_SCHEME = re.compile(r"240|transit|twov|tvw|过境|トランジット|경유|транзит|transito|tránsito|durchreise|"
                            r"qua canh|ผ่านแดน|عبور|ترانزيت")
# Methods that make a question about paying (e-CNY without "anonymous" too), whatever else it mentions.
PAYING_METHODS = ("alipay_wechat_card", "ecny_anonymous", "ecny")
INSTANT = re.compile(r"instant|即买即退|即時|即时|즉시|мгновенн|immediat|inmediat|sofort|istantane|imediat|"
                     r"ngay lap tuc|langsung|instan|ทันที|فوري")


@dataclass(frozen=True)
class ChatCheck:
    """A checker's contribution to a chat answer: the result (or the input error) and its text."""

    checker: str
    text: str
    result: CheckResult | None = None
    error: BadInput | None = None
    # Whether the question gave any input of this checker (an amount, a date, a passport, a route). Without one the
    # computation cannot lead: the card answers and ``offer`` (one line naming the inputs) follows it.
    given: bool = True
    offer: str = ""
    # The text carried an input of this checker at all (even when the computation cannot lead): one ask of a
    # message with its own amount or date earns its own computation ("and if I leave on 20 March?").
    inputs: bool = False

    def valid_as_of(self, rules: RuleBook) -> str:
        return _meta(self.checker, rules).valid_as_of.isoformat()

    def as_json(self) -> dict[str, object]:
        if self.result is not None:
            return self.result.as_json()
        return {"checker": self.checker, "verdict": "invalid", "error": self.text}


def port_aliases(rules: RuleBook) -> dict[str, tuple[str, ...]]:
    return {pid: (*p.names.values(), *p.aliases) for pid, p in rules.transit.ports.items()}


def choose_checker(folded: str, topic: str | None, found: Extracted, only: str | None = None) -> str | None:
    """The checker whose inputs or request the (folded) question carries; the topic retrieval found breaks ties.
    ``only``: the one checker to consider (one ask of a message, answered by a card of that checker's topic)."""
    if only is not None:
        return only if _has_inputs(only, found) or ASKS_TO_COMPUTE[only].search(folded) else None
    subjects = [name for name, pattern in SUBJECT.items() if pattern.search(folded)]
    candidates = subjects or ([TOPIC_CHECKER[topic]] if topic in TOPIC_CHECKER else []) or _implied(found)
    if found.method in PAYING_METHODS and "refund" not in subjects:
        candidates = ["payment"]
    for name in candidates:
        if _has_inputs(name, found) or ASKS_TO_COMPUTE[name].search(folded):
            return name
    return None


def _usable(found: Extracted, folded: str, asked: bool = False) -> Extracted:
    """Keep amounts only where the question makes them a purchase or a payment (see ``PURCHASE``), or asks for the
    figure they give (``asked``: answered by a card of ``COMPUTING_CARDS``)."""
    paying = found.method in PAYING_METHODS or SUBJECT["payment"].search(folded)
    if asked or PURCHASE.search(folded) or ASKS_TO_COMPUTE["refund"].search(folded) or paying:
        return found
    return replace(found, amounts=())


def _implied(found: Extracted) -> list[str]:
    """With no subject word and no topic, only inputs unique to one checker decide (a passport or a route means
    transit); a bare amount could be a refund or a payment, and a port name is also a district ("Bao'an"), so
    neither decides anything."""
    if found.nationality or (found.origin and found.destination):
        return ["transit"]
    return []


def _has_inputs(name: str, found: Extracted) -> bool:
    dated = any(w.day is not None for w in found.whens) or bool(found.bad_dates)
    if name == "transit":
        route = bool(found.origin and found.destination) or any(
            s.complete for s in read_stays(found.stops, found.itinerary))
        return dated or bool(found.nationality or found.unknown_countries) or route
    if name == "refund":
        return bool(found.amounts) or dated or found.days_in_china is not None
    return bool(found.amounts)


def check_question(question: str, lang: str, topic: str | None, rules: RuleBook, today: date,
                   only: str | None = None, asked: bool = False, nationality: str | None = None) -> ChatCheck | None:
    """Run the checker a question calls for and render it in ``lang``; None when no checker applies. ``asked``: the
    question asks for ``only``'s figure (retrieval answered it with that checker's card in ``COMPUTING_CARDS``);
    ``nationality``: the passport the ask itself names, over the first one the text names."""
    folded = fold(question)
    found = _usable(extract(question, lang, today, port_aliases(rules)), folded, asked and only is not None)
    if nationality is not None and found.nationality != nationality:
        found = replace(found, nationality=nationality)
    name = choose_checker(folded, topic, found, only)
    if name is None:
        return None
    try:
        result = _run(name, folded, found, rules, today)
    except BadInput as error:
        return ChatCheck(name, render_error(error, lang), error=error, inputs=True)
    # It leads only when it computed something from what the visitor gave and reached a verdict, or was asked to
    # compute: "Result: not decided yet" above a general answer ("how much can I get back in cash?", "can Germans
    # enter visa-free for 30 days?") answers nothing. Then the card answers, and a one-line offer naming the
    # inputs follows only when a computation was asked for.
    asked = (asked and name == only) or bool(ASKS_TO_COMPUTE[name].search(folded)
                                             or (name == "transit" and TRANSIT_SCHEME.search(folded)))
    computed = bool(result.values) or any(f.status != "info" for f in result.findings)
    given = _has_inputs(name, found) and computed and (result.verdict != "incomplete" or asked or bool(result.values))
    # Not leading, it still says what a date has changed (an ended 30-day list for this passport), and asks for
    # the inputs when a computation was asked for.
    aside = [] if given else [*render_warnings(result, lang, rules), *([render_missing(result, lang)] if asked else [])]
    return ChatCheck(name, render(result, lang, rules), result=result, given=given, offer="\n".join(aside),
                     inputs=_has_inputs(name, found))


def _run(name: str, folded: str, found: Extracted, rules: RuleBook, today: date) -> CheckResult:
    if found.bad_dates:
        raise BadInput(f"impossible date {found.bad_dates[0]!r}", key="check.bad_date", text=found.bad_dates[0])
    if name == "transit":
        if found.unknown_countries and found.nationality is None:
            raise BadInput(f"unknown country {found.unknown_countries[0]!r}", key="check.unknown_country",
                           country=found.unknown_countries[0])
        entry, planned = _entry_and_exit(found)
        legs = read_stays(found.stops, found.itinerary)
        if not legs and found.origin is not None and found.origin == found.destination:
            # The cue words read a round trip ("from Sydney … to Taipei on the 29th, then back to Sydney"), but the
            # places show another stop right after the mainland stay: the third-country rule is about that one.
            legs = [s for s in stays(found.stops) if s.complete and s.after != s.before][:1]
        first = next((s for s in legs if s.complete), None)
        origin, destination = (first.before, first.after) if first else (found.origin, found.destination)
        result = run_checker("transit", TransitQuery(found.nationality, origin, destination, found.port, entry,
                                                      planned), rules, today)
        return with_stays(result, legs, rules) if len(legs) > 1 else result
    if name == "refund":
        days = sorted(w.day for w in found.whens if w.day is not None)
        purchase, departure = (days[0], days[-1]) if len(days) >= 2 else (None, None)
        if len(found.purchases) > 1:
            # Several purchases ("2,600 RMB on the 3rd and 1,900 on the 5th"): each counts on its own, then the sum.
            (amount, rate), *others = found.purchases
            return run_checker("refund", RefundQuery(amount, rate, purchase, departure, found.days_in_china,
                                                     _refund_method(found.method), bool(INSTANT.search(folded)),
                                                     tuple(others)), rules, today)
        return run_checker("refund", RefundQuery(_rmb(found.amounts), found.vat_rate, purchase, departure,
                                                 found.days_in_china, _refund_method(found.method),
                                                 bool(INSTANT.search(folded))), rules, today)
    money = found.amounts[0] if found.amounts else None
    method = found.method if found.method in ("alipay_wechat_card", "ecny_anonymous", "cash") else None
    # The fees of several payments ("199, then 201, then 3,000 — how much in fees altogether?"): every RMB amount is
    # one payment. Without a question about fees the first amount is the payment asked about, as before.
    rmb = [m.amount for m in found.amounts if m.currency in ("CNY", "")]
    fees_of = tuple(rmb[1:]) if ASKS_TO_COMPUTE["payment"].search(folded) and len(rmb) == len(found.amounts) else ()
    # Another currency (EUR, HKD …) is refused by the payment checker itself, with the same message as the CLI.
    return run_checker("payment", PaymentQuery(money.amount if money else None,
                                               money.currency or "CNY" if money else "CNY", method,
                                               others=fees_of), rules, today)


def with_stays(result: CheckResult, legs: Sequence[Stay], rules: RuleBook) -> CheckResult:
    """An itinerary with several mainland stays: the third-country rule judged for each stay, in order, instead of
    for the first one alone; the verdict follows from all of them."""
    route = [f for f in result.findings if f.key.startswith("transit.route_")]
    judged = [f for s in legs if s.complete for f in route_findings(s.before, s.after, rules.transit.regions)]
    at = result.findings.index(route[0]) if route else len(result.findings)
    findings = (*[f for f in result.findings[:at] if f not in route], *judged,
                *[f for f in result.findings[at:] if f not in route])
    return replace(result, findings=findings, verdict=verdict_of(findings, result.missing))


def _entry_and_exit(found: Extracted) -> tuple[datetime | date | None, datetime | date | None]:
    """First dated mention = entry, a later one = planned exit; a time without a date is ignored."""
    moments: list[datetime | date] = [datetime.combine(w.day, w.time) if w.time else w.day
                                      for w in found.whens if w.day is not None]
    if not moments:
        return None, None
    entry = moments[0]
    later = [m for m in moments[1:] if _day(m) > _day(entry)]
    return entry, (later[-1] if later else None)


def _day(moment: datetime | date) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def _rmb(amounts: Sequence[Money]) -> Decimal | None:
    """Refunds are computed in RMB: an amount without a currency is taken as RMB (prices in China are);
    another currency is an input error rather than a guess at the rate."""
    # A stated RMB amount first: a bare number is RMB only when nothing says so.
    for money in sorted(amounts, key=lambda m: m.currency != "CNY"):
        if money.currency in ("CNY", ""):
            return money.amount
    if amounts:
        raise BadInput(f"amounts in {amounts[0].currency}", key="check.bad_currency", currency=amounts[0].currency)
    return None


def _refund_method(method: str | None) -> str | None:
    return method if method in ("cash", "bank_transfer") else None


def _meta(checker: str, rules: RuleBook) -> RuleMeta:
    return {"transit": rules.transit.meta, "refund": rules.refund.meta, "payment": rules.payment.meta}[checker]


def check_citations(check: ChatCheck, rules: RuleBook) -> tuple[Citation, ...]:
    """The rule table's sources, cited as the table at its version."""
    meta = _meta(check.checker, rules)
    return tuple(Citation(s.title, s.url, f"rules/{check.checker}", f"rules/{check.checker}@{meta.version}")
                 for s in meta.sources)


def with_check(answer: Answer, check: ChatCheck, rules: RuleBook) -> Answer:
    """The computation first when the question gave its inputs (it answers the exact question), then the card's
    explanation; the rule table's sources join the citations. A "no answer found" becomes the computation alone: it
    is grounded in the tables. Without any input the card answers and one line offers the computation: "Result: not
    decided yet" above a general answer ("how much can I get back in cash?") answers nothing."""
    if not check.given and not answer.refused:
        text = f"{answer.text}\n\n{check.offer}" if check.offer else answer.text
        return replace(answer, text=text)
    cited = check_citations(check, rules)
    body = check.text if answer.refused else f"{check.text}\n\n{answer.text}"
    valid = min(filter(None, (answer.valid_as_of, check.valid_as_of(rules))))
    return replace(answer, text=body, refused=False, citations=(*cited, *answer.citations), valid_as_of=valid,
                   escalation=answer.escalation or (check.result.escalation if check.result else ""),
                   check=check.as_json(), parts=_with_checker(answer, check.checker))


def _with_checker(answer: Answer, checker: str) -> tuple[AnswerPart, ...]:
    parts = answer.parts or (AnswerPart("", answer.card_ids),)
    return (replace(parts[0], checker=checker, refused=False), *parts[1:])
