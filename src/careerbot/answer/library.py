"""What the answer stage reads from a knowledge base, as a protocol: the answer code depends on these six
members, not on `KnowledgeBase` (which imports the answer stage, so naming it here would be a cycle).

Usage: def gather(kb: Library, question: str, history: list[dict]) -> Evidence
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

    from ..index.embed import Embedder
    from ..index.versions import Snapshot
    from ..records import ArticleInfo, Hit
    from ..settings import Settings


class Library(Protocol):
    """A searchable collection of indexed articles (careerbot.KnowledgeBase is one)."""

    settings: Settings

    @property
    def snapshot(self) -> Snapshot:
        """The index version being read; one snapshot serves a whole answer."""
        ...

    def embedder(self) -> Embedder:
        """The embedding model that encoded the index."""
        ...

    def search(self, query: str, k: int | None = None, mode: str | None = None) -> list[Hit]:
        """Ranked passages for a query, best first."""
        ...

    def articles(self) -> list[ArticleInfo]:
        """The indexed articles, in file order."""
        ...

    def chunk_units(self, chunk_id: str) -> tuple[list[str], np.ndarray]:
        """A chunk's sentences and list items with their precomputed vectors."""
        ...
