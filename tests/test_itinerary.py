"""Itineraries: mainland stays read from the places in order, each judged against the third-country rule."""

from __future__ import annotations

from datetime import date

import pytest

from bot.checks.chat import check_question
from bot.checks.extract import extract
from bot.checks.itinerary import Stay, read_stays, stays
from bot.checks.rules import load_rules
from bot.config import PROJECT_ROOT

TODAY = date(2026, 12, 7)


@pytest.fixture(scope="module")
def rules():
    return load_rules(PROJECT_ROOT / "corpus")


def test_domestic_layovers_merge_and_each_stay_has_its_neighbours():
    assert stays(["GB", "CN", "CN", "CN", "HK", "CN", "CN", "GB"]) == [Stay("GB", "HK"), Stay("HK", "GB")]
    assert stays(["TH", "HK", "CN", "CN", "HK", "GB"]) == [Stay("HK", "HK")]
    assert stays(["CN", "JP"]) == [Stay(None, "JP")]


def test_cue_words_decide_unless_the_trip_is_written_as_legs():
    # "from the US … flying to Japan after Shanghai": the order of mention is not the order of travel.
    assert read_stays(["US", "JP", "CN"], written_as_legs=False) == []
    assert read_stays(["JP", "CN", "US"], written_as_legs=True) == [Stay("JP", "US")]


@pytest.mark.parametrize(("message", "stops"), [
    ("UK - Beijing - Xian - Guilin - HK (2 days only) - Guangzhou - Shanghai - UK", ("GB", "CN", "HK", "CN", "GB")),
    ("Taiwan > Beijing > Hong Kong, may I stay in Beijing for 10 days?", ("TW", "CN", "HK")),
])
def test_places_in_order_without_the_passport(message, stops):
    found = extract(f"I have a US passport. {message}", "en", TODAY)
    merged = [c for i, c in enumerate(found.stops) if i == 0 or found.stops[i - 1] != c]
    assert tuple(merged) == stops and found.itinerary and found.nationality == "US"


def test_every_stay_is_judged(rules):
    check = check_question("US passport. UK - Beijing - Xian - Guilin - HK - Guangzhou - Shanghai - UK: is this ok "
                           "for 240-hour transit?", "en", "transit", rules, TODAY)
    assert check is not None and check.result is not None
    routes = [f for f in check.result.findings if f.key.startswith("transit.route_")]
    assert [f.key for f in routes] == ["transit.route_ok", "transit.route_ok"]
    bad = check_question("British. Bangkok -> Hong Kong -> Nansha -> Shenzhen -> Hong Kong -> London, does the "
                         "240-hour transit work?", "en", "transit", rules, TODAY)
    assert bad is not None and bad.result is not None and bad.result.verdict == "no"
    assert [f.key for f in bad.result.findings if f.key.startswith("transit.route_")] == ["transit.route_same"]


def test_a_return_home_after_the_next_stop_is_not_a_round_trip(rules):
    """"From Sydney …, the 29th Shenzhen to Taipei, then back to Sydney": the cue words read Sydney both ways, the
    stops show Taipei right after the mainland stay, and the third-country rule is about that stop."""
    check = check_question("澳大利亚护照。12月20号从悉尼飞深圳宝安，29号从深圳飞台北，然后从台北回悉尼。"
                           "能用240小时过境免签吗？", "zh-Hans", "transit", rules, TODAY)
    assert check is not None and check.result is not None
    assert [f.key for f in check.result.findings if f.key.startswith("transit.route_")] == ["transit.route_ok"]


@pytest.mark.parametrize(("question", "topic", "leads", "offers"), [
    # inputs and a verdict: the computation leads
    ("US passport, I land at Bao'an on 3 December 2026 from Los Angeles and fly on to Hong Kong. Is that ok?",
     "transit", True, False),
    # a computation asked for, no input: the card answers, one line asks for the inputs
    ("How much tax refund will I get when I leave Shenzhen?", "tax_refund", False, True),
    # an input but no verdict and no computation asked: nothing from the checker at all
    ("Can Germans enter China visa-free for 30 days?", "entry", False, False),
])
def test_a_computation_leads_only_when_it_answers(rules, question, topic, leads, offers):
    check = check_question(question, "en", topic, rules, TODAY)
    assert (check is not None and check.given) is leads
    assert bool(check and check.offer) is offers
