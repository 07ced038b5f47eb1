"""A server keeps answering while `python -m bot index` rebuilds the index in another process, then answers from the
new build; a broken new build is ignored and the old one kept; pruning cannot pull an index from under a server."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from bot.build.chunk import chunk_documents
from bot.build.corpus import load_corpus
from bot.build.embed import HashEmbedder
from bot.build.index import build_index, current_build
from bot.config import PROJECT_ROOT, Settings
from bot.serve.hotswap import IndexWatcher
from bot.serve.pipeline import Bot

QUESTIONS = [
    "How much do I get back from the tax refund?",
    "退税最低要买多少钱？",
    "退稅最少要買幾多錢？",
    "Alipay fee for foreign cards?",
    "¿Cuál es la compra mínima para el tax free en China?",
    "what about the fees?",
    "Tell me about politics",
    "quokka ferry timetable",
]
PROBE = "quokka ferry timetable"


def _write_probe_card(corpus: Path, marker: str) -> None:
    """A card only the rebuilt index knows: its question has words no other text has, its answers carry ``marker``."""
    data = yaml.safe_load((corpus / "cards/tax_refund/refund-minimum-spend.yaml").read_text(encoding="utf-8"))
    data["id"] = "hotswap-probe"
    data["questions"]["en"] = [PROBE]
    data["answer"] = {lang: f"{marker} {text}" for lang, text in data["answer"].items()}
    (corpus / "cards/tax_refund/hotswap-probe.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")


def _index_in_another_process(settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BOT_MODEL": "hash", "BOT_CORPUS_DIR": str(settings.corpus_dir),
           "BOT_INDEX_DIR": str(settings.index_dir), "BOT_CACHE_DIR": str(settings.cache_dir)}
    return subprocess.run([sys.executable, "-m", "bot", "index"], capture_output=True, text=True, env=env,
                          cwd=PROJECT_ROOT, timeout=120)


def _rebuild(settings: Settings, embedder: HashEmbedder | None = None) -> Path:
    docs, _ = load_corpus(settings.corpus_dir)
    return build_index(chunk_documents(docs), embedder or HashEmbedder(), settings.index_dir).path


def test_rebuilds_in_another_process_while_serving_drop_nothing(built):
    bot = Bot.load(dataclasses.replace(built, reload_check_seconds=0.0))
    stop = threading.Event()
    errors: list[str] = []
    served = [0] * 6

    def user(n: int) -> None:
        i = n
        while not stop.is_set():
            question = QUESTIONS[i % len(QUESTIONS)]
            i += 1
            try:
                assert bot.ask(question).text
                assert bot.search(question, k=3)
                served[n] += 1
            except Exception as exc:  # any failure at all is what this test looks for
                errors.append(f"{question!r}: {exc!r}")

    users = [threading.Thread(target=user, args=(n,)) for n in range(len(served))]
    for t in users:
        t.start()
    try:
        for marker in ("FIRST-REBUILD", "SECOND-REBUILD"):
            _write_probe_card(built.corpus_dir, marker)
            before = sum(served)
            result = _index_in_another_process(built)
            assert result.returncode == 0, result.stderr
            new = current_build(built.index_dir)
            deadline = time.monotonic() + 30
            while bot.watcher.in_use != new.name and time.monotonic() < deadline:
                time.sleep(0.05)
            assert bot.watcher.in_use == new.name, "the server did not switch to the new build"
            assert sum(served) > before, "nobody was served during the rebuild"
            answer = bot.ask(PROBE, lang="en")
            assert answer.card_ids[:1] == ("hotswap-probe",) and answer.text.startswith(marker)
    finally:
        stop.set()
        for t in users:
            t.join(30)
    assert not errors, errors[:5]
    assert all(served), served


def test_a_pruned_build_keeps_serving_from_memory(built):
    bot = Bot.load(dataclasses.replace(built, reload_check_seconds=3600))
    old = current_build(built.index_dir)
    before = [h.chunk.chunk_id for h in bot.search("tax refund minimum spend")]
    docs, _ = load_corpus(built.corpus_dir)
    chunks = chunk_documents(docs)
    for n in (1, 2):  # two newer builds: KEEP_BUILDS=2 deletes the one this bot loaded
        build_index(chunks[:-n], HashEmbedder(), built.index_dir)
    assert not old.exists()
    assert [h.chunk.chunk_id for h in bot.search("tax refund minimum spend")] == before
    assert bot.ask("How much do I get back from the tax refund?").card_ids


def test_current_is_read_at_most_once_per_interval(built):
    now = [100.0]
    bot = Bot.load(built)
    bot.watcher = IndexWatcher(built.index_dir, bot.watcher.in_use, "hash-256", 1.0, clock=lambda: now[0])
    _write_probe_card(built.corpus_dir, "PROBE")
    new = _rebuild(built)
    now[0] += 0.5
    assert bot.search(PROBE, k=1)[0].chunk.doc_id != "hotswap-probe"
    now[0] += 0.5
    assert bot.search(PROBE, k=1)[0].chunk.doc_id == "hotswap-probe"
    assert bot.watcher.in_use == new.name


def test_broken_new_builds_are_ignored_and_the_old_one_kept(built, caplog):
    bot = Bot.load(dataclasses.replace(built, reload_check_seconds=0.0))
    good, retriever, cards = bot.watcher.in_use, bot.retriever, bot.cards
    caplog.set_level(logging.WARNING, logger="bot.serve.hotswap")

    # 1. A build whose file does not match its manifest, made visible the way build_index does.
    build = current_build(built.index_dir)
    broken = build.parent / f"{build.name}-truncated"
    shutil.copytree(build, broken)
    (broken / "chunks.jsonl").write_bytes((broken / "chunks.jsonl").read_bytes()[:-100])
    (built.index_dir / "CURRENT").write_text(broken.name)
    assert bot.search("tax refund minimum spend")
    assert (bot.watcher.in_use, bot.retriever) == (good, retriever)
    assert broken.name in caplog.text and "does not match its manifest" in caplog.text
    caplog.clear()
    bot.search("tax refund minimum spend")
    assert not caplog.records, "a rejected build is reported once, not on every request"

    # 2. A build made with another model.
    _rebuild(built, HashEmbedder(model_id="hash-other"))
    assert bot.search("tax refund minimum spend")
    assert bot.retriever is retriever and "hash-other" in caplog.text

    # 3. A sound build, but a card file is mid-edit when the server picks it up: nothing of it is swapped in.
    _write_probe_card(built.corpus_dir, "PROBE")
    new = _rebuild(built)
    probe = built.corpus_dir / "cards/tax_refund/hotswap-probe.yaml"
    probe.write_text(probe.read_text("utf-8")[:200], "utf-8")
    assert bot.search("tax refund minimum spend")
    assert (bot.retriever, bot.cards) == (retriever, cards)

    # 4. The next sound build is used.
    _write_probe_card(built.corpus_dir, "PROBE")
    newer = _rebuild(built)
    assert newer != new
    assert bot.ask(PROBE, lang="en").card_ids[:1] == ("hotswap-probe",)
    assert bot.watcher.in_use == newer.name and bot.retriever is not retriever


def _mark_corpus(corpus: Path, marker: str, refund_version: str) -> None:
    """The corpus moves on: every card's answers start with ``marker``, the refund table gets a new version."""
    for path in (corpus / "cards").rglob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["answer"] = {lang: f"{marker} {text}" for lang, text in data["answer"].items()}
        path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    table = corpus / "rules/refund.yaml"
    text = table.read_text(encoding="utf-8")
    table.write_text(re.sub(r'^version: "[^"]+"', f'version: "{refund_version}"', text, count=1, flags=re.M), "utf-8")


def test_a_swap_during_a_request_changes_nothing_of_that_request(built, monkeypatch):
    """Cards, answerer, retriever and rule tables are one snapshot, swapped whole; a request reads it once. A swap
    landing between a request's retrieval and its answer must not mix two corpus states in one answer."""
    now = [100.0]
    bot = Bot.load(built)
    bot.watcher = IndexWatcher(built.index_dir, bot.watcher.in_use, "hash-256", 1.0, clock=lambda: now[0])
    question = "I bought 1200 yuan of clothes, how much tax refund do I get back?"
    old = bot.snapshot
    first = bot.ask(question)
    old_version = first.check["rule_version"]
    assert first.card_ids and first.check["checker"] == "refund"

    _mark_corpus(built.corpus_dir, "NEW-CORPUS", "2025-04-26.9")
    new_build = _rebuild(built)
    search = old.retriever.search
    swapped = []

    def search_then_swap(*args, **kwargs):
        hits = search(*args, **kwargs)
        if not swapped:  # another request notices the rebuild right after this one's first retrieval
            now[0] += 1.0
            bot.refresh()
            swapped.append(bot.snapshot)
        return hits

    monkeypatch.setattr(old.retriever, "search", search_then_swap)
    during = bot.ask(question)
    assert swapped and swapped[0] is bot.snapshot is not old, "the swap did not land mid-request"
    assert during.text == first.text and "NEW-CORPUS" not in during.text
    assert during.check == first.check and during.check["rule_version"] == old_version

    after = bot.ask(question)  # the next request reads the new snapshot: new texts, new rule table, together
    assert after.text.count("NEW-CORPUS") >= 1 and after.check["rule_version"] == "2025-04-26.9"
    assert bot.snapshot.build_id == new_build.name == bot.watcher.in_use
    assert bot.rules.refund.meta.version == "2025-04-26.9" and old.rules.refund.meta.version == old_version


def test_a_rule_table_mid_edit_keeps_the_whole_old_snapshot(built, caplog):
    bot = Bot.load(dataclasses.replace(built, reload_check_seconds=0.0))
    old = bot.snapshot
    table = built.corpus_dir / "rules/refund.yaml"
    table.write_text(table.read_text("utf-8").replace("version:", "versoin:", 1), "utf-8")
    _rebuild(built)
    caplog.set_level(logging.WARNING, logger="bot.serve.hotswap")
    assert bot.ask("How much do I get back from the tax refund?").text
    assert bot.snapshot is old and "versoin" in caplog.text


def test_the_snapshot_is_immutable_and_names_its_build(built):
    bot = Bot.load(built)
    snap = bot.snapshot
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.rules = snap.rules  # type: ignore[misc]
    with pytest.raises(TypeError):
        snap.cards["x"] = snap.cards["refund-minimum-spend"]  # type: ignore[index]
    build = current_build(built.index_dir)
    health = bot.health()
    assert health["build_id"] == snap.build_id == build.name
    manifest = json.loads((build / "manifest.json").read_text("utf-8"))
    assert health["corpus_hash"] == snap.corpus_hash == manifest["corpus_hash"] and len(snap.corpus_hash) == 64
    assert health["rules"]["refund"] == snap.rules.refund.meta.version
