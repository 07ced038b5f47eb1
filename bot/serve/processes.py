"""Starting and stopping the processes of a scale-out on one machine: app replicas, HAProxy, a private PostgreSQL.

Used by the ``cluster`` test tier and ``evals/load.py --balancer``. Every listener is on 127.0.0.1 and a free port,
every process is started here and stopped by its own PID (never by name), and a private PostgreSQL lives in a
temporary folder: no system service is touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import PROJECT_ROOT
from bot.errors import BotError


class ProcessError(BotError):
    """A process of the local cluster did not start or answer; the message names its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str, timeout: float = 5.0) -> tuple[int, dict[str, object]]:
    """Status and JSON body of a GET (an HTTP error status is returned, not raised)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body or b"{}")
        except ValueError:
            return exc.code, {}


def stop(proc: subprocess.Popen[bytes] | None, grace: float = 20.0) -> None:
    """Stop one process we started, by its PID: SIGTERM, then SIGKILL after ``grace`` seconds."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(grace)


@dataclass
class Replica:
    """One ``app.py`` on 127.0.0.1:``port`` with the given ``BOT_*`` environment."""

    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Replica:
        env = {**os.environ, **self.env, "BOT_HOST": "127.0.0.1", "BOT_PORT": str(self.port),
               "GRADIO_ANALYTICS_ENABLED": "False"}
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "app.py")], cwd=PROJECT_ROOT, env=env,
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self

    def wait_ready(self, timeout: float = 300.0) -> dict[str, object]:
        """Poll ``/healthz`` until it says 200; the health body. Raises when the process exits or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise ProcessError(f"replica {self.name} exited with {self.proc.returncode}; see {self.log_path}")
            with contextlib.suppress(OSError):
                status, body = get_json(self.url + "/healthz", timeout=2)
                if status == 200:
                    return body
            time.sleep(0.3)
        raise ProcessError(f"replica {self.name} not healthy within {timeout:.0f}s; see {self.log_path}")

    def stop(self) -> None:
        stop(self.proc)

    def kill(self) -> None:
        """SIGKILL, as a crash would: no graceful shutdown."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(20)


def haproxy_binary() -> str:
    path = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if path is None:
        raise ProcessError("haproxy is not installed (Debian: apt-get install haproxy; `make test` installs it)")
    return path


def haproxy_env(bind: str, servers: list[str]) -> dict[str, str]:
    """The variables ``deploy/haproxy.cfg`` reads: where to listen and the replicas' host:port."""
    env = {"HAPROXY_BIND": bind}
    for n, address in enumerate(servers, 1):
        env[f"REPLICA{n}"] = address
    return env


def check_haproxy_config(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``haproxy -c -f config`` with the given variables: returncode 0 when valid."""
    return subprocess.run([haproxy_binary(), "-c", "-f", str(config)], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=30)


@dataclass
class HAProxy:
    config: Path
    env: dict[str, str]
    log_path: Path
    stats_socket: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> HAProxy:
        # -db: stay in the foreground (our child, stopped by its PID); the stats socket is added by -S-less "stats"
        # lines in a generated extra file, so deploy/haproxy.cfg itself stays what production runs.
        extra = self.stats_socket.with_suffix(".cfg")
        extra.write_text(f"global\n    stats socket {self.stats_socket} mode 600 level admin\n", encoding="utf-8")
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen([haproxy_binary(), "-db", "-f", str(self.config), "-f", str(extra)],
                                     env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 20
        while not self.stats_socket.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = self.log_path.read_text(encoding="utf-8", errors="replace")[-800:]
                raise ProcessError(f"haproxy did not start ({self.log_path}):\n{tail}")
            time.sleep(0.1)
        return self

    def command(self, line: str) -> str:
        """One command on the admin socket (``show stat``, ``disable server be/r1`` ...)."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(self.stats_socket))
            s.sendall(line.encode() + b"\n")
            chunks = []
            while data := s.recv(65536):
                chunks.append(data)
        return b"".join(chunks).decode()

    def server_stats(self) -> dict[str, dict[str, str]]:
        """Per server of the backend: HAProxy's ``show stat`` row (``stot`` = sessions, ``status`` = UP/DOWN ...)."""
        lines = self.command("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
        return {r["svname"]: r for r in rows if r.get("svname") not in ("FRONTEND", "BACKEND", None)}

    def stop(self) -> None:
        stop(self.proc)


def _pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if found:
        return str(found[-1])
    path = shutil.which(name)
    if path is None:
        raise ProcessError(f"PostgreSQL's {name} is not installed (Debian: apt-get install postgresql; `make test` "
                           "installs it)")
    return path


@dataclass
class PrivatePostgres:
    """A throwaway PostgreSQL cluster in ``folder``, listening on 127.0.0.1:``port`` only.

    ``folder`` must be reachable by the server's user: as root, a folder made directly under /tmp (not inside a
    0700 one such as pytest's tmp_path), which is then handed to ``postgres``.

    PostgreSQL refuses to run as root; as root, initdb and the server run as the ``postgres`` user of the Debian
    package (the folder is handed to it). Trust authentication is safe here only because it listens on loopback and
    lives for one test session."""

    folder: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def dsn(self) -> str:
        return f"postgresql://{self._user()}@127.0.0.1:{self.port}/postgres"

    def _user(self) -> str:
        return "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name

    def _demote(self) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)

    def start(self, timeout: float = 30.0) -> PrivatePostgres:
        data = self.folder / "data"
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        log = self.folder / "postgres.log"
        if not data.exists():
            made = subprocess.run([_pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", self._user(), "-E",
                                   "UTF8", "--no-sync"], capture_output=True, text=True, preexec_fn=self._demote,
                                  cwd=self.folder, timeout=120)
            if made.returncode != 0:
                raise ProcessError(f"initdb failed in {data}: {made.stderr.strip()[-500:]}")
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [_pg_bin("postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(self.port),
                 "-k", str(self.folder), "-c", "fsync=on"],
                stdout=out, stderr=subprocess.STDOUT, preexec_fn=self._demote, cwd=self.folder)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ProcessError(f"postgres exited with {self.proc.returncode}; see {log}")
            result = subprocess.run([_pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                    capture_output=True)
            if result.returncode == 0:
                return self
            time.sleep(0.2)
        self.stop()
        raise ProcessError(f"postgres not ready within {timeout:.0f}s; see {log}")

    def stop(self) -> None:
        # SIGINT is PostgreSQL's "fast" shutdown: running transactions roll back, committed ones are on disk.
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would (restart with ``start``: recovery replays the WAL)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)
