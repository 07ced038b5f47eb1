"""Follow-up questions: "and at the airport?" means nothing alone. When a question is elliptical and there is an
earlier user turn, retrieval also ranks for both together, and the answer says which earlier question it assumed."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .lang import fold

# Openers that make a question lean on the previous one, in our languages (matched on folded text).
_MARKERS = re.compile(
    r"^\s*(and|what about|how about|also|but|so|then|same|那|那么|那如果|如果|还有|另外|要是|咁|噉|"
    r"そして|それで|じゃあ|では|それなら|그럼|그리고|그러면|"
    r"а|и|et|mais|y|pero|und|aber|e|mas|ed|ma|con|vay|con neu|the con|แล้ว|"
    r"ถ้า|bagaimana dengan|lalu|kalau|dan|و|واذا|ماذا عن)\b",
    re.IGNORECASE,
)
_TRAILING = re.compile(r"(呢|嗎|吗|呀)\s*[?？]?\s*$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")
SHORT_WORDS = 5
SHORT_CJK_CHARS = 9


def previous_user_turn(history: Sequence[object]) -> str | None:
    """History items are strings (user turns) or chat messages {role, content}; the last user turn wins."""
    for item in reversed(history):
        if isinstance(item, str) and item.strip():
            return item.strip()
        if isinstance(item, dict) and item.get("role", "user") == "user" and str(item.get("content", "")).strip():
            return str(item["content"]).strip()
    return None


def is_elliptical(question: str) -> bool:
    folded = fold(question)
    if _MARKERS.search(folded) or _TRAILING.search(question):
        return True
    cjk = len(_CJK.findall(folded))
    words = len(re.findall(r"\w+", _CJK.sub(" ", folded)))
    return (cjk + words * 2) <= SHORT_CJK_CHARS if cjk else words <= SHORT_WORDS


def follow_up_of(question: str, history: Sequence[object]) -> str | None:
    """The earlier question that this one continues, or None when it stands on its own."""
    previous = previous_user_turn(history)
    return previous if previous and is_elliptical(question) else None
