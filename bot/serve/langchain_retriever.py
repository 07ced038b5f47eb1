"""A LangChain ``BaseRetriever`` over our hybrid search, for people who build chains on LangChain.

Only the retriever interface crosses over: hits become ``langchain_core`` Documents with our metadata, nothing of
LangChain leaks back into the library.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict


class HybridLangChainRetriever(BaseRetriever):
    """``HybridLangChainRetriever(bot=Bot.load(), k=5).invoke("退税最低多少钱")``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    bot: Any
    k: int = 5
    mode: str = "hybrid"

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        docs = []
        for hit in self.bot.search(query, k=self.k, mode=self.mode):
            c = hit.chunk
            docs.append(LCDocument(
                page_content=c.text,
                id=c.chunk_id,
                metadata={
                    "chunk_id": c.chunk_id, "doc_id": c.doc_id, "kind": c.kind, "topic": c.topic, "title": c.title,
                    "lang": c.lang, "score": hit.score, "url": c.url, "valid_as_of": c.valid_as_of,
                    "measures": list(c.measures),
                },
            ))
        return docs
