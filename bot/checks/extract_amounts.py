"""Money amounts in a question: separators by language, 万/千/k multipliers, Chinese numerals, currency words.

Numbers that are something else (dates, times, percentages, durations, flight and phone numbers) are masked
before reading, so "3 Dec", "15:00", "13%", "90 days" and "CA1234" never become amounts. A number with no
currency becomes an amount only next to a money word ("refund", "退税", "покупка"), with currency "" so the
checker can ask which currency was meant.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from bot.checks.extract_dates import DAY_FIRST
from bot.checks.extract_text import CN_NUMERAL, NUMBER, Claimed, Text, decimal_or_none, parse_cn_number

Span = tuple[int, int]


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str  # ISO 4217; "" when the question gives a number but no currency


# Folded currency words. "¥" is yuan in a Chinese (or English) question and yen in a Japanese one.
_BEFORE = {
    "us$": "USD", "usd": "USD", "$": "USD", "hk$": "HKD", "hkd": "HKD", "a$": "AUD", "au$": "AUD", "aud": "AUD",
    "c$": "CAD", "ca$": "CAD", "cad": "CAD", "s$": "SGD", "sg$": "SGD", "sgd": "SGD", "nt$": "TWD", "ntd": "TWD",
    "twd": "TWD", "mop$": "MOP", "mop": "MOP", "r$": "BRL", "mx$": "MXN", "¥": "CNY", "rmb": "CNY", "cny": "CNY",
    "€": "EUR", "eur": "EUR", "£": "GBP", "gbp": "GBP", "jpy": "JPY", "krw": "KRW", "₩": "KRW", "₽": "RUB",
    "rub": "RUB", "฿": "THB", "thb": "THB", "₫": "VND", "vnd": "VND", "rp": "IDR", "idr": "IDR", "chf": "CHF",
    "inr": "INR", "₹": "INR", "php": "PHP", "₱": "PHP", "myr": "MYR", "人民币": "CNY", "港币": "HKD",
}  # fmt: skip
_AFTER = {
    "元": "CNY", "块": "CNY", "块钱": "CNY", "蚊": "CNY", "人民币": "CNY", "元人民币": "CNY", "rmb": "CNY",
    "cny": "CNY", "yuan": "CNY", "yuans": "CNY", "yuanes": "CNY", "юаней": "CNY", "юаня": "CNY", "юань": "CNY",
    "위안": "CNY", "人民元": "CNY", "港币": "HKD", "港元": "HKD", "港纸": "HKD", "hkd": "HKD", "hk$": "HKD",
    "hong kong dollars": "HKD", "hk dollars": "HKD", "美元": "USD", "美金": "USD", "usd": "USD", "$": "USD",
    "us dollars": "USD", "dollars": "USD", "dollar": "USD", "долларов": "USD", "доллара": "USD", "доллар": "USD",
    "달러": "USD", "ドル": "USD", "dolares": "USD", "dolar": "USD", "dollari": "USD", "日元": "JPY", "日币": "JPY",
    "円": "JPY", "yen": "JPY", "yenes": "JPY", "jpy": "JPY", "иен": "JPY", "йен": "JPY", "엔": "JPY", "원": "KRW",
    "韩元": "KRW", "krw": "KRW", "won": "KRW", "欧元": "EUR", "euro": "EUR", "euros": "EUR", "eur": "EUR", "€": "EUR",
    "евро": "EUR", "유로": "EUR", "ユーロ": "EUR", "英镑": "GBP", "pounds": "GBP", "gbp": "GBP", "£": "GBP",
    "фунтов": "GBP", "рублей": "RUB", "рубля": "RUB", "рубль": "RUB", "руб": "RUB", "₽": "RUB", "rub": "RUB",
    "卢布": "RUB", "泰铢": "THB", "baht": "THB", "バーツ": "THB", "바트": "THB", "thb": "THB", "新币": "SGD",
    "sgd": "SGD", "澳门币": "MOP", "澳门元": "MOP", "葡币": "MOP", "patacas": "MOP", "mop": "MOP", "新台币": "TWD",
    "台币": "TWD", "ntd": "TWD", "twd": "TWD", "reais": "BRL", "澳元": "AUD", "aud": "AUD", "加元": "CAD",
    "cad": "CAD", "ringgit": "MYR", "rupiah": "IDR", "dong": "VND", "rupees": "INR", "chf": "CHF", "₩": "KRW",
    "¥": "CNY", "đong": "VND", "vnd": "VND", "บาท": "THB", "หยวน": "CNY", "يوان": "CNY", "دولار": "USD", "يورو": "EUR",
    "ريال": "SAR", "درهم": "AED", "nhan dan te": "CNY", "ndt": "CNY", "te": "CNY",
}  # fmt: skip
# Currency words of one language that are other words elsewhere: Vietnamese "tệ" (yuan) folds to Italian "te".
_ONLY_IN = {"te": "vi"}


def _words(table: dict[str, str]) -> str:
    """Alternation, longest first; words ending in a letter must end there ("won" not "wonder")."""
    parts = []
    for word in sorted(table, key=len, reverse=True):
        head = r"(?<![a-z])" if word[0].isascii() and word[0].isalpha() else ""
        # Only alphabetic scripts need a word end; "円と", "원이랑", "元的" are followed by particles.
        tail = r"(?![^\W\d_])" if word[-1].isalpha() and word[-1] < "\u0530" else ""
        parts.append(head + re.escape(word) + tail)
    return "|".join(parts)


_PREFIX = re.compile(rf"(?:{_words(_BEFORE)})\s?$")
_SUFFIX = re.compile(rf"\s?(?:{_words(_AFTER)})")
_NUMBER = re.compile(NUMBER)
_MULTIPLIERS = {
    "万": 10_000, "亿": 100_000_000, "千": 1000, "k": 1000, "만": 10_000, "천": 1000, "억": 100_000_000,
    "тыс": 1000, "тысяч": 1000, "млн": 1_000_000, "thousand": 1000, "million": 1_000_000, "mil": 1000,
    "mila": 1000, "tausend": 1000, "millions": 1_000_000, "millones": 1_000_000, "milhoes": 1_000_000,
}  # fmt: skip
_MULT = re.compile(
    r"\s?(?P<mult>" + "|".join(sorted(map(re.escape, _MULTIPLIERS), key=len, reverse=True)) + r")\.?(?![a-z])"
)
_THEN = re.compile(r"\s?(?P<num>\d{1,3})\s?(?P<mult>千|천|百|백)")  # "1万2千", "1만 2천"
_CN_AMOUNT = re.compile(
    rf"(?<![\d零〇一二两三四五六七八九十百千万亿])({CN_NUMERAL}+)\s?(?=元|块|蚊|人民币|美元|港币|港元|日元|円|欧元|韩元|英镑)"
)

# Not amounts: percentages, durations and counts, flight, room and phone numbers.
_UNITS = (
    r"days?|nights?|hours?|hrs?|h|weeks?|months?|years?|yrs?|minutes?|mins?|people|persons?|pax|pieces?|pcs|items?"
    r"|times|kg|km|tickets?|bags?|adults?|children|kids|天|日(?![元币])|晚|夜|周|星期|个月|个小时|小时|岁|周间|时间"
    r"|ヶ月|か月|カ月|泊|件|个|张|次|人(?!民)|位|名|枚|回|일|주|개월|시간|년|박|명|개|번|장|дн\w*|день|ноч\w*|недел\w*"
    r"|месяц\w*|лет|год\w*|час\w*|человек\w*|шт|раз\w*|jours?|nuits?|semaines?|mois|ans?|heures?|personnes?|dias?"
    r"|noches?|semanas?|meses|anos?|horas?|personas?|tage?n?|nachte?|wochen?|monate?n?|jahre?n?|stunden?|giorni"
    r"|notti|settimane|mesi|anni|ore"
)
_MASKS = (
    # List markers: "3) I'll buy a scarf for ~1,800 RMB" is not 3 RMB.
    re.compile(r"(?:^|(?<=[\s(]))\d{1,2}\)(?!\d)|^\d{1,2}\.(?=\s)|(?<=\n)\d{1,2}\.(?=\s)"),
    re.compile(rf"{NUMBER}\s?(?:%|percent|per cent|pour cent|por ciento|por cento|per cento|prozent|процент\w*)"),
    re.compile(rf"百分之{CN_NUMERAL}+|百分之\d+"),
    re.compile(rf"{NUMBER}\s?-?\s?(?:{_UNITS})(?![a-z])"),
    re.compile(r"(?:flight|航班|рейс|vol|vuelo|flug|voo|volo|便)\s*(?:no\.?\s*)?[a-z0-9]{2}\s?\d{1,4}"),
    re.compile(
        r"(?:(?<![a-z])(?:room|gate|terminal|line|bus|route|platform|seat|call|dial|tel|phone|hotline|numero"
        r"|nummer|telefon)|#|№|no\.|电话|热线|拨打|致电|打|号线|第|номер|терминал)\s*\d+"
    ),
)
_FLIGHT_RAW = re.compile(r"(?<![A-Za-z0-9])(?:[A-Z]{2}|[A-Z]\d|\d[A-Z])\s?\d{2,4}(?!\d)")
_MONEY_WORDS = re.compile(
    "refund|tax(?!i)|pay|paid|spend|spent|buy|bought|purchas|cost|price|total|bill|receipt|invoice|amount|shopping|worth"
    "|cash|withdraw|top up|alipay|wechat|退|税|买|购|消费|花|付|价|钱|金额|费|刷|充值|提现|现金|支付|发票|払|金"
    "|결제|구매|샀|환급"
    "|세금|지불|금액|현금|покуп|купил|оплат|плат|стои|сумм|возврат|налог|achat|achete|pay|rembours|montant|prix|detaxe"
    "|compr|pagar|pague|pago|pagat|paguei|pagou|reembols|devoluc|importe|precio|kauf|bezahl|erstatt|betrag|preis|valor|acquist|rimbors|importo|prezzo"
)
# A number straight before a letter or a counter word is a count or a code ("3件", "2 kids" is caught by _UNITS).
_COUNTER_AFTER = re.compile(
    r"(?:[a-z]|\s?[件个张次人位天日晚夜周月年岁号点时分秒斤克米层楼台部本瓶盒包支条双只家间趟班站枚回名泊"
    r"개명번장박살층일월년시분])"
)


def _separator_is_decimal(digits: str, sep: str, comma_decimal: bool) -> bool:
    """For a number with one kind of separator used once: is it the decimal mark? ("1,200" en vs "1,5" de)."""
    head, _, tail = digits.partition(sep)
    if len(tail) != 3 or head == "0":
        return True
    return (sep == ",") == comma_decimal


def parse_number(text: str, comma_decimal: bool) -> Decimal | None:
    """ "1,234.5", "1.234,5", "1 234,5", "1'234", "1.200" (1.2 in English, 1200 in German)."""
    marks = [ch for ch in text if not ch.isdigit()]
    if not marks:
        return decimal_or_none(text)
    last = marks[-1]
    if last in " '" or (len(marks) > 1 and len(set(marks)) == 1):
        return decimal_or_none(re.sub(r"\D", "", text))  # all grouping
    if len(set(marks)) == 1 and not _separator_is_decimal(text, last, comma_decimal):
        return decimal_or_none(text.replace(last, ""))
    head, _, tail = text.rpartition(last)
    return decimal_or_none(re.sub(r"\D", "", head) + "." + tail)


def masked_spans(t: Text) -> list[Span]:
    spans = [m.span() for pattern in _MASKS for m in pattern.finditer(t.folded)]
    return spans + [m.span() for m in _FLIGHT_RAW.finditer(t.raw)]


def _code(word: str, table: dict[str, str], lang: str) -> str:
    word = word.strip()
    return "JPY" if word == "¥" and lang == "ja" else table[word]


def _tidy(value: Decimal) -> Decimal:
    """1.2万 is 12000, not 12000.0."""
    try:
        return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
    except ArithmeticError:  # more digits than the decimal context holds: keep it as computed
        return value


def _multiplied(t: Text, value: Decimal, end: int) -> tuple[Decimal, int]:
    mult = _MULT.match(t.folded, end)
    if mult is None or (mult["mult"] == "mil" and t.lang not in {"es", "pt"}):
        return value, end
    value, end = _tidy(value * _MULTIPLIERS[mult["mult"]]), mult.end()
    then = _THEN.match(t.folded, end)
    if then and mult["mult"] in {"万", "만", "亿", "억"}:
        unit = 1000 if then["mult"] in {"千", "천"} else 100
        value, end = value + int(then["num"]) * unit, then.end()
    return value, end


def _bare_ok(t: Text, start: int, end: int, digits: str) -> bool:
    """A number without currency counts only next to a money word and when it is not a count or a code."""
    if _COUNTER_AFTER.match(t.folded, end) or len(digits) >= 9:
        return False
    if len(digits) == 4 and digits.isdigit() and 1900 <= int(digits) <= 2100:
        return False  # a year
    return _MONEY_WORDS.search(t.folded, max(0, start - 30), min(len(t.folded), end + 30)) is not None


def _arabic(t: Text, masks: Claimed) -> Iterator[tuple[int, Money]]:
    comma_decimal, done = t.lang in DAY_FIRST, 0
    for m in _NUMBER.finditer(t.folded):
        start, end = m.span()
        if start < done or masks.overlaps(start, end):
            continue  # inside the previous amount ("2千" of "1万2千") or a date, time, count...
        value = parse_number(m.group(), comma_decimal)
        before = _PREFIX.search(t.folded, max(0, start - 8), start)
        if value is None or (start and t.folded[start - 1].isascii() and t.folded[start - 1].isalpha() and not before):
            continue  # "CA1234", "E12345678": codes, not money
        value, end = _multiplied(t, value, end)
        after = _SUFFIX.match(t.folded, end)
        if after and _ONLY_IN.get(after.group().strip(), t.lang) != t.lang:
            after = None
        if after:
            currency = _code(after.group(), _AFTER, t.lang)
        elif before:
            currency = _code(before.group(), _BEFORE, t.lang)
        elif _bare_ok(t, start, end, m.group()):
            currency = ""
        else:
            continue
        done = after.end() if after else end
        if currency == "CNY" and re.fullmatch(r"\d{1,3}\.\d{3}", m.group()):
            # "4.000 RMB" is four thousand whatever the language (a Dutch or Turkish message is read as English):
            # yuan prices have at most two decimals.
            value = decimal_or_none(m.group().replace(".", "")) or value
        yield start, Money(value, currency)


def _chinese(t: Text, masks: Claimed) -> Iterator[tuple[int, Money]]:
    for m in _CN_AMOUNT.finditer(t.folded):
        value = parse_cn_number(m.group(1))
        after = _SUFFIX.match(t.folded, m.end())
        if value and after and not masks.overlaps(m.start(), m.end()):
            yield m.start(), Money(Decimal(value), _code(after.group(), _AFTER, t.lang))


def find_amounts(t: Text, masks: list[Span]) -> tuple[Money, ...]:
    return tuple(money for _, money in amounts_at(t, masks))


def amounts_at(t: Text, masks: list[Span]) -> list[tuple[int, Money]]:
    """The amounts in order of mention, each with where it starts in ``t.folded``."""
    claimed = Claimed(len(t.folded), [*masks, *masked_spans(t)])
    return sorted([*_arabic(t, claimed), *_chinese(t, claimed)], key=lambda pair: pair[0])
