"""Follow-up questions: "and at the airport?" means nothing alone. When a question is elliptical and there is an
earlier user turn, retrieval also ranks for both together, and the answer says which earlier question it assumed."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.lang import fold

# Openers that make a question lean on the previous one, in our languages (matched on folded text, after any
# opening "¿", "¡" or quote). Words of spaced scripts must end at a word boundary ("so" is not "sorry"); openers in
# Chinese and Thai run straight into the next word ("咁護照…", "แล้วเปิด…"), so those need none.
_SPACED_MARKERS = (
    r"and|what about|how about|what if|also|but|so|then|same|ok so|okay so|"
    r"а|и|et|mais|y|pero|und|aber|e|mas|ed|ma|con|vay|con neu|the con|"
    r"bagaimana dengan|lalu|kalau|dan|terus|trus|و|واذا|ماذا عن|그럼|그리고|그러면"
)
_UNSPACED_MARKERS = r"那|那么|那如果|如果|还有|另外|要是|咁|噉|そして|それで|じゃあ|では|それなら|แล้ว|ถ้า"
_MARKERS = re.compile(rf"^[\s¿¡\"'“(]*(?:(?:{_SPACED_MARKERS})\b|{_UNSPACED_MARKERS})", re.IGNORECASE)
# "…呢？" and "…ล่ะ" ask "what about …?"; a plain question particle (吗, หรือ) does not.
_TRAILING = re.compile(r"(呢|ล่ะ)\s*[?？]?\s*$")
# How much a character says, in "words": a Han character or a hangul syllable about half a word, kana (mostly
# particles and endings) and Thai letters (three or four to a word) much less. A question says little when it comes
# to at most SHORT_WORDS words.
_WEIGHTS = ((re.compile(r"[\u3400-\u9fff\uac00-\ud7af]"), 0.5), (re.compile(r"[\u3040-\u30ff]"), 0.2),
            (re.compile(r"[\u0e00-\u0e7f]"), 0.2))
_OTHER_SCRIPTS = re.compile("|".join(pattern.pattern for pattern, _ in _WEIGHTS))  # every script weighed above
SHORT_WORDS = 5


def previous_user_turn(history: Sequence[object]) -> str | None:
    """History items are strings (user turns) or chat messages {role, content}; the last user turn wins."""
    for item in reversed(history):
        if isinstance(item, str) and item.strip():
            return item.strip()
        if isinstance(item, dict) and item.get("role", "user") == "user" and str(item.get("content", "")).strip():
            return str(item["content"]).strip()
    return None


def size_in_words(text: str) -> float:
    """How much a text says, in words of any script (see ``_WEIGHTS``)."""
    folded = fold(text)
    size = sum(len(pattern.findall(folded)) * weight for pattern, weight in _WEIGHTS)
    return size + len(re.findall(r"\w+", _OTHER_SCRIPTS.sub(" ", folded)))


def is_short(question: str) -> bool:
    """At most SHORT_WORDS words: too little to say what it is about."""
    return size_in_words(question) <= SHORT_WORDS


def is_elliptical(question: str) -> bool:
    if _MARKERS.search(fold(question)) or _TRAILING.search(question):
        return True
    return is_short(question)


def follow_up_of(question: str, history: Sequence[object]) -> str | None:
    """The earlier question that this one continues, or None when it stands on its own."""
    previous = previous_user_turn(history)
    return previous if previous and is_elliptical(question) else None
