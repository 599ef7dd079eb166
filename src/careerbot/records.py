"""The typed, frozen records that move through the pipeline: corpus → chunks → hits → answer."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    """A headed part of an article: its heading, level (1–6; 0 for the lead before any heading), the path
    of headings from the top (a tuple, e.g. ("Responsibilities", "Data Scientist")), its own blocks
    (paragraphs, or "- item" lines for lists and table rows) and its sub-sections."""

    heading: str
    level: int
    path: tuple[str, ...]
    blocks: tuple[str, ...]
    children: tuple[Section, ...] = ()

    def walk(self) -> Iterator[Section]:
        """This section, then its sub-sections, in reading order."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class Article:
    """A cleaned article, ready for chunking. `sections` is the top of the section tree; `title_from` says
    where the title came from ("metadata", "heading" or "file name")."""

    source: str  # file name relative to the corpus directory
    title: str
    date: str | None
    byline: str | None
    sections: tuple[Section, ...]
    title_from: str = "metadata"

    def walk(self) -> Iterator[Section]:
        """Every section of the tree in reading order. Usage: [s.path for s in article.walk()]"""
        for section in self.sections:
            yield from section.walk()


@dataclass(frozen=True)
class Chunk:
    """A passage of one article section: what is indexed, retrieved and cited. `section` is the heading
    path of the section it comes from (() for the lead)."""

    chunk_id: str  # "<source>#<position>"
    source: str
    title: str
    section: tuple[str, ...]
    date: str | None
    position: int  # order of the chunk within its article
    text: str  # the passage shown to users

    @property
    def section_name(self) -> str:
        """The heading path for people ("Responsibilities › Data Scientist"); "" for an article's lead."""
        return section_label(self.section)

    @property
    def embed_text(self) -> str:
        """Text given to the encoder and keyword index: passage with its article and section as context."""
        return context_prefix(self.title, self.section) + self.text


@dataclass(frozen=True)
class ChunkRecord:
    """A chunk as indexed: the chunk, its keyword tokens and where its sentence vectors start."""

    chunk: Chunk
    terms: tuple[str, ...]
    unit_start: int
    unit_count: int


def section_label(path: tuple[str, ...]) -> str:
    """A heading path for people: ("Responsibilities", "Data Scientist") → "Responsibilities › Data Scientist"."""
    return " › ".join(path)


def context_prefix(title: str, section: tuple[str, ...]) -> str:
    """The context line prepended to a passage before embedding."""
    label = section_label(section)
    if label and label != title:
        return f"{title} — {label}\n"
    return f"{title}\n"


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its score, best first in result lists."""

    chunk_id: str
    text: str
    score: float
    title: str
    section: tuple[str, ...]
    source: str
    date: str | None
    position: int
    rank: int = 0
    similarity: float = 0.0  # cosine of query and passage, whatever the retrieval mode

    @property
    def section_name(self) -> str:
        """The heading path for people ("Responsibilities › Data Scientist"); "" for an article's lead."""
        return section_label(self.section)


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


@dataclass(frozen=True)
class ArticleInfo:
    """An indexed article as listed by `index info` and the Articles tab."""

    source: str
    title: str
    date: str | None
    chunks: int
    sha256: str
    title_from: str = "metadata"  # "metadata", "heading" (a title line of the page) or "file name"
