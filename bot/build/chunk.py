"""Documents -> chunks. Cards and plan measures are one chunk each; guides split at their ``##`` sections, and a
section that is still too long splits at paragraph, then sentence ends (including CJK 。！？)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from bot.schema import Chunk, Document

MAX_CHARS = 1400
_SENTENCE_END = re.compile(r"(?<=[。！？!?.])\s*")


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def _split_long(text: str, limit: int = MAX_CHARS) -> list[str]:
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    pieces = [p for para in text.split("\n\n") for p in ([para] if len(para) <= limit else _SENTENCE_END.split(para))]
    for piece in pieces:
        if current and len(current) + len(piece) + 2 > limit:
            parts.append(current.strip())
            current = ""
        current += piece + ("\n\n" if "\n\n" in text else " ")
    if current.strip():
        parts.append(current.strip())
    return parts


def guide_sections(body: str) -> list[tuple[str, str]]:
    """(heading, text) for each ``## `` section; text before the first heading is dropped only if empty."""
    sections: list[tuple[str, str]] = []
    heading, lines = "", list[str]()
    for line in body.splitlines():
        if line.startswith("## "):
            if heading or "".join(lines).strip():
                sections.append((heading, "\n".join(lines).strip()))
            heading, lines = line[3:].strip(), []
        else:
            lines.append(line)
    sections.append((heading, "\n".join(lines).strip()))
    return [(h, t) for h, t in sections if t]


def _make(doc: Document, chunk_id: str, unit_id: str, title: str, text: str) -> Chunk:
    # The title and (for cards) the example questions are indexed with the text for BM25: they carry the words
    # visitors use. What the dense index embeds is ``embedding_input`` (example questions have vectors of their own).
    embed_text = "\n".join(p for p in (title, doc.search_hint, text) if p)
    return Chunk(
        chunk_id=chunk_id, doc_id=doc.doc_id, unit_id=unit_id, kind=doc.kind, lang=doc.lang, title=title,
        text=text, embed_text=embed_text, topic=doc.topic, content_hash=content_hash(embed_text),
        sources=doc.sources, valid_as_of=doc.valid_as_of, measures=doc.measures,
    )


def _question_chunk(doc: Document, n: int, question: str) -> Chunk:
    """A card's example question as its own vector: visitors ask questions, and a question is closest to another
    question (classic FAQ retrieval). It shows the card's answer, so whichever chunk wins, the answer is the same."""
    return Chunk(
        chunk_id=f"{doc.doc_id}:{doc.lang}:q{n}", doc_id=doc.doc_id, unit_id=doc.doc_id, kind=doc.kind,
        lang=doc.lang, title=doc.title, text=doc.text, embed_text=question, topic=doc.topic,
        content_hash=content_hash(question), sources=doc.sources, valid_as_of=doc.valid_as_of, measures=doc.measures,
    )


_QUESTION_ID = re.compile(r":q\d+$")


def is_example_question(chunk: Chunk) -> bool:
    """A card's example question (made by ``_question_chunk``), not its answer."""
    return chunk.kind == "card" and _QUESTION_ID.search(chunk.chunk_id) is not None


def embedding_input(chunk: Chunk) -> tuple[str, str]:
    """(side, text) that the dense index embeds for a chunk: one embedding per distinct text (issue #14).

    An example question is embedded once, with the *query* prompt: the card classifier needs that side (visitors'
    questions are queries), and the same vector serves dense retrieval, as question-to-question matching. A card's
    answer chunk embeds its title and answer only: its example questions already have vectors of their own (they
    stay in ``embed_text``, which BM25 reads). Guides and plan measures embed ``embed_text`` as documents."""
    if is_example_question(chunk):
        return "query", chunk.embed_text
    if chunk.kind == "card":
        return "document", "\n".join(p for p in (chunk.title, chunk.text) if p)
    return "document", chunk.embed_text


def vector_key(chunk: Chunk) -> str:
    """The key a chunk's vector is stored and reused under: the side and the text embedded, nothing else."""
    side, text = embedding_input(chunk)
    return content_hash(f"{side}\n{text}")


def chunk_document(doc: Document) -> list[Chunk]:
    if doc.kind == "card":
        # All languages of a card are one unit: a search returns it once, shown in the asker's language.
        answer = _make(doc, f"{doc.doc_id}:{doc.lang}", doc.doc_id, doc.title, doc.text)
        questions = [q for q in doc.search_hint.split("\n") if q.strip()]
        return [answer, *(_question_chunk(doc, n, q) for n, q in enumerate(questions, start=1))]
    if doc.kind == "plan":
        return [_make(doc, f"{doc.doc_id}:{doc.lang}", doc.doc_id, doc.title, doc.text)]
    chunks = []
    for i, (heading, text) in enumerate(guide_sections(doc.text)):
        for j, part in enumerate(_split_long(text)):
            suffix = f"{i}" if j == 0 else f"{i}.{j}"
            title = f"{doc.title}: {heading}" if heading else doc.title
            # A guide is one unit per file: its best section represents it, so one guide cannot fill the top k.
            chunks.append(_make(doc, f"{doc.doc_id}:{doc.lang}:{suffix}", doc.doc_id, title, part))
    return chunks


def chunk_documents(docs: Iterable[Document]) -> list[Chunk]:
    chunks = [c for doc in docs for c in chunk_document(doc)]
    seen: set[str] = set()
    for c in chunks:
        if c.chunk_id in seen:
            raise ValueError(f"duplicate chunk id {c.chunk_id}")
        seen.add(c.chunk_id)
    return chunks
