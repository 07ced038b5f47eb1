"""Extraction of checker inputs from free text: table-driven cases per feature and language, negatives, properties."""

from __future__ import annotations

import time as clock
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from typing import Any

import pytest
from babel.numbers import format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checks.extract import Extracted, Money, When, extract
from bot.checks.extract_amounts import parse_number
from bot.checks.extract_places import _data, find_places
from bot.checks.extract_text import MAX_CHARS, parse_cn_number, prepare

TODAY = date(2026, 6, 1)
DEC3 = date(2026, 12, 3)
PORTS = {
    "szx-baoan": ["Bao'an", "Baoan", "SZX", "宝安机场", "深圳机场"],
    "luohu": ["Luohu", "罗湖", "羅湖"],
    "huanggang": ["Huanggang", "皇岗", "皇崗"],
}


@dataclass(frozen=True)
class Case:
    lang: str
    text: str
    expect: dict[str, Any] = field(default_factory=dict)


def cny(amount: str) -> Money:
    return Money(Decimal(amount), "CNY")


def at(day: date | None, hour: int | None = None, minute: int = 0) -> When:
    return When(day, None if hour is None else time(hour, minute))


# The example questions of the brief: every field they carry.
EXAMPLES = [
    Case("en", "I land on 3 Dec at 15:00 with a US passport, flying on to Tokyo",
         {"whens": (at(DEC3, 15),), "nationality": "US", "origin": None, "destination": "JP", "amounts": ()}),
    Case("zh-Hans", "我买了1200元的衣服能退多少？", {"amounts": (cny("1200"),), "whens": ()}),
    Case("zh-Hans", "我持美国护照，12月3日下午3点从洛杉矶飞到深圳，然后去香港",
         {"whens": (at(DEC3, 15),), "nationality": "US", "origin": "US", "destination": "HK", "days_in_china": None}),
    Case("ja", "12月3日15時に羽田から深圳に着きます。日本のパスポートです",
         {"whens": (at(DEC3, 15),), "nationality": "JP", "origin": "JP", "destination": None}),
    Case("ko", "미국 여권으로 12월 3일 오후 3시에 도착해서 홍콩으로 가요",
         {"whens": (at(DEC3, 15),), "nationality": "US", "destination": "HK"}),
    Case("ru", "Прилетаю 3 декабря в 15:00 из Москвы, дальше лечу в Бангкок, паспорт РФ",
         {"whens": (at(DEC3, 15),), "nationality": "RU", "origin": "RU", "destination": "TH", "amounts": ()}),
    Case("fr", "J'arrive le 3 décembre à 15h avec un passeport français, je repars vers Séoul",
         {"whens": (at(DEC3, 15),), "nationality": "FR", "destination": "KR"}),
    Case("es", "Llego el 3 de diciembre a las 15:00 desde México y sigo a Hong Kong",
         {"whens": (at(DEC3, 15),), "origin": "MX", "destination": "HK", "nationality": None}),
    Case("zh-Hant", "退稅：我喺深圳買咗3,500蚊嘢，幾時要走？", {"amounts": (cny("3500"),), "origin": None}),
    Case("en", "Can I pay 300 yuan with my Visa on Alipay?",
         {"amounts": (cny("300"),), "method": "alipay_wechat_card"}),
    Case("en", "e-CNY anonymous wallet 2500 RMB payment ok?", {"amounts": (cny("2500"),), "method": "ecny_anonymous"}),
]  # fmt: skip

AMOUNTS = [
    Case("en", "RMB 1,200 and US$5,000", {"amounts": (cny("1200"), Money(Decimal(5000), "USD"))}),
    Case("en", "$5000 or 5000 dollars or HK$300 or 50€ or €12.50",
         {"amounts": (Money(Decimal(5000), "USD"), Money(Decimal(5000), "USD"), Money(Decimal(300), "HKD"),
                      Money(Decimal(50), "EUR"), Money(Decimal("12.50"), "EUR"))}),
    Case("en", "I bought 1.2k yuan of clothes", {"amounts": (cny("1200"),)}),
    Case("zh-Hans", "买了1.2万元的手表", {"amounts": (cny("12000"),)}),
    Case("zh-Hans", "两千块，三百元，一千二百元", {"amounts": (cny("2000"), cny("300"), cny("1200"))}),
    Case("zh-Hans", "¥1200的包", {"amounts": (cny("1200"),)}),
    Case("zh-Hant", "買咗1萬2千蚊", {"amounts": (cny("12000"),)}),
    Case("zh-Hans", "花了300港币和100美元", {"amounts": (Money(Decimal(300), "HKD"), Money(Decimal(100), "USD"))}),
    Case("ja", "1万2千円と300元", {"amounts": (Money(Decimal(12000), "JPY"), cny("300"))}),
    Case("ja", "¥5000のお土産", {"amounts": (Money(Decimal(5000), "JPY"),)}),
    Case("ko", "5만 원이랑 300위안", {"amounts": (Money(Decimal(50000), "KRW"), cny("300"))}),
    Case("ru", "Купил на 1 200 юаней и 15 000 рублей", {"amounts": (cny("1200"), Money(Decimal(15000), "RUB"))}),
    Case("fr", "J'ai acheté pour 1.200,50 euros", {"amounts": (Money(Decimal("1200.50"), "EUR"),)}),
    Case("fr", "Achat de 1 234,5 yuans", {"amounts": (cny("1234.5"),)}),
    Case("es", "Compré por 1.500 euros y 300 yuanes", {"amounts": (Money(Decimal(1500), "EUR"), cny("300"))}),
    Case("de", "Ich habe 1.234,56 € bezahlt", {"amounts": (Money(Decimal("1234.56"), "EUR"),)}),
    # Three digits after the point of a yuan amount group thousands in any language (yuan have two decimals): a
    # Dutch or Turkish message, read as English, writes "4.000 RMB"; a bare number keeps the English decimal point.
    Case("en", "The receipt says 1.200 RMB", {"amounts": (cny("1200"),)}),
    Case("en", "The receipt says 1.25 RMB", {"amounts": (cny("1.25"),)}),
    Case("de", "Der Beleg: 1.200 RMB", {"amounts": (cny("1200"),)}),  # and a thousands separator in German
    Case("en", "I spent 1200 on clothes, how much refund?", {"amounts": (Money(Decimal(1200), ""),)}),
    Case("zh-Hans", "我买了3件衣服，花了1200，能退税吗", {"amounts": (Money(Decimal(1200), ""),)}),
    Case("pt", "Paguei 1.500 reais", {"amounts": (Money(Decimal(1500), "BRL"),)}),
    Case("it", "Ho speso 2.000 euro", {"amounts": (Money(Decimal(2000), "EUR"),)}),
    Case("ar", "اشتريت بـ ١٢٠٠ يوان", {"amounts": (cny("1200"),)}),
    Case("th", "ซื้อของ 1,200 บาท", {"amounts": (Money(Decimal(1200), "THB"),)}),
    Case("vi", "Tôi mua 1.200.000 đồng", {"amounts": (Money(Decimal(1200000), "VND"),)}),
]  # fmt: skip

NOT_AMOUNTS = [
    Case("en", "Flight CA1234 on 3 Dec at 15:00, 13% off, stay 90 days, passport E12345678", {"amounts": ()}),
    Case("en", "Call 12367 about the 240-hour rule", {"amounts": ()}),
    Case("zh-Hans", "我在12月3日下午3点到，住90天，打8折", {"amounts": ()}),
    Case("ja", "3泊4日で2人", {"amounts": ()}),
    Case("en", "What is the refund in 2025?", {"amounts": ()}),
    Case("en", "I have 2 kids and 3 bags", {"amounts": ()}),  # no money word: numbers are not money
    Case("en", "Hotel 300 yuan per night for 5 nights, refund?", {"amounts": (cny("300"),)}),
]

DATES = [
    Case("en", "Arriving 2026-12-03 and leaving on 2026/12/10", {"whens": (at(DEC3), at(date(2026, 12, 10)))}),
    Case("en", "December 3rd, 2027 at 3 p.m.", {"whens": (at(date(2027, 12, 3), 15),)}),
    Case("en", "on 3 March", {"whens": (at(date(2027, 3, 3)),)}),  # already past this year: the next one
    Case("en", "on 25/12/2026", {"whens": (at(date(2026, 12, 25)),)}),  # day > 12: unambiguous
    Case("en", "tomorrow at 9am", {"whens": (at(date(2026, 6, 2), 9),)}),
    Case("en", "the day after tomorrow", {"whens": (at(date(2026, 6, 3)),)}),
    Case("zh-Hans", "2026年12月3日晚上8点半", {"whens": (at(DEC3, 20, 30),)}),
    Case("zh-Hans", "十二月三日下午三点", {"whens": (at(DEC3, 15),)}),
    Case("zh-Hans", "明天15点，后天上午10点", {"whens": (at(date(2026, 6, 2), 15), at(date(2026, 6, 3), 10))}),
    Case("zh-Hans", "12月3日到，12月5日下午3点走", {"whens": (at(DEC3), at(date(2026, 12, 5), 15))}),
    Case("zh-Hant", "聽日下晝3點", {"whens": (at(date(2026, 6, 2), 15),)}),
    Case("ja", "明後日の午後3時", {"whens": (at(date(2026, 6, 3), 15),)}),
    Case("ko", "내일 오후 3시 30분", {"whens": (at(date(2026, 6, 2), 15, 30),)}),
    Case("ko", "2026년 12월 3일", {"whens": (at(DEC3),)}),
    Case("ru", "послезавтра в 15 ч", {"whens": (at(date(2026, 6, 3), 15),)}),
    Case("ru", "5 января в 3 часа дня", {"whens": (at(date(2027, 1, 5), 15),)}),
    Case("fr", "demain à 15h30", {"whens": (at(date(2026, 6, 2), 15, 30),)}),
    Case("es", "mañana a las 3 de la tarde", {"whens": (at(date(2026, 6, 2), 15),)}),
    Case("es", "mañana por la mañana", {"whens": (at(date(2026, 6, 2)),)}),  # the second mañana is "morning"
    Case("de", "am 3. Dezember um 15 Uhr", {"whens": (at(DEC3, 15),)}),
    Case("de", "Ankunft 03.12.2026", {"whens": (at(DEC3),)}),  # day-first language: unambiguous
    Case("pt", "3 de dezembro às 15h", {"whens": (at(DEC3, 15),)}),
    Case("it", "il 3 dicembre alle 15", {"whens": (at(DEC3, 15),)}),
    Case("en", "at 24:00 or 00:00", {"whens": (at(None, 0), at(None, 0))}),  # midnight left to the checker
    Case("en", "arrive 11:00 PM, leave tomorrow at noon", {"whens": (at(None, 23), at(date(2026, 6, 2), 12))}),
    Case("fr", "départ demain à midi", {"whens": (at(date(2026, 6, 2), 12),)}),
    Case("th", "วันที่ 2026-12-03", {"whens": (at(DEC3),)}),
    Case("ar", "التاريخ ٢٠٢٦-١٢-٠٣", {"whens": (at(DEC3),)}),
]  # fmt: skip

BAD_DATES = [
    Case("en", "I arrive on 03/04/2026", {"whens": (), "bad_dates": ()}),  # ambiguous in English: skipped
    Case("en", "leaving 31 Feb", {"whens": (), "bad_dates": ("31 Feb",)}),
    Case("en", "on 2026-13-01", {"whens": (), "bad_dates": ("2026-13-01",)}),
    Case("zh-Hans", "2026年2月30日", {"whens": (), "bad_dates": ("2026年2月30日",)}),
    Case("en", "open 24/7", {"whens": ()}),
]

PLACES = [
    Case("en", "I'm American, flying from Seoul", {"nationality": "US", "origin": "KR"}),
    Case("en", "I have a passport from Germany", {"nationality": "DE", "origin": None}),
    Case("en", "Tokyo to Shenzhen to Seoul", {"origin": "JP", "destination": "KR"}),
    Case("en", "from Hong Kong to Shenzhen and back to Hong Kong", {"origin": "HK", "destination": "HK"}),
    Case("en", "Do you speak Japanese? I have a British passport", {"nationality": "GB"}),
    Case("en", "Do I need a Chinese visa?", {"nationality": None}),
    Case("en", "I'm in Japan now", {"nationality": None}),
    Case("zh-Hans", "国籍：日本，从大阪出发", {"nationality": "JP", "origin": "JP"}),
    Case("zh-Hans", "我是韩国人，从首尔飞深圳再去曼谷", {"nationality": "KR", "origin": "KR", "destination": "TH"}),
    Case("zh-Hant", "我從香港嚟深圳，聽日再返香港", {"origin": "HK", "destination": "HK"}),
    Case("zh-Hans", "从上海飞深圳", {"origin": None, "destination": None}),  # mainland is never a third region
    Case(
        "ja", "私はアメリカ人です。成田から香港へ行きます", {"nationality": "US", "origin": "JP", "destination": "HK"}
    ),
    Case("ko", "저는 미국인이고 서울에서 왔어요", {"nationality": "US", "origin": "KR"}),
    Case("ko", "국적은 영국이고 싱가포르로 가요", {"nationality": "GB", "destination": "SG"}),
    Case("ru", "Я гражданин России, лечу из Токио в Сеул", {"nationality": "RU", "origin": "JP", "destination": "KR"}),
    Case("ru", "Я американец", {"nationality": "US"}),
    Case("fr", "je suis française, je viens de Paris", {"nationality": "FR", "origin": "FR"}),
    Case("es", "soy mexicano y voy a Bangkok", {"nationality": "MX", "destination": "TH"}),
    Case("es", "Tengo pasaporte estadounidense", {"nationality": "US"}),
    Case("de", "Ich bin Deutscher und fliege nach Tokio", {"nationality": "DE", "destination": "JP"}),
    Case("pt", "Sou brasileiro, vindo de São Paulo", {"nationality": "BR", "origin": "BR"}),
    Case("it", "Sono italiano, arrivo da Roma", {"nationality": "IT", "origin": "IT"}),
    Case("zh-Hans", "English text: US passport holder", {"nationality": "US"}),  # mixed language still works
    Case("en", "UAE passport, going to Macau", {"nationality": "AE", "destination": "MO"}),
    Case("zh-Hans", "台湾护照可以吗", {"nationality": "TW"}),
    Case("en", "Can you help us?", {"nationality": None}),  # "us" is a pronoun
    Case("en", "I'm flying from LA to Shenzhen then to Bangkok", {"origin": "US", "destination": "TH"}),
    Case("ru", "Нужна ли виза гражданам Казахстана?", {"nationality": "KZ"}),  # one country + a citizen word
    Case("zh-Hant", "我係香港人，用八達通得唔得？", {"nationality": "HK"}),
    Case("en", "I have a Narnian passport", {"nationality": None, "unknown_countries": ("Narnian",)}),
    Case("zh-Hans", "我持纳尼亚护照", {"unknown_countries": ("纳尼亚",)}),
    Case("fr", "J'ai un passeport narnien", {"unknown_countries": ("narnien",)}),
    Case("ru", "У меня нарнийский паспорт", {"unknown_countries": ("нарнийский",)}),
    Case("en", "I have a valid passport", {"unknown_countries": ()}),
]

OTHER = [
    Case("en", "Landing at Bao'an airport", {"port": "szx-baoan"}),
    Case("zh-Hant", "從羅湖口岸入境", {"port": "luohu"}),
    Case("en", "land in Shenzhen tomorrow", {"port": None}),  # no port name: no guess
    Case("en", "refund of 13% VAT", {"vat_rate": 13}),
    Case("zh-Hans", "税率9%的商品", {"vat_rate": 9}),
    Case("en", "13% discount", {"vat_rate": None}),
    Case("de", "MwSt 13%", {"vat_rate": 13}),
    Case("en", "I've been in China for 200 days", {"days_in_china": 200}),
    Case("zh-Hans", "在中国待了200天", {"days_in_china": 200}),
    Case("ja", "中国に200日滞在しています", {"days_in_china": 200}),
    Case("ko", "중국에 200일 있었어요", {"days_in_china": 200}),
    Case("ru", "Я в Китае 200 дней", {"days_in_china": 200}),
    Case("fr", "200 jours en Chine", {"days_in_china": 200}),
    Case("es", "200 días en China", {"days_in_china": 200}),
    Case("en", "in China for 3 weeks", {"days_in_china": 21}),
    Case("zh-Hans", "在中国住了半年", {"days_in_china": None}),  # months are not exact
    Case("zh-Hans", "支付宝绑定外卡", {"method": "alipay_wechat_card"}),
    Case("en", "I used WeChat with my Mastercard", {"method": "alipay_wechat_card"}),
    Case("zh-Hans", "数字人民币不实名可以付2000元吗", {"method": "ecny_anonymous"}),
    Case("en", "Can I use e-CNY?", {"method": "ecny"}),
    Case("ja", "デジタル人民元は使えますか", {"method": "ecny"}),
    Case("zh-Hans", "退税能用银行转账吗", {"method": "bank_transfer"}),
    Case("ja", "銀行振込で返金できますか", {"method": "bank_transfer"}),
    Case("ko", "현금으로 받을 수 있나요", {"method": "cash"}),
    Case("ru", "Можно вернуть налог наличными?", {"method": "cash"}),
    Case("fr", "Remboursement par virement ?", {"method": "bank_transfer"}),
    Case("es", "¿Puedo pagar en efectivo?", {"method": "cash"}),
]

# Languages whose words the first tables missed (narrative development set, BENCHMARKS "Multi-part messages"):
# Arabic demonyms and cue words written onto the next word, Vietnamese yuan and short country names, list markers.
LATER = [
    Case("ar", "أنا إماراتي من أبوظبي. سأطير من دبي إلى مطار شنتشن ثم إلى سنغافورة",
         {"nationality": "AE", "origin": "AE", "destination": "SG"}),
    Case("ar", "انا امريكية وجواز سفري أمريكي", {"nationality": "US"}),
    Case("ar", "أراجع دروسي قبل السفر", {"nationality": None}),  # "روسي" inside another word is no Russian
    Case("ar", "ساعة بقيمة 250,000 يوان", {"amounts": (cny("250000"),)}),
    Case("vi", "mua quần áo khoảng 3.000 tệ", {"amounts": (cny("3000"),)}),
    Case("it", "costa 3000 te lo dico", {"amounts": (Money(Decimal("3000"), ""),)}),  # Italian "te" is no yuan
    Case("vi", "con gái cầm hộ chiếu Úc, cả nhà qua Hồng Kông", {"nationality": "AU", "destination": "HK"}),
    Case("en", "3) I'll buy a scarf for ~1,800 RMB in one shop", {"amounts": (cny("1800"),)}),
    Case("en", "1. How much back on 2000 RMB?", {"amounts": (cny("2000"),)}),
    # The half of the day written after the clock time (narrative development set): 22:15, not 10:15.
    Case("ar", "الوصول يوم 3 ديسمبر الساعة 10:15 مساءً", {"whens": (at(DEC3, 22, 15),)}),
    Case("fr", "arrivée le 3 décembre à 10h15 du soir", {"whens": (at(DEC3, 22, 15),)}),
    Case("de", "Ankunft am 3. Dezember um 10:15 Uhr abends", {"whens": (at(DEC3, 22, 15),)}),
    Case("id", "mendarat tanggal 3 Desember jam 23.55", {"whens": (at(DEC3, 23, 55),)}),
    Case("id", "tiba 3 Desember jam 10.15 malam", {"whens": (at(DEC3, 22, 15),)}),
    Case("en", "paid 12.50 on 3 December", {"whens": (When(DEC3, None),)}),  # money, not a time
]

# Seventh round's blind development messages (BENCHMARKS "Seventh round"): passports, day-first dates, pieces.
SEVENTH = [
    # "Aussie" is a passport; Hong Kong, a stop in another sentence, is not the passport the word names
    Case("en", "G'day. Aussie passport, solo trip in April. Plan is:\nSydney -> HK (fly, 3 nights in HK)",
         {"nationality": "AU"}),
    Case("en", "My passport is in the safe. Then on to HK.", {"nationality": None}),
    # a Chinese citizen asking for a colleague: the colleague's passport counts
    Case("zh-Hans", "我自己是中国人不用管，主要问同事：一个德国护照", {"nationality": "DE"}),
    # German and Russian day-first dates with a closing dot; a day after a written year follows that year
    Case("de", "Kauf am 2. September 2026, Rückflug am 28.11., evtl. 5.12.",
         {"whens": (at(date(2026, 9, 2)), at(date(2026, 11, 28)), at(date(2026, 12, 5)))}),
    Case("de", "Die Uhr kostet 3.500 RMB", {"amounts": (cny("3500"),), "whens": ()}),
    # a price per piece with a count of pieces: what is paid for all of them
    Case("ru", "Куплю два айфона по 9 999 юаней каждый", {"amounts": (cny("19998"),)}),
    Case("it", "due foulard di seta da 450 RMB l'uno", {"amounts": (cny("900"),)}),
    Case("en", "I bought 2 bags at 300 RMB each", {"amounts": (cny("600"),)}),
    Case("fr", "deux restos à 180 et 260 RMB", {"amounts": (cny("260"),)}),  # two prices, not two of one
    # Thai months abbreviated with dots, and a Buddhist-era year
    Case("th", "มาลงเซินเจิ้น ถึง 3 ธ.ค. เวลา 22:40", {"whens": (at(DEC3, 22, 40),)}),
    Case("th", "ซื้อเมื่อ 3 ธ.ค. 2569", {"whens": (at(DEC3),)}),
    # languages we do not serve are read with English rules: their full month names and demonyms still count
    Case("en", "Jestem Polakiem, przylot 3 grudnia o 18:00", {"whens": (at(DEC3, 18),), "nationality": "PL"}),
    Case("en", "Ik ben Nederlander en land op 3 december", {"whens": (at(DEC3),), "nationality": "NL"}),
]

ALL = [*EXAMPLES, *AMOUNTS, *NOT_AMOUNTS, *DATES, *BAD_DATES, *PLACES, *OTHER, *LATER, *SEVENTH]


@pytest.mark.parametrize("case", ALL, ids=[f"{c.lang}:{c.text[:40]}" for c in ALL])
def test_extract_cases(case: Case) -> None:
    result = extract(case.text, case.lang, TODAY, PORTS)
    got = {name: getattr(result, name) for name in case.expect}
    assert got == case.expect


def test_case_table_is_broad() -> None:
    assert len(ALL) >= 60
    assert {"en", "zh-Hans", "zh-Hant", "ja", "ko", "ru", "fr", "es"} <= {c.lang for c in ALL}


# Section B2 of the facts: the 55 countries of the 240-hour transit list, plus the others the brief names.
_TRANSIT_55 = """
AT BE CZ DK EE FI FR DE GR HU IS IT LV LT LU MT NL NO PL PT SK SI ES SE CH RU GB IE CY BG RO UA RS HR BA ME MK AL MC
BY US CA BR MX AR CL AU NZ KR JP SG BN AE QA ID
"""
_EXTRA = "IN CN HK MO TW VN TH PH MY EG SA TR ZA NG PK"
TRANSIT_55, EXTRA = _TRANSIT_55.split(), _EXTRA.split()


def test_places_data_covers_the_transit_list() -> None:
    data = _data()
    assert len(TRANSIT_55) == 55
    assert set(TRANSIT_55 + EXTRA) <= set(data["demonyms"])  # YAML's NO-is-False trap would drop Norway here
    for section in ("demonyms", "names", "cities", "codes"):
        assert all(isinstance(code, str) and len(code) == 2 and code.isupper() for code in data[section])


def test_every_place_entry_matches_its_own_country() -> None:
    data = _data()
    for section in ("demonyms", "names", "cities", "codes"):
        for code, entries in data[section].items():
            words = [w for ws in entries.values() for w in ws] if isinstance(entries, dict) else entries
            for word in words:
                t = prepare(word.replace("*", ""), "en")
                assert [(p.code, p.start, p.end) for p in find_places(t)] == [(code, 0, len(t.folded))], word


def test_empty_and_odd_inputs() -> None:
    empty = extract("", "en", TODAY)
    assert empty == Extracted((), (), None, None, None, None, None, None, None, (), ())
    assert extract("1200元", "xx-Weird", TODAY).amounts == (cny("1200"),)
    assert extract("1200元", "", TODAY, {"p": ["", "  "]}).port is None


def test_parse_number_by_convention() -> None:
    assert parse_number("1,234.5", comma_decimal=False) == Decimal("1234.5")
    assert parse_number("1.234,5", comma_decimal=True) == Decimal("1234.5")
    assert parse_number("1 234 567", comma_decimal=True) == Decimal(1234567)
    assert parse_number("0,500", comma_decimal=False) == Decimal("0.500")
    assert parse_number("1,2", comma_decimal=False) == Decimal("1.2")


@pytest.mark.parametrize(("word", "value"), [("三百", 300), ("一千二百", 1200), ("两千", 2000), ("三千五", 3500),
                                              ("一万五千", 15000), ("十二", 12), ("一二", None)])  # fmt: skip
def test_chinese_numerals(word: str, value: int | None) -> None:
    assert parse_cn_number(word) == value


@pytest.mark.parametrize("text", ["x" * 1_000_000, "1" * 1_000_000, "中国" * 500_000, "3 Dec " * 200_000])
def test_huge_input_is_capped_and_fast(text: str) -> None:
    start = clock.perf_counter()
    extract(text, "en", TODAY, PORTS)
    assert clock.perf_counter() - start < 2


_ANY_CHAR = st.integers(0, 0x10FFFF).map(chr)  # includes lone surrogates and control characters
_FRAGMENTS = st.sampled_from(["12月3日", "3 Dec", "¥", "1,200", "元", "passport", "护照", "из", "15:00", "%", "万",
                              "from", "去", "香港", " ", "\u0000", "\ud800", "2026-", "k", "午後", "mañana",
                              "US$", "refund", "退税", " 1 234", "9" * 40, "万元", "'", "noon"])  # fmt: skip
_LANGS = st.sampled_from(["en", "zh-Hans", "zh-Hant", "ja", "ko", "ru", "fr", "es", "ar", "de", "pt", "it", "vi", "th",
                          "id", "", "zz"])  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(_ANY_CHAR | _FRAGMENTS, max_size=80).map("".join), _LANGS, st.dates())
def test_never_raises(text: str, lang: str, today: date) -> None:
    result = extract(text, lang, today, PORTS)
    assert isinstance(result, Extracted)
    assert all(isinstance(m.amount, Decimal) for m in result.amounts)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.dates(), st.text(max_size=40), _LANGS)
def test_any_iso_date_is_found(before: str, day: date, after: str, lang: str) -> None:
    text = f"{before} {day.isoformat()} {after}"
    assert len(text) < MAX_CHARS
    assert day in {when.day for when in extract(text, lang, TODAY).whens}


@settings(max_examples=300, deadline=None)
@given(
    st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False),
    st.sampled_from([("en", "en"), ("de", "de"), ("fr", "fr"), ("ru", "ru"), ("zh_Hans", "zh-Hans")]),
)
def test_babel_formatted_amount_round_trips(amount: Decimal, locale_lang: tuple[str, str]) -> None:
    locale, lang = locale_lang
    text = format_decimal(amount, locale=locale) + "元"
    assert extract(text, lang, TODAY).amounts == (Money(amount, "CNY"),), text


def test_an_airport_code_counts_only_in_capitals():
    """"Can Germans enter visa-free?" once made the transit checker name Guangzhou Baiyun (CAN) as the entry port."""
    from bot.checks.chat import port_aliases
    from bot.checks.extract import find_port
    from bot.checks.extract_text import prepare
    from bot.checks.rules import load_rules
    from bot.config import PROJECT_ROOT

    aliases = port_aliases(load_rules(PROJECT_ROOT / "corpus"))
    assert find_port(prepare("Can Germans enter China visa-free for 30 days?", "en"), aliases) is None
    assert find_port(prepare("I land at CAN on 3 Dec", "en"), aliases) == "can-baiyun"


@pytest.mark.parametrize(("text", "lang", "route"), [
    ("인천→선전 왕복 항공권(10/8 출발, 10/11 귀국)을 이미 끊어놨어요", "ko", ("KR", "KR")),
    ("I booked a round trip Paris - Shenzhen, can I use the 240 hour transit?", "en", ("FR", "FR")),
    ("We fly London to Shenzhen and back in May", "en", ("GB", "GB")),
    # not a round trip of the visitor's home: a third country named, or the trip starts in China
    ("Return flights London - Shenzhen, then on to Bangkok", "en", (None, "TH")),
    ("From Shenzhen we go to Hong Kong and back", "en", (None, "HK")),
])
def test_a_return_ticket_in_words_ends_the_trip_where_it_began(text, lang, route):
    found = extract(text, lang, date(2026, 12, 7))
    assert (found.origin, found.destination) == route


@pytest.mark.parametrize(("text", "lang", "purchases"), [
    ("We bought 2 suits at a TAX FREE shop: 2,600 RMB on the 3rd and 1,900 RMB on the 5th. Both are 13% VAT goods.",
     "en", [(2600, 13), (1900, 13)]),  # "2 suits" is a count; one rate stated for everything
    ("Comprei um notebook de 5.000 yuan (IVA 13%) e, em outra loja, livros por 2.400 yuan (IVA 9%).", "pt",
     [(5000, 13), (2400, 9)]),  # each amount with its own rate
    ("I bought a watch for 30,000 RMB, the refund would be about 2,700 RMB, can I get it in cash?", "en",
     [(30000, None)]),  # the refund named before a figure: not a purchase
    ("Is the cash cap 20,000 RMB? I bought a bag for 3,000 RMB.", "en", [(3000, None)]),  # a rule figure is no purchase
    # a list of purchases: every line with an amount is one, a bare 13% or 9% on its line is its rate
    ("深圳での買い物の還付額\n・化粧品 1,680元（A店、3/12）増値税13%\n・お茶 860元（B店、3/12）9%らしい\n"
     "・C店で3/12に120元", "ja", [(1680, 13), (860, 9), (120, None)]),
    ("Plan:\n- 3 Apr land SZX\n- 2 nights, hotel 900 RMB", "en", []),  # no purchase, no VAT: a list is no shopping
])
def test_purchases_with_their_vat_rates(text: str, lang: str, purchases: list[tuple[int, int | None]]) -> None:
    found = extract(text, lang, date(2026, 12, 7))
    assert [(int(a), r) for a, r in found.purchases] == purchases
