"""The checkers where people meet them: the chat (questions carrying inputs), the CLI and the web forms."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from bot.checks.chat import check_question
from bot.checks.render import render
from bot.checks.rules import RuleBook, load_rules
from bot.cli import main
from bot.schema import LANGUAGES
from bot.web.check_forms import payment_form, refund_form, transit_form

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 11, 27)


@pytest.fixture(scope="module")
def rules() -> RuleBook:
    return load_rules(ROOT / "corpus")


# ---------------------------------------------------------------- chat

@pytest.mark.parametrize(("question", "lang", "checker", "expected"), [
    ("I land on 3 Dec 2026 at 15:00 with a US passport, flying on to Tokyo", "en", "transit",
     r"December 13, 2026"),
    ("我买了1200元的衣服能退多少？", "zh-Hans", "refund", r"108"),
    ("喺深圳買咗1200蚊嘢，可以退幾多稅？", "zh-Hant", "refund", r"108"),
    ("2026年12月3日15時に深圳に着きます。日本のパスポートで、その後ソウルへ行きます。", "ja", "transit", r"12月13日"),
    ("알리페이에 비자카드로 300위안 결제하면 수수료가 얼마예요?", "ko", "payment", r"9"),
    ("Я прилетаю 3 декабря 2026 года в 15:00 из Москвы, потом лечу в Бангкок. Паспорт РФ.", "ru", "transit",
     r"13 декабря"),
    ("J'ai acheté pour 1 200 yuans de vêtements, combien vais-je récupérer ?", "fr", "refund", r"108"),
    ("¿Puedo pagar 2500 yuanes con la billetera anónima de e-CNY?", "es", "payment", r"2[ .,]?000"),
])
def test_questions_with_inputs_get_a_computation(rules: RuleBook, question: str, lang: str, checker: str,
                                                 expected: str) -> None:
    check = check_question(question, lang, None, rules, TODAY)
    assert check is not None and check.checker == checker, check
    assert re.search(expected, check.text), check.text


@pytest.mark.parametrize(("question", "lang", "topic"), [
    ("What is the minimum spend for the tax refund?", "en", "tax_refund"),
    ("Which countries can use the 240-hour transit?", "en", "transit"),
    ("支付宝可以绑定外国信用卡吗？", "zh-Hans", "payment"),
])
def test_general_questions_get_no_computation(rules: RuleBook, question: str, lang: str, topic: str) -> None:
    assert check_question(question, lang, topic, rules, TODAY) is None


def test_missing_input_is_named_in_the_askers_language(rules: RuleBook) -> None:
    check = check_question("退税能退多少钱？", "zh-Hans", "tax_refund", rules, TODAY)
    assert check is not None and check.result is not None and "amount" in check.result.missing
    assert "金额" in check.text


def test_an_ask_answered_by_the_figure_card_is_computed_in_any_words(rules: RuleBook) -> None:
    """"En hoeveel krijg ik ongeveer terug?" (Dutch, answered in English) names no purchase and asks in words we do
    not list: answered by the card about the figure (``COMPUTING_CARDS``), it is computed on the amount given."""
    text = "Ik heb een tax free formulier voor een smartwatch van 4.000 RMB (13% btw). En hoeveel krijg ik terug?"
    assert check_question(text, "en", "tax_refund", rules, TODAY, "refund") is None
    check = check_question(text, "en", "tax_refund", rules, TODAY, "refund", asked=True)
    assert check is not None and check.given and "360" in check.text


def test_impossible_date_gets_a_clear_message(rules: RuleBook) -> None:
    check = check_question("I arrive on 31 February 2027 with a US passport", "en", "transit", rules, TODAY)
    assert check is not None and check.error is not None
    assert "not a real date" in check.text


def test_every_language_renders_every_checker(rules: RuleBook) -> None:
    from decimal import Decimal

    from bot.checks import PaymentQuery, RefundQuery, TransitQuery, check_payment, check_refund, check_transit

    results = [check_transit(TransitQuery("US", "US", "HK", "sz-luohu", date(2026, 12, 3)), rules),
               check_refund(RefundQuery(Decimal(250000), 13, date(2026, 12, 1), date(2027, 3, 5), 200), rules,
                            TODAY),
               check_payment(PaymentQuery(Decimal(40000)), rules)]
    for lang in LANGUAGES:
        for result in results:
            text = render(result, lang, rules)
            assert "{" not in text and len(text.splitlines()) >= 3, (lang, text)


# ---------------------------------------------------------------- CLI

def test_cli_check_transit_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "transit", "--nationality", "United States", "--from", "US", "--to", "HK",
                 "--port", "SZX", "--entry", "2026-12-03 15:00", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["values"]["last_day"] == "2026-12-13" and data["verdict"] in ("yes", "unsure")
    assert data["sources"] and data["rule_version"]


def test_cli_check_refund_text_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "refund", "--amount", "1200", "--vat", "13", "--lang", "zh-Hans"]) == 0
    assert "108" in capsys.readouterr().out


def test_cli_check_payment(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "payment", "--amount", "300", "--method", "alipay_wechat_card", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["values"]["card_fee"] == "9.00"


@pytest.mark.parametrize("argv", [
    ["check", "transit", "--nationality", "Narnia"],
    ["check", "transit", "--entry", "2027-02-31"],
    ["check", "refund", "--amount", "-5"],
    ["check", "refund", "--amount", "abc"],
    ["check", "payment", "--amount", "0"],
])
def test_cli_check_bad_input_is_one_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------- web forms

def test_web_forms_render_results_and_errors(rules: RuleBook) -> None:
    out = transit_form(rules, "ja", "US", "US", "HK", "szx-baoan", "2026-12-03 15:00:00", "")
    assert 'data-verdict="' in out and "12月13日" in out
    out = refund_form(rules, "en", 1200.0, "13", "", "", None, "", False)
    assert "108" in out
    out = payment_form(rules, "de", -3, "CNY", "", None)
    assert "check-error" in out
    out = transit_form(rules, "en", "<script>alert(1)</script>", "", "", "", "", "")
    assert "<script>" not in out and "check-error" in out


@pytest.mark.parametrize(("question", "lang"), [
    ("Is there a maximum purchase for the tax refund? I read it's capped at 110,000", "en"),
    ("退税有没有上限？听说是110000", "zh-Hans"),
])
def test_a_bare_number_that_is_not_a_purchase_computes_nothing(rules: RuleBook, question: str, lang: str) -> None:
    check = check_question(question, lang, "tax_refund", rules, TODAY)
    assert check is None or check.result is None or "amount" in check.result.missing


def test_a_bare_number_that_was_spent_is_used(rules: RuleBook) -> None:
    check = check_question("I bought clothes for 1200 in Shenzhen, how much tax refund will I get?", "en",
                           "tax_refund", rules, TODAY)
    assert check is not None and "108" in check.text


# ---------------------------------------------------------------- one entry point

def test_chat_cli_and_form_go_through_one_entry_point(rules: RuleBook, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from bot.checks import chat as chat_module
    from bot.checks import check_fields, run_checker
    from bot.checks.inputs import refund_query

    expected = run_checker("refund", refund_query("1200", "13"), rules, TODAY)
    assert check_fields("refund", rules, TODAY, amount="1200", vat="13") == expected
    monkeypatch.setenv("BOT_TODAY", TODAY.isoformat())  # the CLI's day: clock.today(settings), like the others
    assert main(["check", "refund", "--amount", "1200", "--vat", "13", "--json"]) == 0
    assert {k: v for k, v in json.loads(capsys.readouterr().out).items() if k != "text"} == expected.as_json()
    form = refund_form(rules, "en", 1200.0, "13", "", "", None, "", False, on=TODAY)
    assert f'data-verdict="{expected.verdict}"' in form and "1,200" in form

    seen: list[str] = []

    def spy(name: str, *args: object) -> object:
        seen.append(name)
        return run_checker(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(chat_module, "run_checker", spy)
    assert check_question("I bought 1200 yuan of clothes, how much do I get back?", "en", "tax_refund", rules, TODAY)
    assert seen == ["refund"]
    with pytest.raises(ValueError, match="checker 'transit' cannot take a RefundQuery"):
        run_checker("transit", refund_query("1200"), rules, TODAY)
    with pytest.raises(ValueError, match="unknown checker 'visa'"):
        check_fields("visa", rules, TODAY)
