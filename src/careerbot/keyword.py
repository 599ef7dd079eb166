"""Keyword (BM25) index over chunks, with bm25s. Tokens are stored per chunk, so an update re-tokenizes
only new chunks; the sparse score matrix is re-derived from stored tokens in one vectorized pass.

Usage: kw = KeywordIndex.build(token_lists); scores = kw.scores(tokenize("lead ML salary"))
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

# Lucene BM25 with k1 = 0.9, b = 0.4 (Anserini's BEIR defaults); tuned on SciFact train, see docs/retrieval.md.
K1, B = 0.9, 0.4
STOPWORDS = frozenset("""a an and are as at be but by for from has have he her his i if in into is it its of on
or our she so such that the their them then there these they this to was we were what when where which who
will with you your do does did how about can could would should may might also than too very much many""".split())
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
    return tokenize(f"{chunk.section}\n{chunk.text}")


class KeywordIndex:
    """A BM25 index whose document order matches the FAISS ids."""

    def __init__(self, retriever, size: int) -> None:
        self.retriever = retriever
        self.size = size

    @classmethod
    def build(cls, token_lists: list[list[str]], k1: float = K1, b: float = B) -> "KeywordIndex":
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.ERROR)  # it warns on every token-list index
        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        # An empty token list would be dropped by some scorers; a placeholder keeps ids aligned.
        retriever.index([tokens or ["\x00empty"] for tokens in token_lists], show_progress=False)
        return cls(retriever, len(token_lists))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every document for the query (zeros for unknown terms)."""
        known = [t for t in query_tokens if t in self.retriever.vocab_dict]
        if not known or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(known), dtype=np.float32)

    def top(self, query_tokens: list[str], n: int) -> list[tuple[int, float]]:
        """The n best (doc id, score) pairs with a positive score, best first."""
        scores = self.scores(query_tokens)
        n = min(n, int((scores > 0).sum()))
        if n <= 0:
            return []
        ids = np.argpartition(-scores, n - 1)[:n]
        ids = ids[np.argsort(-scores[ids], kind="stable")]
        return [(int(i), float(scores[i])) for i in ids]

    def save(self, directory: Path) -> None:
        self.retriever.save(str(directory))

    @classmethod
    def load(cls, directory: Path, size: int) -> "KeywordIndex":
        import bm25s

        return cls(bm25s.BM25.load(str(directory), mmap=False), size)
