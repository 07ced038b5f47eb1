"""Load test: simulated visitors ask mixed-language questions of the real app over loopback.

Starts ``app.py`` (the configured model and index, the production queue settings) on a free loopback port in a
subprocess, unless ``--url`` names a server already running. Each of ``--users`` visitors repeats, for ``--seconds``:
pick a language (all 15 equally), pick one of its questions from ``evals/datasets/*.jsonl`` (with the case's
conversation history when it has one), call the public ``/ask`` API, then think for 0–1 s. Every random choice comes
from a fixed seed per visitor.

The API is called as Gradio 6 serves it to any HTTP client: ``POST /gradio_api/call/ask`` returns an event id, then
``GET /gradio_api/call/ask/<id>`` streams server-sent events until ``complete`` (or ``error``). Latency is from the
POST to ``complete``, so time spent waiting in Gradio's queue is included. An error is any of: a refused POST (the
queue answers 503 when full), an ``error`` event, a timeout, a broken connection, or an ``{"error": …}`` answer from
the app. Requests started before the deadline are waited for; throughput is completed answers per second of the
whole run. The queue length is sampled from ``/gradio_api/queue/status`` to show how close it came to its limit.

Each visitor has its own cookie jar, as each browser does: behind a balancer with sticky cookies (``--balancer``:
two replicas of ``app.py`` behind HAProxy on ``deploy/haproxy.cfg``, each with half the cores, BOT_THREADS) every
visitor stays on its replica.

Run: ``python evals/load.py --users 50 --seconds 60 [--out reports/load] [--url http://127.0.0.1:7860 | --balancer]``.
Writes ``load.json`` and ``load.md``; exits 1 when any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the settings come from the package

from bot.config import Settings  # noqa: E402
from bot.schema import LANGUAGES  # noqa: E402

DATASETS = ROOT / "evals" / "datasets"
API = "/gradio_api/call/ask"
# The app's own queue bound (web.launch): printed beside the sampled queue length.
QUEUE_MAX = 256


@dataclass(frozen=True)
class Question:
    text: str
    lang: str
    history: tuple[str, ...]


@dataclass(frozen=True)
class Result:
    user: int
    lang: str
    started: float  # seconds since the start of the run
    latency_ms: float
    error: str  # empty when the answer came back


def load_questions(folder: Path = DATASETS) -> dict[str, list[Question]]:
    by_lang: dict[str, list[Question]] = {}
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            case = json.loads(line) if line.strip() else None
            # Our 15 languages, each equally often; a message in a language we do not serve (answered in English,
            # narrative sets) is not one of them.
            if case and case.get("lang") in LANGUAGES:
                by_lang.setdefault(case["lang"], []).append(
                    Question(case["question"], case["lang"], tuple(case.get("history") or ())))
    return by_lang


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (the value that p% of requests did not exceed)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))  # ceil without floats drifting
    return sorted_values[int(rank) - 1]


async def ask(session: aiohttp.ClientSession, url: str, q: Question, timeout: float) -> str:
    """One call of the public API; returns "" on success or a short description of the failure."""
    body = {"data": [q.text, "auto", list(q.history)]}
    async with asyncio.timeout(timeout):
        async with session.post(url + API, json=body) as resp:
            if resp.status != 200:
                return f"POST {resp.status}: {(await resp.text())[:200]}"
            event_id = (await resp.json())["event_id"]
        async with session.get(f"{url}{API}/{event_id}") as resp:
            if resp.status != 200:
                return f"GET {resp.status}: {(await resp.text())[:200]}"
            event = ""
            async for raw in resp.content:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event in ("complete", "error"):
                    data = json.loads(line[6:])
                    if event == "error":
                        return f"error event: {str(data)[:200]}"
                    answer = data[0] if isinstance(data, list) and data else data
                    # The app turns its own failures into {"error": message} (web.ask_api); an answer has "answer".
                    if not isinstance(answer, dict) or "error" in answer or not answer.get("answer"):
                        return f"app error: {str(answer)[:200]}"
                    return ""
    return "stream ended without a result"


async def visitor(n: int, session: aiohttp.ClientSession, url: str, questions: dict[str, list[Question]],
                  seed: int, start: float, deadline: float, timeout: float, results: list[Result]) -> None:
    rng = random.Random(seed * 1000 + n)
    langs = sorted(questions)
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        q = rng.choice(questions[rng.choice(langs)])
        began = loop.time()
        try:
            error = await ask(session, url, q, timeout)
        except TimeoutError:
            error = f"timeout after {timeout:.0f}s"
        except Exception as exc:  # whatever breaks one request is counted, the run goes on
            error = f"{type(exc).__name__}: {exc}"[:200]
        results.append(Result(n, q.lang, round(began - start, 3), round((loop.time() - began) * 1000, 1), error))
        # Think time; not past the deadline, where it would only add idle seconds to the run's duration.
        await asyncio.sleep(min(rng.uniform(0.0, 1.0), max(0.0, deadline - loop.time())))


async def sample_queue(session: aiohttp.ClientSession, url: str, sizes: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            async with session.get(url + "/gradio_api/queue/status") as resp:
                sizes.append(int((await resp.json()).get("queue_size", 0)))
        except (aiohttp.ClientError, OSError, ValueError):
            pass  # a sample lost under load is not a failed request
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.25)


async def run(url: str, users: int, seconds: float, seed: int = 7, timeout: float = 120.0) -> dict[str, Any]:
    questions = load_questions()
    load_before = os.getloadavg()[0]
    results: list[Result] = []
    queue_sizes: list[int] = []
    # One connection per visitor at least: aiohttp's default pool of 100 would otherwise queue on the client side.
    connector = aiohttp.TCPConnector(limit=0)
    # A session (cookie jar) per visitor over the one connection pool: a balancer's affinity cookie is per visitor.
    # unsafe=True: aiohttp's jar otherwise refuses cookies from an IP address such as 127.0.0.1.
    sessions = [aiohttp.ClientSession(connector=connector, connector_owner=False,
                                      cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in range(users + 1)]
    try:
        loop = asyncio.get_running_loop()
        start = loop.time()
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_queue(sessions[-1], url, queue_sizes, stop))
        await asyncio.gather(*(visitor(n, sessions[n], url, questions, seed, start, start + seconds, timeout,
                                       results) for n in range(users)))
        elapsed = loop.time() - start
        stop.set()
        await sampler
    finally:
        for session in sessions:
            await session.close()
        await connector.close()
    report = summarise(results, users, seconds, elapsed, queue_sizes, seed)
    # Client and server share the machine; anything else running on it shows here and makes the numbers worse.
    report["load_average_1min"] = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    return report


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (Linux /proc; 0 where it cannot be read). Unlike
    throughput, CPU time per request hardly depends on what else shares the machine: it is the figure to size by."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def summarise(results: list[Result], users: int, seconds: float, elapsed: float, queue_sizes: list[int],
              seed: int) -> dict[str, Any]:
    ok = sorted(r.latency_ms for r in results if not r.error)
    errors = [r for r in results if r.error]
    kinds: dict[str, int] = {}
    for r in errors:
        kinds[r.error.split(":")[0]] = kinds.get(r.error.split(":")[0], 0) + 1
    per_lang: dict[str, int] = {}
    for r in results:
        per_lang[r.lang] = per_lang.get(r.lang, 0) + 1
    return {
        "users": users, "seconds": seconds, "seed": seed, "elapsed_s": round(elapsed, 2),
        "requests": len(results), "completed": len(ok), "errors": len(errors),
        "throughput_rps": round(len(ok) / elapsed, 2) if elapsed else 0.0,
        "latency_ms": {
            "median": round(statistics.median(ok), 1) if ok else None,
            "p95": percentile(ok, 95) if ok else None,
            "p99": percentile(ok, 99) if ok else None,
            "mean": round(statistics.fmean(ok), 1) if ok else None,
            "max": ok[-1] if ok else None,
        },
        "queue": {"max_size_seen": max(queue_sizes, default=0), "limit": QUEUE_MAX, "samples": len(queue_sizes)},
        "requests_per_language": dict(sorted(per_lang.items())),
        "error_kinds": kinds,
        "error_samples": [asdict(r) for r in errors[:10]],
        "python": sys.version.split()[0], "cpus": os.cpu_count(),
    }


def markdown(report: dict[str, Any], settings: Settings) -> str:
    lat = report["latency_ms"]
    lines = [
        f"# Load test: {report['users']} users × {report['seconds']:g} s ({report.get('shape', 'one app.py')})",
        "",
        f"Real app on loopback (model `{settings.model}`, backend `{settings.embed_backend}`, Gradio concurrency "
        f"{settings.concurrency}, queue limit {report['queue']['limit']}), {report['cpus']} CPUs. Each user asks a "
        f"random question from `evals/datasets` (15 languages, seed {report['seed']}) through `/ask`, then waits "
        "0–1 s.",
        "",
        "| requests | completed | errors | throughput | median | p95 | p99 | max | queue length (max seen) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {report['requests']} | {report['completed']} | {report['errors']} | {report['throughput_rps']} req/s "
        f"| {lat['median']} ms | {lat['p95']} ms | {lat['p99']} ms | {lat['max']} ms "
        f"| {report['queue']['max_size_seen']} / {report['queue']['limit']} |",
        "",
        f"Server CPU per answer: {report.get('server_cpu_ms_per_request', '–')} ms, i.e. "
        f"{report.get('requests_per_core_second', '–')} requests per core-second (app processes"
        f"{' and HAProxy' if 'HAProxy' in report.get('shape', '') else ''}; contention-robust, unlike throughput).",
        "",
        "Requests per language: " + ", ".join(f"{k} {v}" for k, v in report["requests_per_language"].items()),
        "",
        f"1-minute load average before / after: {report['load_average_1min']['before']} / "
        f"{report['load_average_1min']['after']} (client and server share the machine).",
    ]
    if report["errors"]:
        lines += ["", "Errors: " + ", ".join(f"{k} × {v}" for k, v in report["error_kinds"].items())]
        lines += [f"- user {e['user']} ({e['lang']}) at {e['started']} s: {e['error']}" for e in
                  report["error_samples"]]
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_app(port: int, log_path: Path, feedback_db: Path, ready_timeout: float = 600.0) -> subprocess.Popen[bytes]:
    """``app.py`` as a user starts it, on loopback, with a throwaway feedback store; waits until it answers."""
    import urllib.error
    import urllib.request

    # The simulated visitors all come from 127.0.0.1: the per-client rate limit (bot/web/ratelimit.py) is off here,
    # this measures capacity, not the limiter.
    env = {**os.environ, "BOT_HOST": "127.0.0.1", "BOT_PORT": str(port), "BOT_FEEDBACK_DB": str(feedback_db),
           "GRADIO_ANALYTICS_ENABLED": "False", "BOT_RATE_LIMIT_PER_MINUTE": "0"}
    log = log_path.open("wb")
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/gradio_api/info", timeout=5) as resp:
                if resp.status == 200:
                    return proc
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    stop_app(proc)
    raise RuntimeError(f"app.py did not answer within {ready_timeout:.0f}s; see {log_path}")


def stop_app(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(30)


def start_cluster(tmp: Path, out: Path) -> tuple[str, list[Any]]:
    """Two replicas of ``app.py`` with half the cores each behind HAProxy on loopback; the URL and the processes."""
    from bot.serve.processes import HAProxy, Replica, haproxy_env

    threads = str(max(1, (os.cpu_count() or 2) // 2))
    # The rate limit off, as for one app: every simulated visitor comes from 127.0.0.1 (HAProxy forwards that address).
    env = {"BOT_THREADS": threads, "BOT_RATE_LIMIT_PER_MINUTE": "0"}
    replicas = [Replica(f"r{n}", free_port(), {**env, "BOT_FEEDBACK_DB": str(tmp / f"fb{n}.sqlite3")},
                        out / f"server-r{n}.log") for n in (1, 2)]
    started: list[Any] = []
    try:
        for replica in replicas:
            started.append(replica.start())
        for replica in replicas:
            replica.wait_ready(timeout=600)
        port = free_port()
        balancer = HAProxy(ROOT / "deploy" / "haproxy.cfg",
                           haproxy_env(f"127.0.0.1:{port}", [f"127.0.0.1:{r.port}" for r in replicas]),
                           out / "haproxy.log", tmp / "haproxy.sock")
        started.append(balancer.start())
        time.sleep(5)  # two health checks (rise 2, inter 2 s) before the servers take traffic
    except BaseException:
        for process in reversed(started):
            process.stop()
        raise
    print(f"2 replicas (BOT_THREADS={threads}) behind HAProxy on 127.0.0.1:{port}", file=sys.stderr)
    return f"http://127.0.0.1:{port}", started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before one request counts as failed")
    parser.add_argument("--url", help="a running server (default: start app.py on a free loopback port)")
    parser.add_argument("--balancer", action="store_true",
                        help="start 2 replicas (BOT_THREADS = cores / 2) behind HAProxy (deploy/haproxy.cfg) and load "
                             "them through it")
    parser.add_argument("--out", default=str(ROOT / "reports" / "load"), help="folder for load.json and load.md")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    settings = Settings.from_env()
    proc = None
    url = args.url.rstrip("/") if args.url else ""
    cluster: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        if args.balancer and not url:
            url, cluster = start_cluster(Path(tmp), out)
        if not url:
            port = free_port()
            print(f"starting app.py on 127.0.0.1:{port} (log: {out / 'server.log'})", file=sys.stderr)
            proc = start_app(port, out / "server.log", Path(tmp) / "feedback.sqlite3")
            url = f"http://127.0.0.1:{port}"
        pids = [p.pid for p in [proc, *[c.proc for c in cluster]] if p is not None]
        try:
            print(f"{args.users} users for {args.seconds:g}s against {url}", file=sys.stderr)
            cpu_before = cpu_seconds(pids)
            report = asyncio.run(run(url, args.users, args.seconds, args.seed, args.timeout))
            if pids and report["completed"]:
                # Server-side CPU (app processes, and HAProxy with --balancer) per completed answer.
                cpu_ms = (cpu_seconds(pids) - cpu_before) * 1000 / report["completed"]
                report["server_cpu_ms_per_request"] = round(cpu_ms, 1)
                report["requests_per_core_second"] = round(1000 / cpu_ms, 1) if cpu_ms else None
        finally:
            if proc is not None:
                stop_app(proc)
            for process in reversed(cluster):
                process.stop()
    report["url"] = url
    report["shape"] = "2 replicas behind HAProxy" if args.balancer else "one app.py"
    (out / "load.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    text = markdown(report, settings)
    (out / "load.md").write_text(text, encoding="utf-8")
    print(text)
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
