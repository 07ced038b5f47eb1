"""Put the accents back on Vietnamese typed without them ("hoan thue" -> "hoàn thuế") before it is embedded.

Why: many Vietnamese visitors type on a keyboard without a Vietnamese layout, so the tone marks are missing. BM25
folds accents and still matches, but the embedding model (and the card classifier over its vectors) reads "hoan
thue" as a different, rarer string and ranks poorly. No diacritic-restoration model ships on PyPI; the corpus itself
holds tens of thousands of accented Vietnamese syllables (the cards' answers and example questions), which is
enough for the classic approach: for each unaccented syllable, the accented forms the corpus uses for it, chosen
by a syllable bigram model with a Viterbi search. Syllables the corpus never uses stay as typed.

Used only when the question is Vietnamese and carries no Vietnamese-specific letter at all (``Bot._retrieve``): a
question that has some accents was typed on a Vietnamese keyboard and is left alone.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from bot.lang import fold

# Letters only Vietnamese writing uses among our Latin-script languages' letters (plus the accented vowels it shares
# with French/Portuguese, which are enough to show that the keyboard types accents).
_ACCENTED = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+")
_START = "<s>"
# Stupid-backoff weight (Brants et al. 2007): a bigram never seen falls back to the unigram, discounted.
_BACKOFF = 0.4


def has_accents(text: str) -> bool:
    return _ACCENTED.search(text) is not None


@dataclass(frozen=True)
class DiacriticRestorer:
    forms: dict[str, tuple[str, ...]]  # folded syllable -> accented forms the corpus uses for it
    unigrams: dict[str, int]  # lower-case accented syllable -> count
    bigrams: dict[tuple[str, str], int]  # (previous, syllable) -> count; previous is "<s>" at a sentence start
    total: int

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> DiacriticRestorer:
        unigrams: Counter[str] = Counter()
        bigrams: Counter[tuple[str, str]] = Counter()
        forms: defaultdict[str, set[str]] = defaultdict(set)
        for text in texts:
            for sentence in re.split(r"[.!?\n;:]+", text):
                previous = _START
                unigrams[_START] += 1
                for word in _WORD.findall(sentence.lower()):
                    unigrams[word] += 1
                    bigrams[(previous, word)] += 1
                    forms[fold(word)].add(word)
                    previous = word
        return cls({k: tuple(sorted(v)) for k, v in forms.items()}, dict(unigrams), dict(bigrams),
                   max(1, sum(unigrams.values()) - unigrams[_START]))  # 1: an empty corpus restores nothing

    def _score(self, previous: str, word: str) -> float:
        """log P(word | previous), stupid backoff to the unigram; only relative values matter to the search."""
        pair = self.bigrams.get((previous, word), 0)
        if pair:
            return math.log(pair / self.unigrams.get(previous, self.total))
        return math.log(_BACKOFF * self.unigrams.get(word, 0.5) / self.total)

    def restore(self, text: str) -> str:
        """``text`` with every syllable the corpus knows replaced by its most likely accented form in context."""
        words = list(_WORD.finditer(text))
        if not words:
            return text
        candidates = [self.forms.get(fold(m.group()), ()) or (m.group().lower(),) for m in words]
        # Viterbi over the candidates: best[i][form] = (log probability, back-pointer)
        best: list[dict[str, tuple[float, str]]] = [
            {form: (self._score(_START, form), _START) for form in candidates[0]}]
        for options in candidates[1:]:
            column = {}
            for form in options:
                column[form] = max(
                    ((score + self._score(previous, form), previous) for previous, (score, _) in best[-1].items()),
                    key=lambda item: item[0])
            best.append(column)
        form = max(best[-1], key=lambda f: best[-1][f][0])
        chosen = [form]
        for column in reversed(best[1:]):
            form = column[form][1]
            chosen.append(form)
        chosen.reverse()
        pieces, end = [], 0
        for match, form in zip(words, chosen, strict=True):
            typed = match.group()
            pieces.append(text[end:match.start()])
            # Keep what the visitor typed where nothing changes ("ATM", "Visa") or the corpus does not know the
            # syllable; keep their capitals otherwise.
            if form == typed.lower() or fold(form) != fold(typed):
                pieces.append(typed)
            else:
                pieces.append(form.capitalize() if typed[:1].isupper() else form)
            end = match.end()
        pieces.append(text[end:])
        return "".join(pieces)
