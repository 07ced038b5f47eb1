"""One typed settings object. Defaults run with no config file; ``BOT_<FIELD>`` environment variables override.

Example: ``BOT_MODEL=/models/my-st-model BOT_TOP_K=8 python -m bot search "退税"``.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, get_type_hints

from platformdirs import user_cache_dir, user_data_dir

from bot.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The provisioned default. Any other value of ``model`` is a local sentence-transformers folder or a hub id.
DEFAULT_MODEL = "embeddinggemma-300m"
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _default_cache() -> Path:
    return Path(user_cache_dir("shenzhen-bot", appauthor=False))


def _default_data() -> Path:
    return Path(user_data_dir("shenzhen-bot", appauthor=False))


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "index"
    # Model files live outside the repo: they are 1.1 GB and verified by hash, not versioned.
    cache_dir: Path = field(default_factory=_default_cache)
    model: str = DEFAULT_MODEL
    # "torch" or "onnx" (dynamic int8 export, made once and cached); chosen by measurement, see BENCHMARKS.md.
    embed_backend: str = "onnx"
    embed_batch_size: int = 16  # torch only: the ONNX int8 backend embeds one text at a time (embed.py)
    # ONNX index builds: one-thread sessions side by side; 0 = one per core (embed.py, BENCHMARKS.md "Index build").
    embed_workers: int = 0
    # Retrieval: each ranker contributes its top ``candidates`` units to reciprocal rank fusion. The RRF constant
    # and BM25's weight were chosen on the QA set (BENCHMARKS.md): BM25 helps recall but is the noisier ranker.
    top_k: int = 5
    candidates: int = 60
    rrf_k: int = 5
    lexical_weight: float = 0.5
    # The card classifier's ranking (card_classifier.py) joins the fusion with this weight; 0 turns it off.
    # It is the strongest single signal for *which card* answers (BENCHMARKS.md), hence more weight than dense.
    classifier_weight: float = 5.0
    max_query_chars: int = 1000
    # A message with several asks is answered one part per ask, each from its own retrieval (compose.py). Off: the
    # whole message is read as one question, as before (kept to measure the difference on the narrative sets).
    split_asks: bool = True
    # The asks of such a message are retrieved side by side, this many at once; 0 = one per core, 1 = in turn. ONNX
    # Runtime and FAISS release the GIL, so their retrievals overlap; with one-thread sessions (``threads=1``) a
    # three-ask message took 247 ms against 324 in turn on 2 cores (BENCHMARKS.md, "Third round").
    ask_workers: int = 0
    # Below this cosine similarity of the best match, the curated answerer declines instead of guessing.
    # Calibrated on the QA set (see BENCHMARKS.md for the false-decline / wrong-answer trade-off).
    min_dense_score: float = 0.35
    # A decline card at the top yields to the best factual card below it unless the card classifier finds the
    # decline card at least this many times as probable (odds 2: decline recall 0.99 at 0.5% false declines on the
    # QA set's decline decisions, same on both halves; BENCHMARKS.md). Without a classifier (a corpus of fewer than
    # two cards) the older rule applies: a factual card in the next two places within this cosine margin wins.
    decline_odds: float = 2.0
    # "Other cities" against a card of a national topic (refund, transit, entry, payment): those rules are the same
    # in every city, so it declines only when clearly about a local matter (a Beijing airport counter's floor: odds
    # 5.6) and otherwise answers the national rule with the other-cities card as a scope note (BENCHMARKS.md).
    local_decline_odds: float = 4.0
    # A wording decline (fraud, overstay, illegal work, evading the border) is about how a thing is asked; the same
    # subject asked plainly is in scope ("the shop only issues an electronic invoice, is that enough?": fraud 2.5x
    # the documents card, answered), while "get money out of China through refunds" (3.9x) stays declined.
    wording_decline_odds: float = 3.0
    decline_margin: float = 0.02
    # Optional generation: "none" (curated answers only), "openai" (any OpenAI-compatible server), "llamacpp".
    llm_backend: str = "none"
    llm_base_url: str = "http://127.0.0.1:8080/v1"
    llm_model: str = ""
    llm_api_key: str = "not-needed"
    llm_gguf_path: str = ""
    llm_temperature: float = 0.1
    # Sources in facts.md end here; shown when a passage carries no date of its own.
    default_valid_as_of: str = "2026-02-28"
    # The date the bot takes as today (``BOT_TODAY=2027-01-15``): expiry notices, rule checkers, the content report.
    # None: today in China (Asia/Shanghai). Read through ``bot.clock.today``, the one clock of the bot.
    today: date | None = None

    # Visitors' feedback (SQLite). Kept outside the repo: it is data, not code.
    feedback_db: Path = field(default_factory=lambda: _default_data() / "feedback.sqlite3")
    # Set (``postgresql://user@host/db``): feedback and served counts go to PostgreSQL instead, shared by replicas on
    # several machines (bot/store/postgres.py). Empty: the SQLite file above, as before.
    feedback_dsn: str = ""
    # Web server
    host: str = "127.0.0.1"
    port: int = 7860
    concurrency: int = 4
    # A running server checks index/CURRENT this often and switches to a build made meanwhile (hotswap.py); 0 checks
    # on every request. Once a second costs one small file read and puts a rebuilt index in use within a second.
    reload_check_seconds: float = 1.0
    # Threads per process for the embedder (ONNX intra-op), torch and BLAS: cores ÷ replicas when several replicas
    # share a machine (README "Scale out"); 0 = the libraries' defaults, one per core (bot/serve/threads.py).
    threads: int = 0
    # Service desk (#18). Conversations a visitor hands to staff, under a short code, deleted after this many hours.
    handoff_db: Path = field(default_factory=lambda: _default_data() / "handoff.sqlite3")
    handoff_hours: float = 24.0
    # Staff logins for /desk: a file of ``name:scrypt-hash`` lines (``python -m bot.web.desk add-user FILE NAME``),
    # or the name of a header set by a trusted reverse proxy that authenticates staff itself; neither: /desk is shut.
    desk_users: str = ""
    desk_user_header: str = ""
    # Requests per minute per client address, on each entry point (visitor page, desk): a burst beyond gets HTTP 429.
    rate_limit_per_minute: int = 120

    @property
    def model_dir(self) -> Path:
        return self.cache_dir / "models"

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Defaults, then ``BOT_*`` environment variables, then explicit keyword overrides. An unknown ``BOT_*``
        variable or a malformed value raises ``ConfigError`` naming it."""
        _check_names(cls)
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = os.environ.get(f"BOT_{f.name.upper()}")
            if raw is not None:
                values[f.name] = _coerce(raw, hints[f.name], f.name)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


ENV_PREFIX = "BOT_"


def _check_names(cls: type[Settings]) -> None:
    """Every ``BOT_*`` variable must name a setting: a typo (``BOT_SPLIT_ASK``) would otherwise be ignored silently
    and the bot run with the default the user meant to change."""
    known = sorted(f"{ENV_PREFIX}{f.name.upper()}" for f in dataclasses.fields(cls))
    unknown = sorted(name for name in os.environ if name.startswith(ENV_PREFIX) and name not in known)
    if not unknown:
        return
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1)
        hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
    raise ConfigError(f"unknown environment variable{'s' if len(unknown) > 1 else ''} {', '.join(hints)}; "
                      f"the settings are {', '.join(known)}")


def _coerce(raw: str, kind: Any, name: str) -> Any:
    if kind == date | None:
        text = raw.strip()
        if not text:
            return None
        try:
            if not _ISO_DAY.match(text):
                raise ValueError(text)
            return date.fromisoformat(text)
        except ValueError:
            raise ConfigError(f"BOT_{name.upper()}={raw!r} is not a date YYYY-MM-DD") from None
    try:
        if kind is Path:
            return Path(raw).expanduser()
        if kind is bool:
            if raw.strip().lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                raise ValueError(raw)
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if kind is int:
            return int(raw)
        if kind is float:
            value = float(raw)
            if not math.isfinite(value):  # "nan" and "inf" parse, but no threshold or weight means them
                raise ValueError(raw)
            return value
        return raw
    except ValueError as exc:
        raise ConfigError(f"BOT_{name.upper()}={raw!r} is not a valid {kind.__name__}"
                          + (" (true/false, 1/0, yes/no, on/off)" if kind is bool else "")) from exc
