"""Scale-out pieces on one replica (issue #17): the health route, the closed queue bypass, threads per replica.

The integration tests start ``app.py`` for real (hash embedder, the small corpus) on a free loopback port and stop it
by its PID; the ``cluster`` tier (tests/test_cluster.py) runs several replicas behind HAProxy.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.build.chunk import chunk_documents
from bot.build.corpus import load_corpus
from bot.build.embed import HashEmbedder
from bot.build.index import build_index
from bot.config import PROJECT_ROOT, Settings
from bot.errors import ConfigError
from bot.serve.pipeline import Bot
from bot.serve.processes import Replica, free_port, get_json
from bot.serve.threads import apply_threads
from bot.web.health import health_report


def test_threads_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_THREADS", "1")
    assert Settings.from_env().threads == 1
    assert Settings().threads == 0  # default: the libraries' own choice, as before


def test_negative_threads_are_refused() -> None:
    with pytest.raises(ConfigError, match="BOT_THREADS"):
        apply_threads(-1)


def test_apply_threads_caps_torch_and_blas_but_not_faiss() -> None:
    # In a child process: the pools are process-wide and must not leak into this test session.
    code = ("import faiss, torch, bot.retrieve.hybrid\n"
            "from threadpoolctl import threadpool_info\n"
            "from bot.serve.threads import apply_threads\n"
            "apply_threads(1)\n"
            "blas = [p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas']\n"
            "print(torch.get_num_threads(), max(blas or [1]), faiss.omp_get_max_threads())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120,
                         check=True).stdout.split()
    assert out == ["1", "1", "1"]


def test_health_report_of_a_loaded_bot_and_of_a_broken_one(built: Settings,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    bot = Bot.load(built)
    status, body = health_report(bot)
    assert status == 200 and body["status"] == "ok"
    assert body["model_loaded"] and body["index_loaded"]
    assert body["build_id"] == (built.index_dir / "CURRENT").read_text().strip()
    assert body["corpus_hash"] == bot.snapshot.index.manifest["corpus_hash"] and body["model_id"] == "hash-256"

    def broken() -> dict[str, object]:
        raise OSError("index folder gone")

    monkeypatch.setattr(bot, "health", broken)
    status, body = health_report(bot)
    assert status == 503 and body["status"] == "error" and not body["index_loaded"]


def _post(url: str, payload: dict[str, object]) -> int:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _rebuild_with_changed_card(settings: Settings) -> str:
    card = next((settings.corpus_dir / "cards").rglob("refund-how-much.yaml"))
    card.write_text(card.read_text(encoding="utf-8").replace("refund", "refund (changed)", 1), encoding="utf-8")
    docs, _ = load_corpus(settings.corpus_dir)
    return build_index(chunk_documents(docs), HashEmbedder(), settings.index_dir).path.name


@pytest.fixture
def hash_replica(built: Settings, tmp_path: Path):
    """``app.py`` as users start it, on the small corpus and the hash embedder."""
    env = {"BOT_MODEL": "hash", "BOT_CORPUS_DIR": str(built.corpus_dir), "BOT_INDEX_DIR": str(built.index_dir),
           "BOT_CACHE_DIR": str(built.cache_dir), "BOT_MIN_DENSE_SCORE": "0", "BOT_THREADS": "1",
           "BOT_FEEDBACK_DB": str(tmp_path / "fb.sqlite3"), "BOT_RELOAD_CHECK_SECONDS": "0.2"}
    replica = Replica("r1", free_port(), env, tmp_path / "app.log").start()
    try:
        replica.wait_ready(timeout=180)
        yield replica
    finally:
        replica.stop()


def test_served_app_healthz_no_queue_bypass_and_a_rebuilt_index(hash_replica: Replica, built: Settings) -> None:
    from gradio_client import Client

    status, body = get_json(hash_replica.url + "/healthz")
    assert status == 200 and body["build_id"] == (built.index_dir / "CURRENT").read_text().strip()
    assert body["threads"] == 1
    # The queue bypass is closed: a direct POST is refused (404 from Gradio) ...
    assert _post(hash_replica.url + "/gradio_api/run/ask", {"data": ["tax refund", "auto", []]}) == 404
    # ... while the documented way through the queue answers.
    answer = Client(hash_replica.url, verbose=False).predict("tax refund minimum spend", "auto", [], api_name="/ask")
    assert answer.get("answer") and "error" not in answer

    # An index rebuilt meanwhile (``python -m bot index``) is what the route reports within a second or so.
    before = body
    new_build = _rebuild_with_changed_card(built)
    assert new_build != before["build_id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        _, body = get_json(hash_replica.url + "/healthz")
        if body.get("build_id") == new_build:
            break
        time.sleep(0.3)
    assert body["build_id"] == new_build and body["corpus_hash"] != before["corpus_hash"]


def test_a_failed_feedback_write_is_told_to_the_visitor(built: Settings, tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """Both thumbs paths (the buttons with a comment, the chat's own thumbs) answer with a message when the store
    fails, and the comment stays in its box to send again."""
    import gradio as gr

    from bot.errors import StoreError
    from bot.messages import message
    from bot.store.feedback import FeedbackStore
    from bot.web.page import build_app

    class DeadStore(FeedbackStore):
        def add(self, *args: object, **kwargs: object) -> int:
            raise StoreError("feedback database unreachable: connection refused")

    app = build_app(Bot.load(built), DeadStore(tmp_path / "fb.sqlite3"))
    fns = {getattr(f.fn, "__name__", ""): f.fn for f in app.fns.values()}
    last = {"question": "q", "answer": "a", "language": "de", "card_ids": []}
    thumbs_up = next(f.fn for f in app.fns.values() if getattr(f.fn, "__name__", "") == "<lambda>"
                     and f.fn.__defaults__ == ("up",))
    # The comment stays, the message says it, and no reason is asked for a row that was not stored.
    comment, said, row_id, reason_row, _ = thumbs_up("mein Kommentar", last, "de")
    assert (comment, said) == ("mein Kommentar", message("error_generic", "de"))
    assert row_id == 0 and reason_row["visible"] is False
    chat = [{"role": "user", "content": "<div>q</div>"}, {"role": "assistant", "content": "<div>a</div>"}]
    like = gr.LikeData(target=None, data={"index": 1, "value": "a", "liked": True})
    assert fns["on_like"](like, chat, [], "fr")[:2] == [message("error_generic", "fr"), 0]
    assert "could not store feedback" in caplog.text
