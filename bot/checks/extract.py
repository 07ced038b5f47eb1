"""Pull the inputs of the rule checkers out of a free-text question, with regexes and tables only (no network, no ML).

``extract(text, lang, today, ports)`` returns amounts, dates and times, nationality, origin and destination,
a port, a VAT rate, days spent in China and a payment or refund method. It never guesses: an ambiguous numeric
date is skipped, an impossible one is reported in ``bad_dates``, an amount without a currency keeps currency "",
and a word in a nationality position that is no country goes to ``unknown_countries``, so the checker can ask.

The work is split by kind: ``extract_text`` (folding), ``extract_dates``, ``extract_amounts``, ``extract_places``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType

from bot.checks.extract_amounts import Money, amounts_at
from bot.checks.extract_dates import When, scan_dates
from bot.checks.extract_places import MAINLAND, Place, assign_roles, find_places, trip_stops
from bot.checks.extract_text import CLAUSE_END, SENTENCE_END, Claimed, Text, fold, prepare, to_int

__all__ = ["Extracted", "Money", "When", "extract"]

_NO_PORTS: Mapping[str, Sequence[str]] = MappingProxyType({})


@dataclass(frozen=True)
class Extracted:
    amounts: tuple[Money, ...]  # in order of mention
    whens: tuple[When, ...]  # in order of mention
    nationality: str | None  # ISO 3166-1 alpha-2
    origin: str | None  # where they come from (never mainland China)
    destination: str | None  # where they go next, after China (never mainland China)
    port: str | None  # an id from the ``ports`` mapping
    vat_rate: int | None  # 13 or 9 when stated next to a VAT word
    days_in_china: int | None
    method: str | None  # "alipay_wechat_card" | "ecny_anonymous" | "ecny" | "cash" | "bank_transfer"
    unknown_countries: tuple[str, ...]  # "Narnian" in "Narnian passport"
    bad_dates: tuple[str, ...]  # dates that cannot exist, as written ("31 Feb", "2026-13-01")
    # Every place of the trip in the order written (country or region codes, "CN" for the mainland), and whether
    # the message writes it as an itinerary (arrows, "A - B" legs, "A > B"): read by ``checks/itinerary.py``.
    stops: tuple[str, ...] = ()
    itinerary: bool = False
    # The RMB purchases told (amount, VAT rate or None), in order: amounts in a sentence that says something was
    # bought, or with a VAT rate of their own. Read by the refund checker when there are several.
    purchases: tuple[tuple[Decimal, int | None], ...] = ()


def extract(text: str, lang: str, today: date, ports: Mapping[str, Sequence[str]] = _NO_PORTS) -> Extracted:
    t = prepare(text, lang)
    dates = scan_dates(t, today)
    places = find_places(t)
    roles = assign_roles(t, places)
    origin, destination, stops = _round_trip(t.folded, roles.origin, roles.destination, trip_stops(t, places))
    found = _times_count(t, amounts_at(t, list(dates.spans)))
    return Extracted(
        amounts=tuple(money for _, money in found),
        whens=dates.whens,
        nationality=roles.nationality,
        origin=origin,
        destination=destination,
        port=find_port(t, ports),
        vat_rate=find_vat_rate(t),
        days_in_china=find_days_in_china(t, places, list(dates.spans)),
        method=find_method(t),
        unknown_countries=roles.unknown,
        bad_dates=dates.bad_dates,
        stops=stops,
        itinerary=bool(_ITINERARY.search(t.raw)),
        purchases=find_purchases(t, found),
    )


# "Two iPhones … 9 999 yuan each": a price per piece with a count of pieces is what is paid for all of them. The
# word for "each" near the amount (folded text), and the count before it in the same sentence.
_EACH_AFTER = re.compile(r"^\W{0,3}(?:rmb|cny|yuan|元|юан\w*|renminbi|人民币)?\W{0,3}(?:each|apiece|a piece|per piece|"
                         r"каждый|каждая|каждое|за штуку|chacun|chacune|piece|la piece|cada uno|cada una|cada|"
                         r"l'uno|l'una|ciascuno|ciascuna|cadauno|pro stuck|das stuck|moi cai|masing-masing|per buah|"
                         r"一个|一件|一台|一部|一只|每个|每件|各)(?![a-z])")
# ("по 9 999", "je 450"; not "à 180" or "da 450": "deux restos à 180 et 260" is two prices, not two of one)
_EACH_BEFORE = re.compile(r"(?:\bпо|\bje|\beach (?:at|for)|每个|每件|每台|每部|各|moi cai)\s*$")
_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "два": 2, "две": 2, "три": 3, "четыре": 4, "deux": 2, "trois": 3,
                "dos": 2, "tres": 3, "zwei": 2, "drei": 3, "due": 2, "tre": 3, "dois": 2, "duas": 2, "hai": 2,
                "ba": 3, "dua": 2, "tiga": 3, "两": 2, "二": 2, "三": 3, "두": 2, "세": 3}
_COUNT = re.compile(r"(?<![\d.,])([2-9]|1[0-9])\s*(?:x\b|×|[^\W\d_])|(?<![^\W\d_])(" +
                    "|".join(w for w in _COUNT_WORDS if w.isascii() or len(w) > 1) +
                    r")(?![^\W\d_])|([两二三])(?=[个件台部只双])|([두세])\s?(?:개|대)")


def _times_count(t: Text, found: list[tuple[int, Money]]) -> list[tuple[int, Money]]:
    out = []
    for start, money in found:
        end = _amount_end(t.folded, start)
        before = SENTENCE_END.split(t.folded[:start])[-1]
        each = _EACH_AFTER.match(t.folded[end:end + 30]) or _EACH_BEFORE.search(before[-12:])
        counts = [m for m in _COUNT.finditer(before[-80:])] if each else []
        if counts:
            m = counts[-1]
            n = int(m[1]) if m[1] else _COUNT_WORDS.get(m[2] or m[3] or m[4] or "", 1)
            money = replace(money, amount=money.amount * n)
        out.append((start, money))
    return out


def _amount_end(folded: str, start: int) -> int:
    m = re.match(r"[\d\s.,\u00a0\u202f]*\d", folded[start:])
    return start + (m.end() if m else 0)


# A return ticket named in words: "인천→선전 왕복 항공권", "a round trip Paris - Shenzhen", "aller-retour". The trip
# then ends where it began, which decides the third-country rule without asking anything more (folded text).
_ROUND_TRIP = re.compile(
    r"round[- ]?trip|return (?:ticket|flight)s?|\band back\b|aller[- ]retour|ida y vuelta|ida e volta|"
    r"andata e ritorno|hin- und ruckflug|hin und zuruck|туда и обратно|туда-обратно|khu hoi|pulang[- ]pergi|"
    r"往返|来回|往復|왕복|ไป-?กลับ|ذهاب وعودة|ذهاب واياب|ذهاب وإياب")


def _round_trip(folded: str, origin: str | None, destination: str | None,
                stops: tuple[str, ...]) -> tuple[str | None, str | None, tuple[str, ...]]:
    """(origin, destination, stops) with a round trip's way home filled in, when the message names one place abroad
    and says the ticket is a return; any other trip is left as read."""
    if not _ROUND_TRIP.search(folded):
        return origin, destination, stops
    if origin is None and stops[:1] == ("CN",):
        return origin, destination, stops  # the trip starts in China ("Shenzhen to Hong Kong and back"): not ours
    abroad = {s for s in stops if s != "CN"}
    home = origin or next((s for s in stops if s != "CN"), None)
    if home is None or home == "CN" or abroad - {home} or destination not in (None, home):
        return origin, destination, stops
    return home, home, stops if stops[-1:] == (home,) else (*stops, home)


# Written as legs: arrows, "A > B", "A - B" between words (not "240-hour"), "A to B then C" is read by cue words.
_ITINERARY = re.compile(r"→|->|=>|⇒|\w\s*>\s*\w|\w\s+[-–—]\s+\w|\w\s*/\s*\w+\s+[-–—]")


_IATA = re.compile(r"[A-Z]{3}")


@lru_cache(maxsize=256)
def _code_pattern(code: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z]){code}(?![A-Za-z])")


@lru_cache(maxsize=2048)
def _alias_pattern(alias: str) -> re.Pattern[str] | None:
    """Compiled once per alias: every chat question is matched against every port's names (folding is costly)."""
    folded = fold(alias.strip())
    if not folded:
        return None
    head = r"(?<![^\W\d_])" if folded[0].isascii() and folded[0].isalnum() else ""
    tail = r"(?![^\W\d_])" if folded[-1].isascii() and folded[-1].isalnum() else ""
    return re.compile(head + re.escape(folded) + tail)


def named_ports(t: Text, ports: Mapping[str, Sequence[str]]) -> list[str]:
    """Every port the text names, in the order of ``ports``."""
    return [port_id for port_id in ports if find_port(t, {port_id: ports[port_id]}) is not None]


def find_port(t: Text, ports: Mapping[str, Sequence[str]]) -> str | None:
    """The port whose name comes first in the text. No guessing: "Shenzhen airport" is no port unless listed."""
    best: tuple[int, str] | None = None
    for port_id, aliases in ports.items():
        for alias in aliases:
            # An airport code counts only as written, in capitals: "CAN" is Guangzhou Baiyun, "Can I…" is not.
            code = _IATA.fullmatch(alias.strip())
            pattern = _code_pattern(alias.strip()) if code else _alias_pattern(alias)
            m = pattern.search(t.raw if code else t.folded) if pattern else None
            if m and (best is None or m.start() < best[0]):
                best = (m.start(), port_id)
    return best[1] if best else None


_VAT_WORD = re.compile(
    r"(?<![a-z])(?:vat|value[- ]added tax|tva|iva|mwst|ust|mehrwertsteuer|tax rate|taux|tasa|btw|kdv|moms|ppn)(?![a-z])"
    r"|增值税|増値税|增値税|税率|付加価値税|消费税|부가세|부가가치세|세율|ндс|ставк|ضريب|ภาษีมูลค่าเพิ่ม|ภาษี"
)
_PERCENT = re.compile(r"(?<![\d.,])(\d{1,2})\s?(?:%|percent|pour cent|por ciento)|百分之(十三|九)")
_VAT_RATES = {9, 13}


# An amount is a purchase only when the question says something is bought or spent, or asks what comes back:
# "can I get a 25,000 RMB refund in cash?" names the refund, "is the cash cap 10,000?" a rule, "capped at 110,000"
# a rumour; computing a refund on those would answer a question nobody asked.
PURCHASE = re.compile(r"\bbought\b|\bbuy(ing)?\b|\bspen[dt]\b|\bspending\b|买|购入|購入|買い|買っ|구매|샀|"
                      r"купил|купить|покуп|achet|achat|compr|kauf|acquist|\bmua\b|ซื้อ|beli|shopping|"
                      r"شراء|اشتري|اشتريت|ساشتري|نشتري")
# A refund named right before a figure makes it the refund, not a purchase ("the refund would be about 2,700").
_REFUND_BEFORE = re.compile(r"(?:refund|退税|还付|還付|환급|возврат|rembourse|devoluc|erstatt|rimbors|reembols|hoan|"
                            r"คืน|pengembalian|استرداد)[^\d]{0,25}$")


# A line of a list ("・お茶 860元（B店、3/12）9%らしい", "- eletrônicos: 5.000 RMB"): in a message that tells of
# purchases or VAT anywhere, each such line with an amount is one purchase, and a bare 13% or 9% in it is its rate.
_LIST_ITEM = re.compile(r"[ \t]*(?:[-–—•·・*►▪]|\d{1,2}[.)）]|[a-h][).）])\s*")


def find_purchases(t: Text, amounts: Sequence[tuple[int, Money]]) -> tuple[tuple[Decimal, int | None], ...]:
    """The RMB amounts that are purchases, each with its VAT rate: the 13 or 9 written with it ("5.000 yuan (IVA
    13%)", "2,500元（13%税）"), else the one rate the message states for everything ("both are 13% VAT goods")."""
    rates = _vat_mentions(t)
    listed = bool(rates or PURCHASE.search(t.folded))
    if listed:  # a bare rate on a list line is that line's purchase's ("お茶 860元 9%らしい")
        rates = sorted({*rates, *((at, rate) for at, rate in _bare_rates(t) if _in_list_line(t.folded, at))})
    one_rate = rates[0][1] if rates and len({rate for _, rate in rates}) == 1 else None
    out: list[tuple[Decimal, int | None]] = []
    starts = [start for start, _ in amounts]
    # A bare number is a purchase only when no amount says "RMB" and it is not a small count ("2 suits: 2,600 RMB").
    named = any(money.currency == "CNY" for _, money in amounts)
    for n, (start, money) in enumerate(amounts):
        if money.currency not in ("CNY", "") or (money.currency == "" and (named or money.amount < 100)):
            continue
        before = SENTENCE_END.split(t.folded[:start])[-1]
        after = SENTENCE_END.split(t.folded[start:])[0]
        nxt = starts[n + 1] if n + 1 < len(starts) else len(t.folded)
        own = next((rate for at, rate in rates if start < at < min(nxt, start + len(after))
                    and at - start <= 60), None)
        if own is None and _REFUND_BEFORE.search(before) and not PURCHASE.search(before[-15:]):
            continue
        if own is not None or PURCHASE.search(before + after) or (listed and _in_list_line(t.folded, start)):
            out.append((money.amount, own if own is not None else one_rate))
    return tuple(out)


def _in_list_line(folded: str, at: int) -> bool:
    line_start = folded.rfind("\n", 0, at) + 1
    return line_start > 0 and _LIST_ITEM.match(folded, line_start) is not None


def _bare_rates(t: Text) -> list[tuple[int, int]]:
    return [(m.start(), rate) for m in _PERCENT.finditer(t.folded)
            if (rate := to_int(m.group(1) or m.group(2))) in _VAT_RATES]


def _vat_mentions(t: Text) -> list[tuple[int, int]]:
    """(where, rate) of each 13 or 9 written next to a VAT word in the same clause."""
    found: list[tuple[int, int]] = []
    for m in _PERCENT.finditer(t.folded):
        rate = to_int(m.group(1) or m.group(2))
        if rate not in _VAT_RATES:
            continue
        for word in _VAT_WORD.finditer(t.folded, max(0, m.start() - 20), m.end() + 20):
            lo, hi = (word.end(), m.start()) if word.start() < m.start() else (m.end(), word.start())
            if not CLAUSE_END.search(t.folded, lo, hi):
                found.append((m.start(), rate))
                break
    return found


def find_vat_rate(t: Text) -> int | None:
    """13 or 9 when written next to a VAT word in the same clause ("13% VAT", "税率9%"); other rates are not ours."""
    mentions = _vat_mentions(t)
    return mentions[0][1] if mentions else None


_DAY_COUNT = re.compile(
    r"(?<![\d.,])(?P<n>\d{1,5}|[零一二两三四五六七八九十百千]{1,6})\s?(?:"
    r"(?P<days>days?|天|日(?![元币])|일|дн\w*|день|jours?|dias?|tage?n?|giorni)"
    r"|(?P<weeks>weeks?|周|星期|个星期|周间|주|недел\w*|semaines?|semanas?|wochen?|settimane))(?![a-z])"
)


def find_days_in_china(t: Text, places: list[Place], dates: list[tuple[int, int]]) -> int | None:
    """A count of days or weeks next to a mention of China ("在中国待了200天", "200 jours en Chine")."""
    china = [p for p in places if p.code == MAINLAND]
    claimed = Claimed(len(t.folded), dates)
    for m in _DAY_COUNT.finditer(t.folded):
        if claimed.overlaps(m.start(), m.end()):
            continue  # "12月3日" is a date, not three days
        n = to_int(m["n"])
        near = any(
            abs(p.start - m.end()) <= 30 or abs(m.start() - p.end) <= 30
            for p in china
            if not CLAUSE_END.search(t.folded, min(p.end, m.end()), max(p.start, m.start()))
        )
        if n is not None and near:
            return n * 7 if m["weeks"] else n
    return None


_METHODS = {
    "ecny": re.compile(
        r"(?<![a-z])(?:e-?cny|e-?rmb|e-yuan)|digital (?:yuan|rmb|renminbi)|数字人民币|数币|デジタル人民元"
        r"|디지털 ?위안|цифров\w* юан|yuan (?:numerique|digital)|digitale[nr]? yuan"
    ),
    "alipay_wechat_card": re.compile(
        r"alipay|ali pay|支付宝|アリペイ|알리페이|алипэ|алипе"
        r"|wechat ?pay|weixin ?pay|微信支付|위챗 ?페이|ウィーチャットペイ"
    ),
    "cash": re.compile(
        r"(?<![a-z])cash|现金|현금|наличн|(?<![a-z])especes|efectivo|bargeld|dinheiro|contanti|liquide|tien mat|tunai"
    ),
    "bank_transfer": re.compile(
        r"bank transfer|wire transfer|银行转账|转账|银行振込|振込|계좌 ?이체|송금"
        r"|банковск\w* перевод|перевод на (?:карту|сч)"
        r"|virement|transferencia|uberweisung|bonifico|chuyen khoan"
    ),
}
_WECHAT = re.compile(r"wechat|微信|위챗|ウィーチャット|вичат")
_CARD = re.compile(
    r"visa|master ?card|amex|jcb|credit card|debit card|(?<![a-z])card|信用卡|借记卡|外卡|银行卡|カード|카드"
    r"|карт|carte|tarjeta|karte|cartao|carta"
)
_ANONYMOUS = re.compile(
    r"anonym|匿名|不实名|无需实名|免实名|不用实名|无记名|익명|анонимн|anonimo|anonima|non-real-name"
    r"|(?:no|without( a)?|sin|sans|ohne|sem|senza) "
    r"(?:passport|pasaporte|passeport|reisepass|pass|passaporte|passaporto)"
    r"|不用护照|不需要护照|无需护照|不要护照"
)


def find_method(t: Text) -> str | None:
    """The payment or refund method mentioned first; plain "微信" counts as WeChat Pay only next to a card word."""
    found: list[tuple[int, str]] = []
    for name, pattern in _METHODS.items():
        m = pattern.search(t.folded)
        if m:
            found.append((m.start(), name))
    wechat = _WECHAT.search(t.folded)
    if wechat and _CARD.search(t.folded):
        found.append((wechat.start(), "alipay_wechat_card"))
    if not found:
        return None
    method = min(found)[1]
    if method == "ecny":
        return "ecny_anonymous" if _ANONYMOUS.search(t.folded) else "ecny"
    return method
