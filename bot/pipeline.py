"""``Bot``: the whole path from a question to an answer in a few readable lines."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from .answer import Context, CuratedAnswerer
from .checks.chat import ChatCheck, check_question, with_check
from .clean import clean_query, clean_turns
from .clock import today
from .compose import compose
from .config import Settings
from .corpus import load_cards
from .embed import Embedder, load_embedder
from .expiry import with_expiry
from .guard import asks_to_evade, looks_like_injection
from .hotswap import IndexWatcher
from .index import StoredIndex, load_index
from .lang import detect
from .messages import message
from .query import Ask, Query, for_retrieval, language, understand
from .retrieve import HybridRetriever, Mode
from .rules import RuleBook, load_rules
from .schema import LANGUAGES, Answer, AnswerPart, Card, Hit

RETRIEVE_K = 8  # hits an answerer sees: the best card, a rival for the decline rule, a second topic
PLAN_K = 2  # plan measures searched for the "from the plan" line


def _retriever(index: StoredIndex, embedder: Embedder, s: Settings) -> HybridRetriever:
    """The retriever as configured: made at load and again for each rebuilt index."""
    return HybridRetriever.from_settings(index, embedder, s)


def _answerer(cards: dict[str, Card], s: Settings) -> CuratedAnswerer:
    return CuratedAnswerer.from_settings(cards, s)


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
        return language(question, [t for t in history if isinstance(t, str)], self._lexicon)

    def understand(self, text: str, history: Sequence[str] = (), lang: str | None = None) -> Query:
        """The message as one typed value (``query/``): language, follow-up, asks, background. ``text`` and
        ``history`` are already cleaned and guarded."""
        return understand(text, history, lang, lexicon=self._lexicon, restore=self._restore)

    def _lexicon(self, text: str) -> str | None:
        return self.retriever.language_lexicon.vote(text)  # built on first use, once per index

    def _restore(self, text: str) -> str:
        return self.retriever.vietnamese_diacritics.restore(text)  # built on first use, once per index

    def context(self, question: str, history: Sequence[object] = (), lang: str | None = None,
                mode: Mode = "hybrid", k: int = RETRIEVE_K) -> Context:
        """Retrieval for a question: cleaned, language decided, follow-ups resolved."""
        text = clean_query(question, self.settings.max_query_chars)
        _check_lang(lang)
        self.refresh()
        return self._retrieve(self.understand(text, self.turns(history), lang), mode, k)

    def _retrieve(self, query: Query, mode: Mode = "hybrid", k: int = RETRIEVE_K) -> Context:
        """Retrieval for the whole message (a plain question, or the message read as one)."""
        earlier = query.previous and for_retrieval(query.previous, query.lang, self._restore)
        hits = self.retriever.search(query.search, k=k, mode=mode, lang=query.lang, context=earlier)
        plan_hits = self.retriever.search(query.search, k=PLAN_K, mode=mode, lang=query.lang, kinds=("plan",),
                                          context=earlier)
        return Context(query.text, query.lang, tuple(hits), tuple(plan_hits), query.previous, today(self.settings))

    def _retrieve_ask(self, query: Query, ask: Ask) -> Context:
        """Retrieval for one ask of a message: its own words, ranked with the background when it leans on it."""
        hits = self.retriever.search(ask.search, k=RETRIEVE_K, lang=query.lang, context=ask.context)
        return Context(ask.text, query.lang, tuple(hits), (), None, today(self.settings))

    def ask(self, question: str, history: Sequence[object] = (), lang: str | None = None) -> Answer:
        """Answer in the asker's language and script, with citations, a valid-as-of date and an escalation route;
        or decline politely. Raises ``BadInput`` for empty or over-long input."""
        text = clean_query(question, self.settings.max_query_chars)
        _check_lang(lang)
        history = self.turns(history)
        self.refresh()
        query = self.understand(text, history, lang)
        if looks_like_injection(text):
            return self.curated.decline(query.lang, "decline-instructions",
                                        reason="instructions in the question are treated as data")
        if query.multi and self.settings.split_asks and not asks_to_evade(text):
            return self._compose(query)
        ctx = self._retrieve(query)
        if asks_to_evade(text):
            decline_card = next((h.chunk.doc_id for h in ctx.hits if self.curated.is_decline(h)),
                                "decline-border-circumvention")
            return self.curated.decline(ctx.lang, decline_card, reason="asks how to get around a rule")
        answer = self.curated.answer(ctx)
        if self.llm is not None and not answer.refused:
            answer = self.llm.answer(ctx, fallback=answer)
            # Generated text may rest on an expired card too: it gets the same notice (expiry.py).
            answer = with_expiry(answer, [c for cid in answer.card_ids if (c := self.cards.get(cid))],
                                 ctx.today or today(self.settings))
        answer = replace(answer, parts=(AnswerPart(text, answer.card_ids, None, answer.refused),))
        if query.foreign and not answer.refused:
            answer = replace(answer, text=f"{message('answers_in_english', 'en')}\n\n{answer.text}")
        if answer.refused and answer.card_ids:
            return answer  # a decline card (out of scope, evasion) is never turned into a computation
        check = self.check(ctx, answer)
        return with_check(answer, check, self.rules) if check else answer

    def _compose(self, query: Query) -> Answer:
        """A message with several asks: one part per distinct ask (``compose.py``)."""
        on = today(self.settings)

        def check(text: str, topic: str | None, only: str | None) -> ChatCheck | None:
            return check_question(text, query.lang, topic, self.rules, on, only)

        answer = compose(query, lambda ask: self._retrieve_ask(query, ask), self.curated, check, self.rules)
        return with_expiry(answer, [c for cid in answer.card_ids if (c := self.cards.get(cid))], on)

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
        return check_question(ctx.question, ctx.lang, topic, self.rules, ctx.today or today(self.settings))


def _check_lang(lang: str | None) -> None:
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGUAGES)}")
