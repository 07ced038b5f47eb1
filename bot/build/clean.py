"""Text repair: the plan as received, and visitors' queries.

The plan arrived in Traditional Chinese with ~440 pinyin annotations (``業(yè)``) and five spots where UTF-8 text had
been through a GBK round trip (mojibake). We never edit the raw file; this module produces the clean text from it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from bot.errors import BadInput

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

# Invisible characters, dropped rather than turned into spaces so that a word they split joins again ("ig\u00adnore"
# must still read "ignore" to the guard): every format character (category Cf: zero-width spaces and joiners, soft
# hyphen, bidi overrides and isolates, tag characters used to smuggle hidden text) and the other default-ignorable
# code points (variation selectors, combining grapheme joiner, Hangul fillers, Mongolian selectors).
_IGNORABLE = re.compile("[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0000-\U000e0fff]")
_SPACE = re.compile(r"\s+")
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
# NFKC can turn one character into 18 ("\ufdfa"): input this far over the limit is refused before any normalisation,
# so a megabyte pasted into the page costs microseconds, not seconds.
RAW_SLACK = 4


def clean_query(text: object, max_chars: int) -> str:
    """Normalise a visitor's query, or raise ``BadInput`` with a message for the visitor.

    The length limit counts what the visitor typed (after invisible characters and runs of spaces are dropped, before
    NFKC expands ligatures), and is never applied by silently cutting the question."""
    if not isinstance(text, str):
        raise BadInput("Please type your question as text.", "not_text")
    if len(text) > max_chars * RAW_SLACK:
        raise _too_long(len(text), max_chars)
    # A surrogate pair split into two code points (as some clients send emoji) is joined again; a lone surrogate
    # cannot be encoded or shown, so it is dropped rather than failing later in the tokenizer or the page.
    if _has_surrogate(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "ignore")
    text = _visible(text)
    if len(text) > max_chars:
        raise _too_long(len(text), max_chars)
    text = _visible(unicodedata.normalize("NFKC", text))
    if not text:
        raise BadInput("Please type a question, for example: “How do I get a tax refund at Shenzhen airport?”",
                       "empty_input")
    return text


def clean_turns(history: Sequence[object], max_chars: int) -> list[str]:
    """Earlier user turns, oldest first, fit to be reused (follow-up context, language): each cleaned like a question;
    a turn that is not text, is empty or over the limit is left out, as it was refused when it was asked. History
    items are strings (user turns) or chat messages ``{role, content}``; other roles are skipped.

    The history comes from the client (the page's state, the ``/ask`` API, ``--jsonl``), so it is as untrusted as the
    question: unchecked, a megabyte or a lone surrogate in it reaches the embedder and the answer text."""
    turns = []
    for item in history if isinstance(history, list | tuple) else ():
        if isinstance(item, dict):
            if item.get("role", "user") != "user":
                continue
            item = item.get("content")
        try:
            turns.append(clean_query(item, max_chars))
        except BadInput:
            continue
    return turns


def _visible(text: str) -> str:
    """Invisible characters dropped, other control characters and runs of whitespace made one space; a line break
    stays one: forum posts put each question on a line of its own ("- …", "— …"), often without a question mark,
    and the line is all that ends it (query/asks.py splits there)."""
    text = "".join("\n" if ch in _LINE_BREAKS else _visible_char(ch) for ch in _IGNORABLE.sub("", text))
    lines = (_SPACE.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _visible_char(ch: str) -> str:
    category = unicodedata.category(ch)
    if category == "Cf":
        return ""
    return " " if category[0] == "C" else ch


def _too_long(length: int, max_chars: int) -> BadInput:
    return BadInput(f"Your question is {length} characters long; please keep it under {max_chars} characters.",
                    "too_long", length=length, max=max_chars)


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)
