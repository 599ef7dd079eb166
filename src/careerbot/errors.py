"""Domain exceptions, and how their messages list alternatives. Stages raise these; the CLI and UI translate
them into messages and exit codes."""
from __future__ import annotations


class CareerbotError(Exception):
    """Base class: every error careerbot raises on purpose. `exit_code` is what the CLI returns."""

    exit_code = 1


class InvalidQuery(CareerbotError):
    """A query or parameter the engine cannot work with."""

    exit_code = 2


class EmptyQuery(InvalidQuery):
    """The query is empty or whitespace only."""


class QueryTooLong(InvalidQuery):
    """The query is longer than the configured limit."""


class InvalidArgument(InvalidQuery):
    """A parameter such as k is out of range."""


class IndexNotFound(CareerbotError):
    """No index exists at the given directory."""

    exit_code = 3


class StaleIndex(CareerbotError):
    """The index does not match the settings or the corpus it was built from."""

    exit_code = 4


class CorruptIndex(CareerbotError):
    """Index files are missing, truncated or disagree with the manifest."""

    exit_code = 5


class EmptyCorpus(CareerbotError):
    """The corpus holds no readable article."""

    exit_code = 6


class IndexLocked(CareerbotError):
    """Another process is writing the index."""

    exit_code = 7


class UnsupportedFile(CareerbotError):
    """A file cannot be ingested (type, size, encoding or content)."""

    exit_code = 8


class ModelUnavailable(CareerbotError):
    """The embedding or language model cannot be loaded offline."""

    exit_code = 9


class StoreUnavailable(CareerbotError):
    """The index store (a PostgreSQL server) cannot be reached, or its driver is not installed."""

    exit_code = 10


def alternatives(words: tuple[str, ...] | list[str]) -> str:
    """How messages list what is allowed. Usage: alternatives(["a", "b", "c"]) == "a, b or c" """
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
