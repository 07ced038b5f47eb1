"""Vietnamese typed without accents gets them back from the corpus's own syllables before it is embedded."""

from __future__ import annotations

from bot.query.vi_diacritics import DiacriticRestorer, has_accents

CORPUS = [
    "Hoàn thuế khi rời Trung Quốc: mua hàng ở cửa hàng hoàn thuế, giữ hóa đơn.",
    "Có cần số điện thoại Trung Quốc không? Không, có thể dùng số nước ngoài.",
    "Rút tiền ở cây ATM bằng thẻ Visa được không? Được.",
    "Cổ vật không được hoàn thuế.",
]


def test_common_syllables_get_their_accents_back():
    restorer = DiacriticRestorer.from_texts(CORPUS)
    assert restorer.restore("hoan thue") == "hoàn thuế"
    assert restorer.restore("co can so dien thoai Trung Quoc khong?") == "có cần số điện thoại Trung Quốc không?"


def test_context_picks_between_forms_of_one_syllable():
    # "co" is "có" (have) in most places but "cổ" (antique) before "vật": the bigram decides.
    restorer = DiacriticRestorer.from_texts(CORPUS)
    assert restorer.restore("co vat") == "cổ vật"
    assert restorer.restore("co the") == "có thể"


def test_unknown_words_capitals_and_punctuation_are_kept():
    restorer = DiacriticRestorer.from_texts(CORPUS)
    assert restorer.restore("rut tien ATM, Alipay?") == "rút tiền ATM, Alipay?"
    assert restorer.restore("Hoan thue 2025!") == "Hoàn thuế 2025!"
    assert restorer.restore("") == ""
    assert DiacriticRestorer.from_texts([]).restore("hoan thue") == "hoan thue"


def test_accent_detection():
    assert has_accents("hoàn thuế") and has_accents("Đà Nẵng")
    assert not has_accents("hoan thue") and not has_accents("ATM Visa")


def test_only_unaccented_vietnamese_is_restored_before_retrieval(spied_bot):
    bot, seen = spied_bot
    ctx = bot.context("hoan thue", lang="vi")
    assert seen[0] == "hoàn thuế" and ctx.question == "hoan thue"  # the visitor's own words are kept for the answer
    seen.clear()
    bot.context("hoàn thue", lang="vi")  # typed on a Vietnamese keyboard: left alone
    bot.context("hoan thue", lang="en")
    assert seen[0] == "hoàn thue" and seen[2] == "hoan thue"
