"""Short Latin-script questions: the corpus's own words decide the language when the detector is unsure."""

from __future__ import annotations

from bot.lang import tokenize
from bot.retrieve.lang_lexicon import LanguageLexicon
from bot.schema import Chunk
from bot.serve.pipeline import Bot


def _card(lang: str, text: str, kind: str = "card") -> tuple[Chunk, list[str]]:
    chunk = Chunk(chunk_id=f"c:{lang}:{text[:8]}", doc_id="c", unit_id="c", kind=kind, lang=lang, title="", text=text,
                  embed_text=text, topic="payment", content_hash=text)
    return chunk, tokenize(text)


def _lexicon(*rows: tuple[Chunk, list[str]]) -> LanguageLexicon:
    return LanguageLexicon.from_chunks([c for c, _ in rows], [t for _, t in rows])


def test_a_word_only_one_language_uses_decides():
    lexicon = _lexicon(_card("es", "número de ambulancia en Shenzhen"), _card("de", "Mindestbetrag für Tax Free"),
                       _card("en", "tax free minimum amount"), _card("vi", "hoàn thuế ở Thâm Quyến"))
    assert lexicon.vote("Tax Free Mindestbetrag") == "de"
    assert lexicon.vote("hoan thue") == "vi"  # accents folded on both sides
    assert lexicon.vote("ambulancia") == "es"


def test_shared_words_ties_and_unknown_words_decide_nothing():
    lexicon = _lexicon(_card("es", "ambulancia rápida"), _card("pt", "ambulância rápida"), _card("fr", "signal typhon"),
                       _card("it", "segnale tifone"))
    assert lexicon.vote("ambulancia") is None  # es and pt both use it once accents are folded
    assert lexicon.vote("typhon tifone") is None  # one word each: a tie
    assert lexicon.vote("xyzzy") is None


def test_only_latin_script_cards_and_real_words_count():
    lexicon = _lexicon(_card("ja", "ATM 手数料"), _card("en", "ok 2025"), _card("fr", "guide", kind="guide"))
    assert lexicon.owner == {}


def test_unsure_short_questions_get_the_corpus_vote_and_english_otherwise(built):
    bot = Bot.load(built)
    word = next(w for w, lang in bot.retriever.language_lexicon.owner.items() if lang == "de" and w.isalpha())
    assert bot.language(word) == "de"
    assert bot.language("ATM") == "en"
    # the conversation's language still comes first
    assert bot.language(word, ["Quel est le montant minimum pour obtenir la détaxe en Chine ?"]) == "fr"
