"""A per-client rate limit for both entry points (visitor page and staff desk), as a small ASGI middleware.

Only POST requests count: they are what costs (a question, a handoff, a desk lookup, a login attempt); a page load
fetches dozens of static files by GET and must not use up a visitor's budget. The client is the connection's address
(uvicorn puts the first ``X-Forwarded-For`` address there when the request comes from a trusted proxy, 127.0.0.1 by
default). Counters live in this process: with several replicas each limits on its own, which bounds abuse per
replica, and the balancer in front can limit globally.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bot.messages import message

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

WINDOW_SECONDS = 60.0
# Login attempts are limited much harder than questions: password guessing is the abuse they invite.
LOGIN_PER_MINUTE = 10
MAX_CLIENTS = 100_000  # bounds memory under a flood of distinct addresses: the oldest clients are forgotten


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds per key (a sliding window of timestamps)."""

    def __init__(self, limit: int, window: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        if self.limit <= 0:  # 0 turns the limit off
            return True
        now = self._clock()
        with self._lock:
            events = self._events.pop(key, None) or deque()
            while events and events[0] <= now - self.window:
                events.popleft()
            allowed = len(events) < self.limit
            if allowed:
                events.append(now)
            self._events[key] = events  # re-inserted last: dict order is least recently seen first
            if len(self._events) > MAX_CLIENTS:
                del self._events[next(iter(self._events))]
            return allowed


def entry_point(path: str) -> str:
    return "desk" if path == "/desk" or path.startswith("/desk/") else "page"


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, per_minute: int) -> None:
        self.app = app
        self.requests = RateLimiter(per_minute)
        self.logins = RateLimiter(LOGIN_PER_MINUTE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        client = (scope.get("client") or ("unknown", 0))[0]
        limiter = self.logins if path.rstrip("/").endswith("/login") else self.requests
        if not limiter.allow(f"{entry_point(path)}|{client}"):
            await _too_many(scope, send)
            return
        await self.app(scope, receive, send)


async def _too_many(scope: Scope, send: Send) -> None:
    lang = _language(scope)
    body = json.dumps({"error": message("error_rate_limited", lang)}, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": 429,
                "headers": [(b"content-type", b"application/json; charset=utf-8"), (b"retry-after", b"60"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _language(scope: Scope) -> str:
    from bot.web.page import accept_language  # the page's own parser; imported late to keep this module light

    for name, value in scope.get("headers", []):
        if name == b"accept-language":
            return accept_language(value.decode("latin-1")) or "en"
    return "en"
