"""Text preparation shared by the extractors: cleaning, position-preserving folding, Chinese numerals, spans.

Every extractor works on two strings of the same length: ``raw`` (cleaned, NFKC) for things where case matters
(``US`` vs the pronoun ``us``) and ``folded`` (lower case, Latin accents stripped, Traditional -> Simplified) for
everything else. Keeping them the same length lets a match in one be sliced out of the other.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import opencc

# Questions are short; capping keeps every regex and the place scan linear in a small constant.
MAX_CHARS = 2000

_SURROGATES = re.compile("[\ud800-\udfff]")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
_HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# A cue word ("from", "passport") only applies inside its clause; a time pairs with a date inside its sentence.
CLAUSE_END = re.compile(r"[;!?。；！？\n]|[,，、](?!\d)|\.(?=\s)")
SENTENCE_END = re.compile(r"[;!?。；！？\n]")


@dataclass(frozen=True)
class Text:
    """A question ready for matching: ``raw`` and ``folded`` have the same length, so spans are shared."""

    raw: str
    folded: str
    lang: str


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _ascii_digits(text: str) -> str:
    # Arabic-Indic, Devanagari, Thai... digits become 0-9 so one set of patterns reads every script.
    return "".join(str(unicodedata.digit(ch)) if ch > "\x7f" and ch.isdecimal() else ch for ch in text)


def clean(text: str) -> str:
    """Cap, drop lone surrogates and control characters, NFKC (full-width digits, NBSP -> space), ASCII digits."""
    text = _SURROGATES.sub("", text[:MAX_CHARS])
    text = _CONTROLS.sub(" ", text)
    text = unicodedata.normalize("NFKC", text)[:MAX_CHARS]
    return _ascii_digits(text)


_APOSTROPHES = "’‘`´ʼ"


def _fold_char(ch: str) -> str:
    if ch in _APOSTROPHES:
        return "'"  # "Bao’an", "aujourd’hui"
    if "\u00c0" <= ch <= "\u024f" or "\u1e00" <= ch <= "\u1eff":  # accents: "é" -> "e", "ồ" -> "o", "İ" -> "i"
        base = unicodedata.normalize("NFD", ch)[0].lower()
        return base if base.isascii() else ch.lower()[:1]
    low = ch.lower()
    return low if len(low) == 1 else ch  # keep positions aligned


def _to_simplified(text: str) -> str:
    def convert(match: re.Match[str]) -> str:
        run = match.group()
        simple = _t2s().convert(run)
        # OpenCC converts phrases; in the rare case that changes the length, fall back to characters.
        return simple if len(simple) == len(run) else "".join(_t2s().convert(ch)[:1] or ch for ch in run)

    return _HAN_RUN.sub(convert, text)


def fold(text: str) -> str:
    """Same-length folding for matching: case, Latin accents, Traditional -> Simplified."""
    return _to_simplified("".join(_fold_char(ch) for ch in text))


def prepare(text: str, lang: str) -> Text:
    raw = clean(text)
    return Text(raw=raw, folded=fold(raw), lang=lang.split("-")[0].lower() if lang else "")


# A number as written: grouped ("1,234.5", "1.234,5", "1 234") or plain ("1234", "12,5").
NUMBER = r"(?<![\d.,])(?:\d{1,3}(?:([,.' ])\d{3})(?:\1\d{3})*(?:[.,]\d+)?(?![\d])|\d+(?:[.,]\d+)?)"

_CN_DIGITS = {
    ch: value
    for value, chars in enumerate(["零〇", "一", "二两", "三", "四", "五", "六", "七", "八", "九"])
    for ch in chars
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}
CN_NUMERAL = "[零〇一二两三四五六七八九十百千万亿]"


def parse_cn_number(word: str) -> int | None:
    """Simple Chinese numerals: 三百, 一千二百, 两千, 一万五千, 十二, 三千五 (colloquial 3500). None if malformed."""
    total, section, digit, last_unit = 0, 0, None, 1
    for ch in word:
        if ch in _CN_DIGITS:
            if digit is not None:
                return None  # "一二" is a sequence of digits, not a number
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            last_unit = _CN_UNITS[ch]
            section += (1 if digit is None else digit) * last_unit
            digit = None
        elif ch in _CN_BIG:
            total += (section + (digit or 0)) * _CN_BIG[ch]
            section, digit, last_unit = 0, None, _CN_BIG[ch]
        else:
            return None
    if digit is not None:
        # "三千五" means 3500: a trailing digit counts in the next unit down.
        section += digit * (last_unit // 10 if last_unit >= 100 and word[-2] not in "零〇" else 1)
    return total + section


def to_int(word: str) -> int | None:
    """Arabic or simple Chinese numerals."""
    return int(word) if word.isdigit() else parse_cn_number(word)


class Claimed:
    """Characters already read as something (a date, a time, a percentage): a byte per character, so checking a
    candidate costs its length, not the number of earlier matches."""

    def __init__(self, size: int, spans: Iterable[tuple[int, int]] = ()) -> None:
        self._marks = bytearray(size + 1)
        for start, end in spans:
            self.add(start, end)

    def add(self, start: int, end: int) -> None:
        self._marks[start:end] = b"\x01" * max(0, end - start)

    def overlaps(self, start: int, end: int) -> bool:
        return 1 in self._marks[start:end]


def crosses_clause(text: str, start: int, end: int) -> bool:
    return CLAUSE_END.search(text, start, end) is not None


def decimal_or_none(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except ArithmeticError:
        return None
