from hypothesis import given
from hypothesis import strategies as st

from bot.retrieve.hybrid import rrf
from bot.serve.pipeline import Bot


def test_rrf_rewards_agreement():
    scores = rrf([["a", "b", "c"], ["b", "a", "d"]], k=60)
    assert scores["a"] == scores["b"] == 1 / 61 + 1 / 62
    assert scores["a"] > scores["c"] > 0 and scores["c"] == scores["d"]


def test_rrf_single_ranking_keeps_order():
    scores = rrf([["x", "y", "z"]], k=60)
    assert sorted(scores, key=scores.get, reverse=True) == ["x", "y", "z"]


@given(st.lists(st.lists(st.sampled_from("abcdefgh"), unique=True, max_size=8), max_size=4))
def test_rrf_scores_are_bounded_by_number_of_rankings(rankings):
    scores = rrf(rankings, k=60)
    assert all(0 < s <= len(rankings) / 61 for s in scores.values())
    assert set(scores) == {d for r in rankings for d in r}


def test_hybrid_search_returns_each_unit_once_in_the_query_language(built):
    bot = Bot.load(built)
    hits = bot.search("退税最低要消费多少钱", k=5)
    units = [h.chunk.unit_id for h in hits]
    assert len(units) == len(set(units))
    cards = [h for h in hits if h.chunk.kind == "card"]
    assert cards and all(h.chunk.lang == "zh-Hans" for h in cards)
    assert hits[0].rank == 1 and hits[0].score >= hits[-1].score


def test_modes_and_filters(built):
    bot = Bot.load(built)
    assert all(h.lexical_rank is None for h in bot.search("Alipay fee", mode="dense"))
    assert all(h.dense_rank is None for h in bot.search("Alipay fee", mode="lexical"))
    assert all(h.chunk.kind == "plan" for h in bot.search("消费 退税", kinds=["plan"]))
    assert all(h.chunk.topic == "payment" for h in bot.search("fee", topics=["payment"]))


def test_langchain_adapter_returns_documents(built):
    from bot.serve.langchain_retriever import HybridLangChainRetriever

    docs = HybridLangChainRetriever(bot=Bot.load(built), k=3).invoke("instant refund credit card")
    assert 1 <= len(docs) <= 3
    assert {"chunk_id", "doc_id", "kind", "url", "valid_as_of"} <= set(docs[0].metadata)
