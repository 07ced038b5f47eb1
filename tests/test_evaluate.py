import json

import pytest

from bot.config import PROJECT_ROOT
from bot.errors import BotError
from bot.evals.evaluate import dataset_files, load_cases, ndcg_at, recall_at, reciprocal_rank
from bot.schema import TOPICS

REL = frozenset({"b"})


def test_rank_metrics():
    assert recall_at(["a", "b"], REL, 1) == 0.0 and recall_at(["a", "b"], REL, 5) == 1.0
    assert reciprocal_rank(["a", "b"], REL) == 0.5 and reciprocal_rank(["a"], REL) == 0.0
    assert ndcg_at(["b"], REL) == 1.0
    assert 0 < ndcg_at(["a", "b"], REL) < 1
    assert ndcg_at(["a", "b", "b"], frozenset({"b", "c"})) < ndcg_at(["b", "c"], frozenset({"b", "c"}))


def test_committed_datasets_load_and_reference_real_cards():
    from bot.build.corpus import load_cards

    cases = load_cases(dataset_files(PROJECT_ROOT / "evals" / "datasets"))
    cards = load_cards(PROJECT_ROOT / "corpus")
    assert len(cases) >= 150
    assert len({c.lang for c in cases}) >= 12
    missing = {(c.id, e) for c in cases for e in c.expected_cards if e not in cards}
    assert not missing
    # A topic is only a facet of the report (an evaluator's file may use its own), but ours are the corpus's.
    assert {c.topic for c in cases if c.topic} <= set(TOPICS)
    assert not {(c.id, e) for c in cases for a in c.asks for e in a.cards if e not in cards}


def test_bad_case_line_names_file_and_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"id": "a", "question": "q", "lang": "not a language", "topic": "plan"}) + "\n")
    with pytest.raises(BotError, match=r"x.jsonl:1.*lang"):
        load_cases([path])


def test_an_evaluators_minimal_file_loads(tmp_path):
    """Only id, question and must_include: no card ids, no topic, no language (evals/README.md)."""
    path = tmp_path / "mine.jsonl"
    rows = [{"id": "a", "question": "How much is the minimum spend for a tax refund?", "must_include": ["200"]},
            {"id": "b", "question": "Czy mogę odzyskać VAT?", "lang": "pl", "must_include": ["200"]},
            {"id": "c", "question": "q", "must": ["x"], "must_not": ["y"]}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    a, b, c = load_cases([path])
    assert a.lang is None and a.answer_lang is None and a.topic == "" and a.must_include == ("200",)
    assert b.answer_lang == "en" and b.served_lang is None  # a language we do not serve is answered in English
    assert c.must_include == ("x",) and c.must_not_include == ("y",)  # shared/realq's field names


def test_a_bad_regex_names_its_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"id": "a", "question": "q", "must_include": ["(unclosed"]}) + "\n")
    with pytest.raises(BotError, match=r"x.jsonl:1"):
        load_cases([path])


def test_ask_coverage_and_key_facts_per_ask():
    from bot.evals.evaluate import AskSpec, QACase
    from bot.evals.evaluate_answers import Outcome, summarise_answers
    from bot.schema import Answer, AnswerPart

    case = QACase("n1", "…", "en", asks=(AskSpec("min spend", ("refund-minimum-spend",), must_include=("200",)),
                                         AskSpec("fee", (), "payment", must_include=("3\\s*%",)),
                                         AskSpec("dim sum", out_of_scope=True)), answer_lang="en")
    answer = Answer("at least 200 RMB … 3 %", "en", card_ids=("refund-minimum-spend",),
                    check={"checker": "payment"},
                    parts=(AnswerPart("a"), AnswerPart("b"), AnswerPart("c", refused=True)))
    outcome = Outcome(case, answer, 1.0)
    assert outcome.ask_results() == [(True, True), (True, True), (True, None)]
    assert outcome.checks()["complete"] is True
    summary = summarise_answers([outcome, Outcome(case, None, 1.0, "boom")])
    assert summary["ask_coverage"] == 0.5 and summary["complete_rate"] == 0.5


def test_a_message_asking_only_out_of_scope_things_is_covered_by_one_decline():
    from bot.evals.evaluate import AskSpec, QACase
    from bot.evals.evaluate_answers import Outcome
    from bot.schema import Answer, AnswerPart

    case = QACase("n2", "…", "zh-Hant", asks=(AskSpec("seafood", out_of_scope=True),
                                              AskSpec("A-shares", out_of_scope=True)), answer_lang="zh-Hant")
    declined = Answer("…", "zh-Hant", refused=True, card_ids=("decline-off-topic",),
                      parts=(AnswerPart("a", refused=True), AnswerPart("b", refused=True)))
    assert Outcome(case, declined, 1.0).ask_results() == [(True, None), (True, None)]
    answered = Answer("…", "zh-Hant", card_ids=("svc-12345-city-hotline",), parts=(AnswerPart("a"), AnswerPart("b")))
    assert Outcome(case, answered, 1.0).ask_results() == [(False, None), (False, None)]


def test_report_without_any_card_ids_has_no_retrieval_table():
    from bot.evals.evaluate import markdown_report, summarise

    text = markdown_report({"hybrid": summarise([])})
    assert "not scored" in text
