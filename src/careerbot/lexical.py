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
    return tokenize(f"{chunk.section_name}\n{chunk.text}")


class KeywordIndex:
    """A BM25 index whose document order matches the FAISS ids.

    Besides bm25s's score matrix it keeps each document's term counts (counts.*.npy), so an update derives
    the new matrix from the kept documents' stored counts plus the new documents' in one vectorized pass,
    instead of re-counting every token of the corpus (0.19 s → 0.01 s at 5k chunks, benchmarks/README.md).
    """

    def __init__(self, retriever, size: int, counts=None, directory: Path | None = None) -> None:
        self.retriever = retriever
        self.size = size
        self._counts = counts  # documents × vocabulary term counts (scipy CSR), loaded when first needed
        self._directory = directory

    @classmethod
    def build(cls, token_lists: list[list[str]], k1: float = K1, b: float = B) -> "KeywordIndex":
        vocab: dict[str, int] = {}
        return cls.from_counts(_count_terms(token_lists, vocab), vocab, k1, b)

    def extended(self, kept: list[int], token_lists: list[list[str]]) -> "KeywordIndex":
        """The index over documents `kept` (ids in this index, in their new order) followed by new documents.

        Usage: kw2 = kw.extended([0, 2], [tokenize("new chunk")])  # doc 1 dropped, one added
        """
        import scipy.sparse as sp

        counts = self.counts()
        vocab = dict(self.retriever.vocab_dict)
        vocab.pop("", None)  # bm25s's placeholder for empty queries has no column
        new = _count_terms(token_lists, vocab)
        old = counts[np.asarray(kept, dtype=np.int64)] if kept else sp.csr_matrix((0, counts.shape[1]), dtype=np.int32)
        old.resize((old.shape[0], len(vocab)))  # new terms get columns at the end
        return self.from_counts(sp.vstack([old, new], format="csr"), vocab,
                                self.retriever.k1, self.retriever.b)

    @classmethod
    def from_counts(cls, counts, vocab: dict[str, int], k1: float, b: float) -> "KeywordIndex":
        """bm25s's Lucene BM25 matrix from term counts: weight = idf · tf / (tf + k1 · (1 − b + b · dl / avgdl))."""
        import bm25s
        import scipy.sparse as sp

        logging.getLogger("bm25s").setLevel(logging.ERROR)
        counts.sum_duplicates()
        n_docs, n_terms = counts.shape
        lengths = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
        average = lengths.mean() if n_docs else 1.0
        df = np.bincount(counts.indices, minlength=n_terms).astype(np.float64)
        idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
        rows = np.repeat(np.arange(n_docs), np.diff(counts.indptr))
        tf = counts.data.astype(np.float64)
        weights = idf[counts.indices] * tf / (tf + k1 * (1 - b + b * lengths[rows] / average))
        matrix = sp.csr_matrix((weights.astype(np.float32), counts.indices, counts.indptr),
                               shape=(n_docs, n_terms)).tocsc()
        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        retriever.scores = {"data": matrix.data, "indices": matrix.indices.astype(np.int32),
                            "indptr": matrix.indptr.astype(np.int32), "num_docs": n_docs}
        retriever.vocab_dict = {**vocab, "": n_terms}  # as bm25s.index() leaves it
        retriever.unique_token_ids_set = set(retriever.vocab_dict.values())
        retriever.nonoccurrence_array = None  # Lucene BM25 scores absent terms as 0
        return cls(retriever, n_docs, counts)

    def counts(self):
        """Each document's term counts, from memory or from the saved index (rebuilt from nothing else)."""
        if self._counts is None:
            import scipy.sparse as sp

            parts = [np.load(self._directory / f"counts.{name}.npy", allow_pickle=False)
                     for name in ("data", "indices", "indptr")]
            self._counts = sp.csr_matrix(tuple(parts), shape=(self.size, len(self.retriever.scores["indptr"]) - 1))
        return self._counts

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
        counts = self.counts()
        for name in ("data", "indices", "indptr"):
            np.save(directory / f"counts.{name}.npy", getattr(counts, name).astype(np.int32), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, size: int) -> "KeywordIndex":
        """Load a saved index; raises ValueError or OSError when its files disagree with each other."""
        import bm25s

        index = cls(bm25s.BM25.load(str(directory), mmap=False), size, directory=directory)
        if (directory / "counts.indptr.npy").exists():  # an index from before counts were kept has none
            index._check_counts()
        return index

    def _check_counts(self) -> None:
        """The stored term counts fit the score matrix (array headers only: nothing is read in full)."""
        directory = self._directory
        if directory is None:  # built in memory: nothing stored to check
            return
        data, indices, indptr = (np.load(directory / f"counts.{name}.npy", mmap_mode="r", allow_pickle=False)
                                 for name in ("data", "indices", "indptr"))
        nnz = int(indptr[-1]) if indptr.shape[0] else -1
        if not (indptr.shape == (self.size + 1,) and data.shape == indices.shape == (nnz,)
                and nnz == len(self.retriever.scores["data"])):
            raise ValueError("the keyword index's term counts disagree with its score matrix")


def _count_terms(token_lists: list[list[str]], vocab: dict[str, int]):
    """Documents × vocabulary term counts (CSR); unseen terms are added to vocab."""
    import scipy.sparse as sp

    indptr, indices = [0], []
    for tokens in token_lists:
        # An empty token list would be dropped by some scorers; a placeholder keeps ids aligned.
        for token in tokens or ["\x00empty"]:
            indices.append(vocab.setdefault(token, len(vocab)))
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.int32)
    # repeated terms stay separate entries here; from_counts sums them
    return sp.csr_matrix((data, np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
                         shape=(len(token_lists), len(vocab)))
