import json
import os
import subprocess
import sys

from bot.config import PROJECT_ROOT


def _run(settings, *args):
    env = {**os.environ, "BOT_MODEL": "hash", "BOT_CORPUS_DIR": str(settings.corpus_dir),
           "BOT_INDEX_DIR": str(settings.index_dir), "BOT_CACHE_DIR": str(settings.cache_dir)}
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env,
                          cwd=PROJECT_ROOT, timeout=120)


def test_search_json_fields(built):
    result = _run(built, "search", "How much do I get back from the tax refund?", "-k", "3", "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert 1 <= len(hits) <= 3
    for key in ("chunk_id", "doc_id", "kind", "title", "lang", "score", "text", "url", "valid_as_of"):
        assert key in hits[0]
    assert hits[0]["kind"] in ("plan", "guide", "card")


def test_bad_input_gives_one_line_error_not_traceback(built):
    for args in (["search", "   "], ["search", "x" * 5000]):
        result = _run(built, *args)
        assert result.returncode == 2
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr


def test_missing_index_is_a_clear_error(hash_settings):
    result = _run(hash_settings, "search", "tax refund")
    assert result.returncode == 2 and "python -m bot index" in result.stderr


def test_index_command_builds(hash_settings):
    result = _run(hash_settings, "index")
    assert result.returncode == 0, result.stderr
    assert "index ready" in result.stderr
    assert (hash_settings.index_dir / "CURRENT").is_file()


def test_feedback_export_as_qa_cases(tmp_path):
    from bot.store.feedback import FeedbackStore

    db = tmp_path / "fb.sqlite3"
    FeedbackStore(db).add("退税最低多少？", "200元", "zh-Hans", ["refund-minimum-spend"], "up", "好")
    result = subprocess.run([sys.executable, "-m", "bot", "feedback", "export"], capture_output=True, text=True,
                            env={**os.environ, "BOT_FEEDBACK_DB": str(db)}, cwd=PROJECT_ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    case = json.loads(result.stdout.splitlines()[0])
    assert case["question"] == "退税最低多少？" and case["expected_cards"] == ["refund-minimum-spend"]


def test_health_names_the_served_build_corpus_and_rules(built):
    from bot.build.index import current_build

    result = _run(built, "health", "--json")
    assert result.returncode == 0, result.stderr
    health = json.loads(result.stdout)
    build = current_build(built.index_dir)
    manifest = json.loads((build / "manifest.json").read_text("utf-8"))
    assert (health["build_id"], health["corpus_hash"]) == (build.name, manifest["corpus_hash"])
    assert set(health["rules"]) == {"transit", "refund", "payment", "unilateral"}
    text = _run(built, "health").stdout
    assert f"index build {build.name}" in text and f"corpus hash {manifest['corpus_hash']}" in text
