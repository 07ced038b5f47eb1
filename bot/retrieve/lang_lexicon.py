"""Which language is a short Latin-script question in? Ask the corpus: words that only one language's cards use.

Why: on two or three words ("número ambulancia", "Tax Free Mindestbetrag", "hoan thue") py3langid is not sure, and
the fallback used to be English, so the visitor got an English answer. Our cards hold about 10,000 example
questions and answers in each Latin-script language; a word that appears in the cards of exactly one of them
("ambulancia", "mindestbetrag", "thue" once accents are folded) is strong evidence for that language. Only used when
the detector is unsure and the conversation gives no language (``Bot.language``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.lang import tokenize
from bot.schema import Chunk

# Languages written in Latin script (the others are told apart by script in ``lang.detect``).
LATIN = frozenset({"en", "fr", "es", "de", "pt", "it", "vi", "id"})
MIN_WORD = 3  # "de", "la", "ko" are shared or ambiguous across languages


@dataclass(frozen=True)
class LanguageLexicon:
    owner: dict[str, str]  # folded word -> the one Latin-script language whose cards use it

    @classmethod
    def from_chunks(cls, chunks: Sequence[Chunk], tokens: Iterable[Sequence[str]]) -> LanguageLexicon:
        languages: dict[str, set[str]] = {}
        for chunk, words in zip(chunks, tokens, strict=True):
            if chunk.kind != "card" or chunk.lang not in LATIN:
                continue
            for word in words:
                if len(word) >= MIN_WORD and not word.isdigit():
                    languages.setdefault(word, set()).add(chunk.lang)
        return cls({word: next(iter(langs)) for word, langs in languages.items() if len(langs) == 1})

    def vote(self, text: str) -> str | None:
        """The language most of the text's own words point to, or None when none do or two tie."""
        counts = Counter(self.owner[w] for w in set(tokenize(text)) if w in self.owner)
        ranked = counts.most_common(2)
        if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
            return None
        return ranked[0][0]
