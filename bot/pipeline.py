"""``Bot``: the whole path from a question to an answer in a few readable lines."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from .answer import Context, CuratedAnswerer
from .clean import clean_query
from .config import Settings
from .corpus import load_cards
from .embed import Embedder, load_embedder
from .followup import follow_up_of, previous_user_turn
from .guard import asks_to_evade, looks_like_injection
from .index import load_index
from .lang import LangGuess, detect
from .retrieve import HybridRetriever, Mode
from .schema import LANGUAGES, Answer, Card, Hit


@dataclass
class Bot:
    settings: Settings
    embedder: Embedder
    retriever: HybridRetriever
    cards: dict[str, Card]
    curated: CuratedAnswerer
    llm: Any = None  # an ``LLMAnswerer`` when a backend is configured

    @classmethod
    def load(cls, settings: Settings | None = None, embedder: Embedder | None = None) -> Bot:
        """Load the model and the verified index once; every question after that reuses them."""
        settings = settings or Settings.from_env()
        embedder = embedder or load_embedder(settings)
        index = load_index(settings.index_dir, embedder.model_id)
        retriever = HybridRetriever(index, embedder, settings.candidates, settings.rrf_k, settings.lexical_weight)
        cards = load_cards(settings.corpus_dir)
        llm = None
        if settings.llm_backend != "none":
            from .llm import LLMAnswerer

            llm = LLMAnswerer.from_settings(settings)
        curated = CuratedAnswerer(cards, settings.min_dense_score, settings.decline_margin)
        return cls(settings, embedder, retriever, cards, curated, llm)

    def search(self, query: str, k: int | None = None, mode: Mode = "hybrid", lang: str | None = None,
               topics: Collection[str] | None = None, kinds: Collection[str] | None = None) -> list[Hit]:
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
        return guess.lang if guess.lang.startswith("zh") else "en"

    def context(self, question: str, history: Sequence[object] = (), lang: str | None = None,
                mode: Mode = "hybrid", k: int = 8) -> Context:
        """Retrieval for a question: cleaned, language decided, follow-ups resolved."""
        text = clean_query(question, self.settings.max_query_chars)
        if lang is not None and lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGUAGES)}")
        lang = lang or self.language(text, history)
        previous = follow_up_of(text, history)
        hits = self.retriever.search(text, k=k, mode=mode, lang=lang, context=previous)
        plan_hits = self.retriever.search(text, k=2, mode=mode, lang=lang, kinds=("plan",), context=previous)
        return Context(text, lang, tuple(hits), tuple(plan_hits), previous)

    def ask(self, question: str, history: Sequence[object] = (), lang: str | None = None) -> Answer:
        """Answer in the asker's language and script, with citations, a valid-as-of date and an escalation route;
        or decline politely. Raises ``BadInput`` for empty or over-long input."""
        text = clean_query(question, self.settings.max_query_chars)
        if looks_like_injection(text):
            return self.curated.decline(lang or self.language(text, history), "decline-instructions",
                                        reason="instructions in the question are treated as data")
        ctx = self.context(text, history, lang)
        if asks_to_evade(text):
            decline_card = next((h.chunk.doc_id for h in ctx.hits if self.curated.is_decline(h)),
                                "decline-border-circumvention")
            return self.curated.decline(ctx.lang, decline_card, reason="asks how to get around a rule")
        answer = self.curated.answer(ctx)
        if self.llm is not None and not answer.refused:
            return self.llm.answer(ctx, fallback=answer)
        return answer
