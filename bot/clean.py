"""Text repair: the plan as received, and visitors' queries.

The plan arrived in Traditional Chinese with ~440 pinyin annotations (``業(yè)``) and five spots where UTF-8 text had
been through a GBK round trip (mojibake). We never edit the raw file; this module produces the clean text from it.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import BadInput

# Each garbled sequence, exactly as received, and what the sentence says. Derived from context and from re-encoding
# the garbage as GBK (e.g. the bytes of 一站式 reappear shifted by one byte in 币徽臼疥). Applied before annotations
# are removed because two of the garbled runs swallowed an annotation's parenthesis.
MOJIBAKE_FIXES: tuple[tuple[str, str, str], ...] = (
    ("發(fā)布?跨境", "發(fā)布跨境", "Measure 12: a stray '?' where an unencodable mark stood"),
    ("貸、?!币徽臼疥柟饣\ue1e6O(jiān)管", "貸、保”一站式陽光化監(jiān)管",
     "Measure 12: '關、匯、稅、貸、保' one-stop supervision service"),
    ("申請?zhí)峁╇p向", "申請提供雙向", "Measure 15: two-way courier service for residence-permit renewals"),
    ("殘?zhí)貖W會", "殘特奧會", "Measures 24 (twice): the National Paralympic and Special Olympic Games"),
    ("“出?!?。", "“出海”。", "Measure 26: brands and culture 'going overseas'"),
)

# A pinyin syllable with tone marks (or ü) in ASCII parentheses right after a Han character. Real parentheses in the
# plan hold acronyms (CPTPP), Chinese text (責任單位:…) or nothing pinyin-like, so they never match.
_PINYIN = "a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü"
ANNOTATION = re.compile(rf"(?<=[\u4e00-\u9fff])\([{_PINYIN}]+\)")
# Any leftover mojibake marker: replacement char, private-use area, box drawing, stray '?'.
SUSPECT = re.compile("[\ufffd\ue000-\uf8ff\u2500-\u257f?]")


def repair_plan(raw: str) -> str:
    """The plan's clean Traditional text: mojibake fixed, annotations removed, line ends normalised."""
    text = raw.replace("\r\n", "\n")
    for garbled, fixed, _why in MOJIBAKE_FIXES:
        text = text.replace(garbled, fixed)
    return ANNOTATION.sub("", text)


# ---------------------------------------------------------------- queries

# Bidirectional overrides/isolates and zero-width characters: invisible, and a classic way to disguise text.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_SPACE = re.compile(r"\s+")


def clean_query(text: object, max_chars: int) -> str:
    """Normalise a visitor's query, or raise ``BadInput`` with a message for the visitor."""
    if not isinstance(text, str):
        raise BadInput("Please type your question as text.", "not_text")
    # Lone surrogates cannot be encoded or shown; drop them rather than fail on them later.
    text = text.encode("utf-8", "ignore").decode("utf-8") if _has_surrogate(text) else text
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = _SPACE.sub(" ", text).strip()
    if not text:
        raise BadInput("Please type a question, for example: “How do I get a tax refund at Shenzhen airport?”",
                       "empty_input")
    if len(text) > max_chars:
        raise BadInput(
            f"Your question is {len(text)} characters long; please keep it under {max_chars} characters.",
            "too_long", length=len(text), max=max_chars,
        )
    return text


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)
