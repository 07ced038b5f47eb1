"""Supply-chain audit of ``requirements.lock`` against PyPI's own advisory data (``make audit``).

Why not plain ``pip-audit``: here only the package registry is reachable, and its mirror of PyPI's JSON API serves the
project endpoint (``/pypi/<name>/json``) but not the per-version one (``/pypi/<name>/<version>/json``) that
pip-audit's ``--vulnerability-service pypi`` asks; OSV is not reachable at all. pip-audit then "skips" every
dependency and still prints "No known vulnerabilities found" with exit code 0. Where the per-version endpoint works
(a normal network), prefer::

    python -m pip_audit -r requirements.lock --no-deps --disable-pip --vulnerability-service pypi --strict \
        --format json -o reports/audit/pip-audit.json

The project endpoint lists the advisories (``vulnerabilities``: id, aliases, fixed_in) that affect the project's
*latest* release. So a pin is audited when it is that latest release; an older pin is reported as not audited
(``--strict`` fails on it) together with the newer version, which is the upgrade to consider anyway. Yanked pins
are reported too.

Run: ``python evals/audit.py [--lock requirements.lock | --installed] [--out reports/audit] [--strict]``. Exit 1
when a pin has a known vulnerability (or, with ``--strict``, when a pin could not be audited).
"""

from __future__ import annotations

import argparse
import json
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
INDEX = "https://pypi.org/pypi/{name}/json"
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;#]+)")


def read_pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a lock file (extras, markers and comments ignored), names normalised (PEP 503)."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _PIN.match(line)
        if m:
            pins[normalise(m.group(1))] = m.group(3)
    return pins


def installed_pins() -> dict[str, str]:
    """What this environment actually holds (like ``pip-audit -l``): catches packages the lock file forgot."""
    from importlib.metadata import distributions

    return {normalise(d.metadata["Name"]): d.version for d in distributions()}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _local_free(version: str) -> str:
    return version.split("+", 1)[0]  # torch 2.13.0+cpu is release 2.13.0 on PyPI


def audit_one(name: str, version: str, timeout: float = 30.0) -> dict[str, Any]:
    row: dict[str, Any] = {"name": name, "version": version}
    try:
        with urllib.request.urlopen(INDEX.format(name=name), timeout=timeout) as response:
            data = json.load(response)
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
        return {**row, "status": "not_audited", "reason": f"registry lookup failed: {exc}"}
    latest = data.get("info", {}).get("version", "")
    files = data.get("releases", {}).get(_local_free(version), [])
    row.update(latest=latest, yanked=bool(files) and all(f.get("yanked") for f in files))
    if _local_free(version) != latest:
        return {**row, "status": "not_audited",
                "reason": f"the registry lists advisories for the latest release only ({latest})"}
    vulns = [{"id": v.get("id"), "aliases": v.get("aliases", []), "fixed_in": v.get("fixed_in", []),
              "summary": (v.get("summary") or v.get("details") or "")[:200], "link": v.get("link", "")}
             for v in data.get("vulnerabilities") or [] if not v.get("withdrawn")]
    return {**row, "status": "vulnerable" if vulns else "ok", "vulnerabilities": vulns}


def run(lock: Path | None, workers: int = 8) -> dict[str, Any]:
    pins = read_pins(lock) if lock else installed_pins()
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        rows = list(pool.map(lambda item: audit_one(*item), sorted(pins.items())))
    counts = {s: sum(r["status"] == s for r in rows) for s in ("ok", "vulnerable", "not_audited")}
    return {"lock": str(lock) if lock else "the installed environment", "packages": len(rows),
            "seconds": round(time.perf_counter() - start, 1),
            "counts": counts, "yanked": [r["name"] for r in rows if r.get("yanked")], "results": rows}


def markdown(report: dict[str, Any]) -> str:
    c = report["counts"]
    lines = [f"# Dependency audit of {report['lock']}", "",
             f"{report['packages']} pins in {report['seconds']} s: {c['ok']} audited and clean, {c['vulnerable']} "
             f"with known vulnerabilities, {c['not_audited']} not audited; yanked: {report['yanked'] or 'none'}", ""]
    for r in report["results"]:
        if r["status"] == "vulnerable":
            for v in r["vulnerabilities"]:
                lines.append(f"- **{r['name']}=={r['version']}** {v['id']} {' '.join(v['aliases'])}: fixed in "
                             f"{', '.join(v['fixed_in']) or '(no fix yet)'} — {v['summary']}")
    for r in report["results"]:
        if r["status"] == "not_audited":
            lines.append(f"- {r['name']}=={r['version']} not audited: {r['reason']}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lock", default=str(ROOT / "requirements.lock"))
    parser.add_argument("--out", default=str(ROOT / "reports" / "audit"), help="folder for audit.json and audit.md")
    parser.add_argument("--installed", action="store_true", help="audit the installed packages instead of the lock")
    parser.add_argument("--strict", action="store_true", help="also fail when a pin could not be audited")
    args = parser.parse_args(argv)
    report = run(None if args.installed else Path(args.lock))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "audit.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    text = markdown(report)
    (out / "audit.md").write_text(text, encoding="utf-8")
    print(text)
    failed = report["counts"]["vulnerable"] or (args.strict and report["counts"]["not_audited"])
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
