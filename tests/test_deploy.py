"""deploy/: the HAProxy config passes `haproxy -c` as written, and the Kubernetes manifests validate offline against
the Kubernetes API schemas (kubernetes-validate, strict: an unknown or misspelt field fails) and agree with the app
(probes on /healthz, every BOT_* variable a real setting, the Service selecting the Deployment's pods)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from bot.config import PROJECT_ROOT, Settings
from bot.serve.processes import check_haproxy_config, haproxy_env

DEPLOY = PROJECT_ROOT / "deploy"
K8S_VERSION = "1.33.0"  # a release current clusters run; the schema ships inside kubernetes-validate


def test_haproxy_config_is_valid_and_warning_free() -> None:
    env = haproxy_env("127.0.0.1:8080", ["127.0.0.1:7861", "127.0.0.1:7862"])
    result = check_haproxy_config(DEPLOY / "haproxy.cfg", env)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stdout + result.stderr


def test_haproxy_config_needs_its_addresses() -> None:
    # The file reads where to listen and the replicas from the environment: without them it must not start
    # on some built-in address.
    result = check_haproxy_config(DEPLOY / "haproxy.cfg", {"HAPROXY_BIND": "", "REPLICA1": "", "REPLICA2": ""})
    assert result.returncode != 0


def test_haproxy_config_has_cookie_affinity_and_health_checks() -> None:
    lines = {" ".join(line.split()) for line in (DEPLOY / "haproxy.cfg").read_text().splitlines()
             if line.strip() and not line.strip().startswith("#")}
    for needed in ("cookie SRV insert indirect nocache httponly", "balance leastconn", "option httpchk GET /healthz",
                   "option redispatch", "timeout tunnel 1h"):
        assert needed in lines
    servers = [line for line in lines if line.startswith("server ")]
    assert len(servers) >= 2 and all(" cookie " in line for line in servers)


def _manifests() -> list[tuple[Path, dict]]:
    found = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        found += [(path, doc) for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    return found


@pytest.mark.parametrize("path,doc", _manifests(), ids=lambda v: v.name if isinstance(v, Path) else v["kind"])
def test_manifest_is_valid_kubernetes(path: Path, doc: dict) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_a_misspelt_field_fails_validation() -> None:
    # The check above can fail: a typo in a probe is caught offline, not in the cluster.
    deployment = next(doc for _, doc in _manifests() if doc["kind"] == "Deployment")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {"path": "/healthz"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def _by_kind(kind: str) -> list[dict]:
    return [doc for _, doc in _manifests() if doc["kind"] == kind]


def test_manifests_agree_with_the_app() -> None:
    known = {f"BOT_{f.name.upper()}" for f in dataclasses.fields(Settings)}
    (deployment,) = _by_kind("Deployment")
    pod = deployment["spec"]["template"]
    (web,) = pod["spec"]["containers"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert web[probe]["httpGet"]["path"] == "/healthz"
        assert web[probe]["httpGet"]["port"] in {p["name"] for p in web["ports"]}
    port = {e["name"]: e.get("value") for e in web["env"]}["BOT_PORT"]
    assert int(port) == web["ports"][0]["containerPort"]
    # The app refuses to start on an unknown BOT_* variable: a typo here would crash-loop every pod.
    containers = [c for _, doc in _manifests() for c in _pod_containers(doc)]
    names = {e["name"] for c in containers for e in c.get("env", []) if e["name"].startswith("BOT_")}
    assert names and names <= known, names - known
    (service,) = _by_kind("Service")
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    (ingress,) = _by_kind("Ingress")
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    (job,) = _by_kind("Job")
    assert "python -m bot index" in " ".join(job["spec"]["template"]["spec"]["containers"][0]["command"])


def _pod_containers(doc: dict) -> list[dict]:
    spec = doc.get("spec", {}).get("template", {}).get("spec", {})
    return list(spec.get("containers", [])) + list(spec.get("initContainers", []))
