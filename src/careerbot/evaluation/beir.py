"""BEIR-format retrieval benchmarks through careerbot's own ranking path: load a folder, embed its corpus
once (cached), index it with the product's FAISS and BM25 code, and score each retrieval mode.

Usage: report = evaluate_beir("../shared/benchmarks/scifact", Settings(), ["dense", "bm25", "hybrid"])
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidArgument
from ..files import sha256_file
from ..index.versions import Index, Snapshot
from ..records import Chunk, ChunkRecord
from ..retrieve.lexical import K1, B, KeywordIndex, tokenize
from ..retrieve.search import clean_query, ranked
from .questions import lines, score_run, show

CORPUS_RECIPE = "title + ' ' + text"  # what each BEIR document is embedded and BM25-indexed as (MTEB style)


def cache_dir() -> Path:
    """Where corpus embeddings are kept between runs: $XDG_CACHE_HOME/careerbot/eval."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "careerbot" / "eval"


def corpus_vectors(embedder, texts: list[str], corpus_sha: str, progress: bool) -> tuple[np.ndarray, float, bool]:
    """Embeddings of the corpus texts, computed once per (model, corpus, recipe) and cached as .npy.

    Returns (vectors, seconds the embedding took when computed, whether it came from the cache)."""
    key = hashlib.sha256(json.dumps({"model": embedder.name, "max_tokens": embedder.max_tokens,
                                     "corpus": corpus_sha, "recipe": CORPUS_RECIPE, "n": len(texts)},
                                    sort_keys=True).encode()).hexdigest()[:24]
    path, meta_path = cache_dir() / f"{key}.npy", cache_dir() / f"{key}.json"
    if path.is_file() and meta_path.is_file():
        try:
            vectors = np.load(path, allow_pickle=False)
            if vectors.shape == (len(texts), embedder.dimension):
                return vectors, float(json.loads(meta_path.read_text())["seconds"]), True
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache entry is recomputed
    started = time.perf_counter()
    vectors = embedder.encode(texts, progress=progress)
    seconds = time.perf_counter() - started
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}.npy")
    np.save(tmp, vectors)
    os.replace(tmp, path)
    meta_path.write_text(json.dumps({"seconds": seconds, "model": embedder.name, "documents": len(texts)}))
    return vectors, seconds, False


# ----- BEIR folders ------------------------------------------------------------------------------
@dataclass(frozen=True)
class BeirData:
    """A BEIR dataset: corpus in file order, the judged queries of one split and their qrels."""

    name: str
    doc_ids: list[str]
    titles: list[str]
    texts: list[str]
    queries: dict[str, str]  # only queries judged in the split, in qrels order
    qrels: dict[str, dict[str, int]]
    corpus_sha: str

    def documents(self) -> list[str]:
        """Each document as embedded and indexed: title + " " + text (MTEB's recipe)."""
        return [f"{title} {text}".strip() for title, text in zip(self.titles, self.texts, strict=False)]


def load_beir(folder: str | Path, split: str = "test") -> BeirData:
    """Read corpus.jsonl, queries.jsonl and qrels/<split>.tsv. Raises InvalidArgument if any is missing."""
    folder = Path(folder)
    paths = {name: folder / name for name in ("corpus.jsonl", "queries.jsonl", f"qrels/{split}.tsv")}
    missing = [name for name, path in paths.items() if not path.is_file()]
    if missing:
        raise InvalidArgument(f"{folder} is not a BEIR folder: missing {', '.join(missing)}")
    doc_ids, titles, texts = [], [], []
    for line in lines(paths["corpus.jsonl"]):
        doc = json.loads(line)
        doc_ids.append(str(doc["_id"]))
        titles.append(doc.get("title") or "")
        texts.append(doc.get("text") or "")
    qrels: dict[str, dict[str, int]] = {}
    for line in lines(paths[f"qrels/{split}.tsv"]):
        parts = line.split("\t")
        if len(parts) < 3 or parts[0] == "query-id":
            continue
        qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    all_queries = {str(q["_id"]): q["text"] for q in map(json.loads, lines(paths["queries.jsonl"]))}
    queries = {q: all_queries[q] for q in qrels if q in all_queries}
    if not doc_ids or not queries:
        raise InvalidArgument(f"{folder} has no documents or no judged {split} queries")
    return BeirData(folder.resolve().name, doc_ids, titles, texts, queries,
                    {q: qrels[q] for q in queries}, sha256_file(paths["corpus.jsonl"]))


def beir_index(data: BeirData, vectors: np.ndarray, token_lists: list[list[str]], settings,
               k1: float = K1, b: float = B) -> Index:
    """An in-memory Index over a BEIR corpus: one chunk per document, the document id as its source (so
    per-article caps do nothing), its vectors and BM25 tokens those of CORPUS_RECIPE, exact FAISS search.

    Usage: beir_index(data, vectors, [tokenize(d) for d in data.documents()], settings)"""
    chunks = [Chunk(doc, doc, title, (), None, 0, text)
              for doc, title, text in zip(data.doc_ids, data.titles, data.texts, strict=False)]
    index = Index(settings.with_overrides(index_type="flat")).fit(chunks, vectors=vectors, terms=token_lists)
    if (k1, b) != (K1, B):  # benchmarks/tune_retrieval.py sweeps them
        index = dataclasses.replace(index, keyword=KeywordIndex.build(token_lists, k1=k1, b=b))
    return index


def store_snapshot(data: BeirData, vectors: np.ndarray, token_lists: list[list[str]], settings) -> Snapshot:
    """The BEIR corpus in the PostgreSQL store of `settings.store`, in a schema of its own (careerbot_eval),
    so the app's index there is left alone; written once per corpus, model and index settings."""
    from ..store.postgres import PostgresStore, documents_snapshot

    pg = PostgresStore(settings.store, settings, schema="careerbot_eval")
    records = [ChunkRecord(Chunk(doc, doc, title, (), None, 0, text), tuple(tokens), 0, 0)
               for doc, title, text, tokens in zip(data.doc_ids, data.titles, data.texts, token_lists, strict=False)]
    manifest = {"model": settings.model, "dimension": int(vectors.shape[1]), "counts": {"chunks": len(records)},
                "documents": {"dataset": data.name, "corpus_sha": data.corpus_sha, "recipe": CORPUS_RECIPE,
                              "model": settings.model, "index_type": settings.index_type,
                              "exact_threshold": settings.exact_threshold, "hnsw_m": settings.hnsw_m,
                              "hnsw_ef_construction": settings.hnsw_ef_construction}}
    return documents_snapshot(pg, manifest, records, vectors)


def run_mode(index: Index, queries: list[str], vectors: np.ndarray | None, settings, mode: str,
             k: int = 100, progress: bool = False) -> list[list[str]]:
    """The top-k document ids of each query through retrieve.ranked, the product's ranking path."""
    out = []
    for i, query in enumerate(show(queries, mode, progress)):
        vector = vectors[i] if vectors is not None else np.zeros(0, np.float32)  # bm25 reads no vector
        out.append([index.records[doc].chunk.source
                    for doc, _ in ranked(index, vector, query, settings, k, mode)])
    return out


def evaluate_beir(folder: str | Path, settings, modes: list[str], split: str = "test",
                  progress: bool = False) -> dict:
    """nDCG@10, Recall@100 and MRR@10 per retrieval mode, with build and query times, as a dict."""
    data = load_beir(folder, split)
    eval_settings = settings.with_overrides(per_article_cap=0, expand_neighbours=False)
    queries = [clean_query(q, settings.max_query_chars) for q in data.queries.values()]
    need_dense = any(m in ("dense", "hybrid") for m in modes)
    started = time.perf_counter()
    token_lists = [tokenize(doc) for doc in show(data.documents(), "tokenize", progress)]
    keyword_s = time.perf_counter() - started
    report = {"dataset": data.name, "split": split, "queries": len(queries), "documents": len(data.doc_ids),
              "model": settings.model, "document_recipe": CORPUS_RECIPE,
              "bm25": {"library": "bm25s", "method": "lucene", "k1": K1, "b": B,
                       "tokenizer": "careerbot.retrieve.lexical.tokenize (lowercase, stopwords, Snowball stems)"},
              "fusion": _fusion_settings(settings), "modes": {}}
    vectors = query_vectors = None
    dense_s = query_embed_s = 0.0
    if need_dense:
        from ..index.embed import Embedder

        embedder = Embedder.load(settings)
        started = time.perf_counter()
        vectors, embed_s, cached = corpus_vectors(embedder, data.documents(), data.corpus_sha, progress)
        dense_s = time.perf_counter() - started if not cached else embed_s
        report["corpus_embeddings"] = {"cached": cached, "seconds": round(embed_s, 1), "cache": str(cache_dir())}
        started = time.perf_counter()
        query_vectors = embedder.encode(queries)
        query_embed_s = time.perf_counter() - started
    else:
        vectors = np.zeros((len(data.doc_ids), 1), np.float32)
    started = time.perf_counter()
    index = beir_index(data, vectors, token_lists, eval_settings) if not settings.store else \
        store_snapshot(data, vectors, token_lists, settings)
    index_s = time.perf_counter() - started
    if settings.store:
        report["store"] = index.faiss_index.store.describe(index)
        keyword = settings.store_keyword  # postings, gin-bm25 or gin-rank (docs/deploy.md)
        report["bm25"] = dict(report["bm25"], library=f"postgresql {keyword}",
                              method="ts_rank_cd (in SQL)" if keyword == "gin-rank" else "lucene (in SQL)")
    qids = list(data.queries)
    for mode in modes:
        started = time.perf_counter()
        rankings = run_mode(index, queries, query_vectors, eval_settings, mode, 100, progress)
        seconds = time.perf_counter() - started + (query_embed_s if mode != "bm25" else 0.0)
        build = {"dense": dense_s, "bm25": keyword_s, "hybrid": dense_s + keyword_s}[mode] + index_s
        scores = score_run(dict(zip(qids, rankings, strict=False)), data.qrels)
        report["modes"][mode] = {**{k: round(v, 4) for k, v in scores.items()}, "build_s": round(build, 1),
                                 "query_s": round(seconds, 2),
                                 "query_ms": round(1000 * seconds / max(len(queries), 1), 2)}
    return report


def _fusion_settings(settings) -> dict:
    if settings.fusion == "rrf":
        return {"fusion": "rrf", "rrf_k": settings.rrf_k, "dense_weight": settings.dense_weight,
                "candidates": settings.candidates}
    return {"fusion": "convex", "alpha": settings.alpha, "candidates": settings.candidates}


def format_beir(report: dict) -> str:
    """The side-by-side table printed by `careerbot eval <BEIR folder>`."""
    bm25, fusion = report["bm25"], report["fusion"]
    fused = ", ".join(f"{k}={v}" for k, v in fusion.items() if k != "fusion")
    out = [f"{report['dataset']} ({report['split']}: {report['queries']:,} queries, "
             f"{report['documents']:,} documents), model {report['model']}, store "
             f"{report.get('store', 'in memory (FAISS + bm25s, as the index folder)')}",
             f"BM25: {bm25['library']} {bm25['method']} k1={bm25['k1']} b={bm25['b']}; "
             f"hybrid: {fusion['fusion']} ({fused})", "",
             f"{'mode':<8}{'nDCG@10':>9}{'Recall@100':>12}{'MRR@10':>8}{'build s':>9}{'query ms':>10}"]
    for mode, r in report["modes"].items():
        out.append(f"{mode:<8}{r['ndcg@10']:>9.4f}{r['recall@100']:>12.4f}{r['mrr@10']:>8.4f}"
                     f"{r['build_s']:>9.1f}{r['query_ms']:>10.2f}")
    cache = report.get("corpus_embeddings")
    if cache and cache["cached"]:
        out.append(f"\ncorpus embeddings came from the cache in {cache['cache']}; build s shows the "
                     f"{cache['seconds']:.0f}s the first run spent embedding")
    return "\n".join(out)

