"""Retrieve: dense (FAISS), keyword (BM25) or hybrid (weighted reciprocal rank fusion), then diversity
and neighbour expansion so the answer stage sees whole lists and every article that answers.

Usage: hits = search(index, embedder, "what do lead ML engineers earn?", settings, k=5)
"""
from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np

from ..errors import EmptyQuery, InvalidArgument, QueryTooLong
from ..records import ChunkRecord, Hit
from ..settings import MAX_K, allowed, check_mode
from .lexical import tokenize


class Searchable(Protocol):
    """What ranking reads from an index: careerbot.index.versions.Index (and its Snapshot), or the PostgreSQL
    store's snapshot, whose vectors and postings answer the same calls from the database."""

    @property
    def records(self) -> Sequence[ChunkRecord]: ...

    @property
    def faiss_index(self) -> Any: ...  # search, reconstruct_batch, ntotal

    @property
    def keyword(self) -> Any: ...  # top(tokens, n)

    @property
    def sources(self) -> Sequence[str]: ...


def clean_query(query: str, max_chars: int) -> str:
    """Normalize a user query; raises EmptyQuery or QueryTooLong with a message a user can act on."""
    if not isinstance(query, str):
        raise EmptyQuery("the question must be text")
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") else ch for ch in query)
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()
    if not text:
        raise EmptyQuery("the question is empty; type a question about the articles")
    if len(text) > max_chars:
        raise QueryTooLong(f"the question is {len(text):,} characters; the limit is {max_chars:,}. "
                           "Shorten it to the part you want answered.")
    return text


def check_k(k: int) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or k <= 0:
        raise InvalidArgument(f"k must be {allowed('k')}, not {k!r}")
    return min(k, MAX_K)


def rrf_fuse(rankings: list[list[int]], weights: list[float], rrf_k: int) -> list[tuple[int, float]]:
    """Weighted reciprocal rank fusion: score(d) = Σ w / (rrf_k + rank(d)), rank from 1.

    Usage: rrf_fuse([[3, 1], [1, 2]], [1.0, 1.0], 60)[0][0] == 1
    """
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=False):
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + weight / (rrf_k + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def dense_top(snapshot: Searchable, query_vector: np.ndarray, n: int) -> list[tuple[int, float]]:
    n = min(n, snapshot.faiss_index.ntotal)
    if n <= 0:
        return []
    scores, ids = snapshot.faiss_index.search(query_vector.reshape(1, -1), n)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=False) if i >= 0]


def convex_fuse(dense: dict[int, float], keyword: dict[int, float], alpha: float) -> list[tuple[int, float]]:
    """alpha · min-max(dense cosine) + (1 − alpha) · BM25 / max BM25, over the union of candidates.

    Usage: convex_fuse({1: 0.9, 2: 0.5}, {2: 8.0}, 0.5)[0] == (2, 0.5)
    """
    docs = sorted(set(dense) | set(keyword))
    if not docs:
        return []
    d = np.array([dense.get(doc, np.nan) for doc in docs], dtype=np.float64)
    low = np.nanmin(d) if np.isfinite(d).any() else 0.0
    span = (np.nanmax(d) - low) if np.isfinite(d).any() else 0.0
    d_norm = np.where(np.isfinite(d), (d - low) / span if span > 0 else 1.0, 0.0)
    top_kw = max(keyword.values(), default=0.0)
    k_norm = np.array([keyword.get(doc, 0.0) / top_kw if top_kw > 0 else 0.0 for doc in docs])
    fused = alpha * d_norm + (1 - alpha) * k_norm
    order = np.lexsort((np.array(docs), -fused))
    return [(docs[i], float(fused[i])) for i in order]


def rank_ids(snapshot: Searchable, query_vector: np.ndarray | None, query_text: str, mode: str,
             candidates: int, settings, keyword: list[tuple[int, float]] | None = None) -> list[tuple[int, float]]:
    """Candidate (chunk id, score) pairs, best first, for one retrieval mode (`keyword`: the BM25
    candidates, when already computed)."""
    if keyword is None:
        keyword = [] if mode == "dense" else snapshot.keyword.top(tokenize(query_text), candidates)
    if mode == "bm25":
        return keyword
    if query_vector is None:
        raise ValueError(f"{mode} retrieval needs the query's vector")  # a caller's bug, not user input
    dense = dense_top(snapshot, query_vector, candidates)
    if mode == "dense":
        return dense
    if settings.fusion == "rrf":
        return rrf_fuse([[i for i, _ in dense], [i for i, _ in keyword]], [settings.dense_weight, 1.0],
                        settings.rrf_k)
    # Exact cosine for keyword-only candidates, so both signals are known for the whole union.
    dense_scores = dict(dense)
    missing = np.array([doc for doc, _ in keyword if doc not in dense_scores], dtype=np.int64)
    if len(missing):
        for doc, score in zip(missing, snapshot.faiss_index.reconstruct_batch(missing) @ query_vector, strict=False):
            dense_scores[int(doc)] = float(score)
    return convex_fuse(dense_scores, dict(keyword), settings.alpha)


def diversify(ranked: list[tuple[int, float]], sources: Sequence[str], k: int, cap: int) -> list[tuple[int, float]]:
    """Take the best k, at most `cap` from one article, unless too few other articles qualify."""
    if cap <= 0:
        return ranked[:k]
    chosen: list[tuple[int, float]] = []
    deferred: list[tuple[int, float]] = []
    per_source: dict[str, int] = {}
    for doc, score in ranked:
        source = sources[doc]
        if per_source.get(source, 0) < cap:
            chosen.append((doc, score))
            per_source[source] = per_source.get(source, 0) + 1
        else:
            deferred.append((doc, score))
        if len(chosen) == k:
            return chosen
    return chosen + deferred[: k - len(chosen)]


def expand_text(snapshot: Searchable, doc: int) -> str:
    """A chunk's text, continued into the next chunk of the same section when it ends inside a list."""
    record = snapshot.records[doc]
    text = record.chunk.text
    if doc + 1 >= len(snapshot.records) or not text.split("\n")[-1].startswith("- "):
        return text
    following = snapshot.records[doc + 1].chunk
    if following.source != record.chunk.source or following.section != record.chunk.section:
        return text
    have = set(text.split("\n"))
    extra = [line for line in following.text.split("\n") if line not in have]
    if not extra or not extra[0].startswith("- "):
        return text  # the next chunk starts new prose, not the rest of this list
    return text + "\n" + "\n".join(line for line in extra if line.startswith("- "))


def ranked(snapshot: Searchable, vector: np.ndarray, query: str, settings, k: int,
           mode: str, keyword: list[tuple[int, float]] | None = None) -> list[tuple[int, float]]:
    """The k best (chunk id, score) pairs for an already cleaned and embedded query, diversified.

    Usage: ranked(snapshot, embedder.encode([q])[0], q, settings, 10, "hybrid")
    """
    check_mode(mode)
    scored = rank_ids(snapshot, vector, query, mode, candidate_count(settings, k), settings, keyword)
    return diversify(scored, snapshot.sources, k, settings.per_article_cap)


def candidate_count(settings, k: int) -> int:
    return max(settings.candidates, k * 4)


_keyword_pool: ThreadPoolExecutor | None = None
_keyword_pool_lock = threading.Lock()


def _keyword_worker() -> ThreadPoolExecutor:
    """The threads BM25 runs on. BM25 needs only the query's words, so it runs on a second core while the
    encoder (one thread for a query) embeds the question: at 1M chunks that hides its 7 ms; on a small index
    it costs ~0.1 ms. Started by the first search, not at import: importing careerbot starts no threads."""
    global _keyword_pool
    with _keyword_pool_lock:
        if _keyword_pool is None:
            _keyword_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="careerbot-bm25")
        return _keyword_pool


def search(snapshot: Searchable, embedder, query: str, settings, k: int | None = None,
           mode: str | None = None) -> list[Hit]:
    """Ranked hits for a query, best first. Hit.similarity is the query–passage cosine for every mode."""
    k = check_k(settings.k if k is None else k)
    mode = check_mode(mode or settings.retrieval)
    query = checked_query(query, embedder, settings)
    keyword = None if mode == "dense" else _keyword_worker().submit(
        snapshot.keyword.top, tokenize(query), candidate_count(settings, k))
    vector = embedder.encode([query])[0]
    chosen = ranked(snapshot, vector, query, settings, k, mode, keyword.result() if keyword else None)
    return hits_of(snapshot, chosen, vector, settings)


def checked_query(query: str, embedder, settings) -> str:
    """The cleaned query, or EmptyQuery / QueryTooLong (longer than the model reads)."""
    query = clean_query(query, settings.max_query_chars)
    if embedder.token_count(query) > embedder.max_tokens:
        raise QueryTooLong(f"the question is longer than the model reads ({embedder.max_tokens} word "
                           "pieces); shorten it")
    return query


def search_within(snapshot: Searchable, vector: np.ndarray, query: str, settings, sources: Collection[str],
                  k: int) -> list[Hit]:
    """Hybrid hits from the named articles only, scored exactly over all their chunks (an article is a few
    dozen chunks). Usage: search_within(snapshot, embedder.encode([q])[0], q, settings, {"a.md"}, 10)"""
    ids = np.array([i for i, source in enumerate(snapshot.sources) if source in sources], dtype=np.int64)
    if not len(ids):
        return []
    dense = {int(i): float(s) for i, s in zip(ids, snapshot.faiss_index.reconstruct_batch(ids) @ vector, strict=False)}
    wanted = set(ids.tolist())  # every keyword match, kept when in those articles (top() is what every store has)
    keyword = {doc: score for doc, score in snapshot.keyword.top(tokenize(query), len(snapshot.records))
               if doc in wanted and score > 0}
    return hits_of(snapshot, convex_fuse(dense, keyword, settings.alpha)[:k], vector, settings)


def hits_of(snapshot: Searchable, chosen: list[tuple[int, float]], vector: np.ndarray, settings) -> list[Hit]:
    """Hit records for ranked (chunk id, score) pairs; Hit.similarity is the query–passage cosine."""
    if not chosen:
        return []
    ids = np.array([doc for doc, _ in chosen], dtype=np.int64)
    similarities = snapshot.faiss_index.reconstruct_batch(ids) @ vector
    hits = []
    for rank, ((doc, score), similarity) in enumerate(zip(chosen, similarities, strict=False), start=1):
        chunk = snapshot.records[doc].chunk
        text = expand_text(snapshot, doc) if settings.expand_neighbours else chunk.text
        hits.append(Hit(chunk.chunk_id, text, float(score), chunk.title, chunk.section, chunk.source,
                        chunk.date, chunk.position, rank, float(similarity)))
    return hits
