"""Tune BM25 k1/b and the hybrid fusion on a BEIR train split, then score the choice on test.

Usage: .venv/bin/python benchmarks/tune_retrieval.py ../shared/benchmarks/scifact [--part bm25|fusion|all]
Everything goes through careerbot's own ranking path (retrieve.ranked); the only addition here is a memo
in front of the FAISS and BM25 lookups, so that a sweep over fusion settings does not repeat them.
Needs the corpus embeddings cached by one `careerbot eval <folder>` run (or computes them).
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import time

import numpy as np

from careerbot.evaluation.beir import beir_index, corpus_vectors, load_beir, run_mode
from careerbot.evaluation.questions import score_run
from careerbot.index.embed import Embedder
from careerbot.retrieve.lexical import tokenize
from careerbot.retrieve.search import clean_query
from careerbot.settings import Settings


class MemoKeyword:
    """KeywordIndex.top with results remembered per query (the sweep asks the same queries many times)."""

    def __init__(self, keyword) -> None:
        self.keyword, self.memo = keyword, {}

    def top(self, tokens, n):
        key = tuple(tokens)
        if key not in self.memo:
            self.memo[key] = self.keyword.top(tokens, 1000)
        return self.memo[key][:n]


class MemoFaiss:
    """FAISS search remembered per query vector; everything else passes through."""

    def __init__(self, index) -> None:
        self.index, self.memo, self.ntotal = index, {}, index.ntotal

    def search(self, vectors, n):
        key = vectors.tobytes()
        if key not in self.memo:
            self.memo[key] = self.index.search(vectors, 1000)
        scores, ids = self.memo[key]
        return scores[:, :n], ids[:, :n]

    def reconstruct_batch(self, ids):
        return self.index.reconstruct_batch(ids)


def prepare(folder: str, split: str, settings: Settings, k1: float | None = None, b: float | None = None):
    data = load_beir(folder, split)
    tokens = [tokenize(doc) for doc in data.documents()]
    embedder = Embedder.load(settings)
    full = load_beir(folder, "test")  # same corpus; the cache key is the corpus, not the split
    vectors, _, _ = corpus_vectors(embedder, full.documents(), full.corpus_sha, progress=True)
    queries = [clean_query(q, settings.max_query_chars) for q in data.queries.values()]
    kwargs = {k: v for k, v in (("k1", k1), ("b", b)) if v is not None}
    snapshot = beir_index(data, vectors, tokens, settings, **kwargs)
    return data, tokens, vectors, queries, embedder.encode(queries), snapshot


def score(data, snapshot, queries, qvecs, settings, mode, k=100):
    rankings = run_mode(snapshot, queries, qvecs, settings, mode, k)
    return score_run(dict(zip(data.queries, rankings, strict=False)), data.qrels)


def tune_bm25(folder: str, settings: Settings) -> list[dict]:
    data = load_beir(folder, "train")
    tokens = [tokenize(doc) for doc in data.documents()]
    queries = [clean_query(q, settings.max_query_chars) for q in data.queries.values()]
    dummy = np.zeros((len(tokens), 1), np.float32)
    rows = []
    for k1, b in itertools.product((0.6, 0.9, 1.2, 1.5, 2.0), (0.3, 0.4, 0.5, 0.6, 0.75, 0.9)):
        snapshot = beir_index(data, dummy, tokens, settings, k1=k1, b=b)
        rows.append({"k1": k1, "b": b, **score(data, snapshot, queries, None, settings, "bm25")})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def tune_fusion(folder: str, settings: Settings, split: str = "train") -> list[dict]:
    data, _, _, queries, qvecs, snapshot = prepare(folder, split, settings)
    snapshot = dataclasses.replace(snapshot, keyword=MemoKeyword(snapshot.keyword),
                                   faiss_index=MemoFaiss(snapshot.faiss_index))
    base = settings.with_overrides(per_article_cap=0, expand_neighbours=False)
    grid = [dict(fusion="convex", alpha=round(a, 2), candidates=c)
            for c in (50, 100, 200) for a in np.arange(0.3, 0.91, 0.05)]
    grid += [dict(fusion="rrf", rrf_k=k, dense_weight=w, candidates=100)
             for k in (5, 10, 20, 40, 60, 100) for w in (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)]
    rows = []
    for over in grid:
        started = time.perf_counter()
        result = score(data, snapshot, queries, qvecs, base.with_overrides(**over), "hybrid")
        rows.append({**over, **result, "s": round(time.perf_counter() - started, 1)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def tune_candidates(folder: str, settings: Settings) -> list[dict]:
    """Candidates per retriever in the product's regime (top 10 kept; Recall@100 is not defined here)."""
    data, _, _, queries, qvecs, snapshot = prepare(folder, "train", settings)
    snapshot = dataclasses.replace(snapshot, keyword=MemoKeyword(snapshot.keyword),
                                   faiss_index=MemoFaiss(snapshot.faiss_index))
    base = settings.with_overrides(per_article_cap=0, expand_neighbours=False)
    rows = []
    for candidates in (40, 50, 100, 200, 400):
        result = score(data, snapshot, queries, qvecs, base.with_overrides(candidates=candidates), "hybrid", k=10)
        rows.append({"candidates": candidates, "ndcg@10": result["ndcg@10"], "mrr@10": result["mrr@10"]})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--part", default="all", choices=("bm25", "fusion", "candidates", "all"))
    args = parser.parse_args()
    settings = Settings(progress="off")
    if args.part in ("bm25", "all"):
        rows = tune_bm25(args.folder, settings)
        best = max(rows, key=lambda r: r["ndcg@10"])
        print("best bm25 on train:", json.dumps(best))
    if args.part in ("fusion", "all"):
        rows = tune_fusion(args.folder, settings)
        for fusion in ("convex", "rrf"):
            best = max((r for r in rows if r["fusion"] == fusion), key=lambda r: r["ndcg@10"])
            print(f"best {fusion} on train:", json.dumps(best))
    if args.part in ("candidates", "all"):
        tune_candidates(args.folder, settings)


if __name__ == "__main__":
    main()
