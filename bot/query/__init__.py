"""Query understanding: from a raw message and its conversation to one typed ``Query`` (language, follow-up, asks,
background) that retrieval, answering and the checkers all read."""

from bot.query.understand import Ask, Query, for_retrieval, language, points_back, understand

__all__ = ["Ask", "Query", "for_retrieval", "language", "points_back", "understand"]
