"""bm25s vs rank_bm25 on a BEIR folder: index time, query time and nDCG@10 / Recall@100, same tokens.

Usage: .venv/bin/pip install rank_bm25 && .venv/bin/python benchmarks/bm25_libraries.py ../shared/benchmarks/scifact
rank_bm25 is a benchmark-only dependency; careerbot itself uses bm25s (see docs/retrieval.md).
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np

from careerbot.evaluation.beir import load_beir
from careerbot.evaluation.questions import score_run
from careerbot.retrieve.lexical import KeywordIndex, tokenize


def top_ids(scores: np.ndarray, n: int = 100) -> list[int]:
    ids = np.argpartition(-scores, n - 1)[:n]
    return ids[np.argsort(-scores[ids], kind="stable")].tolist()


def run(name: str, build, score, data, tokens, query_tokens, k1: float, b: float) -> dict:
    started = time.perf_counter()
    index = build(tokens, k1, b)
    index_s = time.perf_counter() - started
    started = time.perf_counter()
    rankings = [[data.doc_ids[i] for i in top_ids(score(index, q))] for q in query_tokens]
    query_s = time.perf_counter() - started
    return {"library": name, "k1": k1, "b": b, **{k: round(v, 4) for k, v in
            score_run(dict(zip(data.queries, rankings, strict=False)), data.qrels).items()},
            "index_s": round(index_s, 2), "query_ms": round(1000 * query_s / len(query_tokens), 2)}


def main(folder: str) -> None:
    from rank_bm25 import BM25Okapi

    data = load_beir(folder, "test")
    started = time.perf_counter()
    tokens = [tokenize(doc) for doc in data.documents()]
    print(f"tokenize {len(tokens)} documents: {time.perf_counter() - started:.2f}s", file=sys.stderr)
    query_tokens = [tokenize(q) for q in data.queries.values()]
    libraries = {
        "bm25s (lucene, careerbot.retrieve.lexical)": (lambda t, k1, b: KeywordIndex.build(t, k1=k1, b=b),
                                              lambda index, q: index.scores(q)),
        "rank_bm25 BM25Okapi": (lambda t, k1, b: BM25Okapi(t, k1=k1, b=b),
                                lambda index, q: np.asarray(index.get_scores(q))),
    }
    for k1, b in ((0.9, 0.4), (1.2, 0.75)):
        for name, (build, score) in libraries.items():
            print(json.dumps(run(name, build, score, data, tokens, query_tokens, k1, b)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
