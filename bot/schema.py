"""Frozen data types passed between stages. No stage hands a bare tuple or a framework object to another."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Kind = Literal["plan", "guide", "card"]

LANGUAGES: tuple[str, ...] = (
    "en", "zh-Hans", "zh-Hant", "ja", "ko", "ru", "fr", "es", "ar", "de", "pt", "it", "vi", "th", "id",
)
TOPICS: tuple[str, ...] = ("tax_refund", "transit", "entry", "payment", "services", "plan", "decline")
# Retrieval modes: ``hybrid`` fuses dense, lexical and the card classifier; the others are its ablations.
Mode = Literal["hybrid", "dense+lexical", "dense", "lexical"]
MODES: tuple[Mode, ...] = ("hybrid", "dense+lexical", "dense", "lexical")
ESCALATIONS: tuple[str, ...] = ("12367", "12345", "window")


@dataclass(frozen=True)
class Source:
    title: str
    url: str = ""


@dataclass(frozen=True)
class Document:
    """One retrievable text before chunking: a plan measure, a guide file, or one language of a card."""

    doc_id: str
    kind: Kind
    lang: str
    title: str
    text: str
    topic: str
    sources: tuple[Source, ...] = ()
    valid_as_of: str = ""
    measures: tuple[int, ...] = ()
    path: str = ""
    # Extra text that helps retrieval but is not shown (a card's example questions).
    search_hint: str = ""
    # Optional dates from the sources (see ``Card``); a guide's come from its front matter.
    valid_from: date | None = None
    valid_until: date | None = None
    review_by: date | None = None


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    # Chunks of one unit are alternatives of each other (a card's languages, a measure's two scripts):
    # retrieval returns each unit once.
    unit_id: str
    kind: Kind
    lang: str
    title: str
    text: str
    embed_text: str
    topic: str
    content_hash: str
    sources: tuple[Source, ...] = ()
    valid_as_of: str = ""
    measures: tuple[int, ...] = ()

    @property
    def url(self) -> str:
        return next((s.url for s in self.sources if s.url), "")


@dataclass(frozen=True)
class Card:
    card_id: str
    topic: str
    kind: Literal["answer", "decline"]
    questions: dict[str, tuple[str, ...]]
    answer: dict[str, str]
    sources: tuple[Source, ...]
    valid_as_of: str
    measures: tuple[int, ...] = ()
    escalation: str = ""
    related: tuple[str, ...] = ()
    path: str = ""
    # The passports the card speaks to (ISO 3166-1 alpha-2, e.g. ("US",) for the US citizens' card); empty: any.
    # A visitor who names another passport is not answered from it ("brasileiro entra sem visto?" drew the US card).
    nationalities: tuple[str, ...] = ()
    # Optional dates from the sources: the facts apply from ``valid_from`` to ``valid_until`` (inclusive; e.g. a
    # scheme "announced until 31 Dec 2026"); ``review_by`` is when a person should check the card again. Past
    # ``valid_until`` the card is still answered, with an expiry notice (``expiry.py``).
    valid_from: date | None = None
    valid_until: date | None = None
    review_by: date | None = None


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    rank: int
    dense_rank: int | None = None
    lexical_rank: int | None = None
    # Cosine similarity of the unit's best chunk to the query: an absolute measure, unlike the fused score.
    dense_score: float | None = None
    # The card classifier's probability for this card (None for passages, or an index without a classifier).
    card_probability: float | None = None


@dataclass(frozen=True)
class Citation:
    title: str
    url: str
    doc_id: str
    chunk_id: str
    measure: int | None = None


@dataclass(frozen=True)
class AnswerPart:
    """What answered one ask of a message: its cards, the checker that computed for it, or a one-line decline."""

    ask: str
    card_ids: tuple[str, ...] = ()
    checker: str | None = None
    refused: bool = False


@dataclass(frozen=True)
class Answer:
    text: str
    language: str
    citations: tuple[Citation, ...] = ()
    valid_as_of: str = ""
    refused: bool = False
    card_ids: tuple[str, ...] = ()
    escalation: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    # A rule checker's computation (``CheckResult.as_json``) when the question carried its inputs.
    check: Mapping[str, object] | None = None
    # One part per distinct ask of the message, in the order asked (one part for a plain question).
    parts: tuple[AnswerPart, ...] = ()

    def as_json(self) -> dict[str, object]:
        """The one JSON shape of an answer, shared by the CLI (`ask --json/--jsonl`) and the web API (`/ask`)."""
        return {
            "answer": self.text, "language": self.language, "refused": self.refused,
            "citations": [{"title": c.title, "url": c.url, "doc_id": c.doc_id, "chunk_id": c.chunk_id,
                           "measure": c.measure} for c in self.citations],
            "valid_as_of": self.valid_as_of, "card_ids": list(self.card_ids), "escalation": self.escalation,
            "notes": list(self.notes), "check": dict(self.check) if self.check is not None else None,
            "parts": [{"ask": p.ask, "card_ids": list(p.card_ids), "checker": p.checker, "refused": p.refused}
                      for p in self.parts],
        }
