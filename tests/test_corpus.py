import re
from pathlib import Path

import pytest
import yaml

from bot.build.chunk import chunk_documents, guide_sections
from bot.build.corpus import load_card, load_cards, load_corpus, load_guide
from bot.config import Settings
from bot.errors import CorpusError
from bot.schema import LANGUAGES, TOPICS

CORPUS = Settings().corpus_dir


def test_real_corpus_validates_and_covers_every_topic():
    docs, cards = load_corpus(CORPUS)
    assert len([c for c in cards.values() if c.kind == "answer"]) >= 80
    assert {c.topic for c in cards.values()} == set(TOPICS)
    assert all(set(c.answer) == set(LANGUAGES) for c in cards.values())
    assert {18, 20} <= {m for c in cards.values() for m in c.measures}
    guides = [d for d in docs if d.kind == "guide"]
    for topic in ("tax_refund", "transit", "entry", "payment", "services"):
        assert {d.lang for d in guides if d.topic == topic} >= {"en", "zh-Hans"}


# Languages whose decimal mark is a comma: "1,640" reads there as 1.64. Thousands are grouped with a (narrow)
# no-break space (ru, fr) or a dot (de, es, pt, it, vi, id).
COMMA_DECIMAL_LANGUAGES = ("ru", "fr", "es", "de", "pt", "it", "vi", "id")
ENGLISH_THOUSANDS = re.compile(r"\d,\d{3}(?!\d)")  # digits, comma, three digits: 1,640 / 56,000


def test_no_english_thousands_separator_in_comma_decimal_languages():
    wrong = [(card.card_id, lang, match.group())
             for card in load_cards(CORPUS).values()
             for lang in COMMA_DECIMAL_LANGUAGES
             for match in ENGLISH_THOUSANDS.finditer(card.answer[lang])]
    assert not wrong, f"use the language's own grouping (1 640 / 1.640), not 1,640: {wrong}"


def test_answer_cards_cite_official_addresses_only():
    official = ("gov.cn", "people.cn", "chinadailyhk.com", "eyeshenzhen.com", "news.cn", "xinhuanet.com",
                "chinadaily.com.cn", "121.com.cn", "szairport.com", "globaltimes.cn", "shine.cn", "newsgd.com",
                "visitbeijing.com.cn", "dutenews.com", "nowshenzhen.com")
    for card in load_cards(CORPUS).values():
        for source in card.sources:
            assert not source.url or any(host in source.url for host in official), (card.card_id, source.url)


def _card(tmp_path: Path, **changes) -> Path:
    data = yaml.safe_load((CORPUS / "cards" / "tax_refund" / "refund-minimum-spend.yaml").read_text("utf-8"))
    data.pop("related", None)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path = tmp_path / "tax_refund" / f"{data.get('id', 'x')}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_good_card_loads(tmp_path):
    card = load_card(_card(tmp_path))
    assert card.card_id == "refund-minimum-spend" and card.valid_as_of == "2026-02-28"


@pytest.mark.parametrize(("changes", "field"), [
    ({"topic": "weather"}, "topic"),
    ({"id": "Bad_Id"}, "id"),
    ({"valid_as_of": "soon"}, "valid_as_of"),
    ({"sources": [{"url": "https://www.gov.cn"}]}, "sources[0].title"),
    ({"sources": [{"title": "x", "url": "ftp://x"}]}, "sources[0].url"),
    ({"measures": [99]}, "measures"),
    ({"escalation": "911"}, "escalation"),
    ({"nationalities": ["usa"]}, "nationalities"),
    ({"questions": {"en": ["q"]}}, "questions"),
    ({"kind": "maybe"}, "kind"),
    ({"answer": None}, "answer"),
])
def test_a_bad_card_names_its_file_and_field(tmp_path, changes, field):
    path = _card(tmp_path, **changes)
    with pytest.raises(CorpusError) as err:
        load_card(path)
    assert err.value.field == field
    assert str(path) in str(err.value)


def test_a_card_missing_one_language_names_it(tmp_path):
    data = yaml.safe_load((CORPUS / "cards" / "tax_refund" / "refund-minimum-spend.yaml").read_text("utf-8"))
    del data["answer"]["th"]
    path = _card(tmp_path, answer=data["answer"])
    with pytest.raises(CorpusError, match=r"answer\.th"):
        load_card(path)


def test_broken_yaml_and_unknown_related_ids(tmp_path):
    broken = tmp_path / "cards" / "tax_refund" / "x.yaml"
    broken.parent.mkdir(parents=True)
    broken.write_text("id: x\nanswer: [unclosed", encoding="utf-8")
    with pytest.raises(CorpusError, match="yaml"):
        load_card(broken)
    broken.unlink()
    _card(tmp_path / "cards", related=["no-such-card"])
    with pytest.raises(CorpusError, match="related"):
        load_cards(tmp_path)


def test_guide_front_matter_is_checked(tmp_path):
    path = tmp_path / "g.en.md"
    path.write_text("---\nid: g\ntitle: T\nlang: xx\ntopic: payment\nsources: [{title: s}]\n"
                    "valid_as_of: 2026-01-01\n---\n## A\ntext\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="'lang'"):
        load_guide(path)
    path.write_text("no front matter", encoding="utf-8")
    with pytest.raises(CorpusError, match="front matter"):
        load_guide(path)


def test_guides_chunk_by_section_and_cards_by_language():
    docs, cards = load_corpus(CORPUS)
    chunks = chunk_documents(docs)
    card_chunks = [c for c in chunks if c.kind == "card"]
    answers = [c for c in card_chunks if c.embed_text.endswith(c.text)]
    questions = sum(len(qs) for card in cards.values() for qs in card.questions.values())
    assert len(answers) == len(cards) * len(LANGUAGES)
    assert len(card_chunks) == len(answers) + questions
    assert len({c.unit_id for c in card_chunks}) == len(cards)
    # whichever chunk of a card wins, it shows that card's answer in its language
    assert all(c.text == cards[c.doc_id].answer[c.lang] for c in card_chunks)
    guide_units = {c.unit_id for c in chunks if c.kind == "guide"}
    assert guide_units == {d.doc_id for d in docs if d.kind == "guide"}
    assert guide_sections("## A\none\n## B\ntwo") == [("A", "one"), ("B", "two")]
    assert len({c.chunk_id for c in chunks}) == len(chunks)
