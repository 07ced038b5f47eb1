"""The ``cluster`` tier (issue #17): two real replicas of ``app.py`` (each BOT_THREADS=1, sharing the built index)
behind HAProxy running deploy/haproxy.cfg as written, with feedback in a private PostgreSQL. Every listener is on
127.0.0.1 and a free port; every process is started by the fixtures and stopped by its PID.

The replicas run the configured model and index (the real ones on CI; locally they are skipped when not built).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from browsing import staff_sign_in

from bot.config import PROJECT_ROOT, Settings
from bot.serve.processes import HAProxy, PrivatePostgres, Replica, free_port, get_json, haproxy_env
from bot.web.desk import hash_password

pytestmark = pytest.mark.cluster

HAPROXY_CFG = PROJECT_ROOT / "deploy" / "haproxy.cfg"
VISITORS = 20
CALLS = 5
QUESTIONS = ["How much tax do I get back when I leave Shenzhen?", "退税最低消费多少？",
             "Can I pay with Visa on the metro?", "What is the 240-hour visa-free transit?",
             "Où puis-je obtenir le remboursement de la taxe ?"]
LOG_LINE = re.compile(r"\bbe_bot/(\S+) .*\"(?:GET|POST) (\S+)")


@dataclass
class Cluster:
    replicas: list[Replica]
    haproxy: HAProxy
    url: str
    dsn: str
    folder: Path

    def server_of(self, client: object) -> str:
        return str(getattr(client, "cookies", {}).get("SRV", ""))

    def requests_by_session(self) -> dict[str, set[str]]:
        """From HAProxy's request log: the servers each gradio session's requests reached (by its session_hash)."""
        servers: dict[str, set[str]] = defaultdict(set)
        for line in self.haproxy.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            m = LOG_LINE.search(line)
            if m and (session := re.search(r"(?:session_hash=|/heartbeat/)([\w-]+)", m.group(2))):
                servers[session.group(1)].add(m.group(1))
        return servers

    def wait_up(self, names: set[str], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stats = self.haproxy.server_stats()
            if all(stats.get(n, {}).get("status", "").startswith("UP") for n in names):
                return
            time.sleep(0.5)
        raise AssertionError(f"servers {names} not UP in HAProxy: {self.haproxy.server_stats()}")


def _require_index() -> Settings:
    settings = Settings.from_env()
    if not (settings.index_dir / "CURRENT").exists():
        if os.environ.get("CI"):
            pytest.fail(f"no built index in {settings.index_dir}: make index")
        pytest.skip(f"no built index in {settings.index_dir}")
    return settings


STAFF_NAME, STAFF_PASSWORD = "li", "desk-9-password"


@pytest.fixture(scope="module")
def cluster(private_postgres: PrivatePostgres) -> Iterator[Cluster]:
    _require_index()
    folder = Path(tempfile.mkdtemp(prefix="bot-cluster-"))
    with psycopg.connect(private_postgres.dsn, autocommit=True) as db:
        db.execute("DROP DATABASE IF EXISTS cluster")
        db.execute("CREATE DATABASE cluster")
    dsn = private_postgres.dsn.rsplit("/", 1)[0] + "/cluster"
    # The replicas share one index folder: a hard-linked copy of the built one, so that a roll-out test can switch
    # its CURRENT without touching the project's index.
    settings = Settings.from_env()
    index = folder / "index"
    index.mkdir()
    build = (settings.index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    shutil.copytree(settings.index_dir / "builds" / build, index / "builds" / build, copy_function=os.link)
    (index / "CURRENT").write_text(build + "\n", encoding="utf-8")
    # Staff sign in at /desk with the same accounts file on every replica. Handoff codes live in the PostgreSQL
    # database with the feedback; each replica's own SQLite file is set apart only to show no code is kept there.
    users = folder / "desk-users.txt"
    users.write_text(f"{STAFF_NAME}:{hash_password(STAFF_PASSWORD)}\n", encoding="utf-8")
    env = {"BOT_THREADS": "1", "BOT_FEEDBACK_DSN": dsn, "BOT_RELOAD_CHECK_SECONDS": "1", "BOT_INDEX_DIR": str(index),
           "BOT_DESK_USERS": str(users)}
    replicas = [Replica(f"r{n}", free_port(), {**env, "BOT_HANDOFF_DB": str(folder / f"handoff-r{n}.sqlite3")},
                        folder / f"r{n}.log") for n in (1, 2)]
    port = free_port()
    haproxy = HAProxy(HAPROXY_CFG, haproxy_env(f"127.0.0.1:{port}", [f"127.0.0.1:{r.port}" for r in replicas]),
                      folder / "haproxy.log", folder / "haproxy.sock")
    try:
        started = time.monotonic()
        for replica in replicas:
            replica.start()
        for replica in replicas:
            replica.wait_ready(timeout=600)
        print(f"\ntwo replicas ready in {time.monotonic() - started:.1f} s")
        haproxy.start()
        result = Cluster(replicas, haproxy, f"http://127.0.0.1:{port}", dsn, folder)
        result.wait_up({"r1", "r2"})
        yield result
    finally:
        haproxy.stop()
        for replica in replicas:
            replica.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _client(url: str):  # type: ignore[no-untyped-def]
    from gradio_client import Client

    return Client(url, verbose=False)


def _ask(client, question: str, timeout: float = 120.0) -> dict:  # type: ignore[no-untyped-def]
    return client.submit(question, "auto", [], api_name="/ask").result(timeout=timeout)


def _visitor(url: str, calls: int) -> tuple[object, list[dict | BaseException]]:
    client = _client(url)
    results: list[dict | BaseException] = []
    for n in range(calls):
        try:
            results.append(_ask(client, QUESTIONS[n % len(QUESTIONS)]))
        except BaseException as exc:  # counted as an error by the test
            results.append(exc)
    return client, results


def _ok(result: object) -> bool:
    return isinstance(result, dict) and bool(result.get("answer")) and "error" not in result


def test_twenty_sticky_visitors_spread_over_both_replicas(cluster: Cluster) -> None:
    with psycopg.connect(cluster.dsn) as db:
        counted_before = int(db.execute("SELECT COALESCE(SUM(count), 0) FROM served").fetchone()[0])  # type: ignore[index]
    started = time.monotonic()
    with ThreadPoolExecutor(VISITORS) as pool:
        visits = list(pool.map(lambda _: _visitor(cluster.url, CALLS), range(VISITORS)))
    elapsed = time.monotonic() - started
    errors = [r for _, results in visits for r in results if not _ok(r)]
    assert errors == [], errors[:3]
    # Each visitor's requests all reached one replica: its cookie names it, and HAProxy's log agrees.
    by_session = cluster.requests_by_session()
    per_replica: Counter[str] = Counter()
    for client, _ in visits:
        server = cluster.server_of(client)
        assert server in ("r1", "r2")
        assert by_session[client.session_hash] == {server}  # type: ignore[attr-defined]
        per_replica[server] += 1
    assert min(per_replica[name] for name in ("r1", "r2")) >= VISITORS // 4, per_replica
    # Both replicas counted what they served into the one PostgreSQL table: exactly one count per card per answer.
    shown = sum(len(set(r["card_ids"])) for _, results in visits for r in results if isinstance(r, dict))
    with psycopg.connect(cluster.dsn) as db:
        counted = int(db.execute("SELECT COALESCE(SUM(count), 0) FROM served").fetchone()[0])  # type: ignore[index]
    assert counted - counted_before == shown > 0
    print(f"\n{VISITORS} visitors x {CALLS} calls in {elapsed:.1f} s; visitors per replica {dict(per_replica)}")


def test_without_affinity_gradio_clients_fail(cluster: Cluster) -> None:
    """The control: the same balancer without the cookie (round robin) breaks gradio_client, so the test above can
    fail when affinity is lost."""
    text = HAPROXY_CFG.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^\s*cookie SRV .*$", "", text).replace("balance leastconn", "balance roundrobin")
    text = re.sub(r" cookie r\d+", "", text)
    config = cluster.folder / "no-affinity.cfg"
    config.write_text(text, encoding="utf-8")
    port = free_port()
    plain = HAProxy(config, haproxy_env(f"127.0.0.1:{port}", [f"127.0.0.1:{r.port}" for r in cluster.replicas]),
                    cluster.folder / "no-affinity.log", cluster.folder / "no-affinity.sock").start()
    try:
        url = f"http://127.0.0.1:{port}"
        time.sleep(2.5)  # first health checks

        def visit(target: str) -> list[bool]:
            try:
                client = _client(target)
            except BaseException:
                return [False]
            outcomes = []
            for question in QUESTIONS[:2]:
                try:
                    outcomes.append(_ok(_ask(client, question, timeout=15)))
                except BaseException:
                    outcomes.append(False)
            return outcomes

        with ThreadPoolExecutor(4) as pool:
            outcomes = [ok for result in pool.map(visit, [url] * 4) for ok in result]
            # The same visits through the sticky balancer, at the same time: they all succeed, so what fails above
            # is the missing affinity, not the replicas or the client code.
            sticky = [ok for result in pool.map(visit, [cluster.url] * 4) for ok in result]
    finally:
        plain.stop()
    assert all(sticky) and len(sticky) == 8
    assert not all(outcomes), "without affinity every call succeeded: the affinity test proves nothing"
    print(f"\nwithout affinity: {outcomes.count(False)} of {len(outcomes)} visits failed")


def test_a_killed_replica_costs_at_most_one_request_per_visitor_and_rejoins(cluster: Cluster) -> None:
    clients = [_client(cluster.url) for _ in range(6)]
    for client in clients:
        assert _ok(_ask(client, QUESTIONS[0]))
    pinned = {cluster.server_of(c) for c in clients}
    assert pinned == {"r1", "r2"}, pinned
    victim = cluster.replicas[0]
    victim.kill()
    failures: Counter[int] = Counter()
    last_ok = []
    for n, client in enumerate(clients):
        outcomes = []
        for question in QUESTIONS[1:4]:
            try:
                outcomes.append(_ok(_ask(client, question, timeout=60)))
            except BaseException:
                outcomes.append(False)
        failures[n] = outcomes.count(False)
        last_ok.append(outcomes[-1])
    assert all(last_ok), "service did not continue on the other replica"
    assert max(failures.values()) <= 1, failures
    # Restarted, it passes its health checks and takes new visitors again.
    victim.start()
    victim.wait_ready(timeout=600)
    cluster.wait_up({"r1", "r2"})
    newcomers = [_client(cluster.url) for _ in range(4)]
    assert any(cluster.server_of(c) == "r1" for c in newcomers), [cluster.server_of(c) for c in newcomers]
    for client in newcomers:
        assert _ok(_ask(client, QUESTIONS[2]))


CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]
HOSTILE = "'); DROP TABLE feedback; -- <script>alert(1)</script> %s {0} \u202eمرحبا 🧧 \"quoted\""


def test_a_copied_build_rolls_out_to_every_replica(cluster: Cluster) -> None:
    """Build once, copy the verified build, point CURRENT at it: every replica swaps to it and reports it."""
    index = cluster.folder / "index"
    old = (index / "CURRENT").read_text(encoding="utf-8").strip()
    new = old + "-rollout"
    shutil.copytree(index / "builds" / old, index / "builds" / new, copy_function=os.link)
    (index / ".CURRENT.tmp").write_text(new + "\n", encoding="utf-8")
    os.replace(index / ".CURRENT.tmp", index / "CURRENT")  # one atomic step, as bot/build/index.py does
    deadline = time.monotonic() + 60
    served: dict[str, object] = {}
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):  # the probe that notices the new build loads it: may take seconds
            served = {r.name: get_json(r.url + "/healthz", timeout=30)[1].get("build_id") for r in cluster.replicas}
        if set(served.values()) == {new}:
            break
        time.sleep(0.5)
    assert served == {"r1": new, "r2": new}
    client = _client(cluster.url)
    assert _ok(_ask(client, QUESTIONS[0]))


@pytest.mark.browser
def test_bot_index_after_a_corpus_change_is_served_by_every_replica(cluster: Cluster, tmp_path: Path) -> None:
    """The operator's roll-out: edit a card, run ``python -m bot index`` on the index the replicas share; both
    report the new build and its new corpus hash on /healthz within seconds, and keep answering."""
    import subprocess
    import sys

    import yaml

    corpus = tmp_path / "corpus"
    shutil.copytree(Settings.from_env().corpus_dir, corpus)
    card = corpus / "cards" / "payment" / "pay-mobile-fees.yaml"
    data = yaml.safe_load(card.read_text(encoding="utf-8"))
    data["answer"]["en"] += " Check the current fee in the app before you pay."
    card.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    before = {r.name: get_json(r.url + "/healthz", timeout=30)[1] for r in cluster.replicas}
    index = cluster.folder / "index"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    subprocess.run([sys.executable, "-m", "bot", "index"], cwd=PROJECT_ROOT, check=True, timeout=1200,
                   env={**env, "BOT_INDEX_DIR": str(index), "BOT_CORPUS_DIR": str(corpus)}, capture_output=True)
    new = (index / "CURRENT").read_text(encoding="utf-8").strip()
    assert all(b["build_id"] != new for b in before.values())
    deadline = time.monotonic() + 120
    served: dict[str, dict[str, object]] = {}
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            served = {r.name: get_json(r.url + "/healthz", timeout=30)[1] for r in cluster.replicas}
        if {b.get("build_id") for b in served.values()} == {new}:
            break
        time.sleep(0.5)
    assert {name: b.get("build_id") for name, b in served.items()} == {"r1": new, "r2": new}
    hashes = {b.get("corpus_hash") for b in served.values()}
    assert len(hashes) == 1 and hashes != {b.get("corpus_hash") for b in before.values()}
    assert _ok(_ask(_client(cluster.url), "Is there a fee for paying with Alipay?"))


def test_browsers_keep_their_chat_through_the_balancer_and_thumbs_land_in_one_table(cluster: Cluster) -> None:
    import json
    import subprocess
    import sys

    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Debian chromium is missing: make chromium installs it")
        pytest.skip("chromium not installed")
    comments = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            pages = {}
            for _ in range(12):  # new visitors until one is pinned to each replica (leastconn alternates them)
                context = browser.new_context(viewport={"width": 1100, "height": 900})
                page = context.new_page()
                page.goto(cluster.url + "/")
                page.wait_for_selector("#question textarea", timeout=60_000)
                server = next((c["value"] for c in context.cookies() if c["name"] == "SRV"), "")
                if server in ("r1", "r2") and server not in pages:
                    pages[server] = page
                else:
                    context.close()
                if len(pages) == 2:
                    break
            assert set(pages) == {"r1", "r2"}
            for server, page in pages.items():
                _page_ask(page, "Can I link a foreign Visa card to Alipay?", 1)
                answer = _page_ask(page, "and the fees?", 2)  # the follow-up needs this replica's chat state
                assert "3%" in answer.inner_text()
                comments[server] = f"{HOSTILE} via {server}"
                page.fill("#comment textarea", comments[server])
                page.click("#thumbs-up")
                page.wait_for_function("document.querySelector('#feedback-thanks').innerText.includes('✅')",
                                       timeout=30_000)
                # The visitor hands this chat to staff (the chat's state lives on this replica); a staff browser
                # pinned to the *other* replica signs in at /desk through the balancer and opens both turns: the
                # code is in the shared database, not in the replica that made it.
                page.click("#show-staff")
                page.wait_for_selector("#handoff .handoff-code", timeout=30_000)
                code = page.locator("#handoff .handoff-code").inner_text().strip()
                staff_ctx = browser.new_context(viewport={"width": 1200, "height": 900})
                other = "r2" if server == "r1" else "r1"
                staff_ctx.add_cookies([{"name": "SRV", "value": other, "url": cluster.url}])
                staff = staff_ctx.new_page()
                staff_sign_in(staff, cluster.url + "/desk", STAFF_NAME, STAFF_PASSWORD)
                staff.locator("#desk-code textarea, #desk-code input").first.fill(code)
                staff.click("#desk-open")
                staff.wait_for_selector("#desk-conversation .turn", timeout=90_000)
                assert staff.locator("#desk-conversation .turn").count() == 2
                staff_ctx.close()
        finally:
            browser.close()
    with psycopg.connect(cluster.dsn) as db:
        assert db.execute("SELECT count(*) FROM handoff").fetchone() == (2,)  # one code per replica's visitor
    for n in (1, 2):  # and none in the replicas' own files
        local = cluster.folder / f"handoff-r{n}.sqlite3"
        assert not local.exists() or sqlite3.connect(local).execute("SELECT count(*) FROM handoff").fetchone() == (0,)
    with psycopg.connect(cluster.dsn) as db:
        stored = {row[0] for row in db.execute("SELECT comment FROM feedback WHERE verdict = 'up'")}
    assert set(comments.values()) <= stored  # byte for byte, from both replicas, in one table
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    out = subprocess.run([sys.executable, "-m", "bot", "feedback", "export"], capture_output=True, text=True,
                         cwd=PROJECT_ROOT, env={**env, "BOT_FEEDBACK_DSN": cluster.dsn}, timeout=120, check=True)
    exported = {json.loads(line)["comment"] for line in out.stdout.splitlines()}
    assert set(comments.values()) <= exported


def _page_ask(page, text: str, nth: int):  # type: ignore[no-untyped-def]
    page.fill("#question textarea", text)
    page.click("#send")
    page.wait_for_function(f"document.querySelectorAll('#chat .answer').length >= {nth}", timeout=60_000)
    return page.locator("#chat .answer").nth(nth - 1)


def test_a_dead_database_stops_feedback_not_answers(cluster: Cluster, private_postgres: PrivatePostgres) -> None:
    with psycopg.connect(cluster.dsn) as db:
        before = db.execute("SELECT id, comment FROM feedback ORDER BY id").fetchall()
    private_postgres.kill()
    try:
        clients = [_client(cluster.url) for _ in range(4)]
        for client in clients:
            for question in QUESTIONS[:2]:
                assert _ok(_ask(client, question))  # answers keep flowing; only the served counts are skipped
        logs = "".join(r.log_path.read_text(encoding="utf-8", errors="replace") for r in cluster.replicas)
        assert "served counts not stored" in logs
    finally:
        private_postgres.start()
    with psycopg.connect(cluster.dsn) as db:
        after = db.execute("SELECT id, comment FROM feedback ORDER BY id").fetchall()
    assert after == before  # every committed row survived the crash
