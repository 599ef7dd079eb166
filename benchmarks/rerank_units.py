"""Does re-scoring the hybrid top 15 with sentence vectors help? (It did not hold up; see docs/retrieval.md.)

Usage: .venv/bin/python benchmarks/rerank_units.py ../shared/benchmarks/scifact [--split train] [--queries 120]
Embedding every sentence of SciFact costs more than the whole eval may take on 2 cores, so this samples
queries (seed 0), embeds the sentences of the documents in their hybrid top 15 only (cached), and scores
nDCG@10 and MRR@10 on that sample for a grid of weights. Candidates come from careerbot's own fusion
(retrieve.rank_ids); only the re-scoring below is local to this experiment.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tune_retrieval import prepare  # noqa: E402

from careerbot.chunk import split_units  # noqa: E402
from careerbot.evaluation.beir import corpus_vectors, run_mode  # noqa: E402
from careerbot.evaluation.questions import score_run  # noqa: E402
from careerbot.index import versions as store  # noqa: E402
from careerbot.index.embed import Embedder  # noqa: E402
from careerbot.retrieve.search import rank_ids  # noqa: E402
from careerbot.settings import Settings  # noqa: E402

RERANK_DEPTH = 15


def rerank_units(snapshot, vector: np.ndarray, scored: list[tuple[int, float]], weight: float,
                 depth: int = RERANK_DEPTH) -> list[tuple[int, float]]:
    """Re-score the top `depth` candidates as (fused + weight · best unit cosine) / (1 + weight), with the
    fused score min-max scaled within those candidates. The best unit cosine is the query's cosine with the
    passage's best-matching sentence or list item, from the precomputed unit vectors (the passage cosine
    when a record has none), so a passage whose one sentence answers the question rises. The rest keep
    their order below. Usage: rerank_units(snapshot, query_vector, fused, 0.5)
    """
    head, tail = scored[:depth], scored[depth:]
    if len(head) < 2 or weight <= 0:
        return scored
    ids = np.array([doc for doc, _ in head], dtype=np.int64)
    raw = np.array([score for _, score in head], dtype=np.float64)
    span = raw.max() - raw.min()
    fused = (raw - raw.min()) / span if span > 0 else np.ones_like(raw)
    passage = snapshot.faiss_index.reconstruct_batch(ids) @ vector
    best = np.empty(len(ids))
    for i, doc in enumerate(ids):
        record = snapshot.records[doc]
        units = snapshot.unit_vectors[record.unit_start:record.unit_start + record.unit_count]
        best[i] = float((units @ vector).max()) if len(units) else float(passage[i])
    new = (fused + weight * best) / (1 + weight)
    order = np.lexsort((ids, -new))
    floor, below = float(new.min()), float(raw.min())
    return ([(int(ids[i]), float(new[i])) for i in order]
            + [(doc, floor - (below - score)) for doc, score in tail])  # shifted, so scores keep falling


def reranked_run(snapshot, texts, vecs, settings, weight: float) -> list[list[str]]:
    """Top RERANK_DEPTH document ids per query: hybrid fusion, then the re-scoring above."""
    out = []
    for text, vec in zip(texts, vecs, strict=False):
        scored = rank_ids(snapshot, vec, text, "hybrid", max(settings.candidates, 4 * RERANK_DEPTH), settings)
        out.append([snapshot.records[d].chunk.source for d, _ in rerank_units(snapshot, vec, scored, weight)
                    [:RERANK_DEPTH]])
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--split", default="train")
    parser.add_argument("--queries", type=int, default=120)
    args = parser.parse_args()
    settings = Settings(progress="off").with_overrides(per_article_cap=0, expand_neighbours=False)
    data, _, _, queries, qvecs, snapshot = prepare(args.folder, args.split, settings)
    sample = sorted(np.random.default_rng(0).choice(len(queries), min(args.queries, len(queries)),
                                                    replace=False).tolist())
    qids = [list(data.queries)[i] for i in sample]
    texts, vecs = [queries[i] for i in sample], qvecs[sample]
    first = run_mode(snapshot, texts, vecs, settings, "hybrid", RERANK_DEPTH)
    position = {doc: i for i, doc in enumerate(data.doc_ids)}
    docs = sorted({position[d] for ranking in first for d in ranking})
    units = {doc: split_units(data.texts[doc]) for doc in docs}  # as the product: the passage's units
    flat = [u for doc in docs for u in units[doc]]
    print(f"{len(sample)} {args.split} queries, {len(docs)} documents, {len(flat)} sentences", file=sys.stderr)
    digest = hashlib.sha256("\n".join(flat).encode()).hexdigest()
    unit_vectors, seconds, cached = corpus_vectors(Embedder.load(settings), flat, digest, progress=True)
    print(f"sentence embeddings: {seconds:.0f}s{' (cached)' if cached else ''}", file=sys.stderr)
    records, start = list(snapshot.records), 0
    for doc in docs:
        records[doc] = store.ChunkRecord(records[doc].chunk, (), start, len(units[doc]))
        start += len(units[doc])
    snapshot = dataclasses.replace(snapshot, records=records, unit_vectors=unit_vectors)
    qrels = {q: data.qrels[q] for q in qids}
    for weight in (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 100.0):
        rankings = reranked_run(snapshot, texts, vecs, settings, weight)
        scores = score_run(dict(zip(qids, rankings, strict=False)), qrels)
        print(json.dumps({"split": args.split, "queries": len(sample), "rerank_weight": weight,
                          "ndcg@10": round(scores["ndcg@10"], 4), "mrr@10": round(scores["mrr@10"], 4)}),
              flush=True)


if __name__ == "__main__":
    main()
