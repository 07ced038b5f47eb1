"""Serving without torch (issue #14): the torch-free ONNX embedder and the cached optimised graph.

Unit tests build a tiny ONNX "transformer" (an embedding lookup) in a fake sentence-transformers export, so the
pooling, Dense and normalisation arithmetic and the graph cache are checked without the real model. The
``realmodel`` tests compare the torch-free embedder with sentence-transformers on the real model and index.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.build import embed
from bot.build.embed import OnnxEmbedder
from bot.build.onnx_export import QUANTIZED, optimized_path, session
from bot.errors import ModelUnavailable

VOCAB = ["<pad>", "<eos>", "<bos>", "<unk>", "q:", "d:", "tax", "refund", "luohu", "port", "alipay"]
HIDDEN, OUT = 6, 4


def _tiny_export(root: Path, rng: np.random.Generator) -> tuple[Path, np.ndarray, np.ndarray, np.ndarray]:
    import onnx
    from onnx import TensorProto, helper
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    export = root / "tiny-onnx-int8"
    (export / "onnx").mkdir(parents=True)
    table = rng.standard_normal((len(VOCAB), HIDDEN)).astype(np.float32)
    scale = np.full((1,), 1.5, dtype=np.float32)
    # last_hidden_state = Gather(table, input_ids) * 1.5 * mask: a graph the optimiser has something to fold.
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["g"]),
         helper.make_node("Mul", ["g", "scale"], ["s"]),
         helper.make_node("Cast", ["attention_mask"], ["m"], to=TensorProto.FLOAT),
         helper.make_node("Unsqueeze", ["m", "axis"], ["m3"]),
         helper.make_node("Mul", ["s", "m3"], ["last_hidden_state"])],
        "tiny",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "s"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["b", "s"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["b", "s", HIDDEN])],
        [helper.make_tensor("table", TensorProto.FLOAT, table.shape, table.flatten()),
         helper.make_tensor("scale", TensorProto.FLOAT, [1], scale),
         helper.make_tensor("axis", TensorProto.INT64, [1], [2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(export / QUANTIZED))

    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(VOCAB)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<bos> $A <eos>", special_tokens=[("<bos>", 2), ("<eos>", 1)])
    tokenizer.save(str(export / "tokenizer.json"))
    (export / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 2048}))
    (export / "config.json").write_text(json.dumps({"max_position_embeddings": 6}))
    (export / "config_sentence_transformers.json").write_text(json.dumps({"prompts": {"query": "q: ",
                                                                                       "document": "d: "}}))
    w1 = rng.standard_normal((8, HIDDEN)).astype(np.float32)
    w2 = rng.standard_normal((OUT, 8)).astype(np.float32)
    modules = [{"idx": 0, "name": "0", "path": "",
                "type": "sentence_transformers.base.modules.transformer.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling",
                "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling"}]
    (export / "1_Pooling").mkdir()
    (export / "1_Pooling" / "config.json").write_text(json.dumps({"embedding_dimension": HIDDEN,
                                                                  "pooling_mode": "mean", "include_prompt": True}))
    for n, weight in ((2, w1), (3, w2)):
        folder = export / f"{n}_Dense"
        folder.mkdir()
        save_file({"linear.weight": weight}, str(folder / "model.safetensors"))
        (folder / "config.json").write_text(json.dumps({
            "in_features": weight.shape[1], "out_features": weight.shape[0], "bias": False,
            "activation_function": "torch.nn.modules.linear.Identity"}))
        modules.append({"idx": n, "name": str(n), "path": folder.name,
                        "type": "sentence_transformers.base.modules.dense.Dense"})
    modules.append({"idx": 4, "name": "4", "path": "4_Normalize",
                    "type": "sentence_transformers.sentence_transformer.modules.normalize.Normalize"})
    (export / "modules.json").write_text(json.dumps(modules))
    hashes = {str(p.relative_to(export)): hashlib.sha256(p.read_bytes()).hexdigest()
              for p in sorted(export.rglob("*")) if p.is_file()}
    (export / "export.sha256.json").write_text(json.dumps(hashes))
    return export, table * scale, w1, w2


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray, np.ndarray]:
    return _tiny_export(tmp_path, np.random.default_rng(7))


def _expected(text: str, hidden: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    ids = [2, *[VOCAB.index(w) if w in VOCAB else 3 for w in text.split()][:4], 1]  # 6 positions at most
    vector = hidden[ids].astype(np.float64).mean(axis=0) @ w1.T.astype(np.float64) @ w2.T.astype(np.float64)
    return vector / np.linalg.norm(vector)


def test_torch_free_embedder_pools_projects_and_normalises(tiny):
    export, hidden, w1, w2 = tiny
    assert OnnxEmbedder.supports(export)
    embedder = OnnxEmbedder(export, "tiny@onnx-int8-row")
    assert embedder.dim == OUT
    queries = embedder.embed_queries(["tax refund", "alipay luohu port tax refund refund"])  # the second truncated
    np.testing.assert_allclose(queries[0], _expected("q: tax refund", hidden, w1, w2), atol=1e-6)
    np.testing.assert_allclose(queries[1], _expected("q: alipay luohu port tax", hidden, w1, w2), atol=1e-6)
    document = embedder.embed_documents(["tax refund"])[0]
    np.testing.assert_allclose(document, _expected("d: tax refund", hidden, w1, w2), atol=1e-6)
    assert queries.dtype == np.float32 and not np.allclose(document, queries[0])
    # a vector does not depend on the texts beside it (here of another length: another call)
    assert np.array_equal(embedder.embed_queries(["alipay", "tax refund"])[1], queries[0])


def test_documents_are_embedded_from_their_first_tokens_and_queries_whole(tiny):
    """Issue #14: a document (card answer, guide section, plan measure) is embedded from its first
    ``document_tokens`` tokens, prompt and <bos>/<eos> included, cut as the tokenizer's own truncation cuts; a query
    is never cut below the model's own limit."""
    from tokenizers import Tokenizer

    from bot.build.embed import DOCUMENT_TOKENS, ROW_ID

    export, hidden, w1, w2 = tiny
    capped = OnnxEmbedder(export, "tiny@onnx-int8-row-doc4", document_tokens=4)
    whole = OnnxEmbedder(export, "tiny@onnx-int8-row", document_tokens=2048)
    long, short = "tax refund luohu port", "tax"
    documents = capped.embed_documents([long, short])
    # <bos> d: tax <eos>: the long document reads as its first word, exactly like the short one
    np.testing.assert_allclose(documents[0], _expected("d: tax", hidden, w1, w2), atol=1e-6)
    assert np.array_equal(documents[0], documents[1])
    assert np.array_equal(documents[1], whole.embed_documents([short])[0])  # short documents are not changed
    assert not np.allclose(whole.embed_documents([long])[0], documents[0])
    # queries are cut only at the model's 6 positions, capped embedder or not
    assert np.array_equal(capped.embed_queries([long]), whole.embed_queries([long]))
    np.testing.assert_allclose(capped.embed_queries([long])[0], _expected("q: tax refund luohu port", hidden, w1, w2),
                               atol=1e-6)
    tokenizer = Tokenizer.from_file(str(export / "tokenizer.json"))
    tokenizer.enable_truncation(4)
    own = tokenizer.encode("d: " + long).ids
    assert own == [2, VOCAB.index("d:"), VOCAB.index("tax"), 1]
    tokenizer.no_truncation()
    full = tokenizer.encode("d: " + long)
    assert embed._capped(full.ids, full.special_tokens_mask, 4) == own
    assert ROW_ID.endswith(f"-doc{DOCUMENT_TOKENS}")  # another cap gives other vectors: the index is rebuilt


def test_a_replicas_thread_share_reaches_the_onnx_session(tiny):
    """``BOT_THREADS`` (``Settings.threads``): N replicas on one machine each run their share of the cores."""
    export = tiny[0]
    shared = OnnxEmbedder(export, "tiny@onnx-int8-row", threads=1)._session.get_session_options()
    assert (shared.intra_op_num_threads, shared.inter_op_num_threads) == (1, 1)
    alone = OnnxEmbedder(export, "tiny@onnx-int8-row")._session.get_session_options()
    assert alone.intra_op_num_threads == 0  # the runtime's default: one thread per core


@pytest.mark.parametrize("change", ["pooling", "activation", "module"])
def test_other_model_shapes_go_through_sentence_transformers(tiny, change):
    export = tiny[0]
    if change == "pooling":
        (export / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode": "cls"}))
    elif change == "activation":
        config = json.loads((export / "2_Dense" / "config.json").read_text())
        (export / "2_Dense" / "config.json").write_text(json.dumps(
            {**config, "activation_function": "torch.nn.modules.activation.Tanh"}))
    else:
        modules = json.loads((export / "modules.json").read_text())
        modules.insert(2, {"idx": 1, "name": "x", "path": "x", "type": "sentence_transformers.models.LayerNorm"})
        (export / "modules.json").write_text(json.dumps(modules))
    assert not OnnxEmbedder.supports(export)


def test_optimised_graph_is_saved_once_verified_and_gives_the_same_outputs(tiny):
    import onnxruntime as ort

    export = tiny[0]
    source_sha = json.loads((export / "export.sha256.json").read_text())[QUANTIZED]
    cached = optimized_path(export, source_sha)
    assert ort.__version__ in cached.name and source_sha[:16] in cached.name
    feed = {"input_ids": np.array([[2, 6, 7, 1]], np.int64), "attention_mask": np.ones((1, 4), np.int64)}
    plain = ort.InferenceSession(str(export / QUANTIZED), providers=["CPUExecutionProvider"]).run(None, feed)[0]

    first = session(export)
    assert cached.is_file()
    stamp = json.loads(cached.with_suffix(".sha256.json").read_text())
    assert stamp["sha256"] == hashlib.sha256(cached.read_bytes()).hexdigest()
    assert stamp["source_sha256"] == source_sha
    written = cached.stat().st_mtime_ns
    second = session(export)
    assert cached.stat().st_mtime_ns == written  # loaded, not made again
    assert np.array_equal(first.run(None, feed)[0], plain)
    assert np.array_equal(second.run(None, feed)[0], plain)

    cached.write_bytes(cached.read_bytes()[:-7])  # a damaged cache is a miss: made again, never used
    assert np.array_equal(session(export).run(None, feed)[0], plain)
    assert json.loads(cached.with_suffix(".sha256.json").read_text())["sha256"] == \
        hashlib.sha256(cached.read_bytes()).hexdigest()
    assert not list(cached.parent.glob(".*.tmp"))


def test_a_changed_source_model_is_refused(tiny):
    export = tiny[0]
    with (export / QUANTIZED).open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelUnavailable, match="missing or changed"):
        session(export)


@pytest.mark.realmodel
def test_serving_matches_the_build_and_sentence_transformers_without_importing_torch():
    """Serving and ``bot index`` embed with the same batch-invariant graph: a query's vector is bit for bit the one a
    build gives the same text (so the index ranks it the same); it stays close to the float model's
    (sentence-transformers, torch: cosine >= 0.99; 0.998 on average over 300 questions, BENCHMARKS.md); and a
    serving process never imports torch, transformers or sentence-transformers."""
    from conftest import load_real_bot

    from bot.build.embed import SentenceTransformerEmbedder, load_embedder
    from bot.build.models import resolve_model

    bot = load_real_bot()
    if not isinstance(bot.embedder, OnnxEmbedder):
        pytest.skip("the configured embedder is not the ONNX one")
    questions = ["退税最低要消费多少钱", "Can I use Alipay with a Visa card?", "¿Cuánto dura el tránsito sin visado?",
                 "Bao'an airport 240 hours", "Где вернуть налог?", "ร้านค้าปลอดภาษีอยู่ที่ไหน", "Alipay 3% fee",
                 "the Mastercard co rut duoc tien mat o cay ATM ben Tham Quyen khong"]
    served = bot.embedder.embed_queries(questions)
    assert np.array_equal(served, load_embedder(bot.settings, build=True).embed_queries(questions))
    float_model = SentenceTransformerEmbedder(resolve_model(bot.settings), bot.settings.model, "torch")
    assert float((served * float_model.embed_queries(questions)).sum(axis=1).min()) >= 0.99

    probe = ("import sys; from bot.serve.pipeline import Bot; bot = Bot.load(); bot.ask('tax refund at Luohu'); "
             "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers', 'optimum') "
             "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300,
                            cwd=Path(__file__).resolve().parent.parent)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_every_yaml_file_parses_the_same_with_libyaml():
    """``bot.yaml_text.load_yaml`` reads the cards, rule tables, places and message catalogues with libyaml's safe
    loader when PyYAML has it (a start and a first question read them); the values must be what the pure-Python
    safe loader gives, for every such file."""
    import yaml

    from bot.config import PROJECT_ROOT
    from bot.yaml_text import load_yaml

    if not getattr(yaml, "__with_libyaml__", False):
        pytest.skip("PyYAML without libyaml: the pure-Python loader is used")
    paths = [*(PROJECT_ROOT / "corpus").rglob("*.yaml"), *(PROJECT_ROOT / "bot").rglob("*.yaml")]
    assert len(paths) > 100
    for path in sorted(paths):
        text = path.read_text(encoding="utf-8")
        fast, plain = load_yaml(text), yaml.load(text, Loader=yaml.SafeLoader)
        assert fast == plain and repr(fast) == repr(plain), path


def test_warm_up_loads_what_a_first_question_would_wait_for(built):
    """Bot.warm_up (run on a side thread by app.py) leaves jieba, py3langid's full model and the checkers' phrases
    loaded, without embedding anything."""
    import jieba

    from bot.checks.render import _texts
    from bot.lang import _any_identifier
    from bot.serve.pipeline import Bot

    bot = Bot.load(built)
    _texts.cache_clear()
    _any_identifier.cache_clear()
    bot.retriever._vector_cache.clear()
    bot.warm_up()
    assert jieba.dt.initialized
    assert _texts.cache_info().currsize == 1 and _any_identifier.cache_info().currsize == 1
    assert not bot.retriever._vector_cache  # nothing embedded


def test_a_cache_that_cannot_be_written_still_serves(tiny, monkeypatch):
    """Where the optimised graph cannot be saved (a read-only model cache; here a path under a plain file, which
    fails even for root), the session is made from the verified source as before."""
    import bot.build.onnx_export as onnx_export

    export = tiny[0]
    blocker = export / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setattr(onnx_export, "optimized_path", lambda *_: blocker / "sub" / "graph.onnx")
    out = session(export).run(None, {"input_ids": np.array([[2, 6, 1]], np.int64),
                                     "attention_mask": np.ones((1, 3), np.int64)})[0]
    assert out.shape == (1, 3, HIDDEN)
    assert not (export / "ort-optimized").exists()


def _quantised_block(folder: Path, rng: np.random.Generator) -> tuple[Path, Path]:
    """A float block shaped like one transformer layer's products (x @ W, then (x W) @ (x W)^T as attention scores
    do, then @ W again), and its dynamic int8 quantisation by onnxruntime's quantiser, as the real export is made."""
    import onnx
    from onnx import TensorProto, helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    w1 = rng.standard_normal((16, 16)).astype(np.float32)
    w2 = rng.standard_normal((16, 8)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["h"]),
         helper.make_node("Transpose", ["h"], ["ht"], perm=[0, 2, 1]),
         helper.make_node("MatMul", ["h", "ht"], ["scores"]),
         helper.make_node("Softmax", ["scores"], ["p"], axis=-1),
         helper.make_node("MatMul", ["p", "h"], ["mixed"]),
         helper.make_node("MatMul", ["mixed", "w2"], ["y"])],
        "block",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "s", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", "s", 8])],
        [helper.make_tensor("w1", TensorProto.FLOAT, w1.shape, w1.flatten()),
         helper.make_tensor("w2", TensorProto.FLOAT, w2.shape, w2.flatten())],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    plain, quantised = folder / "block.onnx", folder / "block.int8.onnx"
    onnx.save(model, str(plain))
    quantize_dynamic(str(plain), str(quantised), weight_type=QuantType.QUInt8, per_channel=True)
    return plain, quantised


def test_row_int8_makes_a_rows_output_independent_of_its_batch_mates(tmp_path):
    """The exported graph scales activations per tensor, so a text's output changes with its batch-mates; after
    ``row_int8`` a row's output is bit for bit the same alone and in any batch, and still close to the float
    graph's (issue #14: texts batched by length in index builds)."""
    import onnx
    import onnxruntime as ort

    from bot.build.onnx_export import row_int8

    rng = np.random.default_rng(3)
    plain, quantised = _quantised_block(tmp_path, rng)
    assert {"DynamicQuantizeLinear", "MatMulInteger"} <= {n.op_type for n in onnx.load(str(quantised)).graph.node}
    rewritten = row_int8(onnx.load(str(quantised)))
    kinds = [n.op_type for n in rewritten.graph.node]
    assert "DynamicQuantizeLinear" not in kinds and kinds.count("MatMulInteger") == 2 and kinds.count("MatMul") == 2

    def run(model: Path | bytes, x: np.ndarray) -> np.ndarray:
        source = model if isinstance(model, bytes) else str(model)
        return ort.InferenceSession(source, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]

    text = rng.standard_normal((1, 5, 16)).astype(np.float32)
    mates = np.concatenate([text, 30 * rng.standard_normal((3, 5, 16)).astype(np.float32)])  # louder batch-mates
    assert not np.array_equal(run(quantised, text)[0], run(quantised, mates)[0])  # the export: batch-dependent
    graph = rewritten.SerializeToString()
    alone = run(graph, text)[0]
    assert np.array_equal(run(graph, mates)[0], alone)
    assert np.array_equal(run(graph, mates[::-1])[-1], alone)
    reference = run(plain, text)[0]
    cosine = (alone * reference).sum(-1) / np.linalg.norm(alone, axis=-1) / np.linalg.norm(reference, axis=-1)
    assert cosine.min() > 0.99
    # uint8 weights (kept on CPUs without VNNI) give the same integer products, hence the same outputs
    unshifted = row_int8(onnx.load(str(quantised)), int8_weights=False).SerializeToString()
    assert {i.data_type for i in onnx.load_from_string(unshifted).graph.initializer if i.name.endswith("_quantized")} \
        == {onnx.TensorProto.UINT8}
    assert np.array_equal(run(unshifted, mates), run(graph, mates))


def test_equal_length_texts_are_batched_and_get_their_vectors_alone(tiny, monkeypatch):
    """The embedder runs texts of one token length together, in as few calls as ``BATCH_TOKENS`` allows, and each
    text's vector is the one it gets alone; texts of other lengths go to other calls (no padding)."""
    import bot.build.embed as embed

    export = tiny[0]
    embedder = OnnxEmbedder(export, "tiny@onnx-int8-row", workers=2)
    calls: list[tuple[int, ...]] = []
    for one in embedder._sessions:
        original = one.run

        def counted(names, feed, _run=original):
            calls.append(feed["input_ids"].shape)
            return _run(names, feed)

        monkeypatch.setattr(one, "run", counted, raising=False)
    texts = ["tax refund", "alipay port", "luohu tax refund", "refund tax", "port"]
    monkeypatch.setattr(embed, "BATCH_TOKENS", 12)  # two 5- or 6-token texts a call
    together = embedder.embed_queries(texts)  # <bos> q: ... <eos>: 5, 5, 6 (at the 6-position cap), 5, 4 tokens
    assert sorted(calls) == [(1, 4), (1, 5), (1, 6), (2, 5)]
    for text, vector in zip(texts, together, strict=True):
        assert np.array_equal(embedder.embed_queries([text])[0], vector)


def test_texts_with_the_same_token_ids_are_run_once_with_the_vector_they_get_alone(tiny, monkeypatch):
    """Issue #14: texts whose token ids agree (documents that share their first tokens; a text given twice) are run
    through the model once and the vector is copied; each is still bit for bit the vector it gets alone."""
    export = tiny[0]
    embedder = OnnxEmbedder(export, "tiny@onnx-int8-row-doc4", workers=2, document_tokens=4)
    rows: list[int] = []
    for one in embedder._sessions:
        original = one.run

        def counted(names, feed, _run=original):
            rows.append(feed["input_ids"].shape[0])
            return _run(names, feed)

        monkeypatch.setattr(one, "run", counted, raising=False)
    documents = ["tax refund luohu", "tax refund", "tax port", "refund", "tax", "refund"]  # 4 tokens: d: + 1 word
    together = embedder.embed_documents(documents)
    assert sum(rows) == 2  # "tax ..." x 3 and "refund" x 2: two distinct id sequences
    rows.clear()
    alone = np.vstack([embedder.embed_documents([d]) for d in documents])
    assert sum(rows) == len(documents) and np.array_equal(together, alone)
    queries = ["tax refund", "alipay", "tax refund", "tax refund"]
    rows.clear()
    vectors = embedder.embed_queries(queries)
    assert sum(rows) == 2 and np.array_equal(vectors[0], vectors[3])
    assert np.array_equal(vectors, np.vstack([embedder.embed_queries([q]) for q in queries]))


def test_one_quantiser_pass_gives_the_bytes_of_divide_round_and_shift():
    """``row_int8`` quantises each row with one ``QuantizeLinear`` (issue #14: fewer passes); it must give the very
    bytes of ``round(x / scale) + 128`` by Div, Round, Add and Cast, halfway values (round half to even) and the
    row's largest value (127) included, or the index's vectors would change under the same model id."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from bot.build.onnx_export import _round_rows

    rng = np.random.default_rng(5)
    x = (rng.standard_normal((3, 4, 32)) * rng.uniform(0.01, 50, (3, 4, 1))).astype(np.float32)
    x[0, 0, :8] = [127, 0.5, 1.5, 2.5, -0.5, -1.5, -126.5, 126.5]  # scale 1: exact halves
    x[1, 1] = 0.0  # an all-zero row (the graph's scale is then tiny, never zero)
    scale = np.maximum(np.abs(x).max(axis=-1, keepdims=True), np.float32(1e-30)) / np.float32(127)
    constants = [numpy_helper.from_array(np.array(128, np.uint8), "rowq_zero_u8"),
                 numpy_helper.from_array(np.array(128.0, np.float32), "rowq_128"),
                 numpy_helper.from_array(np.array([-1], np.int64), "rowq_rows")]

    def run(opset_of_rewrite: int) -> np.ndarray:
        graph = helper.make_graph(
            _round_rows("x", "scale", "q", "t", opset_of_rewrite), "rows",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "s", 32]),
             helper.make_tensor_value_info("scale", TensorProto.FLOAT, ["b", "s", 1])],
            [helper.make_tensor_value_info("q", TensorProto.UINT8, ["b", "s", 32])], constants)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        kinds = {n.op_type for n in model.graph.node}
        assert ("QuantizeLinear" in kinds) == (opset_of_rewrite >= 13)
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        return session.run(None, {"x": x, "scale": scale})[0]

    one_pass, four_passes = run(17), run(12)
    assert np.array_equal(one_pass, four_passes)
    assert list(one_pass[0, 0, :8]) == [255, 128, 130, 130, 128, 126, 2, 254]
    assert np.array_equal(one_pass.astype(np.float32) - 128, np.round(x / scale))  # numpy rounds half to even too
