"""What the bot serves, as one immutable value: an index build and everything read from the same corpus state.

A request reads ``Bot.snapshot`` once and uses only that value to the end, so its retrieval, its card texts and its
rule tables always come from one corpus state. A rebuilt index (``hotswap.py``) becomes a new ``Snapshot``, built
completely (index, cards, answerer, rule tables) before one assignment replaces the old one: a failure while
building it (a card or rule file mid-edit) leaves the old snapshot serving, and a request already running keeps the
snapshot it started with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.answer.curated import CuratedAnswerer
from bot.build.corpus import load_cards
from bot.build.embed import Embedder
from bot.build.index import StoredIndex
from bot.checks.rules import RuleBook, load_rules
from bot.config import Settings
from bot.retrieve.hybrid import HybridRetriever
from bot.schema import Card


@dataclass(frozen=True)
class Snapshot:
    retriever: HybridRetriever  # over the index build below
    cards: Mapping[str, Card]  # read-only: the cards the build was made from (their answer texts go with it)
    curated: CuratedAnswerer
    rules: RuleBook  # the rule tables (corpus/rules/), read with the cards
    build_id: str  # the build's folder name in index/builds/, as index/CURRENT names it
    corpus_hash: str  # sha256 over the build's chunks (index manifest): which corpus state it was made from

    @classmethod
    def build(cls, index: StoredIndex, embedder: Embedder, settings: Settings) -> Snapshot:
        """Everything for one index build, from the corpus as it is now; raises (and builds nothing) on a bad file."""
        cards = load_cards(settings.corpus_dir)
        rules = load_rules(settings.corpus_dir)
        return cls(
            retriever=HybridRetriever.from_settings(index, embedder, settings),
            cards=MappingProxyType(cards),
            curated=CuratedAnswerer.from_settings(cards, settings),
            rules=rules,
            build_id=index.path.name,
            corpus_hash=str(index.manifest.get("corpus_hash", "")),
        )

    @property
    def index(self) -> StoredIndex:
        return self.retriever.index

    def health(self) -> dict[str, object]:
        """What is served, for ``python -m bot health`` and the page's footer."""
        manifest = self.index.manifest
        return {
            "build_id": self.build_id, "corpus_hash": self.corpus_hash, "built_at": manifest.get("built_at"),
            "model_id": manifest.get("model_id"), "chunks": len(self.retriever.chunks), "cards": len(self.cards),
            "rules": {"transit": self.rules.transit.meta.version, "refund": self.rules.refund.meta.version,
                      "payment": self.rules.payment.meta.version, "unilateral": self.rules.unilateral.meta.version},
        }
