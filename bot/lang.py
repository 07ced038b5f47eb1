"""Language and script detection, Traditional/Simplified folding, and a tokenizer for BM25 that works beyond English.

Detection is script first (kana -> ja, hangul -> ko, Thai, Arabic, Cyrillic -> ru), then Han text is split into
zh-Hant / zh-Hans by an OpenCC round trip (plus Cantonese particles, which only Traditional-script writers use), and
Latin text goes to py3langid restricted to our Latin-script languages.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import jieba
import opencc
import py3langid.langid as langid

LATIN_LANGS = ["en", "fr", "es", "de", "pt", "it", "vi", "id"]
# Below this py3langid probability a Latin-script guess is "unsure": callers fall back to the conversation language.
CONFIDENT = 0.5
SHORT_NON_ENGLISH = 0.9

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_KANA = r"\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"
_HANGUL = r"\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"
_THAI = r"\u0e00-\u0e7f"
_ARABIC = r"\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff"
_CYRILLIC = r"\u0400-\u04ff"

_RE_KANA = re.compile(f"[{_KANA}]")
_RE_HANGUL = re.compile(f"[{_HANGUL}]")
_RE_THAI = re.compile(f"[{_THAI}]")
_RE_ARABIC = re.compile(f"[{_ARABIC}]")
_RE_CYRILLIC = re.compile(f"[{_CYRILLIC}]")
_RE_HAN = re.compile(f"[{_HAN}]")
_RE_LATIN_WORD = re.compile(r"[A-Za-zÀ-ɏḀ-ỿ]+")
# Written Cantonese particles and words: their presence means a Hong Kong / Macao writer, who writes Traditional.
_CANTONESE = re.compile("[嘅咗唔佢冇喺嗰啲咁乜嘢噉揾搵]|係咪|點樣|邊度|幾多錢|可唔可以|俾")


@dataclass(frozen=True)
class LangGuess:
    lang: str
    confident: bool


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


@lru_cache(maxsize=1)
def _latin_identifier() -> langid.LanguageIdentifier:
    ident = langid.LanguageIdentifier.from_modelpath(langid.MODEL_DIR / langid.MODEL_FILE, norm_probs=True)
    ident.set_languages(LATIN_LANGS)
    return ident


@lru_cache(maxsize=1)
def _any_identifier() -> langid.LanguageIdentifier:
    """py3langid over all its ~97 languages: only to tell that a message is in a language we do not serve."""
    return langid.LanguageIdentifier.from_modelpath(langid.MODEL_DIR / langid.MODEL_FILE, norm_probs=True)


# Scripts none of our languages is written in (Devanagari, Bengali, Hebrew, Greek, Georgian, Armenian, Tamil …).
_RE_OTHER_SCRIPT = re.compile(r"[\u0370-\u03ff\u0530-\u058f\u0590-\u05ff\u0900-\u0dff\u10a0-\u10ff\u1200-\u137f]")
# Latin-script languages close to ours that py3langid confuses with them at low confidence: believed only when sure.
UNSERVED_MIN_PROBABILITY = 0.9
UNSERVED_MIN_WORDS = 6


def unserved_language(text: str) -> str | None:
    """The language of a message written in none of our 15 (e.g. "pl", "tr", "hi"), else None. Such a message is
    answered in English with a note, never in a third language (a Polish question once got an Indonesian answer)."""
    if _RE_OTHER_SCRIPT.search(text) and not (_RE_HAN.search(text) or _RE_KANA.search(text) or _RE_THAI.search(text)):
        lang, _ = _any_identifier().classify(text)
        return lang if lang not in _OURS else "xx"
    if (_RE_HAN.search(text) or _RE_KANA.search(text) or _RE_HANGUL.search(text) or _RE_THAI.search(text)
            or _RE_ARABIC.search(text)):
        return None
    if len(_RE_LATIN_WORD.findall(text)) < UNSERVED_MIN_WORDS and not _RE_CYRILLIC.search(text):
        return None
    lang, prob = _any_identifier().classify(text)
    if lang in _OURS or prob < UNSERVED_MIN_PROBABILITY:
        return None
    return lang


_OURS = {"en", "zh", "ja", "ko", "ru", "fr", "es", "ar", "de", "pt", "it", "vi", "th", "id"}


# OpenCC only changes Han characters: text without any (most of what 13 of our 15 languages send) skips it. It was a
# tenth of a three-ask message's time, as ``fold`` reads each sentence many times (``python -m cProfile``, AMD EPYC).
_ANY_HAN = re.compile(f"[{_HAN}\U00020000-\U0002ffff]")


def to_simplified(text: str) -> str:
    return _t2s().convert(text) if _ANY_HAN.search(text) else text


def to_traditional(text: str) -> str:
    return _s2t().convert(text)


def chinese_script(text: str) -> LangGuess:
    """zh-Hant when the text holds Traditional-only characters or Cantonese; zh-Hans when it holds Simplified-only
    ones; unsure when every character is the same in both scripts (e.g. "机场" vs "機場" differ, "香港" does not)."""
    if _CANTONESE.search(text) or to_simplified(text) != text:
        return LangGuess("zh-Hant", True)
    if to_traditional(text) != text:
        return LangGuess("zh-Hans", True)
    return LangGuess("zh-Hans", False)


def detect(text: str) -> LangGuess:
    """Best guess of the language and script of ``text``; ``confident`` False means "use context if you have it"."""
    if _RE_KANA.search(text):
        return LangGuess("ja", True)
    if _RE_HANGUL.search(text):
        return LangGuess("ko", True)
    if _RE_THAI.search(text):
        return LangGuess("th", True)
    if _RE_ARABIC.search(text):
        return LangGuess("ar", True)
    han = len(_RE_HAN.findall(text))
    latin_words = len(_RE_LATIN_WORD.findall(text))
    # A Chinese sentence often carries brand names ("Alipay 怎么绑 Visa"); an English one may carry a place name in
    # characters ("Where is 罗湖?"). One Han character is roughly one word, so compare counts.
    if han and han >= latin_words:
        return chinese_script(text)
    if _RE_CYRILLIC.search(text):
        return LangGuess("ru", True)
    if not latin_words:
        return LangGuess("en", False)
    lang, prob = _latin_identifier().classify(text)
    # Short Latin-script queries are mostly English keywords ("huanggang open 24h??"); another language must win
    # clearly before a few words are believed to be it.
    if lang != "en" and latin_words <= 4 and prob < SHORT_NON_ENGLISH:
        return LangGuess(lang, False)
    return LangGuess(lang, prob >= CONFIDENT and len(text) >= 8)


# ---------------------------------------------------------------- folding and tokens for lexical search

_RUN = re.compile(
    f"(?P<han>[{_HAN}]+)|(?P<kana>[{_KANA}]+)|(?P<hangul>[{_HANGUL}]+)|(?P<thai>[{_THAI}]+)|(?P<word>\\w+)"
)
_ARABIC_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed]")
_ARABIC_ALEF = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه"})

jieba.setLogLevel(60)


@lru_cache(maxsize=4096)  # the same sentence is folded by every pattern that reads it
def fold(text: str) -> str:
    """Matching form: NFKC, case-folded, Traditional -> Simplified, Latin accents and Arabic vowel marks dropped.

    Visitors type "hoan thue" for "hoàn thuế" and "退稅" for "退税": both must meet the corpus."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = to_simplified(text)
    decomposed = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in decomposed if not (unicodedata.combining(ch) and ord(ch) < 0x0370))
    text = unicodedata.normalize("NFC", text).replace("đ", "d")
    return _ARABIC_DIACRITICS.sub("", text).translate(_ARABIC_ALEF)


def _ngrams(run: str, n: int) -> list[str]:
    if len(run) <= n:
        return [run]
    return [run[i : i + n] for i in range(len(run) - n + 1)]


def tokenize(text: str) -> list[str]:
    """Tokens for BM25 over folded text: jieba words plus character bigrams for Han (segmentation of a question and
    of a passage can disagree; bigrams still meet), bigrams for kana and hangul, trigrams for Thai (no spaces, and
    single Thai letters carry little), whole words elsewhere."""
    tokens: list[str] = []
    for match in _RUN.finditer(fold(text)):
        run = match.group()
        kind = match.lastgroup
        if kind == "han":
            tokens.extend(w for w in jieba.lcut(run) if w.strip())
            if len(run) > 2:
                tokens.extend(_ngrams(run, 2))
        elif kind in ("kana", "hangul"):
            tokens.extend(_ngrams(run, 2))
            if kind == "hangul" and len(run) > 2:
                tokens.append(run)
        elif kind == "thai":
            tokens.extend(_ngrams(run, 3))
        else:
            tokens.append(run)
    return tokens
