"""Optional ONNX int8 backend: export the verified model once, quantise it dynamically, cache it, verify it on load.

Measured on the 2-core machine (BENCHMARKS.md): query embedding about 3x faster than torch fp32 and document
embedding about 2.5x faster, with retrieval quality held on the QA set. The export reads only the verified
safetensors folder; the files it writes get their own sha256 list so they too are checked before every use.

Start-up (issue #14): onnxruntime optimises the graph each time a session is made (about 0.5-1.4 s of a serving
start here). ``session`` saves the optimised graph once, beside the export, keyed by the source file's sha256 and the
onnxruntime version, and later starts load that instead. It is saved at the *extended* level, the highest whose
output onnxruntime calls portable (the "all" level adds layout changes for the CPU it ran on), and loaded at the
default level, so the graph that runs is the one a plain load makes: outputs are bit-identical (tests/test_lean.py).

Batch-invariant int8 (issue #14): the exported graph quantises activations *dynamically per tensor*, so a text's
vector depends on whatever else is in its batch, and index builds had to embed one text per call. ``row_int8``
rewrites it, keeping every int8 weight: each activation row (one token) gets its own symmetric scale, the
activation-by-activation products (attention scores, attention x values, rotary angles) run in float32, and the
weights move from uint8 to int8 (same integers minus 128, zero points too), which lets onnxruntime use the
AVX512-VNNI u8s8 kernels (about 1.8x faster here). Nothing then mixes rows of different texts: texts of the same
token length can be embedded together and each gets exactly the vector it gets alone (tests/test_lean.py,
tests/test_realmodel.py). Per-token scales are also closer to the float model than per-tensor ones (mean cosine to
fp32 sentence-transformers 0.998 vs 0.988 for questions, 0.9986 vs 0.977 for answers; BENCHMARKS.md).
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
VARIANT = "rowint8q"  # the graph actually run: ``row_int8`` of the export's int8 model (named in the cache file);
# "q": rows quantised in one pass (``_round_rows``), the same vectors as "rowint8", whose cached graph is not reused


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
    variant = f"{VARIANT}-{'s8' if vnni() else 'u8'}"  # a model folder shared by two kinds of CPU keeps both
    return export / OPTIMIZED_DIR / f"{stem}.{variant}.{source_sha256[:16]}.ort-{ort.__version__}.extended.onnx"


def vnni() -> bool:
    """Whether this CPU has the VNNI instructions (AVX512-VNNI or AVX-VNNI). Without them onnxruntime's uint8 x int8
    kernel adds pairs of products in int16 with saturation (``vpmaddubsw``), which full-range activations can hit;
    its uint8 x uint8 kernel widens first and is exact. Linux only; elsewhere the exact, slower choice."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return " avx512_vnni" in flags or " avx_vnni" in flags


def row_int8(model: Any, int8_weights: bool = True) -> Any:
    """The exported dynamic-int8 graph rewritten so that no value depends on another row of the batch (see the module
    docstring). Returns the same ``ModelProto``, changed in place; a graph without dynamic quantisation is unchanged.

    Per weight product: ``DynamicQuantizeLinear(x)`` (one scale for the whole tensor) becomes a scale per row,
    ``max|x| / 127``, and ``round(x / scale) + 128`` as uint8 with zero point 128 (symmetric, so one constant zero
    point serves every row, which ``MatMulInteger`` requires); the product's existing ``scale_x * scale_w`` then
    broadcasts per row. Products of two activations are computed in float32 from the unquantised inputs.

    ``int8_weights``: weights and zero points shifted from uint8 to int8. The integer products are the same either
    way (``w - z`` does not change), so both give the same vectors where nothing saturates; int8 is about 1.8x faster
    on VNNI CPUs and may saturate without VNNI (``vnni``), so ``session`` shifts only where VNNI is present."""
    import numpy as np
    from onnx import helper, numpy_helper

    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 18)
    inits = {i.name: i for i in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list[Any]] = {}
    for n in graph.node:
        for x in n.input:
            consumers.setdefault(x, []).append(n)
    replace: dict[int, list[Any]] = {}  # id(node) -> nodes in its place
    dropped: set[int] = set()
    for n in graph.node:
        if n.op_type != "MatMulInteger" or n.input[1] in inits:
            continue
        a, b = producer[n.input[0]], producer[n.input[1]]
        cast = consumers[n.output[0]][0]
        scaled = consumers[cast.output[0]][0]
        if {a.op_type, b.op_type} != {"DynamicQuantizeLinear"} or cast.op_type != "Cast" or scaled.op_type != "Mul":
            raise ValueError(f"unexpected quantised product {n.name}; cannot make the graph batch-invariant")
        replace[id(scaled)] = [helper.make_node("MatMul", [a.input[0], b.input[0]], [scaled.output[0]],
                                                name=f"{n.name}_float")]
        dropped.update({id(n), id(cast)})
    if not replace and not any(n.op_type == "DynamicQuantizeLinear" for n in graph.node):
        return model
    shifted: set[str] = set()
    for n in graph.node:
        if not int8_weights or n.op_type != "MatMulInteger" or n.input[1] not in inits:
            continue
        for name in (n.input[1], n.input[3]):  # weights and their zero points: uint8 -> int8, same differences
            array = numpy_helper.to_array(inits[name])
            if name in shifted or array.dtype != np.uint8:
                continue
            inits[name].CopyFrom(numpy_helper.from_array((array.astype(np.int16) - 128).astype(np.int8), name))
            shifted.add(name)
    constants: dict[str, np.ndarray] = {
        "rowq_zero_u8": np.array(128, np.uint8), "rowq_127": np.array(127.0, np.float32),
        "rowq_128": np.array(128.0, np.float32), "rowq_tiny": np.array(1e-30, np.float32),
        "rowq_last_axis": np.array([-1], np.int64), "rowq_rows": np.array([-1], np.int64)}
    graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in constants.items())
    for n in graph.node:
        if n.op_type != "DynamicQuantizeLinear" or id(n) in replace:
            continue
        readers = [c for o in n.output for c in consumers.get(o, [])]
        if not any(c.op_type == "MatMulInteger" and id(c) not in dropped for c in readers):
            continue  # it fed only activation products, now float: dropped below
        x, (quantised, scale, zero) = n.input[0], n.output
        p = f"{n.name or x}_row"
        replace[id(n)] = [
            helper.make_node("Abs", [x], [f"{p}_abs"]),
            # ReduceMax takes its axes as an input from opset 18 on, as an attribute before
            helper.make_node("ReduceMax", [f"{p}_abs", "rowq_last_axis"], [f"{p}_amax"], keepdims=1)
            if opset >= 18 else helper.make_node("ReduceMax", [f"{p}_abs"], [f"{p}_amax"], keepdims=1, axes=[-1]),
            helper.make_node("Max", [f"{p}_amax", "rowq_tiny"], [f"{p}_amax_safe"]),  # an all-zero row: scale > 0
            helper.make_node("Div", [f"{p}_amax_safe", "rowq_127"], [scale]),
            *_round_rows(x, scale, quantised, p, opset),
            helper.make_node("Identity", ["rowq_zero_u8"], [zero]),
        ]
    nodes = []
    for n in graph.node:
        if id(n) not in dropped:
            nodes.extend(replace.get(id(n), [n]))
    outputs = {o.name for o in graph.output}
    while True:  # drop what nothing reads any more (the old quantisers and scale products)
        read = {x for n in nodes for x in n.input} | outputs
        kept = [n for n in nodes if any(o in read for o in n.output)]
        if len(kept) == len(nodes):
            break
        nodes = kept
    del graph.node[:]
    graph.node.extend(nodes)
    read = {x for n in nodes for x in n.input}
    kept_inits = [i for i in graph.initializer if i.name in read]
    del graph.initializer[:]
    graph.initializer.extend(kept_inits)
    return model


def _round_rows(x: str, scale: str, out: str, p: str, opset: int) -> list[Any]:
    """Nodes for ``out = uint8(round(x / scale) + 128)``, ``scale`` one value per row (last axis) of ``x``.

    From opset 13 on it is one ``QuantizeLinear`` over the rows laid out as a matrix (per-axis scale and zero point
    128): onnxruntime's kernel divides (IEEE, as ``Div``), rounds half to even (as ``Round``) and adds the zero point
    in one vectorised pass, where Div, Round, Add and Cast took four (6 % of an index build's embedding time, profiled:
    BENCHMARKS.md "#14: index build, fewer passes"). |x / scale| <= 127, so its clamp to [-128, 127] never acts and
    the bytes are the same (tests/test_lean.py)."""
    from onnx import TensorProto, helper

    if opset < 13:  # no per-axis QuantizeLinear
        return [helper.make_node("Div", [x, scale], [f"{p}_scaled"]),
                helper.make_node("Round", [f"{p}_scaled"], [f"{p}_round"]),
                helper.make_node("Add", [f"{p}_round", "rowq_128"], [f"{p}_shift"]),
                helper.make_node("Cast", [f"{p}_shift"], [out], to=TensorProto.UINT8)]
    return [
        helper.make_node("Flatten", [x], [f"{p}_matrix"], axis=-1),  # (rows, last axis)
        helper.make_node("Reshape", [scale, "rowq_rows"], [f"{p}_scales"]),
        helper.make_node("Shape", [f"{p}_scales"], [f"{p}_count"]),
        helper.make_node("Expand", ["rowq_zero_u8", f"{p}_count"], [f"{p}_zeros"]),
        helper.make_node("QuantizeLinear", [f"{p}_matrix", f"{p}_scales", f"{p}_zeros"], [f"{p}_q"], axis=0),
        helper.make_node("Shape", [x], [f"{p}_shape"]),
        helper.make_node("Reshape", [f"{p}_q", f"{p}_shape"], [out]),
    ]


def _read_stamp(path: Path) -> dict[str, str]:
    try:
        stamp: dict[str, str] = json.loads(path.with_suffix(".sha256.json").read_text())
        return stamp
    except (OSError, ValueError):
        return {}


def session(export: Path, options: Any = None) -> Any:
    """An onnxruntime session on the export's verified int8 model made batch-invariant (``row_int8``), from the
    cached optimised graph when there is a valid one; otherwise the graph is rewritten and optimised from the source
    file (verified first) and saved for next time.

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
    import hashlib

    import onnx

    source = export / QUANTIZED
    data = source.read_bytes() if source.is_file() else b""  # verified and parsed from the same bytes
    if hashlib.sha256(data).hexdigest() != source_sha:
        raise ModelUnavailable(f"ONNX export file {source} is missing or changed; run "
                               "`python -m bot models fetch --onnx` to export it again.")
    graph = row_int8(onnx.load_from_string(data), int8_weights=vnni()).SerializeToString()
    del data
    scratch = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
    saving = _options(options)
    saving.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    saving.optimized_model_filepath = str(scratch)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        ort.InferenceSession(graph, saving, providers=["CPUExecutionProvider"])
        digest = sha256_file(scratch)
        stamp_tmp = scratch.with_suffix(".json.tmp")
        stamp_tmp.write_text(json.dumps({"source_sha256": source_sha, "sha256": digest,
                                         "onnxruntime": ort.__version__, "level": "extended",
                                         "variant": VARIANT, "int8_weights": vnni()}))
        os.replace(scratch, cached)
        os.replace(stamp_tmp, cached.with_suffix(".sha256.json"))
    except (OSError, RuntimeError):  # onnxruntime reports a failed write as its own RuntimeError
        # A read-only cache: serve from the rewritten source, optimised in memory as before.
        with contextlib.suppress(OSError):
            scratch.unlink()
        return ort.InferenceSession(graph, _options(options), providers=["CPUExecutionProvider"])
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
