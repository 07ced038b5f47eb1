"""Start the same thing on several threads at once (replicas or processes opening one store together)."""

from __future__ import annotations

import threading
from collections.abc import Callable


def errors_when_run_together(start: Callable[[], object], times: int = 6, timeout: float = 60) -> list[BaseException]:
    """Run ``start`` on ``times`` threads at once; the exceptions they raised (none when all went well)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start()
        except BaseException as exc:  # collected for the caller's assertion
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return errors
