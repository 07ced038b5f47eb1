"""Dates and times in a question: ISO and numeric forms, CLDR month names in 15 languages, CJK forms, relative words.

Month names come from Babel (CLDR), so "3 декабря", "le 3 décembre" and "3. Dezember" need no table of ours.
A numeric date like 03/04/2026 is read only when it can mean one thing: in a day-first language, or when one
part is above 12. A date that cannot exist (31 Feb, 2026-13-01) is reported as a bad date, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from functools import lru_cache

from babel import Locale

from bot.checks.extract_text import SENTENCE_END, Claimed, Text, fold, to_int

LANGS = ("en", "zh_Hans", "zh_Hant", "ja", "ko", "ru", "fr", "es", "ar", "de", "pt", "it", "vi", "th", "id")
# Languages that write day before month in numeric dates: 03.04.2026 is 3 April there.
DAY_FIRST = {"de", "fr", "es", "ru", "it", "pt", "vi", "id"}
Span = tuple[int, int]


@dataclass(frozen=True)
class When:
    day: date | None  # None when only a time was given
    time: time | None  # None when only a date was given


@dataclass(frozen=True)
class DateScan:
    whens: tuple[When, ...]
    bad_dates: tuple[str, ...]
    spans: tuple[Span, ...]  # every date- or time-like stretch, so the amount reader skips it


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    value: date | None  # None: date-like but unread (ambiguous), or impossible when ``bad``
    bad: bool = False
    year: bool = False  # the year was written ("2. September 2026"), not taken as the next such day


@dataclass(frozen=True)
class _TimeHit:
    start: int
    end: int
    value: time


def _date_hit(start: int, end: int, value: date | None, year: bool = True) -> _Hit:
    return _Hit(start, end, value, bad=value is None, year=year)


# Languages we do not serve (answered in English, read with English rules): their full month names only, so
# "przylot 7 lutego" is a date; short forms ("lis", "mar") would be read into ordinary words.
UNSERVED_MONTHS = ("pl", "nl", "tr", "sv", "cs")


@lru_cache(maxsize=1)
def month_names() -> dict[str, int]:
    """Folded CLDR month names (wide and abbreviated, format and stand-alone) -> month; clashing names dropped.
    Languages we do not serve add their wide names where none of ours has the word."""
    names: dict[str, set[int]] = {}
    for code in (*LANGS, *UNSERVED_MONTHS):
        ours = code in LANGS
        months = Locale.parse(code).months
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated") if ours else ("wide",):
                for number, name in months[context][width].items():
                    key = fold(name).strip(".")
                    # "12月", "12월", "tháng 12" are numeric; the CJK and Vietnamese patterns read them instead.
                    if len(key) < (3 if ours else 4) or any(ch.isdigit() or ch in "月월" for ch in key):
                        continue
                    if ours or key not in names:
                        names.setdefault(key, set()).add(number)
    return {key: next(iter(nums)) for key, nums in names.items() if len(nums) == 1}


def resolve(year: int | None, month: int, day: int, today: date) -> date | None:
    """The date, or the next one on or after ``today`` when no year is given; None if it cannot exist."""
    if year is not None:
        try:
            return date(year, month, day)
        except ValueError:
            return None
    for candidate_year in range(today.year, today.year + 9):  # 29 Feb waits for the next leap year
        try:
            found = date(candidate_year, month, day)
        except ValueError:
            continue
        if found >= today:
            return found
    return None


_ISO = re.compile(r"(?<![\d.\-/])(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?![\d])")
_CN_NUM = "[〇零一二三四五六七八九十]{1,3}"
_CJK = re.compile(
    rf"(?:(\d{{4}})\s*[年년]\s*)?(\d{{1,2}}|{_CN_NUM})\s*[月월]\s*(\d{{1,2}}|{_CN_NUM})\s*[日号일]"
    r"|(\d{1,2})\s*thang\s*(\d{1,2})(?:\s*(?:nam\s*)?(\d{4}))?"  # Vietnamese "3 tháng 12 năm 2026"
)
_NUMERIC = re.compile(r"(?<![\d/.\-:])(\d{1,2})([/.\-])(\d{1,2})(?:\2(\d{4}|\d{2}))?(?![\d/\-:]|\.\d)")
_WORD = re.compile(r"[^\W\d_]+")
_DAY_BEFORE = re.compile(r"(?<!\d)(\d{1,2})(?:st|nd|rd|th|er|e|\.)?\s*(?:de\s+|of\s+(?:the\s+)?)?$")
_DAY_AFTER = re.compile(r"\.?\s*(\d{1,2})(?:st|nd|rd|th)?(?![\d:])")
_YEAR_AFTER = re.compile(r",?\s*(?:de\s+)?((?:19|20)\d{2})(?!\d)(?:\s*г\.?)?")


def _year(text: str | None) -> int | None:
    return None if text is None else (2000 + int(text) if len(text) == 2 else int(text))


def _iso(t: Text, today: date) -> Iterator[_Hit]:
    for m in _ISO.finditer(t.folded):
        yield _date_hit(m.start(), m.end(), resolve(int(m[1]), int(m[3]), int(m[4]), today))


def _cjk(t: Text, today: date) -> Iterator[_Hit]:
    for m in _CJK.finditer(t.folded):
        if m[2] is not None:
            year, month, day = (int(m[1]) if m[1] else None), to_int(m[2]), to_int(m[3])
        else:
            year, month, day = (int(m[6]) if m[6] else None), int(m[5]), int(m[4])
        if month and day:
            yield _date_hit(m.start(), m.end(), resolve(year, month, day, today), year is not None)


def _day_month(first: int, second: int, lang: str) -> tuple[int, int] | None:
    """(day, month) of a numeric date, or None when it could be either (03/04 in a month-first language)."""
    if second > 12 >= first:
        return second, first
    if first > 12 >= second or lang in DAY_FIRST:
        return first, second
    if first > 12 and second > 12:
        return first, second  # neither reading exists: reported as a bad date
    return None


# Where a decimal is written with a comma, "28.11." (a closing dot) or "am 5.12" is a date, day first.
_DOT_DATE_LANGS = frozenset({"de", "ru", "pl", "nl", "tr", "cs", "sv", "da", "no", "fi"})
_DOT_DATE_BEFORE = re.compile(r"(?:\b(?:am|bis|ab|vom|zum|den|seit|до|с|по|на)\s+)$")


def _dotted_date(t: Text, m: re.Match[str]) -> bool:
    if m[2] != "." or t.lang not in _DOT_DATE_LANGS:
        return False
    closed = t.folded[m.end():m.end() + 1] == "." and not t.folded[m.end() + 1:m.end() + 2].isdigit()
    return closed or _DOT_DATE_BEFORE.search(t.folded, max(0, m.start() - 8), m.start()) is not None


def _numeric(t: Text, today: date) -> Iterator[_Hit]:
    for m in _NUMERIC.finditer(t.folded):
        first, sep, second, year = int(m[1]), m[2], int(m[3]), _year(m[4])
        if year is None and (sep != "/" or (first, second) == (24, 7)) and not _dotted_date(t, m):
            continue  # "3.12" is a decimal, "3-12" a range, "24/7" a slogan; read only "3/12" (and "28.11.")
        if year is not None and sep == "." and m[4] and len(m[4]) == 2 and t.lang not in DAY_FIRST:
            continue  # "1.5.26" is a version number in English
        order = _day_month(first, second, t.lang)
        if order is None or max(first, second) > 31:
            yield _Hit(m.start(), m.end(), None)  # masked as a number, not read as a date
        else:
            yield _date_hit(m.start(), m.end(), resolve(year, order[1], order[0], today), year is not None)


# Thai months abbreviated with dots ("5 ม.ค.", "12 ธ.ค. 2569"): the word reader stops at each dot. A Thai year is
# often Buddhist Era (2569 = 2026).
_THAI_MONTHS = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")
_THAI_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*(" + "|".join(re.escape(m) for m in _THAI_MONTHS) +
                        r")(?:\s*(\d{4}))?")


def _thai(t: Text, today: date) -> Iterator[_Hit]:
    for m in _THAI_DATE.finditer(t.folded):
        year = int(m[3]) if m[3] else None
        if year is not None and year > 2400:
            year -= 543
        day, month = int(m[1]), _THAI_MONTHS.index(m[2]) + 1
        if 1 <= day <= 31:
            yield _date_hit(m.start(), m.end(), resolve(year, month, day, today), year is not None)


def _named(t: Text, today: date) -> Iterator[_Hit]:
    names = month_names()
    for word in _WORD.finditer(t.folded):
        month = names.get(word.group())
        if month is None:
            continue
        before = _DAY_BEFORE.search(t.folded, max(0, word.start() - 12), word.start())
        after = None if before else _DAY_AFTER.match(t.folded, word.end())
        found = before or after
        if found is None or not 1 <= int(found[1]) <= 31:
            continue
        end = word.end() if before else found.end()
        year = _YEAR_AFTER.match(t.folded, end)
        start = before.start() if before else word.start()
        value = resolve(_year(year[1]) if year else None, month, int(found[1]), today)
        yield _date_hit(start, year.end() if year else end, value, year is not None)


# Relative day words, folded. Longest first so "pasado mañana" wins over "mañana".
_RELATIVE = {
    "day after tomorrow": 2, "today": 0, "tomorrow": 1, "tonight": 0,
    "сегодня": 0, "завтра": 1, "послезавтра": 2,
    "aujourd'hui": 0, "aujourd’hui": 0, "apres-demain": 2, "apres demain": 2, "demain": 1,
    "hoy": 0, "pasado manana": 2, "manana": 1,
    "heute": 0, "ubermorgen": 2, "morgen": 1,
    "hoje": 0, "depois de amanha": 2, "amanha": 1,
    "oggi": 0, "dopodomani": 2, "domani": 1,
    "hom nay": 0, "ngay mai": 1, "hari ini": 0, "besok": 1, "lusa": 2,
}  # fmt: skip
# Scripts without spaces need no word boundaries (and cannot have them: "我明天到" has none).
_RELATIVE_CJK = {
    "今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "听日": 1, "后日": 2, "明后日": 2,
    "きょう": 0, "あした": 1, "あす": 1, "あさって": 2, "오늘": 0, "내일": 1, "모레": 2,
    "วันนี้": 0, "พรุ่งนี้": 1, "มะรืนนี้": 2, "اليوم": 0, "غدا": 1,
}  # fmt: skip


def _alternation(words: dict[str, int]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_RELATIVE_RE = re.compile(rf"(?<![^\W\d_])(?:{_alternation(_RELATIVE)})(?![^\W\d_])|(?:{_alternation(_RELATIVE_CJK)})")
# "por la mañana" is "in the morning", "heute Morgen" is "this morning": the word is not a day there.
_MORNING_BEFORE = re.compile(r"\b(?:la|esta|cada|toda|una|am|guten|jeden|heute|diesen|de|da|pela)\s+$")


def _relative(t: Text, today: date) -> Iterator[_Hit]:
    for m in _RELATIVE_RE.finditer(t.folded):
        word = m.group()
        if word in {"manana", "morgen", "amanha"} and _MORNING_BEFORE.search(
            t.folded, max(0, m.start() - 8), m.start()
        ):
            continue
        offset = _RELATIVE.get(word, _RELATIVE_CJK.get(word, 0))
        yield _Hit(m.start(), m.end(), today + timedelta(days=offset), year=True)


_PM_WORDS = {
    "下午", "晚上", "傍晚", "夜里", "夜晚", "中午", "下昼", "晏昼", "午后", "夕方", "夜", "晚",
    "오후", "저녁", "밤", "낮", "pm", "p.m.", "p.m", "дня", "вечера", "tarde", "noche",
    "مساء", "مساءً", "du soir", "de l'apres-midi", "abends", "nachmittags", "da tarde", "da noite", "di sera",
    "del pomeriggio", "malam", "sore",
}  # fmt: skip
_AM_WORDS = {
    "上午", "早上", "早晨", "凌晨", "清晨", "朝早", "午前", "朝", "早",
    "오전", "새벽", "아침", "am", "a.m.", "a.m", "утра", "ночи", "manana", "madrugada",
    "صباحا", "صباحاً", "du matin", "morgens", "da manha", "di mattina", "pagi",
}  # fmt: skip
# The half of the day after a clock time, in languages whose period words follow it (folded, as _PM_WORDS/_AM_WORDS).
_CLOCK_PERIODS = ("مساءً|مساء|صباحاً|صباحا|du soir|du matin|de l'apres-midi|abends|nachmittags|morgens|da tarde|"
                  "da noite|da manha|di sera|del pomeriggio|di mattina|malam|sore|pagi")
_ZH_PERIOD = "上午|早上|早晨|凌晨|清晨|朝早|中午|下午|傍晚|晚上|夜里|夜晚|下昼|晏昼|午前|午后|夕方|朝|夜|早|晚"
_CN_HOUR = "[零一二两三四五六七八九十]{1,3}"
# (name, pattern): the name tells _time_value which extra evidence the form needs.
_TIME_PATTERNS = (
    # 下午3点, 下午三点半, 15点30分, 午後3時, 15時に (點/時 are folded to 点/时); not 时间 (hours) or 时候
    ("zh", re.compile(
        rf"(?:(?P<p>{_ZH_PERIOD})\s*)?(?P<h>\d{{1,2}}|{_CN_HOUR})\s*[点时](?!间|候|钟头)"
        rf"(?P<suffix>钟)?(?:\s*(?:(?P<half>半)|(?P<m>\d{{1,2}}|{_CN_HOUR})\s*分))?"
    )),
    ("ko", re.compile(
        r"(?:(?P<p>오전|오후|새벽|아침|낮|저녁|밤)\s*)?(?P<h>\d{1,2})\s*시(?!간)"
        r"(?:\s*(?P<m>\d{1,2})\s*분|\s*(?P<half>반))?"
    )),
    ("ampm", re.compile(r"(?<![\d:.])(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<p>a\.?m\.?|p\.?m\.?)(?![a-z])")),
    ("es", re.compile(
        r"\ba\s+las?\s+(?P<h>\d{1,2})(?::(?P<m>\d{2}))?(?:\s+(?:de|por)\s+la\s+(?P<p>manana|tarde|noche|madrugada))?"
    )),
    ("it", re.compile(r"\balle\s+(?P<h>\d{1,2})(?::(?P<m>\d{2}))?(?![\d.,])")),
    ("ru", re.compile(
        r"(?P<pre>\b[вк]\s+)?(?<![\d:.])(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<unit>ч\.?|час(?:а|ов)?)"
        r"(?:\s+(?P<p>утра|дня|вечера|ночи))?(?![а-я])"
    )),
    ("de", re.compile(
        r"(?<![\d:.])(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*uhr\b(?:\s*(?P<p>abends|nachmittags|morgens))?"
    )),
    # 10:15, 22h15, and a word after it that says which half of the day ("10:15 مساءً", "10h15 du soir", "10:15 Uhr
    # abends", "jam 10.15 malam")
    ("clock", re.compile(
        r"(?<![\d:.])(?P<h>[01]?\d|2[0-4])\s?[:h]\s?(?P<m>[0-5]\d)(?!\d)(?:\s*(?P<p>" + _CLOCK_PERIODS + r"))?"
    )),
    # Indonesian "jam 23.55", "jam 10.15 malam" (a dot between hours and minutes only after "jam": "12.50" is money)
    ("id", re.compile(r"\bjam\s+(?P<h>[01]?\d|2[0-4])[.:](?P<m>[0-5]\d)(?!\d)(?:\s*(?P<p>malam|sore|pagi))?")),
    ("h", re.compile(
        r"(?P<pre>\b(?:a|as|alle|ab|um|at|vers)\s+)?(?<![\d:.])(?P<h>[01]?\d|2[0-3])\s?(?:h|heures?)(?![a-z0-9])"
    )),
)  # fmt: skip
_BARE_H_LANGS = {"fr", "pt", "es", "it"}  # where "15h" alone is a time of day, not a duration


# Named times of day, folded: "noon", "à midi", "正午", "자정".
_NAMED_TIMES = {
    "noon": 12, "midday": 12, "midnight": 0, "正午": 12, "午夜": 0, "정오": 12, "자정": 0, "полдень": 12,
    "полночь": 0, "midi": 12, "minuit": 0, "mediodia": 12, "medianoche": 0, "mittag": 12, "mitternacht": 0,
    "meio-dia": 12, "meia-noite": 0, "mezzogiorno": 12, "mezzanotte": 0,
}  # fmt: skip
_NAMED_TIME_RE = re.compile(
    r"(?<![^\W\d_])(?:" + "|".join(sorted(_NAMED_TIMES, key=len, reverse=True)) + r")(?![^\W\d_])"
)


def _has_evidence(name: str, groups: dict[str, str | None], lang: str) -> bool:
    if name == "zh" and not (groups["h"] or "").isdigit():
        return bool(groups["p"] or groups["suffix"] or groups["half"] or groups["m"])  # "一点" alone is "a little"
    if name == "ru":
        return bool(groups["pre"] or groups["p"] or (groups["unit"] or "").startswith("ч"))  # "15 часов" is a duration
    if name == "h":
        return bool(groups["pre"]) or lang in _BARE_H_LANGS  # "3h" in English is a duration
    return True


def _time_value(name: str, m: re.Match[str], lang: str) -> time | None:
    groups = m.groupdict()
    hour = to_int(groups["h"] or "")
    minute = 30 if groups.get("half") else to_int(groups.get("m") or "0")
    if hour is None or minute is None or minute > 59 or hour > 24 or (hour == 24 and minute):
        return None
    if not _has_evidence(name, groups, lang):
        return None
    period = groups.get("p")
    if period in _PM_WORDS and hour < 12 and not (period in {"夜", "ночи"} and hour <= 4):
        hour += 12
    elif period in _AM_WORDS and hour == 12:
        hour = 0
    return time(hour % 24, minute)  # 24:00 stays midnight of the same day: the checker decides what it means


def _times(t: Text, claimed: Claimed) -> list[_TimeHit]:
    hits: list[_TimeHit] = []
    for m in _NAMED_TIME_RE.finditer(t.folded):
        if not claimed.overlaps(m.start(), m.end()):
            claimed.add(m.start(), m.end())
            hits.append(_TimeHit(m.start(), m.end(), time(_NAMED_TIMES[m.group()], 0)))
    for name, pattern in _TIME_PATTERNS:
        for m in pattern.finditer(t.folded):
            if claimed.overlaps(m.start(), m.end()):
                continue
            value = _time_value(name, m, t.lang)
            if value is not None:
                claimed.add(m.start(), m.end())
                hits.append(_TimeHit(m.start(), m.end(), value))
    return sorted(hits, key=lambda hit: hit.start)


def _dates(t: Text, today: date, claimed: Claimed) -> list[_Hit]:
    hits: list[_Hit] = []
    for finder in (_iso, _cjk, _thai, _named, _numeric, _relative):
        for hit in finder(t, today):
            if not claimed.overlaps(hit.start, hit.end):
                claimed.add(hit.start, hit.end)
                hits.append(hit)
    return _after_written_years(sorted(hits, key=lambda hit: hit.start))


def _after_written_years(hits: list[_Hit]) -> list[_Hit]:
    """A day without a year after one with its year written is the next such day after that one, not after today:
    "bought on 2 September 2026, flying home on 28.11." is November 2026, even when asked in December."""
    out: list[_Hit] = []
    anchor: date | None = None
    for hit in hits:
        if hit.value is not None and hit.year:
            anchor = hit.value
        elif hit.value is not None and anchor is not None and hit.value > anchor:
            value = resolve(None, hit.value.month, hit.value.day, anchor)
            hit = replace(hit, value=value) if value is not None else hit
        out.append(hit)
    return out


def _pair(text: str, days: list[_Hit], times: list[_TimeHit]) -> list[When]:
    """Each time joins the nearest free date of its sentence; a comma between them costs more than distance."""
    options = []
    for i, d in enumerate(days):
        for j, tm in enumerate(times):
            lo, hi = (d.end, tm.start) if d.end <= tm.start else (tm.end, d.start)
            if not SENTENCE_END.search(text, lo, hi):
                options.append((any(c in text[lo:hi] for c in ",，、"), hi - lo, i, j))
    used_days: set[int] = set()
    used_times: set[int] = set()
    whens: list[tuple[int, When]] = []
    for _, _, i, j in sorted(options):
        if i not in used_days and j not in used_times:
            used_days.add(i)
            used_times.add(j)
            whens.append((min(days[i].start, times[j].start), When(days[i].value, times[j].value)))
    whens += [(d.start, When(d.value, None)) for i, d in enumerate(days) if i not in used_days]
    whens += [(tm.start, When(None, tm.value)) for j, tm in enumerate(times) if j not in used_times]
    return [when for _, when in sorted(whens, key=lambda pair: pair[0])]


def scan_dates(t: Text, today: date) -> DateScan:
    claimed = Claimed(len(t.folded))
    hits = _dates(t, today, claimed)
    spans = [(h.start, h.end) for h in hits]
    times = _times(t, claimed)
    good = [h for h in hits if h.value is not None]
    bad = tuple(t.raw[h.start : h.end] for h in hits if h.bad)
    all_spans = tuple(spans + [(tm.start, tm.end) for tm in times])
    return DateScan(tuple(_pair(t.folded, good, times)), bad, all_spans)
