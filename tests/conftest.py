"""Shared fixtures. Three tiers: unit (no model), integration (a small copy of the real corpus, hash embedder),
realmodel (EmbeddingGemma and the built index; marked ``realmodel``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.build.chunk import chunk_documents
from bot.build.corpus import load_corpus
from bot.build.embed import HashEmbedder
from bot.build.index import build_index
from bot.config import PROJECT_ROOT, Settings

CORPUS = PROJECT_ROOT / "corpus"
FIXTURE_CARDS = [
    "tax_refund/refund-minimum-spend.yaml",
    "tax_refund/refund-how-much.yaml",
    "tax_refund/instant-refund-how-it-works.yaml",
    "decline/decline-politics.yaml",
    "decline/decline-instructions.yaml",
    "payment/pay-mobile-fees.yaml",
]


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    """The plan, one guide and a few cards copied from the real corpus (related links dropped to stay closed)."""
    import yaml

    root = tmp_path / "corpus"
    (root / "plan").mkdir(parents=True)
    shutil.copy(next((CORPUS / "plan").glob("*.raw.txt")), root / "plan")
    (root / "guides").mkdir()
    shutil.copy(CORPUS / "guides" / "payment.en.md", root / "guides")
    shutil.copytree(CORPUS / "rules", root / "rules", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for rel in FIXTURE_CARDS:
        data = yaml.safe_load((CORPUS / "cards" / rel).read_text(encoding="utf-8"))
        data.pop("related", None)
        target = root / "cards" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return root


@pytest.fixture
def hash_settings(small_corpus: Path, tmp_path: Path) -> Settings:
    # The hash embedder's cosines are not calibrated like the real model's: no score threshold in this tier.
    return Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index", cache_dir=tmp_path / "cache", model="hash",
                    min_dense_score=0.0)


@pytest.fixture
def built(hash_settings: Settings) -> Settings:
    docs, _ = load_corpus(hash_settings.corpus_dir)
    build_index(chunk_documents(docs), HashEmbedder(), hash_settings.index_dir)
    return hash_settings


@pytest.fixture
def spied_bot(built: Settings, monkeypatch: pytest.MonkeyPatch) -> tuple[object, list[str]]:
    """A bot on the small index, and the list of query texts its retriever is searched with (in order)."""
    from bot.serve.pipeline import Bot

    bot = Bot.load(built)
    seen: list[str] = []
    search = bot.retriever.search

    def spy(query: str, *args: object, **kwargs: object) -> object:
        seen.append(query)
        return search(query, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bot.retriever, "search", spy)
    return bot, seen


def load_real_bot(settings: Settings | None = None):
    """The bot on the real model and the built index, or a skip where they are not provisioned (never on CI, which
    provisions both: their absence there is a failure)."""
    import os

    from bot.errors import BotError
    from bot.serve.pipeline import Bot

    try:
        return Bot.load(settings or Settings.from_env())
    except BotError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"real model or index not available here: {exc}")


@pytest.fixture(scope="session")
def private_postgres():
    """A private PostgreSQL for the session (initdb in a temp folder, 127.0.0.1 and a free port, stopped by its PID).

    The folder is made under /tmp itself (not pytest's 0700 tmp_path), because as root the server runs as the
    Debian package's ``postgres`` user, which must reach it."""
    import tempfile

    from bot.serve.processes import PrivatePostgres

    folder = Path(tempfile.mkdtemp(prefix="bot-pg-"))
    server = PrivatePostgres(folder)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_dsn(private_postgres, request) -> str:
    """A fresh, empty database on the private server for one test; its DSN."""
    import re
    import uuid

    import psycopg

    name = "t_" + re.sub(r"\W", "_", request.node.name.lower())[:40] + "_" + uuid.uuid4().hex[:6]
    with psycopg.connect(private_postgres.dsn, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')  # a name we made: letters, digits, underscores
    return private_postgres.dsn.rsplit("/", 1)[0] + "/" + name
