"""Colloquial Cantonese becomes written Chinese before retrieval; written Chinese is left exactly as typed."""

from __future__ import annotations

import pytest

from bot.query.cantonese import to_written


@pytest.mark.parametrize(("spoken", "written"), [
    ("買咗嘢之後使唔使搵海關蓋章？", "買了東西之後需不需要找海關蓋章？"),
    ("退稅有冇最低消費？幾多錢先得？", "退稅有沒有最低消費？多少錢先得？"),
    ("佢哋係咪唔收現金㗎？", "他們是不是不收現金？"),
    ("過境免簽係幾時開始計？", "過境免簽是什麼時候開始計？"),
])
def test_colloquial_words_become_written(spoken, written):
    assert to_written(spoken) == written


def test_kam_opening_a_question_is_then_and_inside_it_is_so():
    assert to_written("咁機場呢？") == "那機場呢？"
    assert to_written("點解啲嘢咁貴？") == "為什麼些東西這麼貴？"
    assert to_written("可以咁樣做嗎？") == "可以這樣做嗎？"


@pytest.mark.parametrize("written", [
    "深圳有哪些離境退稅地點？",  # 點 in 地點
    "退稅和外匯管理有甚麼關係？",  # 係 in 關係
    "消費糾紛可以申請仲裁嗎？",  # 仲 in 仲裁
    "旁邊的商店晚上12點關門嗎？",  # 邊 in 旁邊, 點 in 12點
    "How much is the refund?",
    "",
])
def test_written_chinese_and_other_text_are_untouched(written):
    assert to_written(written) == written


def test_only_traditional_questions_are_rewritten_before_retrieval(spied_bot):
    bot, seen = spied_bot
    ctx = bot.context("退稅最少要買幾多錢?", lang="zh-Hant")
    assert seen[0] == "退稅最少要買多少錢?" and ctx.question == "退稅最少要買幾多錢?"
    seen.clear()
    bot.context("退税最少要买几多钱?", lang="zh-Hans")
    assert seen[0] == "退税最少要买几多钱?"
