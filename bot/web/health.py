"""``GET /healthz``: is this replica ready to answer, and which index build does it serve (JSON).

HAProxy's ``option httpchk`` and Kubernetes' readiness and liveness probes call it every few seconds, so it costs no
model call: it reads the served snapshot (``Bot.health``, which also notices an index rebuilt meanwhile, so after
``python -m bot index`` every replica reports the new build here within ``reload_check_seconds``). A replica that
cannot answer says so with HTTP 503, which takes it out of the balancer until it recovers.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.serve.pipeline import Bot

log = logging.getLogger(__name__)
PATH = "/healthz"


def health_report(bot: Bot) -> tuple[int, dict[str, Any]]:
    """HTTP status and body: 200 when the model and a non-empty index are loaded, else 503 with the reason."""
    body: dict[str, Any] = {"status": "ok", "replica": socket.gethostname()}
    try:
        served = bot.health()
        model_loaded = bot.embedder is not None and int(bot.embedder.dim) > 0
        index_loaded = int(bot.snapshot.index.vectors.ntotal) > 0 and len(bot.snapshot.retriever.chunks) > 0
    except Exception as exc:  # a probe must answer, not raise: the reason goes to the log and the body
        log.exception("health check failed")
        return 503, {**body, "status": "error", "model_loaded": False, "index_loaded": False,
                     "error": type(exc).__name__}
    body.update(served)  # build_id, corpus_hash, built_at, model_id (the build's), chunks, cards, rule versions
    body.update(model_loaded=model_loaded, index_loaded=index_loaded, threads=bot.settings.threads)
    if not (model_loaded and index_loaded):
        body["status"] = "error"
        return 503, body
    return 200, body


def health_route(bot: Bot) -> Route:
    def endpoint(request: Request) -> JSONResponse:  # sync: Starlette runs it in a thread (a swap may load ~1 s)
        status, body = health_report(bot)
        # Probes and balancers must see the live state, never a cached copy.
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    return Route(PATH, endpoint, methods=["GET", "HEAD"])
