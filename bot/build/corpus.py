"""Corpus files -> validated ``Document``s and ``Card``s.

A malformed file fails with ``CorpusError`` naming the file and the field at fault, so a reviewer can fix it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.build.clean import repair_plan
from bot.errors import CorpusError
from bot.lang import to_simplified
from bot.schema import ESCALATIONS, LANGUAGES, TOPICS, Card, Document, Source
from bot.yaml_text import load_yaml

PLAN_RAW = "plan/shenzhen-2025-internationalised-business-environment-plan.raw.txt"
PLAN_SOURCE = Source(
    title="Shenzhen Municipal Government: three business-environment work plans issued 3 Mar 2025",
    url="https://www.sz.gov.cn/en_szgov/news/latest/index_6.html",
)
PLAN_VALID_AS_OF = "2025-03-03"
_CARD_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_MIN_QUESTION_LANGS = 3


# ---------------------------------------------------------------- the plan

@dataclass(frozen=True)
class PlanMeasure:
    number: int
    title: str
    section: int
    section_title: str
    text: str
    units: tuple[str, ...]


_SECTION = re.compile(r"^\s*([一二三四五六七八九十]+)、(.+?)\s*$")
_MEASURE = re.compile(r"^\s*(\d+)\.(.+?)\s*$")
_UNITS = re.compile(r"\(責任單位:([^()]*)\)\s*$")
_CN_NUM = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)}


def parse_plan(text: str) -> list[PlanMeasure]:
    """Measures of the repaired Traditional text, each with its section and responsible units."""
    measures: list[PlanMeasure] = []
    section, section_title = 0, ""
    for line in text.splitlines():
        if m := _SECTION.match(line):
            section, section_title = _CN_NUM[m.group(1)], m.group(2)
        elif (m := _MEASURE.match(line)) and section:
            body = m.group(2)
            title = body.split("。", 1)[0]
            units_match = _UNITS.search(body)
            units = tuple(u.strip() for u in units_match.group(1).split("、")) if units_match else ()
            measures.append(PlanMeasure(int(m.group(1)), title, section, section_title, body, units))
    return measures


def plan_documents(corpus_dir: Path) -> list[Document]:
    """Two documents per measure, one per script, sharing the doc id ``plan-m<N>``."""
    path = corpus_dir / PLAN_RAW
    if not path.is_file():
        raise CorpusError(path, "file", "the plan's raw text is missing")
    measures = parse_plan(repair_plan(path.read_text(encoding="utf-8")))
    docs = []
    for m in measures:
        hant = f"第{m.number}項 {m.title}\n（{m.section}、{m.section_title}）\n{m.text}"
        for lang, text in (("zh-Hant", hant), ("zh-Hans", to_simplified(hant))):
            docs.append(Document(
                doc_id=f"plan-m{m.number}", kind="plan", lang=lang,
                title=f"Plan, Measure {m.number}: {m.title if lang == 'zh-Hant' else to_simplified(m.title)}",
                text=text, topic="plan", sources=(PLAN_SOURCE,), valid_as_of=PLAN_VALID_AS_OF,
                measures=(m.number,), path=str(path),
            ))
    return docs


# ---------------------------------------------------------------- validation helpers

def _require(data: dict[str, Any], key: str, kind: type, path: Path) -> Any:
    if key not in data or data[key] in (None, ""):
        raise CorpusError(path, key, "is required")
    value = data[key]
    if not isinstance(value, kind):
        raise CorpusError(path, key, f"must be a {kind.__name__}, got {type(value).__name__}")
    return value


def _date(data: dict[str, Any], path: Path) -> str:
    value = data.get("valid_as_of")
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise CorpusError(path, "valid_as_of", f"must be a date YYYY-MM-DD, got {value!r}") from None


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_FIELDS = ("valid_from", "valid_until", "review_by")


@dataclass(frozen=True)
class Validity:
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    review_by: dt.date | None = None


def _validity(data: dict[str, Any], path: Path) -> Validity:
    """``valid_from``, ``valid_until`` and ``review_by``: each absent or an ISO date, and the validity not ending
    before it starts."""
    out: dict[str, dt.date | None] = {}
    for key in DATE_FIELDS:
        value = data.get(key)
        if value is None:
            out[key] = None
        elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            out[key] = value
        elif isinstance(value, str) and _ISO_DAY.match(value.strip()):
            try:
                out[key] = dt.date.fromisoformat(value.strip())
            except ValueError:
                raise CorpusError(path, key, f"must be a date YYYY-MM-DD, got {value!r}") from None
        else:
            raise CorpusError(path, key, f"must be a date YYYY-MM-DD, got {value!r}")
    start, end = out["valid_from"], out["valid_until"]
    if start is not None and end is not None and start > end:
        raise CorpusError(path, "valid_until", f"{end} is before valid_from {start}")
    return Validity(start, end, out["review_by"])


def _sources(data: dict[str, Any], path: Path, required: bool) -> tuple[Source, ...]:
    raw = data.get("sources") or []
    if not isinstance(raw, list) or (required and not raw):
        raise CorpusError(path, "sources", "must be a non-empty list of {title, url}")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("title"), str) or not item["title"].strip():
            raise CorpusError(path, f"sources[{i}].title", "is required")
        url = item.get("url") or ""
        if url and not re.match(r"^https?://", str(url)):
            raise CorpusError(path, f"sources[{i}].url", f"must start with http(s)://, got {url!r}")
        out.append(Source(title=item["title"].strip(), url=str(url)))
    return tuple(out)


def _measures(data: dict[str, Any], path: Path) -> tuple[int, ...]:
    raw = data.get("measures") or []
    if not isinstance(raw, list) or not all(isinstance(n, int) and 1 <= n <= 26 for n in raw):
        raise CorpusError(path, "measures", "must be a list of measure numbers 1-26")
    return tuple(raw)


def _topic(data: dict[str, Any], path: Path) -> str:
    topic = _require(data, "topic", str, path)
    if topic not in TOPICS:
        raise CorpusError(path, "topic", f"unknown topic {topic!r}; known: {', '.join(TOPICS)}")
    return topic


def _read_yaml(path: Path, text: str) -> dict[str, Any]:
    # libyaml: the 99 cards parse in about 0.1 s instead of 1.4 s, and every start of the server reads them
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise CorpusError(path, "yaml", f"does not parse: {exc}") from None
    if not isinstance(data, dict):
        raise CorpusError(path, "yaml", "must be a mapping")
    return data


# ---------------------------------------------------------------- cards

def load_card(path: Path) -> Card:
    data = _read_yaml(path, path.read_text(encoding="utf-8"))
    card_id = _require(data, "id", str, path)
    if card_id != path.stem or not _CARD_ID.match(card_id):
        raise CorpusError(path, "id", f"must be kebab-case and equal the file name {path.stem!r}")
    kind = data.get("kind", "answer")
    if kind not in ("answer", "decline"):
        raise CorpusError(path, "kind", "must be 'answer' or 'decline'")
    answer = _require(data, "answer", dict, path)
    for lang in LANGUAGES:
        if not isinstance(answer.get(lang), str) or not answer[lang].strip():
            raise CorpusError(path, f"answer.{lang}", "is required: every card answers in every supported language")
    unknown = set(answer) - set(LANGUAGES)
    if unknown:
        raise CorpusError(path, "answer", f"unknown language codes {sorted(unknown)}")
    questions = _require(data, "questions", dict, path)
    for lang, qs in questions.items():
        if lang not in LANGUAGES:
            raise CorpusError(path, f"questions.{lang}", "unknown language code")
        if not isinstance(qs, list) or not qs or not all(isinstance(q, str) and q.strip() for q in qs):
            raise CorpusError(path, f"questions.{lang}", "must be a non-empty list of strings")
    if len(questions) < _MIN_QUESTION_LANGS:
        raise CorpusError(path, "questions", f"needs example questions in at least {_MIN_QUESTION_LANGS} languages")
    escalation = str(data.get("escalation") or "")
    if escalation and escalation not in ESCALATIONS:
        raise CorpusError(path, "escalation", f"must be one of {', '.join(ESCALATIONS)}")
    related = data.get("related") or []
    if not isinstance(related, list) or not all(isinstance(r, str) for r in related):
        raise CorpusError(path, "related", "must be a list of card ids")
    nationalities = data.get("nationalities") or []
    if not isinstance(nationalities, list) or not all(isinstance(n, str) and re.fullmatch(r"[A-Z]{2}", n)
                                                      for n in nationalities):
        raise CorpusError(path, "nationalities", "must be a list of ISO 3166-1 alpha-2 codes such as US")
    dates = _validity(data, path)
    return Card(
        card_id=card_id, topic=_topic(data, path), kind=kind,
        questions={k: tuple(v.strip() for v in qs) for k, qs in questions.items()},
        answer={k: v.strip() for k, v in answer.items()},
        sources=_sources(data, path, required=kind == "answer"),
        valid_as_of=_date(data, path), measures=_measures(data, path),
        escalation=escalation, related=tuple(related), path=str(path), nationalities=tuple(nationalities),
        valid_from=dates.valid_from, valid_until=dates.valid_until, review_by=dates.review_by,
    )


def load_cards(corpus_dir: Path) -> dict[str, Card]:
    cards: dict[str, Card] = {}
    for path in sorted((corpus_dir / "cards").rglob("*.yaml")):
        card = load_card(path)
        if card.card_id in cards:
            raise CorpusError(path, "id", f"duplicate of {cards[card.card_id].path}")
        if path.parent.name != card.topic:
            raise CorpusError(path, "topic", f"{card.topic!r} does not match its folder {path.parent.name!r}")
        cards[card.card_id] = card
    for card in cards.values():
        missing = [r for r in card.related if r not in cards]
        if missing:
            raise CorpusError(card.path, "related", f"unknown card ids {missing}")
    return cards


def card_documents(cards: Iterable[Card]) -> list[Document]:
    """One document per card and language: the answer is shown, the example questions help retrieval only."""
    docs = []
    for card in cards:
        for lang in LANGUAGES:
            qs = card.questions.get(lang) or card.questions.get("en") or ()
            docs.append(Document(
                doc_id=card.card_id, kind="card", lang=lang, title=qs[0] if qs else card.card_id,
                text=card.answer[lang], topic=card.topic, sources=card.sources, valid_as_of=card.valid_as_of,
                measures=card.measures, path=card.path, search_hint="\n".join(card.questions.get(lang, ())),
            ))
    return docs


# ---------------------------------------------------------------- guides

_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.DOTALL)


def load_guide(path: Path) -> Document:
    match = _FRONT.match(path.read_text(encoding="utf-8"))
    if not match:
        raise CorpusError(path, "front matter", "must start with a '---' YAML block closed by '---'")
    data = _read_yaml(path, match.group(1))
    lang = _require(data, "lang", str, path)
    if lang not in LANGUAGES:
        raise CorpusError(path, "lang", f"unknown language code {lang!r}")
    body = match.group(2).strip()
    if "## " not in body:
        raise CorpusError(path, "body", "needs '## ' sections (each section is one retrievable passage)")
    dates = _validity(data, path)
    return Document(
        doc_id=_require(data, "id", str, path), kind="guide", lang=lang, title=_require(data, "title", str, path),
        text=body, topic=_topic(data, path), sources=_sources(data, path, required=True),
        valid_as_of=_date(data, path), measures=_measures(data, path), path=str(path),
        valid_from=dates.valid_from, valid_until=dates.valid_until, review_by=dates.review_by,
    )


def load_guides(corpus_dir: Path) -> list[Document]:
    guides: list[Document] = []
    seen: dict[str, str] = {}
    for path in sorted((corpus_dir / "guides").glob("*.md")):
        doc = load_guide(path)
        if doc.doc_id in seen:
            raise CorpusError(path, "id", f"duplicate of {seen[doc.doc_id]}")
        seen[doc.doc_id] = str(path)
        guides.append(doc)
    return guides


def load_corpus(corpus_dir: Path) -> tuple[list[Document], dict[str, Card]]:
    """Every document of the corpus and the cards by id."""
    cards = load_cards(corpus_dir)
    return plan_documents(corpus_dir) + load_guides(corpus_dir) + card_documents(cards.values()), cards
