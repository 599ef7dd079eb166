"""The whole cleaned article behind a citation: the indexed file parsed again with the same ingestion and
the same site chrome the index was built with, so what a reader sees is what was chunked.

Usage: article = indexed_article(kb, "corpus", "a.md"); [s.heading for s in article.walk()]
"""
from __future__ import annotations

from pathlib import Path

from .errors import InvalidArgument
from .ingest import parse_file
from .records import Article


def indexed_article(kb, corpus: str | Path, source: str) -> Article:
    """The cleaned article of an indexed source file. Raises InvalidArgument for a name the index does not
    list (or one outside the corpus), UnsupportedFile when the file can no longer be read."""
    corpus = Path(corpus)
    manifest = kb.snapshot.manifest
    path = corpus / source
    if source not in manifest.get("files", {}) or corpus.resolve() not in path.resolve().parents:
        raise InvalidArgument(f"{source!r} is not an indexed article")
    if not path.is_file():
        raise InvalidArgument(f"{source} is no longer in the corpus folder; update the index")
    return parse_file(path, corpus, kb.settings.max_file_bytes, frozenset(manifest.get("chrome", ())))
