"""Keyword (BM25) index over chunks, with bm25s's public API. Tokens are stored per chunk, so an update
tokenizes only new chunks and indexes the kept chunks' stored tokens again.

Usage: kw = KeywordIndex.build(token_lists); scores = kw.scores(tokenize("lead ML salary"))
"""
from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

# Lucene BM25 with k1 = 0.9, b = 0.4 (Anserini's BEIR defaults); tuned on SciFact train, see docs/retrieval.md.
K1, B = 0.9, 0.4
STOPWORDS = frozenset("""a an and are as at be but by for from has have he her his i if in into is it its of on
or our she so such that the their them then there these they this to was we were what when where which who
will with you your do does did how about can could would should may might also than too very much many""".split())
EMPTY = "\x00empty"  # the one token of a document without any (keeps bm25s's ids aligned)
_TOKEN = re.compile(r"[a-z0-9]+(?:[+#]+|(?:\.[0-9]+)+)?")


@lru_cache(maxsize=1)
def _stemmer():
    try:
        import Stemmer

        return Stemmer.Stemmer("english")
    except ImportError:  # stemming is a small gain; tokens still work without it
        return None


def tokenize(text: str) -> list[str]:
    """Lowercased, stemmed word tokens without stopwords; '153,000' → '153000', 'C++' stays 'c++'."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text.lower())
    text = re.sub(r"\b([a-z]{1,2})\.([a-z])\.", r"\1\2", text)  # dotted abbreviations: ph.d. → phd
    words = [w for w in _TOKEN.findall(text) if w not in STOPWORDS]
    stemmer = _stemmer()
    return stemmer.stemWords(words) if stemmer else words


def keyword_terms(chunk) -> list[str]:
    """What BM25 indexes for a chunk: section heading and passage. The article title is left out
    because it repeats in every chunk of its article and would swamp within-article ranking."""
    return tokenize(f"{chunk.section_name}\n{chunk.text}")


class KeywordIndex:
    """A BM25 index whose document order matches the FAISS ids, built, scored, saved and loaded through
    bm25s's public API (`BM25.index`, `get_scores_from_ids`, `save`, `load`).

    It keeps each document's tokens (the very tuples of the chunk records, so no copy). bm25s has no call
    that adds or removes documents, so an update builds a new index from the records' stored tokens
    (Index.of_records): only new chunks are tokenized, and the scores are those of a build from scratch.
    """

    def __init__(self, retriever, documents: tuple[tuple[str, ...], ...]) -> None:
        self.retriever = retriever  # a bm25s.BM25, not indexed when there are no documents (it cannot index none)
        self.documents = documents

    @property
    def size(self) -> int:
        return len(self.documents)

    @classmethod
    def build(cls, token_lists: Sequence[Sequence[str]], k1: float = K1, b: float = B) -> KeywordIndex:
        """Usage: KeywordIndex.build([tokenize(text) for text in texts])"""
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.ERROR)
        documents = tuple(t if isinstance(t, tuple) else tuple(t) for t in token_lists)
        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        if documents:
            # An empty token list would be dropped by some scorers; a placeholder keeps ids aligned.
            retriever.index([list(tokens) or [EMPTY] for tokens in documents], show_progress=False)
        return cls(retriever, documents)

    @property
    def k1(self) -> float:
        return float(self.retriever.k1)

    @property
    def b(self) -> float:
        return float(self.retriever.b)

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the query (zeros for unknown terms)."""
        ids = self.retriever.get_tokens_ids([t for t in query_tokens if t]) if self.size else []
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.retriever.get_scores_from_ids(ids), dtype=np.float32)

    def top(self, query_tokens: Sequence[str], n: int) -> list[tuple[int, float]]:
        """The n best (doc id, score) pairs with a positive score, best first."""
        scores = self.scores(query_tokens)
        n = min(n, int((scores > 0).sum()))
        if n <= 0:
            return []
        ids = np.argpartition(-scores, n - 1)[:n]
        ids = ids[np.argsort(-scores[ids], kind="stable")]
        return [(int(i), float(scores[i])) for i in ids]

    def save(self, directory: Path) -> None:
        """bm25s's own files (its tokens are the chunk records', saved with them)."""
        if not self.size:
            raise ValueError("an index over no documents cannot be saved")
        self.retriever.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path, documents: Sequence[Sequence[str]]) -> KeywordIndex:
        """Load a saved index over `documents` (the stored tokens of each chunk, in id order); raises
        ValueError or OSError when its files are unreadable or were built over other documents."""
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.ERROR)
        retriever = bm25s.BM25.load(str(directory), mmap=False, show_progress=False)
        index = cls(retriever, tuple(t if isinstance(t, tuple) else tuple(t) for t in documents))
        # How many documents bm25s scores, asked through its public API (no query terms: all zeros).
        if len(retriever.get_scores_from_ids([])) != index.size:
            raise ValueError(f"the keyword index scores another number of documents than the {index.size} "
                             "chunks stored with it")
        return index

