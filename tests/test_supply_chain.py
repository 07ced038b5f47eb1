"""Supply chain, without the network: exact pins, a lock that covers the environment, no unsafe deserialization in
``bot/``, and the model hash list. The advisory check itself needs the registry: ``python evals/audit.py``."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib

import pytest
from script_loader import load_script

from bot.config import PROJECT_ROOT

PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCK = PROJECT_ROOT / "requirements.lock"
# Installers that set up the venv, and the project itself: not dependencies the lock should pin.
NOT_LOCKED = {"pip", "setuptools", "wheel", "shenzhen-bot"}


audit = load_script(PROJECT_ROOT / "evals" / "audit.py", "audit")


def _declared() -> list[str]:
    project = PYPROJECT["project"]
    extras = project.get("optional-dependencies", {}).values()
    return [*project["dependencies"], *(d for group in extras for d in group)]


@pytest.mark.parametrize("requirement", _declared())
def test_every_declared_dependency_is_pinned_exactly(requirement):
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[\w,-]+\])?==[\w.+!-]+", requirement), requirement


def test_declared_pins_agree_with_the_lock():
    """Same version where both pin it (a declared package missing from the lock fails the test below)."""
    lock = audit.read_pins(LOCK)
    for requirement in _declared():
        m = audit._PIN.match(requirement)
        name, version = audit.normalise(m.group(1)), m.group(3)
        assert lock.get(name, version) == version, f"{requirement} vs lock {lock[name]}"


def test_lock_lines_are_exact_and_unique():
    names = [audit.normalise(m.group(1)) for line in LOCK.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#") and (m := audit._PIN.match(line))]
    lines = [line for line in LOCK.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert len(names) == len(lines), "every lock line is name==version"
    assert len(names) == len(set(names))


def test_lock_pins_every_installed_package():
    """Declared in pyproject.toml or pulled in by a declared package: either way the lock must pin it."""
    lock = audit.read_pins(LOCK)
    installed = {audit.normalise(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    missing = sorted(f"{n}=={v}" for n, v in installed.items() if n not in lock and n not in NOT_LOCKED)
    assert missing == []


def test_installed_versions_match_the_lock():
    lock = audit.read_pins(LOCK)
    for dist in importlib.metadata.distributions():
        name = audit.normalise(dist.metadata["Name"])
        if name in lock:
            # torch is the local CPU build: 2.13.0+cpu is release 2.13.0
            assert audit._local_free(dist.version) == lock[name], name


# ---------------------------------------------------------------- unsafe deserialization

# Loading a pickle runs whatever code the file holds: nothing in bot/ may load one, directly or through a library
# (torch.load, joblib, numpy's allow_pickle, LangChain's FAISS store), nor run a model repository's own code.
UNSAFE = re.compile(
    r"\bimport (c?pickle|dill|joblib|shelve|marshal)\b|\bfrom (c?pickle|dill|joblib|shelve|marshal) import|"
    r"\b(c?pickle|dill|joblib|marshal)\.loads?\(|\btorch\.load\(|allow_dangerous_deserialization|allow_pickle\s*=\s*True|"
    r"trust_remote_code\s*=\s*True|\byaml\.(unsafe_)?load\((?![^)]*SafeLoader)|\bload_local\("
)


def _code_lines(path):
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        code = line.split("#", 1)[0]
        if code.strip() and not code.strip().startswith(('"""', "'''")):
            yield n, code


def test_no_unsafe_deserialization_in_bot():
    sources = sorted((PROJECT_ROOT / "bot").rglob("*.py"))
    assert len(sources) > 10
    hits = [f"{p.relative_to(PROJECT_ROOT)}:{n}: {code.strip()}" for p in sources for n, code in _code_lines(p)
            if UNSAFE.search(code)]
    assert hits == []


@pytest.mark.parametrize("bad", ["import pickle", "torch.load(path)", "joblib.load(f)", "yaml.load(text)",
                                 "FAISS.load_local(d, e, allow_dangerous_deserialization=True)",
                                 "np.load(p, allow_pickle=True)",
                                 "AutoModel.from_pretrained(m, trust_remote_code=True)"])
def test_the_unsafe_pattern_catches(bad):
    assert UNSAFE.search(bad)


def test_the_unsafe_pattern_spares_safe_calls():
    for ok in ("yaml.safe_load(text)", "yaml.load(text, Loader=yaml.SafeLoader)", "json.load(f)",
               "faiss.read_index(str(p))", "np.load(p)"):
        assert not UNSAFE.search(ok), ok


# ---------------------------------------------------------------- model files


def test_model_hash_list_covers_the_weights_with_the_published_hash():
    text = (PROJECT_ROOT / "bot" / "data" / "embeddinggemma-300m.sha256").read_text(encoding="utf-8")
    entries = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            digest, path = line.split(maxsplit=1)
            assert re.fullmatch(r"[0-9a-f]{64}", digest), line
            assert path not in entries, f"{path} listed twice"
            entries[path] = digest
    assert entries["model.safetensors"].startswith("cbf5a783")
    # every weight file and the tokenizer are verified, not just the main weights
    weights = {"2_Dense/model.safetensors", "3_Dense/model.safetensors", "tokenizer.json", "tokenizer.model"}
    assert weights <= set(entries)
    assert not any(p.endswith((".bin", ".pt", ".pkl", ".pickle")) for p in entries), "weights only as safetensors"
