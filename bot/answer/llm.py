"""Optional generation through LangChain chat models, grounded in the retrieved passages.

The only module that imports LangChain model packages. The chat model is chosen by one ``match`` with the optional
import inside its branch. Whatever the model writes is checked: citations must point to passages we sent; an answer
without a valid citation is replaced by the curated one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from importlib import resources
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from bot.answer.curated import Context
from bot.config import Settings
from bot.messages import language_name
from bot.schema import Answer, Citation, Hit

MAX_PASSAGES = 5
_CITE = re.compile(r"\[(\d{1,2})\]")


def _prompt(name: str) -> str:
    return resources.files("bot.prompts").joinpath(name).read_text(encoding="utf-8")


class LLMAnswerer:
    def __init__(self, model: BaseChatModel) -> None:
        self.model = model
        self.system_template = _prompt("grounded_system.txt")
        self.user_template = _prompt("grounded_user.txt")

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMAnswerer:
        match settings.llm_backend:
            case "openai":
                from langchain_openai import ChatOpenAI
                from pydantic import SecretStr

                if not settings.llm_model:
                    raise ValueError("BOT_LLM_MODEL must name the model served at BOT_LLM_BASE_URL")
                model: BaseChatModel = ChatOpenAI(
                    base_url=settings.llm_base_url, model=settings.llm_model, api_key=SecretStr(settings.llm_api_key),
                    temperature=settings.llm_temperature, timeout=60, max_retries=1,
                )
            case "llamacpp":
                try:
                    from langchain_community.chat_models import ChatLlamaCpp
                except ImportError as exc:
                    raise ValueError("the llamacpp backend needs `pip install langchain-community "
                                     "llama-cpp-python`") from exc
                if not settings.llm_gguf_path:
                    raise ValueError("BOT_LLM_GGUF_PATH must point to a .gguf file")
                model = ChatLlamaCpp(model_path=settings.llm_gguf_path, temperature=settings.llm_temperature,
                                     n_ctx=4096, verbose=False)
            case other:
                raise ValueError(f"unknown LLM backend {other!r}; use none, openai or llamacpp")
        return cls(model)

    def passages(self, ctx: Context) -> list[Hit]:
        return list(ctx.hits[:MAX_PASSAGES])

    def messages(self, ctx: Context) -> list[BaseMessage]:
        numbered = "\n\n".join(
            f"[{i}] {h.chunk.title} (valid as of {h.chunk.valid_as_of})\n{h.chunk.text}"
            for i, h in enumerate(self.passages(ctx), start=1)
        )
        question = f"{ctx.previous}\n{ctx.question}" if ctx.previous else ctx.question
        return [
            SystemMessage(self.system_template.format(language_name=language_name(ctx.lang), lang=ctx.lang)),
            HumanMessage(self.user_template.format(passages=numbered, question=question)),
        ]

    def answer(self, ctx: Context, fallback: Answer) -> Answer:
        try:
            reply = self.model.invoke(self.messages(ctx))
        except Exception as exc:  # a failing server must not take the answer with it
            return replace(fallback, notes=(*fallback.notes, f"LLM unavailable ({type(exc).__name__}); curated"))
        return self.check(_text(reply.content), ctx, fallback)

    def stream(self, ctx: Context, fallback: Answer) -> Iterator[str | Answer]:
        """Yields text pieces as they arrive, then the checked ``Answer`` (which may be the curated fallback)."""
        pieces: list[str] = []
        try:
            for chunk in self.model.stream(self.messages(ctx)):
                piece = _text(chunk.content)
                pieces.append(piece)
                yield piece
        except Exception as exc:
            yield replace(fallback, notes=(*fallback.notes, f"LLM unavailable ({type(exc).__name__}); curated"))
            return
        yield self.check("".join(pieces), ctx, fallback)

    def check(self, text: str, ctx: Context, fallback: Answer) -> Answer:
        """Keep citations that point to passages we sent; drop the others; no valid citation -> curated answer."""
        passages = self.passages(ctx)
        valid = sorted({int(n) for n in _CITE.findall(text) if 1 <= int(n) <= len(passages)})
        cleaned = _CITE.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= len(passages) else "", text).strip()
        if not valid or not cleaned:
            return replace(fallback, notes=(*fallback.notes, "LLM answer had no valid citation; curated answer"))
        used = [passages[n - 1] for n in valid]
        citations = tuple(
            Citation(s.title, s.url, h.chunk.doc_id, h.chunk.chunk_id, h.chunk.measures[0] if h.chunk.kind == "plan"
                     else None)
            for h in used for s in h.chunk.sources[:2]
        )
        return Answer(
            text=cleaned, language=ctx.lang, citations=citations,
            valid_as_of=min(h.chunk.valid_as_of for h in used),
            card_ids=tuple(dict.fromkeys(h.chunk.doc_id for h in used if h.chunk.kind == "card")),
            escalation=fallback.escalation, notes=("generated by the LLM backend from retrieved passages",),
        )


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return str(content)
