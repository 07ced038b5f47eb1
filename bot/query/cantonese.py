"""Colloquial Cantonese to written Chinese, word for word, before a Traditional-script question is embedded.

Why: visitors from Hong Kong and Macao type the way they speak ("已經即買即退咗，過關仲使唔使搵海關蓋章？"). The
embedding model and the card classifier read standard written Chinese far better than the Cantonese function words
around it (唔, 咗, 係, 幾多, 使唔使 …), so siblings that differ in one of those words ("when does the count start" /
"what is the scheme") get confused. The content words (退稅, 海關, 過境) are the same in both registers; replacing
the function words with their written equivalents keeps the question's meaning and puts it in the register most
of the model's Chinese training text is in. BM25 still matches either form: the cards' Cantonese example questions
keep their words, and the rewritten query shares the content words.

Only unambiguous colloquial words are mapped. Characters that are also ordinary written Chinese stay unless the
context makes them Cantonese: 係 in 關係, 點 in 地點 / 景點 / 12點, 邊 in 旁邊, 仲 in 仲裁 are left alone.
"""

from __future__ import annotations

import re

# Longest first within each group, so "使唔使" is read before "唔".
_WORDS: tuple[tuple[str, str], ...] = (
    ("使唔使", "需不需要"), ("得唔得", "可不可以"), ("係唔係", "是不是"), ("係咪", "是不是"), ("可唔可以", "可不可以"),
    ("有冇", "有沒有"),
    ("點樣", "怎樣"), ("點解", "為什麼"), ("點算", "怎麼辦"), ("點去", "怎麼去"), ("點用", "怎麼用"),
    ("點辦", "怎麼辦"), ("點買", "怎麼買"), ("點退", "怎麼退"), ("點搞", "怎麼弄"), ("點先", "怎樣才"),
    ("乜嘢", "什麼"), ("咩嘢", "什麼"), ("幾多", "多少"), ("幾耐", "多久"), ("幾時", "什麼時候"),
    ("邊度", "哪裡"), ("邊個", "哪個"), ("邊間", "哪間"), ("邊啲", "哪些"), ("而家", "現在"),
    ("呢度", "這裡"), ("嗰度", "那裡"), ("呢個", "這個"), ("呢間", "這間"), ("呢啲", "這些"), ("嗰個", "那個"),
    ("佢哋", "他們"), ("我哋", "我們"), ("你哋", "你們"), ("唔該", "請"),
    ("咩", "什麼"), ("冇", "沒有"), ("唔", "不"), ("咗", "了"), ("嘅", "的"), ("喺", "在"), ("佢", "他"),
    ("俾", "給"), ("畀", "給"), ("啲", "些"), ("嘢", "東西"), ("睇", "看"), ("搵", "找"), ("揾", "找"),
    ("嚟", "來"), ("攞", "拿"), ("啱", "對"), ("嗰", "那"),
)
_CONTEXTUAL: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<!關)係"), "是"),  # 關係 (relationship) is written Chinese
    (re.compile(r"仲(?![裁介])"), "還"),  # 仲裁, 仲介 are written Chinese
    # 咁/噉 opening a question means "then, so" (咁深圳灣呢？); inside one, "so, this" (咁貴, 咁樣).
    (re.compile(r"^([\s「『\"']*)[咁噉]"), r"\1那"),
    (re.compile(r"[咁噉]樣"), "這樣"),
    (re.compile(r"[咁噉]"), "這麼"),
    (re.compile(r"[喎㗎囉嘛]"), ""),  # sentence-final particles carry tone, not content
)
# Characters that only colloquial Cantonese uses: without one, the question is left exactly as typed.
_MARKERS = re.compile(r"[唔咗嘅係喺冇佢啲嘢睇搵揾咁噉嚟攞啱嗰俾畀咩乜邊幾點呢仲哋喎㗎囉]")


def to_written(text: str) -> str:
    """``text`` with colloquial Cantonese words replaced by their written-Chinese equivalents (Traditional script)."""
    if not _MARKERS.search(text):
        return text
    for spoken, written in _WORDS:
        text = text.replace(spoken, written)
    for pattern, written in _CONTEXTUAL:
        text = pattern.sub(written, text)
    return text
