"""Optional ONNX int8 backend: export the verified model once, quantise it dynamically, cache it, verify it on load.

Measured on the 2-core machine (BENCHMARKS.md): query embedding about 3x faster than torch fp32 and document
embedding about 2.5x faster, with retrieval quality held on the QA set. The export reads only the verified
safetensors folder; the files it writes get their own sha256 list so they too are checked before every use.

Start-up (issue #14): onnxruntime optimises the graph each time a session is made (about 0.5-1.4 s of a serving
start here). ``session`` saves the optimised graph once, beside the export, keyed by the source file's sha256 and the
onnxruntime version, and later starts load that instead. It is saved at the *extended* level, the highest whose
output onnxruntime calls portable (the "all" level adds layout changes for the CPU it ran on), and loaded at the
default level, so the graph that runs is the one a plain load makes: outputs are bit-identical (tests/test_lean.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bot.build.models import sha256_file
from bot.errors import ModelUnavailable

QUANTIZED = "onnx/model_quint8_avx2.onnx"
_HASHES = "export.sha256.json"
OPTIMIZED_DIR = "ort-optimized"  # inside the export folder: a new export (rmtree + rename) drops stale graphs too


def export_dir_for(model_ref: str) -> Path:
    src = Path(model_ref)
    return src.parent / f"{src.name}-onnx-int8"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != _HASHES)


def export_onnx(model_ref: str) -> Path:
    """Export + quantise into ``<model>-onnx-int8`` beside the source folder (about 75 s); returns that folder."""
    from sentence_transformers import SentenceTransformer, export_dynamic_quantized_onnx_model

    target = export_dir_for(model_ref)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".onnx-") as scratch:
        out = Path(scratch) / "model"
        model = SentenceTransformer(model_ref, backend="onnx", device="cpu")
        model.save_pretrained(str(out))
        # avx2 kernels run on every x86-64 machine we target; the avx512 variant gave no measurable gain here.
        export_dynamic_quantized_onnx_model(model, "avx2", str(out))
        (out / "onnx" / "model.onnx").unlink()  # the fp32 export (1.2 GB) is only a step towards the int8 one
        hashes = {str(p.relative_to(out)): sha256_file(p) for p in _files(out) if OPTIMIZED_DIR not in p.parts}
        (out / _HASHES).write_text(json.dumps(hashes, indent=1))
        if target.exists():
            shutil.rmtree(target)
        out.rename(target)
    session(target)  # saves the optimised graph now, so the first serving start does not pay for it
    return target


def export_hashes(target: Path) -> dict[str, str]:
    """The export's published list (relative path -> sha256); raises ``ModelUnavailable`` when there is none."""
    listing = target / _HASHES
    if not listing.is_file():
        raise ModelUnavailable(
            f"No ONNX export at {target}. Run `python -m bot models fetch --onnx`, or set BOT_EMBED_BACKEND=torch."
        )
    hashes: dict[str, str] = json.loads(listing.read_text())
    return hashes


def verified_export(model_ref: str, skip: tuple[str, ...] = ()) -> Path:
    """The export folder, every listed file checked against its sha256 first. ``skip``: files a caller verifies
    itself when it reads them (``session`` does so for the int8 model, or reads the verified optimised graph)."""
    target = export_dir_for(model_ref)
    for name, digest in export_hashes(target).items():
        if name in skip:
            continue
        path = target / name
        if not path.is_file() or sha256_file(path) != digest:
            raise ModelUnavailable(f"ONNX export file {path} is missing or changed; run "
                                   "`python -m bot models fetch --onnx` to export it again.")
    return target


def onnx_model_kwargs() -> dict[str, str]:
    return {"file_name": QUANTIZED}


def optimized_path(export: Path, source_sha256: str) -> Path:
    """Where the optimised graph of the export's int8 model is cached: one file per source model and onnxruntime
    version (another version may optimise differently, so its graph is made anew rather than trusted)."""
    import onnxruntime as ort

    stem = Path(QUANTIZED).stem
    return export / OPTIMIZED_DIR / f"{stem}.{source_sha256[:16]}.ort-{ort.__version__}.extended.onnx"


def _read_stamp(path: Path) -> dict[str, str]:
    try:
        stamp: dict[str, str] = json.loads(path.with_suffix(".sha256.json").read_text())
        return stamp
    except (OSError, ValueError):
        return {}


def session(export: Path, options: Any = None) -> Any:
    """An onnxruntime session on the export's verified int8 model, from the cached optimised graph when there is a
    valid one; otherwise the graph is optimised from the source file (verified first) and saved for next time.

    ``options``: a ``SessionOptions`` to start from (thread counts); its optimisation level and output path are
    set here. A cached graph whose sha256 does not match its stamp is not an error but a cache miss: it is made
    again (two servers starting together may both write it; each write is complete before its rename)."""
    import onnxruntime as ort

    source_sha = export_hashes(export).get(QUANTIZED)
    if source_sha is None:
        raise ModelUnavailable(f"The ONNX export at {export} lists no {QUANTIZED}; run "
                               "`python -m bot models fetch --onnx --force` to export it again.")
    cached = optimized_path(export, source_sha)
    stamp = _read_stamp(cached)
    if cached.is_file() and stamp.get("source_sha256") == source_sha and stamp.get("sha256") == sha256_file(cached):
        return ort.InferenceSession(str(cached), _options(options), providers=["CPUExecutionProvider"])
    source = export / QUANTIZED
    if not source.is_file() or sha256_file(source) != source_sha:
        raise ModelUnavailable(f"ONNX export file {source} is missing or changed; run "
                               "`python -m bot models fetch --onnx` to export it again.")
    scratch = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
    saving = _options(options)
    saving.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    saving.optimized_model_filepath = str(scratch)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        ort.InferenceSession(str(source), saving, providers=["CPUExecutionProvider"])
        digest = sha256_file(scratch)
        stamp_tmp = scratch.with_suffix(".json.tmp")
        stamp_tmp.write_text(json.dumps({"source_sha256": source_sha, "sha256": digest,
                                         "onnxruntime": ort.__version__, "level": "extended"}))
        os.replace(scratch, cached)
        os.replace(stamp_tmp, cached.with_suffix(".sha256.json"))
    except (OSError, RuntimeError):  # onnxruntime reports a failed write as its own RuntimeError
        # A read-only cache: serve from the source file, optimised in memory as before.
        with contextlib.suppress(OSError):
            scratch.unlink()
        return ort.InferenceSession(str(source), _options(options), providers=["CPUExecutionProvider"])
    return ort.InferenceSession(str(cached), _options(options), providers=["CPUExecutionProvider"])


def _options(base: Any) -> Any:
    """A fresh ``SessionOptions`` with ``base``'s thread settings (options are not reusable across sessions once
    an output path is set)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if base is not None:
        options.intra_op_num_threads = base.intra_op_num_threads
        options.inter_op_num_threads = base.inter_op_num_threads
    return options
