"""careerbot: an offline, cited question-answering assistant over a collection of career articles.

Usage:
    from careerbot import KnowledgeBase
    kb = KnowledgeBase.load("index")
    print(kb.ask("Do I need a PhD to be a research scientist?").text)
"""
from __future__ import annotations

from .errors import (
    CareerbotError,
    CorruptIndex,
    EmptyCorpus,
    EmptyQuery,
    IndexLocked,
    IndexNotFound,
    InvalidArgument,
    InvalidQuery,
    ModelUnavailable,
    QueryTooLong,
    StaleIndex,
    UnsupportedFile,
)
from .records import Answer, Article, Chunk, Citation, Hit, UpdateReport
from .settings import Settings

__version__ = "0.1.0"
__all__ = ["KnowledgeBase", "Settings", "Answer", "Article", "Chunk", "Citation", "Hit", "UpdateReport",
           "CareerbotError", "CorruptIndex", "EmptyCorpus", "EmptyQuery", "IndexLocked", "IndexNotFound",
           "InvalidArgument", "InvalidQuery", "ModelUnavailable", "QueryTooLong", "StaleIndex",
           "UnsupportedFile"]


def __getattr__(name: str):
    # KnowledgeBase pulls in numpy/FAISS; import it only when asked so `careerbot --help` stays instant.
    if name == "KnowledgeBase":
        from .kb import KnowledgeBase

        return KnowledgeBase
    raise AttributeError(name)
