"""Date-travel tier: the real model and index, answering on another day (``BOT_TODAY``).

The 30-day unilateral visa-free list was announced until 31 Dec 2026. Asked on 15 Jan 2027, the answer must still
name that end date and send the visitor to 12367, with the expiry notice in their language; asked on 7 Dec 2026
(the day this tier was written) it carries no notice. Also a ``realmodel`` test: ``make test-fast`` skips it;
``pytest -m datetravel`` runs just this tier.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from conftest import load_real_bot

from bot.answer.expiry import expiry_notice
from bot.config import Settings

pytestmark = [pytest.mark.realmodel, pytest.mark.datetravel]

LATE = date(2027, 1, 15)
BEFORE = date(2026, 12, 7)
CARD = "entry-unilateral-30-day"
QUESTIONS = [
    ("Can Germans enter China visa-free for 30 days?", "en", "December 31, 2026"),
    ("Können Deutsche 30 Tage ohne Visum nach China einreisen?", "de", "31. Dezember 2026"),
    ("德国护照可以免签去中国30天吗？", "zh-Hans", "2026年12月31日"),
    ("Les Français peuvent-ils entrer en Chine sans visa pendant 30 jours ?", "fr", "31 décembre 2026"),
    ("日本人は今も30日間ビザなしで中国に行けますか？", "ja", "2026年12月31日"),
    ("Могут ли немцы въехать в Китай без визы на 30 дней?", "ru", "31 декабря 2026"),
]


@pytest.fixture(scope="module")
def late_bot():
    """A bot loaded as the CLI and the web app load it, with BOT_TODAY=2027-01-15 in the environment."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("BOT_TODAY", LATE.isoformat())
        return load_real_bot(Settings.from_env())


@pytest.fixture(scope="module")
def bot_before(late_bot):
    """The same loaded model and index on 7 Dec 2026 (no second model load)."""
    return replace(late_bot, settings=replace(late_bot.settings, today=BEFORE))


def test_bot_today_is_the_bots_day(late_bot) -> None:
    from bot.clock import today

    assert today(late_bot.settings) == LATE


@pytest.mark.parametrize(("question", "lang", "end_date"), QUESTIONS)
def test_after_the_end_date_the_answer_says_so(late_bot, question: str, lang: str, end_date: str) -> None:
    answer = late_bot.ask(question)
    assert answer.language == lang
    assert CARD in answer.card_ids, answer.card_ids
    notice = expiry_notice(late_bot.cards[CARD], LATE, lang)
    assert notice is not None and end_date in notice
    assert notice in answer.text, answer.text
    assert "12367" in answer.text and "12367" in answer.escalation.split(",")
    assert f"expired: {CARD} (valid until 2026-12-31)" in answer.notes
    # The notice sits right after the card's own text.
    assert f"{late_bot.cards[CARD].answer[lang]}\n\n{notice}" in answer.text


@pytest.mark.parametrize(("question", "lang", "end_date"), QUESTIONS)
def test_before_the_end_date_no_notice(bot_before, question: str, lang: str, end_date: str) -> None:
    answer = bot_before.ask(question)
    assert CARD in answer.card_ids, answer.card_ids
    assert expiry_notice(bot_before.cards[CARD], LATE, lang) not in answer.text
    assert not any(note.startswith("expired:") for note in answer.notes)


def test_a_question_answered_by_the_scheme_comparison_still_names_the_end_date(late_bot) -> None:
    """This wording retrieves ``entry-which-scheme`` (a review date only, no expiry): the end date and 12367 then
    come from the transit checker's line about the 30-day list (``transit.unilateral_ended``). ("德国人可以免签入境
    中国30天吗？" used to land here too; since the 30-day card's example questions name more passports it gets that
    card, which the test above covers.)"""
    answer = late_bot.ask("德国护照来深圳玩一周，用哪种免签方式？")
    assert answer.card_ids == ("entry-which-scheme",), answer.card_ids
    assert "2026年12月31日" in answer.text and "12367" in answer.text
