"""The content audit of issue #15, as tests of each defect's *class*, in every language, card, guide and rule table.

An independent audit of the corpus against ``shared/sources/facts.md`` found one instance of each defect below. Each
check here looks for the whole class (every card in all 15 languages, every guide section, every rule table and
source), and each has a second test that feeds it the text as it was before the audit, so a check that can no
longer fail is noticed. Item 1 (thousands separators) is in ``test_corpus.py``; item 2 (Indonesia's start date
unconfirmed) in ``test_rules.py`` and ``test_checks.py``.

The checks are heuristics over words, one small table per language; when one fails on a new text, either the text
repeats a defect the audit found, or the table needs a word.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.build.chunk import guide_sections
from bot.build.corpus import load_cards, load_guides
from bot.config import PROJECT_ROOT
from bot.schema import LANGUAGES

CORPUS = PROJECT_ROOT / "corpus"

Unit = tuple[str, str, str]  # where (card:lang or guide#section), language, text


def card_units(corpus: Path = CORPUS) -> list[Unit]:
    return [(f"{card.card_id}:{lang}", lang, text)
            for card in load_cards(corpus).values() for lang, text in card.answer.items()]


def guide_units(corpus: Path = CORPUS) -> list[Unit]:
    return [(f"guides/{Path(guide.path).name}#{heading}", guide.lang, text)
            for guide in load_guides(corpus) for heading, text in guide_sections(guide.text)]


def all_units(corpus: Path = CORPUS) -> list[Unit]:
    return card_units(corpus) + guide_units(corpus)


# Not after an abbreviation: e.g. / z. B. / p. ej. / ad es.
_SENTENCE_END = re.compile(r"(?<=[。！？；])|(?<![A-Za-z]\.[A-Za-z]\.)(?<!\b[A-Za-z]\.)(?<!\b(?:ej|ex|es)\.)"
                           r"(?<=[.!?;])\s+|\n")


def sentences(text: str) -> list[str]:
    """Rough sentences: split after Western and CJK sentence marks and at line ends (Thai has none: whole lines)."""
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def _per_lang(table: dict[str, str], default: str = "", flags: int = 0) -> dict[str, re.Pattern[str]]:
    return {lang: re.compile(table.get(lang, default), flags) for lang in LANGUAGES}


SHENZHEN = _per_lang({"zh-Hans": "深圳", "zh-Hant": "深圳", "ja": "深圳|深セン", "ko": "선전", "ru": "Шэньчжэн",
                      "ar": "شنتشن|شنجن", "vi": "Thâm Quyến", "th": "เซินเจิ้น"}, default="Shenzhen")
HONG_KONG = _per_lang({"zh-Hans": "香港", "zh-Hant": "香港", "ja": "香港", "ko": "홍콩", "ru": "Гонконг",
                       "ar": "هونغ ?كونغ|هونج ?كونج", "vi": "Hồng Kông|Hong Kong", "th": "ฮ่องกง", "de": "Hongkong"},
                      default="Hong ?Kong")
NOT_CONFIRMED = _per_lang({
    "en": r"not confirmed", "zh-Hans": "未(?:经|获|得到)?确认", "zh-Hant": "未(?:經|獲|得到)?確認",
    "ja": "確認されていな|確認されていま|未確認", "ko": "확인되지 않", "ru": "не подтвержд", "fr": "pas confirmé",
    "es": "no está confirmad|no se ha confirmado", "ar": "لم يتأكد|غير مؤكد", "de": "nicht bestätigt",
    "pt": "não está confirmad|não confirmad", "it": "non è confermat|non confermat",
    "vi": "chưa được xác nhận|chưa xác nhận", "th": "ยังไม่ได้รับการยืนยัน|ยังไม่ยืนยัน", "id": "belum dikonfirmasi"},
    flags=re.IGNORECASE)
# A route's direction between two places: an arrow (← in Arabic text) or the language's "to".
TOWARDS = _per_lang({
    "en": r"\b(?:to|for|into)\b", "zh-Hans": "前往|去|到|往|至", "zh-Hant": "前往|去|到|往|至", "ja": "へ|から",
    "ko": "으로|로|에서", "ru": r"\bв\b", "fr": r"\b(?:vers|à|pour)\b", "es": r"\b(?:a|hacia|para)\b", "ar": "إلى",
    "de": r"\bnach\b", "pt": r"\b(?:para|a)\b", "it": r"\b(?:verso|a|per)\b", "vi": "sang|đến|tới", "th": "ไป",
    "id": r"\bke\b"})
ARROW = "→|←|->"


# ---------------------------------------------------------------- 3. the 30-day list: never stated without a hedge

# "30 days" in each language, but not a date such as 30 Nov / 11月30日 / 11월 30일.
THIRTY_DAYS = re.compile(r"(?<![\d月])(?<!월 )30[\s\-‑]?(?:-?day|days|jours|días|dias|giorni|Tage|tägig|hari|ngày|วัน"
                         r"|يوم|дн|天|日|일)", re.IGNORECASE)


def _unilateral_names() -> dict[str, re.Pattern[str]]:
    """The countries our sources name on the 30-day list, in each language (CLDR names, ``rules/unilateral.yaml``)."""
    table = yaml.safe_load((CORPUS / "rules" / "unilateral.yaml").read_text("utf-8"))
    names: dict[str, set[str]] = {lang: set() for lang in LANGUAGES}
    for country in table["countries"]:
        for lang, name in country["names"].items():
            names[lang].add(re.escape(name))
    return {lang: re.compile("|".join(sorted(found, key=len, reverse=True))) for lang, found in names.items()}


UNILATERAL_NAMES = _unilateral_names()


def thirty_day_claims(units: Iterable[Unit]) -> Iterator[tuple[str, str, int]]:
    """(where, text, end of the claim) for each line that names countries as being on the 30-day list."""
    for where, lang, text in units:
        start = 0
        for line in text.split("\n"):
            names = list(UNILATERAL_NAMES[lang].finditer(line))
            if names and THIRTY_DAYS.search(line):
                yield where, text, start + names[-1].end()
            start += len(line) + 1


def unhedged_thirty_day_claims(units: Iterable[Unit]) -> list[str]:
    """The 30-day list changes often and our sources do not give it in full (facts B2/B7 [!]): a statement that
    names countries on it must be followed, in the same card or guide section, by the hotline to check it."""
    return [where for where, text, end in thirty_day_claims(units) if "12367" not in text[end:]]


def test_thirty_day_list_statements_carry_the_hedge() -> None:
    units = all_units()
    found = {where for where, _, _ in thirty_day_claims(units)}
    # The detector sees the card that states the overlap in every language, and the transit guides.
    assert {f"transit-eligible-countries:{lang}" for lang in LANGUAGES} <= found
    assert {w.split("#")[0] for w in found} >= {"guides/transit.en.md", "guides/transit.zh-Hans.md"}
    assert not unhedged_thirty_day_claims(units)


def test_thirty_day_hedge_check_catches_the_old_transit_guide() -> None:
    before = ("Indonesia is the newest member; it was added in June 2025 (a date worth confirming with 12367). Many of "
              "these countries, for example France, Germany, Japan and the Republic of Korea, are also on China's "
              "30-day unilateral visa-free list. Their citizens usually do not need the 240-hour visa-free transit.")
    before_zh = "其中不少国家，例如法国、德国、日本，也在中国30天单方面免签名单上，一般用不着240小时过境免签。"
    assert unhedged_thirty_day_claims([("old", "en", before), ("old-zh", "zh-Hans", before_zh)]) == ["old", "old-zh"]


# ---------------------------------------------------------------- 4. leaving Shenzhen for Hong Kong under 240-hour

def unconfirmed_exit_missing(units: Iterable[Unit]) -> list[str]:
    """Whether a 240-hour traveller may leave through Shenzhen's land ports is not confirmed (facts B6 [!]): any line
    of a 240-hour text that goes from Shenzhen to Hong Kong must say so in that line."""
    problems = []
    for where, lang, text in units:
        if "240" not in text:
            continue
        route = re.compile(f"(?:{SHENZHEN[lang].pattern})[^.;。；!?]{{0,30}}?(?:{ARROW}|{TOWARDS[lang].pattern})"
                           f"[^.;。；!?]{{0,15}}?(?:{HONG_KONG[lang].pattern})")
        problems += [f"{where}: {line[:80]}" for line in text.split("\n")
                     if route.search(line) and not NOT_CONFIRMED[lang].search(line)]
    return problems


def test_shenzhen_to_hong_kong_under_240_hours_carries_the_land_port_caveat() -> None:
    units = all_units()
    assert not unconfirmed_exit_missing(units)
    # The check reads the example route in every language (the caveat is what it then requires).
    caveated = [u for u in units if u[0].startswith("transit-third-country-rule:")]
    assert len(caveated) == len(LANGUAGES)
    stripped = [(w, lang, re.sub(NOT_CONFIRMED[lang], "", t)) for w, lang, t in caveated]
    assert len(unconfirmed_exit_missing(stripped)) == len(LANGUAGES)


def test_exit_caveat_check_catches_the_old_cards() -> None:
    old = [("third-country:en", "en", "Examples:\n- USA → Shenzhen → Hong Kong: allowed\n- Hong Kong → mainland → "
                                      "Hong Kong: not allowed\n240-hour transit needs a third country."),
           ("third-country:ar", "ar", "240 ساعة\n- الولايات المتحدة ← شنتشن ← هونغ كونغ: مسموح")]
    assert len(unconfirmed_exit_missing(old)) == 2


# ---------------------------------------------------------------- 5. the HK/Macao 144-hour tour group: plus Shantou

GROUP = _per_lang({"en": "group", "zh-Hans": "团", "zh-Hant": "團", "ja": "団体|ツアー", "ko": "단체", "ru": "групп",
                   "fr": "groupe", "es": "grupo", "ar": "مجموع|جماعي|فوج", "de": "[Gg]ruppe", "pt": "grupo",
                   "it": "grupp|comitiv", "vi": "đoàn", "th": "กลุ่ม|ทัวร์|คณะ", "id": "rombongan|grup|kelompok"},
                  flags=re.IGNORECASE)
SHANTOU = _per_lang({"zh-Hans": "汕头", "zh-Hant": "汕頭", "ja": "汕頭|スワトウ", "ko": "산터우", "ru": "Шаньтоу",
                     "ar": "شانتو", "vi": "Sán Đầu|Shantou", "th": "ซัวเถา|ซานโถว|ซานโถ"}, default="Shantou")
HAINAN = _per_lang({"zh-Hans": "海南", "zh-Hant": "海南", "ja": "海南", "ko": "하이난", "ru": "Хайнан", "ar": "هاينان",
                    "vi": "Hải Nam", "th": "ไหหลำ"}, default="Hainan")


def tour_group_mentions(units: Iterable[Unit]) -> Iterator[Unit]:
    """Units that mention the Guangdong 144-hour tour-group scheme (a line with 144 and a group, not Hainan's)."""
    for where, lang, text in units:
        if any("144" in line and GROUP[lang].search(line) and not HAINAN[lang].search(line)
               for line in text.split("\n")):
            yield where, lang, text


def tour_group_without_shantou(units: Iterable[Unit]) -> list[str]:
    """Facts B7: the groups may go to the 9 mainland Greater Bay Area cities *plus Shantou*."""
    return [where for where, lang, text in tour_group_mentions(units) if not SHANTOU[lang].search(text)]


def test_every_mention_of_the_144_hour_tour_group_includes_shantou() -> None:
    units = all_units()
    found = {where for where, _, _ in tour_group_mentions(units)}
    for card in ("entry-hk-macao-tour-group-144h", "entry-us-citizens-30-day", "entry-which-scheme"):
        assert {f"{card}:{lang}" for lang in LANGUAGES} <= found, card
    assert not any(w.startswith("entry-hainan-tour-group-144h") for w in found)  # Hainan's own scheme
    assert not tour_group_without_shantou(units)


def test_shantou_check_catches_the_old_card() -> None:
    old = ("- A 144-hour tour group from Hong Kong or Macao organised by a registered agency (Greater Bay Area cities "
           "only).")
    old_ja = "- 香港・マカオの登録旅行会社による144時間の団体ツアー（大湾区の都市のみ）。"
    assert tour_group_without_shantou([("old", "en", old), ("old-ja", "ja", old_ja)]) == ["old", "old-ja"]


# ---------------------------------------------------------------- 6. sources: secondary marked, right body, right URL

Cited = tuple[str, str, str]  # where, title, url
OFFICIAL_HOSTS = ("gov.cn", "people.cn", "chinadailyhk.com", "chinadaily.com.cn", "eyeshenzhen.com", "news.cn",
                  "xinhuanet.com", "121.com.cn", "szairport.com", "globaltimes.cn", "shine.cn", "newsgd.com",
                  "visitbeijing.com.cn", "dutenews.com", "nowshenzhen.com", "ycwb.com", "hk01.com",
                  "chinaservicesinfo.com")
SECONDARY_MARK = re.compile(r"secondary source|二手来源|二手來源")
DOMAIN = re.compile(r"\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|cn|net|org|id|biz|news|fyi|mobi|dev|hk|pt|info|io)"
                    r"\b", re.IGNORECASE)
# Facts that facts.md has from [SEC] sources only (no official source carries them): wherever one is cited, the
# citation says it is secondary. The audit found the first five under official-sounding titles.
SECONDARY_ONLY_FACTS = {
    "Alipay+ refunds to overseas e-wallets (vokash.com)": r"Alipay\+",
    "STA guide in 14 languages (visitsanya.com)": r"14 languages|14种语言|14種語言",
    "MOF/MOFCOM consumption-environment pilot (etnet, reportify)": r"consumption environment|国际消费环境",
    "MixC instant-refund pilot date (baogao.com)": r"MixC|万象城|萬象城",
    "NIA list dated 17 Feb 2026 (chinaentrytoolkit.com)": r"17 Feb 2026|2026年2月17日",
    "Indonesia's start on 12 Jun 2025 (menafn, inews)": r"12 Jun 2025|2025年6月12日",
    "PBOC e-CNY visitor guide (koszarytradingu, btcnews)": r"Explore the Splendors|来华旅客使用指南",
    "DotDotNews reports": r"DotDotNews|点新闻|點新聞",
}


def cited_sources(corpus: Path = CORPUS) -> list[Cited]:
    cited = [(card.card_id, s.title, s.url) for card in load_cards(corpus).values() for s in card.sources]
    cited += [(f"guides/{Path(g.path).name}", s.title, s.url) for g in load_guides(corpus) for s in g.sources]
    for path in sorted((corpus / "rules").glob("*.yaml")):
        table = yaml.safe_load(path.read_text("utf-8"))
        cited += [(f"rules/{path.name}", s["title"], s.get("url", "")) for s in table.get("sources", [])]
    return cited


def unmarked_secondary(cited: Iterable[Cited]) -> list[str]:
    problems = []
    for where, title, url in cited:
        if url and not any(host in url for host in OFFICIAL_HOSTS):
            problems.append(f"{where}: a secondary site's address {url}")
        if SECONDARY_MARK.search(title):
            continue
        for domain in DOMAIN.findall(title):
            if not any(domain.lower().endswith(host) for host in OFFICIAL_HOSTS):
                problems.append(f"{where}: {title!r} names {domain} but is not marked as a secondary source")
        for fact, pattern in SECONDARY_ONLY_FACTS.items():
            if re.search(pattern, title):
                problems.append(f"{where}: {title!r} cites {fact}, known only from secondary sources")
    return problems


def test_secondary_sources_are_marked_as_such() -> None:
    assert not unmarked_secondary(cited_sources())


def test_secondary_check_catches_the_old_titles() -> None:
    old = [("refund-multilingual-guide", "State Taxation Administration: multilingual departure tax refund guide in "
                                         "14 languages, 14 Jul 2025", ""),
           ("entry-us-citizens-30-day", "National Immigration Administration: list of visa-free countries, 17 Feb 2026",
            ""),
           ("x", "Shenzhen instant refund report (vokash.com)", ""),
           ("y", "Mirror", "https://www.visitsanya.com/en/display.php?id=3234")]
    assert len(unmarked_secondary(old)) == 4


PLAN_LISTING = "sz.gov.cn/en_szgov/news/latest/index_6.html"
# A citation of the plan's own text (a measure, the full text): the plan exists only in Chinese, not online in English.
PLAN_TEXT = re.compile(r"Chinese text|中文原文|\bMeasures? \d|第\d+条|full text|責任單位")


def plan_text_with_a_url(cited: Iterable[Cited]) -> list[str]:
    """The English news listing only announces that the plans were issued; it does not contain their text."""
    problems = []
    for where, title, url in cited:
        if PLAN_TEXT.search(title) and url:
            problems.append(f"{where}: plan text cited with {url}")
        if PLAN_LISTING in url and not re.search(r"unveils|issued|发布|發布", title):
            problems.append(f"{where}: the news listing {url} under {title!r}")
    return problems


def test_plan_text_citations_do_not_carry_the_news_listing_url() -> None:
    from bot.build.corpus import PLAN_SOURCE

    assert not plan_text_with_a_url([*cited_sources(), ("plan", PLAN_SOURCE.title, PLAN_SOURCE.url)])
    old = ("plan-measure-18", "Shenzhen 2025 work plan for an internationalised business environment, Measure 18",
           "https://www.sz.gov.cn/en_szgov/news/latest/index_6.html")
    assert plan_text_with_a_url([old])


END_2026 = re.compile(
    r"31 Dec(?:ember)? 2026|December 31, 2026|2026-12-31|2026年12月31日|2026년 12월 31일|31 décembre 2026"
    r"|31 de diciembre de 2026|31\. Dezember 2026|31 de dezembro de 2026|31 dicembre 2026|31 декабря 2026"
    r"|31 ديسمبر 2026|31/12/2026|31 ธ\.ค\. 2026|31 ธันวาคม 2026|31 Desember 2026")
NIA = re.compile(
    r"\bNIA\b|National Immigration Administration|[国國]家移民管理局|국가이민관리국|Национальн\w* управлени\w*"
    r"(?: по делам)? иммиграции|Administration nationale de l'immigration|Administración Nacional de Inmigración"
    r"|Nationalen? Einwanderungsbehörde|Administração Nacional de Imigração"
    r"|Amministrazione nazionale per l'immigrazione|الإدارة الوطنية للهجرة|إدارة الهجرة الوطنية"
    r"|Cục Quản lý Xuất nhập cảnh Quốc gia|สำนักงานบริหารการตรวจคนเข้าเมืองแห่งชาติ|Administrasi Imigrasi Nasional")
MFA = re.compile(r"Ministry of Foreign Affairs|\bMFA\b|外交部|외교부|МИД|Министерств\w* иностранных дел"
                 r"|[Mm]inistère des Affaires étrangères|Ministerio de Asuntos Exteriores|Auswärtige|Außenministerium"
                 r"|Ministério das Relações Exteriores|Ministero degli Affari Esteri|وزارة الخارجية|Bộ Ngoại giao"
                 r"|กระทรวงการต่างประเทศ|Kementerian Luar Negeri")


def corpus_lines(corpus: Path = CORPUS) -> Iterator[tuple[str, str]]:
    """Every line of every card, guide and rule table as written: answers, titles and the maintainers' comments."""
    for pattern in ("cards/*/*.yaml", "guides/*.md", "rules/*.yaml"):
        for path in sorted(corpus.glob(pattern)):
            for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
                yield f"{path.relative_to(corpus)}:{n}", line


def extension_credited_to_nia(lines: Iterable[tuple[str, str]]) -> list[str]:
    """Facts B1: the extension of the 30-day list to 31 Dec 2026 came from the MFA (the same day as the NIA's
    transit measures). A sentence with that date and the NIA must name the MFA as well."""
    return [f"{where}: {sentence.strip()[:100]}" for where, line in lines for sentence in sentences(line)
            if END_2026.search(sentence) and NIA.search(sentence) and not MFA.search(sentence)]


def test_the_extension_to_31_dec_2026_is_credited_to_the_mfa() -> None:
    assert not extension_credited_to_nia(corpus_lines())
    old = [("card", "  - title: \"NIA announcement of 3 Nov 2025: more ports, and unilateral visa-free entry extended "
                    "to 31 Dec 2026\""),
           ("comment", "# Mentions the 30-day list, announced until 31 Dec 2026 (NIA, 3 Nov 2025)."),
           ("fr", "Le 3 novembre 2025, l'Administration nationale de l'immigration l'a prolongée jusqu'au "
                  "31 décembre 2026.")]
    assert len(extension_credited_to_nia(old)) == 3


# ---------------------------------------------------------------- 7. the small ones

OUTSIDE_SHENZHEN = _per_lang({
    "en": r"outside (?:of )?Shenzhen", "zh-Hans": "深圳以外|深圳之外|深圳外", "zh-Hant": "深圳以外|深圳之外|深圳外",
    "ja": "深圳以外|深セン以外|深圳の外|深センの外", "ko": "선전 밖|선전 외부|선전 이외|선전 외",
    "ru": "(?:за пределами|вне|не из) Шэньчжэн", "fr": "(?:hors de|en dehors de|l'extérieur de) Shenzhen",
    "es": "fuera de Shenzhen", "ar": "خارج شنتشن", "de": "außerhalb (?:von )?Shenzhen", "pt": "fora de Shenzhen",
    "it": "fuori (?:da )?Shenzhen", "vi": "ngoài Thâm Quyến", "th": "นอกเซินเจิ้น|นอกเมืองเซินเจิ้น",
    "id": "luar Shenzhen"})
CITY = _per_lang({"en": "city", "zh-Hans": "城市", "zh-Hant": "城市", "ja": "都市", "ko": "도시", "ru": "город",
                  "fr": "ville", "es": "ciudad", "ar": "مدينة", "de": "[Ss]tadt", "pt": "cidade", "it": "città",
                  "vi": "thành phố", "th": "เมือง", "id": "kota"})


def wrong_area_code_advice(units: Iterable[Unit]) -> list[str]:
    """0755-12367 reaches Shenzhen's office from another *mainland city*; from abroad, 12367 goes to the NIA centre
    (facts D). So the sentence with 0755 names another city, never "outside Shenzhen"."""
    return [f"{where}: {s.strip()[:100]}" for where, lang, text in units for s in sentences(text)
            if "0755" in s and (OUTSIDE_SHENZHEN[lang].search(s) or not CITY[lang].search(s))]


def message_units() -> list[Unit]:
    """The interface and checker messages (bot/prompts): the escalation line under every answer says it too."""
    import yaml

    units: list[Unit] = []
    for name in ("messages.yaml", "checks.yaml"):
        table = yaml.safe_load((CORPUS.parent / "bot" / "prompts" / name).read_text(encoding="utf-8"))
        units += [(f"{name}:{key}:{lang}", lang, text) for key, by_lang in table.items()
                  if isinstance(by_lang, dict) for lang, text in by_lang.items()
                  if lang in LANGUAGES and isinstance(text, str)]
    return units


def test_0755_12367_is_for_another_mainland_city() -> None:
    units = all_units() + message_units()
    assert sum("0755" in text for _, _, text in units) >= 3 * len(LANGUAGES)
    assert not wrong_area_code_advice(units)
    old = [("en", "en", "Call 12367 (or 0755-12367 from outside Shenzhen) to confirm your port."),
           ("es", "es", "Llame al 12367 (0755-12367 desde fuera de Shenzhen)."),
           ("zh", "zh-Hans", "请拨打12367（在深圳以外拨打0755-12367）。")]
    assert len(wrong_area_code_advice(old)) == 3


def test_rule_tables_are_valid_as_of_the_same_day_as_the_cards_and_guides() -> None:
    common = Counter(c.valid_as_of for c in load_cards(CORPUS).values())
    common.update(g.valid_as_of for g in load_guides(CORPUS))
    (usual, _), = common.most_common(1)
    for path in sorted((CORPUS / "rules").glob("*.yaml")):
        checked = yaml.safe_load(path.read_text("utf-8"))["valid_as_of"]
        assert checked.isoformat() == usual, f"{path.name}: valid_as_of {checked}, everything else {usual}"


def _steps(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        if "since" in node:
            yield path, node["since"]
        for key, value in node.items():
            yield from _steps(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _steps(value, f"{path}[{i}]")


def invented_step_dates(path: Path) -> list[str]:
    """A dated value's ``since`` is a date its sources give (named in the file, e.g. "26 Apr 2025" in a title), or
    null when they give none; never a stand-in such as 1 January of some year."""
    text = path.read_text("utf-8")
    named = "\n".join(line for line in text.splitlines() if "since:" not in line)
    problems = []
    for where, since in _steps(yaml.safe_load(text)):
        if since is None:
            continue
        if not isinstance(since, date) or (since.month, since.day) == (1, 1):
            problems.append(f"{path.name}{where}: since {since}")
        elif f"{since.day} {since:%b %Y}" not in named:
            problems.append(f"{path.name}{where}: since {since} is not a date the table's sources name")
    return problems


def test_dated_steps_start_on_dates_from_the_sources(tmp_path: Path) -> None:
    for path in sorted((CORPUS / "rules").glob("*.yaml")):
        assert not invented_step_dates(path)
    old = tmp_path / "refund.yaml"
    old.write_text("sources:\n  - title: \"joint notice, 26 Apr 2025\"\nmin_spend:\n  - {since: 2015-01-01, value: 500}"
                   "\n  - {since: 2025-04-26, value: 200}\ncash_cap:\n  - {since: 2025-05-01, value: 20000}\n", "utf-8")
    found = [p.split(":")[0] for p in invented_step_dates(old)]
    assert found == ["refund.yaml.min_spend[0]", "refund.yaml.cash_cap[0]"]


BANK = _per_lang({"en": "[Bb]ank", "zh-Hans": "银行", "zh-Hant": "銀行", "ja": "銀行", "ko": "은행",
                  "ru": r"[Бб]анк\w*", "fr": "[Bb]anque", "es": "[Bb]anco", "ar": "بنك", "de": "[Bb]ank",
                  "pt": "[Bb]anco", "it": "[Bb]anca", "vi": "[Nn]gân hàng", "th": "ธนาคาร", "id": "[Bb]ank"})


def doubled_bank(units: Iterable[Unit]) -> list[str]:
    """"بنك Guangdong Huaxing Bank" says "bank" twice: the language's word for bank right before a Latin name that
    already ends in Bank. Give the name in the language (with the original in brackets) or the name alone."""
    problems = []
    for where, lang, text in units:
        doubled = re.compile(f"(?:{BANK[lang].pattern})\\s+(?:[A-Z][\\w'&.+-]*\\s+)*Bank\\b")
        problems += [f"{where}: {m.group()}" for m in doubled.finditer(text)]
    return problems


def test_no_language_says_bank_twice() -> None:
    assert not doubled_bank(all_units())
    old = [("refund-port-luohu:ar", "ar", "استلم المبلغ من نقطة الاسترداد التابعة لبنك Guangdong Huaxing Bank"),
           ("x:ru", "ru", "в банке Guangdong Huaxing Bank")]
    assert len(doubled_bank(old)) == 2


# Words that only the informal (es tú, it tu, fr tu, de du) or only the formal you uses. Imperatives such as "paga"
# or "verifica" are left out: they are also third-person verbs and nouns. The corpus chose the formal you in each of
# these languages (usted, Lei, vous, Sie); a card that uses the other one switches register.
INFORMAL_YOU = {
    "es": r"\b(?:tú|tu|tus|te|ti|contigo|tienes|puedes|necesitas|debes|quieres|estás|eres|vas|sabes|haces|vienes"
          r"|llegas|pagas|usas|tengas|puedas|hagas|vayas|estés|seas|asegúrate|infórmate|dirígete|acércate|quédate"
          r"|regístrate|llámanos)\b",
    "it": r"\b(?:tu|tuo|tua|tuoi|tue|ti|te|puoi|devi|hai|vuoi|sai|fai|vai|stai|rivolgiti|ricordati|assicurati)\b",
    "fr": r"\b(?:tu|toi|ton|tes)\b|\bt'",
    "de": r"\b(?:du|dich|dir|dein|deine|deinen|deinem|deiner|deines|kannst|musst|hast|bist|willst)\b",
}
FORMAL_YOU = {
    "es": r"\b(?:usted|ustedes|tiene|puede|necesita|debe|llame|pregunte|consulte|asegúrese|diríjase|infórmese)\b",
    "it": r"\b(?:Lei|Suo|Sua|Suoi|Sue|può|deve|chieda|chiami|verifichi|si rivolga|si informi|componga)\b",
    "fr": r"\b(?:vous|votre|vos)\b",
    "de": r"\b(?:Sie|Ihr|Ihre|Ihren|Ihrem|Ihrer|Ihnen)\b",
}


def informal_you(texts: Iterable[tuple[str, str, str]]) -> list[str]:
    problems = []
    for where, lang, text in texts:
        if lang in INFORMAL_YOU:
            problems += [f"{where}: {m.group()!r}"
                         for m in re.finditer(INFORMAL_YOU[lang], text, flags=re.IGNORECASE)]
    return problems


def _texts_by_language(node: Any, path: tuple[str, ...]) -> Iterator[tuple[str, str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "examples":  # example questions are the visitor speaking
                yield from _texts_by_language(value, (*path, str(key)))
    elif isinstance(node, str):
        lang = next((p for p in reversed(path) if p in INFORMAL_YOU), None)
        if lang:
            yield ".".join(path), lang, node


def _message_texts() -> Iterator[tuple[str, str, str]]:
    """The fixed texts visitors read beside the cards (answer templates, labels, checker results)."""
    for name in ("messages.yaml", "checks.yaml"):
        table = yaml.safe_load((PROJECT_ROOT / "bot" / "prompts" / name).read_text("utf-8"))
        yield from _texts_by_language(table, (name,))


def test_formal_you_in_every_card_and_message_of_es_it_fr_de() -> None:
    units = card_units()
    for lang, formal in FORMAL_YOU.items():  # the register the corpus chose is in use
        assert sum(len(re.findall(formal, t)) for _, code, t in units if code == lang) > 50, lang
    messages = list(_message_texts())
    assert {lang for _, lang, _ in messages} == set(INFORMAL_YOU)
    assert not informal_you(units + messages)
    old = [("luohu:it", "it", "Al valico di Luohu vai prima al punto di verifica; se attraversi dopo le 21:00 "
                              "gli sportelli sono chiusi, quindi arriva prima. Puoi chiedere al banco."),
           ("x:es", "es", "Si tienes dudas, puedes llamar al 12367."),
           ("y:de", "de", "Wenn du nach 21 Uhr ausreist, ist der Schalter zu.")]
    assert len(informal_you(old)) == 5


DAILY = _per_lang({"en": r"every day|daily|7 days a week", "zh-Hans": "每天|每日", "zh-Hant": "每天|每日", "ja": "毎日",
                   "ko": "매일", "ru": "ежедневно|каждый день", "fr": "tous les jours", "es": "todos los días|a diario",
                   "ar": "يومي[اًًا]|يومياً|كل يوم", "de": "täglich", "pt": "todos os dias|diariamente",
                   "it": "tutti i giorni|ogni giorno", "vi": "hằng ngày|hàng ngày|mỗi ngày", "th": "ทุกวัน",
                   "id": "setiap hari"})
OPENING_TIME = re.compile(r"(?<![\d:])0?9[:.：]00(?!\d)")


def days_not_in_the_sources(units: Iterable[Unit]) -> list[str]:
    """The refund counters' sources give hours (09:00–21:00, 09:00 until the last sailing), not the days they open
    (facts A9): a sentence with those hours must not add "every day"."""
    return [f"{where}: {s.strip()[:100]}" for where, lang, text in units for s in sentences(text)
            if OPENING_TIME.search(s) and DAILY[lang].search(s)]


def test_refund_counter_hours_do_not_add_every_day() -> None:
    units = all_units()
    hours = {where.split(":")[0] for where, _, text in units if OPENING_TIME.search(text)}
    assert {"refund-port-luohu", "refund-port-shekou"} <= hours
    assert not days_not_in_the_sources(units)
    old = [("luohu:en", "en", "It is open every day 09:00–21:00. Then collect the money nearby."),
           ("luohu:zh", "zh-Hans", "海关验核点每天09:00–21:00办理。"),
           ("shekou:ar", "ar", "وهو مفتوح يومياً من 09:00 حتى آخر رحلة بحرية.")]
    assert len(days_not_in_the_sources(old)) == 3


EARLY_2026 = re.compile(r"early 2026|2026年初|2026年の初め|2026년 초|начал[еоа] 2026|début 2026|principios de 2026"
                        r"|comienzos de 2026|Anfang 2026|início de 2026|inizio (?:del )?2026|đầu năm 2026"
                        r"|ต้นปี 2026|awal 2026|(?:أوائل|بداية|مطلع) (?:عام )?2026", re.IGNORECASE)


def dated_later_than_the_sources(corpus: Path = CORPUS) -> list[str]:
    """A card that dates its facts "as of early 2026" cites a source from 2026 (the audit found one whose newest
    source was of 18 Dec 2025)."""
    problems = []
    for card in load_cards(corpus).values():
        late = [lang for lang, text in card.answer.items() if EARLY_2026.search(text)]
        if late and not any("2026" in s.title for s in card.sources):
            problems.append(f"{card.card_id}: 'early 2026' in {late}, newest source from before 2026")
    return problems


def test_cards_are_not_dated_later_than_their_sources(tmp_path: Path) -> None:
    assert not dated_later_than_the_sources()
    cards = tmp_path / "cards" / "tax_refund"
    cards.mkdir(parents=True)
    data = yaml.safe_load((CORPUS / "cards" / "tax_refund" / "refund-port-shenzhen-ports.yaml").read_text("utf-8"))
    data.pop("related", None)
    data["answer"]["en"] = "As of early 2026, 6 Shenzhen ports pay departure tax refunds."
    data["sources"] = [s for s in data["sources"] if "2026" not in s["title"]]
    (cards / "refund-port-shenzhen-ports.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    assert dated_later_than_the_sources(tmp_path) == [
        "refund-port-shenzhen-ports: 'early 2026' in ['en'], newest source from before 2026"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_language_tables_cover_every_language(lang: str) -> None:
    for table in (SHENZHEN, HONG_KONG, NOT_CONFIRMED, GROUP, SHANTOU, HAINAN, OUTSIDE_SHENZHEN, CITY, BANK, DAILY):
        assert table[lang].pattern, lang
    assert UNILATERAL_NAMES[lang].pattern
