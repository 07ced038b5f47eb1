"""Errors with messages that tell the user what to do next.

The CLI and the web page show ``str(error)`` as a one-line message; they never show a traceback for these.
"""

from __future__ import annotations


class BotError(Exception):
    """Base class: every expected failure of the assistant."""


class ConfigError(BotError, ValueError):
    """A setting is unknown or malformed: a mistyped ``BOT_*`` environment variable, or a value that is not of the
    setting's type. Raised at start, naming the variable (and the known ones): a typo must not be silently ignored.
    Also a ``ValueError``, as a malformed value was before this class existed."""


class BadInput(BotError):
    """The user's input cannot be used (empty, too long, not text). ``key`` and ``values`` name the message in
    ``prompts/messages.yaml`` so the page can say it in the visitor's language."""

    def __init__(self, message: str, key: str = "", **values: object) -> None:
        super().__init__(message)
        self.key = key
        self.values = values


class CorpusError(BotError):
    """A corpus file is malformed. The message names the file and the field at fault."""

    def __init__(self, path: object, field: str, problem: str) -> None:
        self.path = str(path)
        self.field = field
        self.problem = problem
        super().__init__(f"{self.path}: field '{field}': {problem}")


class IndexMissing(BotError):
    """No index on disk."""


class IndexCorrupt(BotError):
    """Index files exist but do not match their manifest."""


class ModelMismatch(BotError):
    """The index was built with a different embedding model than the one configured."""


class ModelUnavailable(BotError):
    """The embedding model is not provisioned, or its files fail verification."""


class StoreError(BotError):
    """A visitor's write (feedback, counts) could not be stored: logged, and the caller tells the visitor."""
