"""``Bot``: the whole path from a question to an answer in a few readable lines."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from .answer import Context, CuratedAnswerer
from .cantonese import to_written
from .checks.chat import ChatCheck, check_question, with_check
from .checks.transit import CHINA
from .clean import clean_query, clean_turns
from .config import Settings
from .corpus import load_cards
from .embed import Embedder, load_embedder
from .followup import follow_up_of, previous_user_turn
from .guard import asks_to_evade, looks_like_injection
from .hotswap import IndexWatcher
from .index import StoredIndex, load_index
from .lang import LangGuess, detect
from .retrieve import HybridRetriever, Mode
from .rules import RuleBook, load_rules
from .schema import LANGUAGES, Answer, Card, Hit
from .vi_diacritics import has_accents


def _retriever(index: StoredIndex, embedder: Embedder, s: Settings) -> HybridRetriever:
    """The retriever as configured: made at load and again for each rebuilt index."""
    return HybridRetriever(index, embedder, s.candidates, s.rrf_k, s.lexical_weight, s.classifier_weight)


def _answerer(cards: dict[str, Card], s: Settings) -> CuratedAnswerer:
    return CuratedAnswerer(cards, s.min_dense_score, s.decline_margin, s.decline_odds)


@dataclass
class Bot:
    settings: Settings
    embedder: Embedder
    retriever: HybridRetriever
    cards: dict[str, Card]
    curated: CuratedAnswerer
    llm: Any = None  # an ``LLMAnswerer`` when a backend is configured
    watcher: IndexWatcher | None = None  # notices a rebuilt index (see ``refresh``)

    @classmethod
    def load(cls, settings: Settings | None = None, embedder: Embedder | None = None) -> Bot:
        """Load the model and the verified index once; every question after that reuses them."""
        settings = settings or Settings.from_env()
        embedder = embedder or load_embedder(settings)
        index = load_index(settings.index_dir, embedder.model_id)
        retriever = _retriever(index, embedder, settings)
        cards = load_cards(settings.corpus_dir)
        llm = None
        if settings.llm_backend != "none":
            from .llm import LLMAnswerer

            llm = LLMAnswerer.from_settings(settings)
        curated = _answerer(cards, settings)
        watcher = IndexWatcher(settings.index_dir, index.path.name, embedder.model_id, settings.reload_check_seconds)
        return cls(settings, embedder, retriever, cards, curated, llm, watcher=watcher)

    def refresh(self) -> None:
        """Serve the newest index if ``python -m bot index`` rebuilt it while we run (``hotswap.py``). Cheap: at
        most one read of ``index/CURRENT`` per ``reload_check_seconds``. A broken new build is logged and ignored."""
        if self.watcher is None:
            return

        def swap(index: StoredIndex) -> None:
            # The build was made from the corpus as it is now: its cards' answer texts go with it. Everything is
            # built before anything is assigned, so a failure (e.g. a card file mid-edit) leaves the old set serving.
            cards = load_cards(self.settings.corpus_dir)
            retriever = _retriever(index, self.embedder, self.settings)
            self.cards, self.curated = cards, _answerer(cards, self.settings)
            self.retriever = retriever  # one reference: a request already running keeps the object it read

        self.watcher.poll(swap)

    def search(self, query: str, k: int | None = None, mode: Mode = "hybrid", lang: str | None = None,
               topics: Collection[str] | None = None, kinds: Collection[str] | None = None) -> list[Hit]:
        self.refresh()
        text = clean_query(query, self.settings.max_query_chars)
        return self.retriever.search(text, k or self.settings.top_k, mode, lang or detect(text).lang, topics, kinds)

    def language(self, question: str, history: Sequence[object] = ()) -> str:
        """The question's language and script; short or ambiguous ones take the conversation's, then English."""
        guess = detect(question)
        if guess.confident:
            return guess.lang
        previous = previous_user_turn(history)
        context: LangGuess | None = detect(previous) if previous else None
        if context and context.confident and (not guess.lang.startswith("zh") or context.lang.startswith("zh")):
            return context.lang
        if guess.lang.startswith("zh"):
            return guess.lang
        # A few Latin-script words: the corpus's own vocabulary decides ("número ambulancia" is Spanish), else English.
        return self.retriever.language_lexicon.vote(question) or "en"

    def context(self, question: str, history: Sequence[object] = (), lang: str | None = None,
                mode: Mode = "hybrid", k: int = 8) -> Context:
        """Retrieval for a question: cleaned, language decided, follow-ups resolved."""
        text = clean_query(question, self.settings.max_query_chars)
        _check_lang(lang)
        return self._retrieve(text, self.turns(history), lang, mode, k)

    def _retrieve(self, text: str, history: list[str], lang: str | None, mode: Mode = "hybrid",
                  k: int = 8) -> Context:
        """``context`` for a question and turns that are already cleaned (``ask`` has done it once)."""
        self.refresh()
        lang = lang or self.language(text, history)
        previous = follow_up_of(text, history)
        query, earlier = self._for_retrieval(text, lang), previous and self._for_retrieval(previous, lang)
        hits = self.retriever.search(query, k=k, mode=mode, lang=lang, context=earlier)
        plan_hits = self.retriever.search(query, k=2, mode=mode, lang=lang, kinds=("plan",), context=earlier)
        return Context(text, lang, tuple(hits), tuple(plan_hits), previous)

    def _for_retrieval(self, text: str, lang: str) -> str:
        """The question in the register the embedding model reads best; the answer still quotes what was typed.
        Vietnamese typed without a single accent gets them back ("hoan thue" -> "hoàn thuế", ``vi_diacritics.py``);
        colloquial Cantonese becomes written Chinese ("使唔使" -> "需不需要", ``cantonese.py``)."""
        if lang == "vi" and not has_accents(text):
            return self.retriever.vietnamese_diacritics.restore(text)
        if lang == "zh-Hant":
            return to_written(text)
        return text

    def ask(self, question: str, history: Sequence[object] = (), lang: str | None = None) -> Answer:
        """Answer in the asker's language and script, with citations, a valid-as-of date and an escalation route;
        or decline politely. Raises ``BadInput`` for empty or over-long input."""
        text = clean_query(question, self.settings.max_query_chars)
        _check_lang(lang)
        history = self.turns(history)
        if looks_like_injection(text):
            return self.curated.decline(lang or self.language(text, history), "decline-instructions",
                                        reason="instructions in the question are treated as data")
        ctx = self._retrieve(text, history, lang)
        if asks_to_evade(text):
            decline_card = next((h.chunk.doc_id for h in ctx.hits if self.curated.is_decline(h)),
                                "decline-border-circumvention")
            return self.curated.decline(ctx.lang, decline_card, reason="asks how to get around a rule")
        answer = self.curated.answer(ctx)
        if self.llm is not None and not answer.refused:
            answer = self.llm.answer(ctx, fallback=answer)
        if answer.refused and answer.card_ids:
            return answer  # a decline card (out of scope, evasion) is never turned into a computation
        check = self.check(ctx, answer)
        return with_check(answer, check, self.rules) if check else answer

    def turns(self, history: Sequence[object]) -> list[str]:
        """Earlier turns fit to reuse: cleaned and capped like a question, and without the ones the guards refuse.
        History comes from the client, so an injected or megabyte turn must not reach the answer or the model."""
        return [t for t in clean_turns(history, self.settings.max_query_chars)
                if not looks_like_injection(t) and not asks_to_evade(t)]

    @cached_property
    def rules(self) -> RuleBook:
        """Read on first use, then kept: every checked question reuses the same validated tables."""
        return load_rules(self.settings.corpus_dir)

    def check(self, ctx: Context, answer: Answer) -> ChatCheck | None:
        """The rule checker the question calls for (``checks/chat.py``), with "today" in China time."""
        topic = next((c.topic for cid in answer.card_ids if (c := self.cards.get(cid))), None)
        if topic is None and ctx.hits:
            topic = ctx.hits[0].chunk.topic
        return check_question(ctx.question, ctx.lang, topic, self.rules, datetime.now(CHINA).date())


def _check_lang(lang: str | None) -> None:
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGUAGES)}")
