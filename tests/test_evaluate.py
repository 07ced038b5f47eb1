import json

import pytest

from bot.config import PROJECT_ROOT
from bot.errors import BotError
from bot.evaluate import dataset_files, load_cases, ndcg_at, recall_at, reciprocal_rank

REL = frozenset({"b"})


def test_rank_metrics():
    assert recall_at(["a", "b"], REL, 1) == 0.0 and recall_at(["a", "b"], REL, 5) == 1.0
    assert reciprocal_rank(["a", "b"], REL) == 0.5 and reciprocal_rank(["a"], REL) == 0.0
    assert ndcg_at(["b"], REL) == 1.0
    assert 0 < ndcg_at(["a", "b"], REL) < 1
    assert ndcg_at(["a", "b", "b"], frozenset({"b", "c"})) < ndcg_at(["b", "c"], frozenset({"b", "c"}))


def test_committed_datasets_load_and_reference_real_cards():
    from bot.corpus import load_cards

    cases = load_cases(dataset_files(PROJECT_ROOT / "evals" / "datasets"))
    cards = load_cards(PROJECT_ROOT / "corpus")
    assert len(cases) >= 150
    assert len({c.lang for c in cases}) >= 12
    missing = {(c.id, e) for c in cases for e in c.expected_cards if e not in cards}
    assert not missing


def test_bad_case_line_names_file_and_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"id": "a", "question": "q", "lang": "xx", "topic": "plan"}) + "\n")
    with pytest.raises(BotError, match=r"x.jsonl:1.*lang"):
        load_cases([path])
