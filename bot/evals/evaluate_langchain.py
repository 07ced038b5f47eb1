"""The plain LangChain baseline for the benchmark: `HuggingFaceEmbeddings` + LangChain's FAISS vector store with
default settings, over the same corpus documents and the same embedding model, so that the gain of our pipeline
(query/document prompts, FAQ question vectors, BM25 fusion, language-aware representatives) is measured side by
side. Only evaluation code imports these LangChain packages; nothing is saved (LangChain's FAISS save pickles).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from bot.build.corpus import load_corpus
from bot.build.models import resolve_model
from bot.build.onnx_export import onnx_model_kwargs, verified_export
from bot.config import Settings
from bot.evals.evaluate import QACase, RetrievalResult, summarise
from bot.query.guard import looks_like_injection


def langchain_store(settings: Settings, plain: bool = False) -> tuple[Any, int, float]:
    """LangChain's FAISS store over the corpus documents, split by LangChain's default splitter: (store, pieces,
    seconds to build). ``plain``: the model on sentence-transformers' default torch fp32 backend, as a team starting
    from LangChain would run it (the speed baseline of ``bot bench --langchain``), with the pieces' vectors made by
    our ONNX embedder: torch fp32 took over 17 minutes on the 1,557 pieces of up to 4,000 characters (AMD EPYC, not
    finished), and a search's time does not depend on who made the stored vectors (it embeds the question with
    ``HuggingFaceEmbeddings`` and searches as many vectors). Otherwise with the settings' backend throughout (the
    retrieval baseline of ``bot eval --langchain-baseline``, which measures the pipeline, not the backend)."""
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    model_ref = resolve_model(settings)
    model_kwargs: dict[str, Any] = {"device": "cpu"}
    if settings.embed_backend == "onnx" and not plain:
        # Same weights and runtime as our pipeline, so the comparison measures the pipeline, not the backend.
        model_ref = str(verified_export(model_ref))
        model_kwargs.update(backend="onnx", model_kwargs=onnx_model_kwargs())
    embeddings = HuggingFaceEmbeddings(model_name=model_ref, model_kwargs=model_kwargs)
    docs, _ = load_corpus(settings.corpus_dir)
    documents = [Document(page_content="\n".join(p for p in (d.title, d.search_hint, d.text) if p),
                          metadata={"doc_id": d.doc_id}) for d in docs]
    pieces = RecursiveCharacterTextSplitter().split_documents(documents)
    start = time.perf_counter()
    if plain:
        from bot.build.embed import load_embedder

        vectors = load_embedder(settings).embed_documents([p.page_content for p in pieces])
        store = FAISS.from_embeddings([(p.page_content, v.tolist()) for p, v in zip(pieces, vectors, strict=True)],
                                      embeddings, metadatas=[p.metadata for p in pieces])
    else:
        store = FAISS.from_documents(pieces, embeddings)
    return store, len(pieces), time.perf_counter() - start


def run_langchain_baseline(settings: Settings, cases: Sequence[QACase], k: int = 10) -> dict[str, Any]:
    store, pieces, build_seconds = langchain_store(settings)
    results = []
    for case in (c for c in cases if c.expected and not looks_like_injection(c.question)):
        query = f"{case.history[-1]}\n{case.question}" if case.history else case.question
        t0 = time.perf_counter()
        found = store.similarity_search(query, k=k * 4)
        elapsed = (time.perf_counter() - t0) * 1000
        ranked = list(dict.fromkeys(d.metadata["doc_id"] for d in found))[:k]
        results.append(RetrievalResult(case, ranked, elapsed))
    summary = summarise(results)
    summary["build_seconds"] = round(build_seconds, 1)
    summary["chunks"] = pieces
    return summary
