"""Settings come from one place, and a mistyped or malformed ``BOT_*`` variable stops the start with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import PROJECT_ROOT, Settings
from bot.errors import BotError, ConfigError


@pytest.fixture(autouse=True)
def _no_bot_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets the variables it is about, and only those."""
    for name in list(os.environ):
        if name.startswith("BOT_"):
            monkeypatch.delenv(name)


def test_a_known_variable_overrides_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_SPLIT_ASKS", "off")
    monkeypatch.setenv("BOT_TOP_K", "8")
    monkeypatch.setenv("BOT_LEXICAL_WEIGHT", "0.25")
    settings = Settings.from_env()
    assert (settings.split_asks, settings.top_k, settings.lexical_weight) == (False, 8, 0.25)


def test_an_unknown_variable_is_refused_naming_it_and_the_known_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_SPLIT_ASK", "0")  # the setting is split_asks: the typo must not be ignored
    with pytest.raises(ConfigError) as caught:
        Settings.from_env()
    text = str(caught.value)
    assert "BOT_SPLIT_ASK (did you mean BOT_SPLIT_ASKS?)" in text
    assert all(f"BOT_{name}" in text for name in ("CORPUS_DIR", "TOP_K", "SPLIT_ASKS", "TODAY", "PORT"))
    assert isinstance(caught.value, BotError)  # one line in the CLI and the app, never a traceback


def test_several_unknown_variables_are_all_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_PROT", "7861")
    monkeypatch.setenv("BOT_QXJV", "1")  # no setting is close to it
    with pytest.raises(ConfigError, match=r"variables BOT_PROT \(did you mean BOT_PORT\?\), BOT_QXJV;"):
        Settings.from_env()


@pytest.mark.parametrize(("name", "raw", "kind"), [
    ("BOT_SPLIT_ASKS", "maybe", "bool"), ("BOT_SPLIT_ASKS", "", "bool"),
    ("BOT_TOP_K", "five", "int"), ("BOT_TOP_K", "5.0", "int"), ("BOT_PORT", "", "int"),
    ("BOT_MIN_DENSE_SCORE", "0,35", "float"), ("BOT_LEXICAL_WEIGHT", "nan", "float"),
    ("BOT_RELOAD_CHECK_SECONDS", "inf", "float"),
])
def test_a_malformed_value_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, raw: str,
                                                          kind: str) -> None:
    monkeypatch.setenv(name, raw)
    with pytest.raises(ConfigError, match=rf"^{name}={raw!r} is not a valid {kind}"):
        Settings.from_env()


def test_the_cli_prints_a_config_error_as_one_line(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BOT_SPLIT_ASK", "0")
    assert main(["validate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown environment variable BOT_SPLIT_ASK (did you mean BOT_SPLIT_ASKS?)")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_the_app_refuses_to_start_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    result = subprocess.run([sys.executable, "app.py"], capture_output=True, text=True, cwd=PROJECT_ROOT,
                            env={**env, "BOT_TOP_K": "many"}, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: BOT_TOP_K='many' is not a valid int"
