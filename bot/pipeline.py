"""``Bot``: the whole path from a question to hits (and, later, to an answer) in a few readable lines."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from .clean import clean_query
from .config import Settings
from .corpus import load_cards
from .embed import Embedder, load_embedder
from .index import load_index
from .lang import detect
from .retrieve import HybridRetriever, Mode
from .schema import Card, Hit


@dataclass
class Bot:
    settings: Settings
    embedder: Embedder
    retriever: HybridRetriever
    cards: dict[str, Card]

    @classmethod
    def load(cls, settings: Settings | None = None, embedder: Embedder | None = None) -> Bot:
        """Load the model and the verified index once; every question after that reuses them."""
        settings = settings or Settings.from_env()
        embedder = embedder or load_embedder(settings)
        index = load_index(settings.index_dir, embedder.model_id)
        retriever = HybridRetriever(index, embedder, settings.candidates, settings.rrf_k)
        return cls(settings, embedder, retriever, load_cards(settings.corpus_dir))

    def search(self, query: str, k: int | None = None, mode: Mode = "hybrid", lang: str | None = None,
               topics: Collection[str] | None = None, kinds: Collection[str] | None = None) -> list[Hit]:
        text = clean_query(query, self.settings.max_query_chars)
        return self.retriever.search(text, k or self.settings.top_k, mode, lang or detect(text).lang, topics, kinds)
