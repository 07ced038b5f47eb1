import re

import pytest

from bot.build.clean import ANNOTATION, MOJIBAKE_FIXES, SUSPECT, clean_query, repair_plan
from bot.config import PROJECT_ROOT
from bot.errors import BadInput

RAW = next((PROJECT_ROOT / "corpus" / "plan").glob("*.raw.txt")).read_text(encoding="utf-8")


def test_raw_file_is_kept_as_received():
    assert len(ANNOTATION.findall(RAW)) > 400
    assert all(garbled in RAW for garbled, _, _ in MOJIBAKE_FIXES)


def test_repair_removes_every_pinyin_annotation():
    fixed = repair_plan(RAW)
    assert ANNOTATION.findall(fixed) == []
    assert not re.search(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", fixed)
    assert "業務" in fixed and "業(yè)" not in fixed


def test_repair_keeps_real_parentheses():
    fixed = repair_plan(RAW)
    for kept in ("(CPTPP)", "(DEPA)", "(責任單位:市前海管理局)", "(合格境外機構投資者)"):
        assert kept in fixed


def test_the_five_mojibake_spots_are_repaired():
    fixed = repair_plan(RAW)
    assert SUSPECT.findall(fixed) == []
    for garbled, _, _ in MOJIBAKE_FIXES:
        assert garbled not in fixed
    for expected in ("發布跨境電子商務", "關、匯、稅、貸、保”一站式陽光化監管服務體系", "延期申請提供雙向速遞",
                     "全國運動會和殘特奧會閉幕式", "十五運會和殘特奧會深圳賽區", "“出海”。"):
        assert expected in fixed


@pytest.mark.parametrize("bad", ["", "   ", "\u200b\u202e", "\x00\x01"])
def test_empty_query_is_refused_with_a_message(bad):
    with pytest.raises(BadInput, match="type a question"):
        clean_query(bad, 100)


def test_over_long_query_is_refused_with_its_length():
    with pytest.raises(BadInput, match="1001 characters"):
        clean_query("a" * 1001, 1000)


def test_non_text_is_refused():
    with pytest.raises(BadInput):
        clean_query(b"\xff\xfe", 100)


def test_query_is_normalised():
    assert clean_query("  退税\t最低\n\n多少？\u202e ", 100) == "退税 最低\n多少?"  # a line break stays one
    assert clean_query("Hi.\r\n- how much?  \r\n\r\n- where?\u2028", 100) == "Hi.\n- how much?\n- where?"
    assert clean_query("ｔａｘ\u200b refund", 100) == "tax refund"
    assert clean_query("refund \ud800 min", 100) == "refund min"
