"""The typed, frozen records that move through the pipeline: corpus → chunks → hits → answer."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    """A headed part of an article. `blocks` are paragraphs or bullet lists ("- item" lines)."""

    heading: str
    blocks: tuple[str, ...]


@dataclass(frozen=True)
class Article:
    """A cleaned article, ready for chunking."""

    source: str  # file name relative to the corpus directory
    title: str
    date: str | None
    byline: str | None
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class Chunk:
    """A passage of one article section: what is indexed, retrieved and cited."""

    chunk_id: str  # "<source>#<position>"
    source: str
    title: str
    section: str
    date: str | None
    position: int  # order of the chunk within its article
    text: str  # the passage shown to users

    @property
    def embed_text(self) -> str:
        """Text given to the encoder and keyword index: passage with its article and section as context."""
        return context_prefix(self.title, self.section) + self.text


def context_prefix(title: str, section: str) -> str:
    """The context line prepended to a passage before embedding."""
    if section and section != title:
        return f"{title} — {section}\n"
    return f"{title}\n"


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its score, best first in result lists."""

    chunk_id: str
    text: str
    score: float
    title: str
    section: str
    source: str
    date: str | None
    position: int
    rank: int = 0
    similarity: float = 0.0  # cosine of query and passage, whatever the retrieval mode


@dataclass(frozen=True)
class Citation:
    """Marker [n] in an answer and the passage it points to. `quote` is the supporting sentence."""

    n: int
    hit: Hit
    quote: str = ""


@dataclass(frozen=True)
class Answer:
    """A grounded answer: prose with [n] markers, the citations they point to, and how it was made."""

    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    abstained: bool = False
    mode: str = "extractive"
    hits: tuple[Hit, ...] = field(default=(), repr=False)
    query: str = ""  # the query actually retrieved for (after follow-up rewriting)


@dataclass(frozen=True)
class UpdateReport:
    """What a build or update did."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]
    skipped: tuple[str, ...]  # files that could not be ingested, with the reason
    chunks_embedded: int
    chunks_total: int
    seconds: float

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def summary(self) -> str:
        """One human line, e.g. 'added 1, changed 0, removed 0, unchanged 4 file(s); embedded 12 of 60 chunks'."""
        return (f"added {len(self.added)}, changed {len(self.changed)}, removed {len(self.removed)}, "
                f"unchanged {len(self.unchanged)} file(s); embedded {self.chunks_embedded} of "
                f"{self.chunks_total} chunks in {self.seconds:.1f}s")
