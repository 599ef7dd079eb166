"""Query benchmarks, run as a worker process: warm search and extractive ask over the real corpus, and
search at 1k … 1M chunks (real embeddings up to the cached count, synthetic vectors drawn around them above).

Usage: echo '{"task": "query", ...}' | .venv/bin/python benchmarks/bench_query.py
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from common import QUESTIONS, WORK, generated_questions, log, median, peak_rss_mb, percentile

from careerbot.index.versions import ef_search_for


def _settings(**overrides):
    from careerbot import Settings

    return Settings.from_env().with_overrides(progress="off", **overrides)


def stats(values: list[float]) -> dict:
    return {"p50_ms": median(values) * 1000, "p95_ms": percentile(values, 95) * 1000, "n": len(values)}


# ----- warm search and ask on the real corpus --------------------------------------------------------
def task_query(payload: dict) -> dict:
    from careerbot import KnowledgeBase

    settings = _settings()
    kb = KnowledgeBase.load(payload["index"], settings)
    embedder = kb.embedder()
    has_answer = importlib.util.find_spec("careerbot.answer.compose") is not None
    for q in QUESTIONS[:4]:  # warm-up: model, tokenizer, BM25 and FAISS paths, answer imports
        kb.search(q)
        if has_answer:
            kb.ask(q)
    encode, search, ask = [], [], []
    for _ in range(payload.get("rounds", 3)):
        for q in QUESTIONS:  # interleaved, so a burst of load on the shared machine hits all three alike
            t = time.perf_counter(); embedder.encode([q]); encode.append(time.perf_counter() - t)
            t = time.perf_counter(); kb.search(q); search.append(time.perf_counter() - t)
            if has_answer:
                t = time.perf_counter(); kb.ask(q); ask.append(time.perf_counter() - t)
    chunks = len(kb.snapshot.records)
    return {"chunks": chunks, "questions": len(QUESTIONS), "encode": stats(encode), "search": stats(search),
            "ask": stats(ask) if ask else None, "ask_pending": not has_answer,
            "index_bytes": _dir_bytes(kb.snapshot.path), "peak_rss_mb": peak_rss_mb()}


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


# ----- scale ---------------------------------------------------------------------------------------
def real_chunks(n_real: int, settings, embedder) -> tuple[list, np.ndarray]:
    """n_real chunk records of the generated corpus with real embeddings, cached under benchmarks/work."""
    from generate import write_corpus

    from careerbot.chunk import Chunker, chunk_article
    from careerbot.index.versions import ChunkRecord
    from careerbot.ingest import parse_file
    from careerbot.retrieve.lexical import keyword_terms

    cache = _real_cache_path(n_real, settings)
    corpus = WORK / "scale" / "corpus"
    if cache.exists():
        data = np.load(cache, allow_pickle=False)
        meta = json.loads(str(data["records"]))
        chunks_meta, vectors = meta, data["vectors"]
    else:
        chunker = Chunker.from_settings(settings, fits=embedder.fits)
        chunks, i = [], 0
        while len(chunks) < n_real:
            path = write_corpus(corpus, 1, "short", start=i)[0]
            chunks.extend(chunk_article(parse_file(path, corpus), chunker))
            i += 1
        chunks = chunks[:n_real]
        log(f"embedding {len(chunks)} real chunks of {i} generated articles (cached afterwards)")
        start = time.perf_counter()
        vectors = embedder.encode([c.embed_text for c in chunks])
        log(f"embedded in {time.perf_counter() - start:.0f}s")
        chunks_meta = [{"id": c.chunk_id, "source": c.source, "title": c.title, "section": list(c.section),
                        "date": c.date, "position": c.position, "text": c.text, "terms": keyword_terms(c)}
                       for c in chunks]
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, vectors=vectors, records=np.array(json.dumps(chunks_meta)))
    from careerbot.records import Chunk

    records = [ChunkRecord(Chunk(m["id"], m["source"], m["title"], tuple(m["section"]), m["date"], m["position"],
                                 m["text"]), tuple(m["terms"]), 0, 0) for m in chunks_meta]
    return records, np.ascontiguousarray(vectors, dtype=np.float32)


def _real_cache_path(n_real: int, settings) -> Path:
    key = hashlib.sha256((Path(__file__).with_name("generate.py").read_text() + settings.model
                          + json.dumps(settings.chunker_fingerprint())).encode()).hexdigest()[:12]
    return WORK / "scale" / f"real-{n_real}-{key}.npz"


def synthetic(real: np.ndarray, n: int, sigma: float, seed: int = 5) -> np.ndarray:
    """n unit vectors: real chunk vectors (cycled) plus Gaussian noise of norm ≈ sigma, renormalized."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    step = 65536
    for start in range(0, n, step):
        stop = min(start + step, n)
        block = real[np.arange(start, stop) % len(real)] + rng.standard_normal(
            (stop - start, real.shape[1]), dtype=np.float32) * (sigma / np.sqrt(real.shape[1]))
        out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Exact inner-product top-k ids, computed in blocks (no second copy of a large matrix)."""
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), k), dtype=np.int64)
    step = 200_000
    for start in range(0, len(vectors), step):
        scores = queries @ vectors[start:start + step].T
        kk = min(k, scores.shape[1])
        part = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        s = np.take_along_axis(scores, part, axis=1)
        all_s = np.concatenate([best_s, s], axis=1)
        all_i = np.concatenate([best_i, part + start], axis=1)
        order = np.argsort(-all_s, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(all_s, order, axis=1), np.take_along_axis(all_i, order, axis=1)
    return best_i


def task_scale(payload: dict) -> dict:
    import faiss

    from careerbot.index.embed import Embedder
    from careerbot.index.versions import ChunkRecord, Index, make_faiss_index
    from careerbot.retrieve.lexical import KeywordIndex, tokenize
    from careerbot.retrieve.search import search

    settings = _settings()
    embedder = Embedder.load(settings)
    real_records, real = real_chunks(payload["real"], settings, embedder)
    sigma = payload.get("sigma", 0.6)
    questions = QUESTIONS + generated_questions(24)
    qvecs = embedder.encode(questions)
    results = []
    for n in payload["sizes"]:
        kind = "real" if n <= len(real) else "synthetic"
        start = time.perf_counter()
        if kind == "real":
            vectors, records = real[:n], real_records[:n]
        else:
            vectors = synthetic(real, n, sigma)
            records = [ChunkRecord(r.chunk.__class__(f"syn{i}/{r.chunk.chunk_id}", r.chunk.source, r.chunk.title,
                                                     r.chunk.section, r.chunk.date, r.chunk.position, r.chunk.text),
                                   r.terms, 0, 0)
                       for i, r in ((i, real_records[i % len(real_records)]) for i in range(n))]
        truth = exact_top(vectors, qvecs, 10)
        if n >= 200_000:
            index, index_bytes, cached = _cached_faiss(n, kind, vectors, settings, payload)
        else:
            index = make_faiss_index(vectors, settings.index_type, settings.exact_threshold, settings.hnsw_m,
                                     settings.hnsw_ef_construction, settings.hnsw_ef_search)
            index_bytes, cached = len(faiss.serialize_index(index)), False
        index_s = time.perf_counter() - start
        del vectors
        approximate = hasattr(index, "hnsw")
        _, found = index.search(qvecs, 10)
        recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=False)]))
        sweep = _ef_sweep(index, qvecs, truth, settings) if approximate else []
        t = time.perf_counter()
        keyword = KeywordIndex.build([list(r.terms) for r in records]) if payload.get("keyword", True) else None
        keyword_s = time.perf_counter() - t
        snapshot = Index(settings, records, index, np.zeros((0, real.shape[1]), np.float32), keyword)
        mode = "hybrid" if keyword is not None else "dense"
        for q in questions[:3]:
            search(snapshot, embedder, q, settings, mode=mode)
        enc, full, dense, kw, src = [], [], [], [], []
        for _ in range(payload.get("rounds", 2)):
            for q, v in zip(questions, qvecs, strict=False):
                t = time.perf_counter(); embedder.encode([q]); enc.append(time.perf_counter() - t)
                t = time.perf_counter(); search(snapshot, embedder, q, settings, mode=mode); full.append(time.perf_counter() - t)
                t = time.perf_counter(); index.search(v.reshape(1, -1), settings.candidates); dense.append(time.perf_counter() - t)
                if keyword is not None:
                    t = time.perf_counter(); keyword.top(tokenize(q), settings.candidates); kw.append(time.perf_counter() - t)
            # retrieve.search rebuilds this list of every chunk's source on every query (for diversify).
            t = time.perf_counter(); [r.chunk.source for r in snapshot.records]; src.append(time.perf_counter() - t)
        entry = {"chunks": n, "vectors": kind, "index": "hnsw" if approximate else "flat", "mode": mode,
                 "ef_search": int(index.hnsw.efSearch) if approximate else None,
                 "recall_at_10": recall if approximate else 1.0, "index_build_s": index_s, "index_cached": cached,
                 "keyword_build_s": keyword_s, "encode": stats(enc), "search": stats(full),
                 "faiss": stats(dense), "bm25": stats(kw) if kw else None,
                 "sources_list_ms": median(src) * 1000, "faiss_bytes_per_chunk": index_bytes / n, "ef_sweep": sweep,
                 "peak_rss_mb": peak_rss_mb()}
        log(f"scale {n:,} ({kind}, {entry['index']}): search p50 {entry['search']['p50_ms']:.1f} ms, "
            f"encode p50 {entry['encode']['p50_ms']:.1f} ms, recall@10 {entry['recall_at_10']:.3f}")
        results.append(entry)
        del snapshot, index, keyword, records
    return {"sizes": results, "real_chunks": len(real), "sigma": sigma, "questions": len(questions),
            "settings": {k: getattr(settings, k) for k in ("index_type", "exact_threshold", "hnsw_m",
                                                            "hnsw_ef_search", "hnsw_ef_construction")}}


def _ef_sweep(index, qvecs: np.ndarray, truth: np.ndarray, settings) -> list[dict]:
    """Recall@10 and single-query FAISS time for several efSearch values (the knob behind recall)."""
    out = []
    extra = {1024, 2048} if index.ntotal >= 500_000 else set()
    for ef in sorted({64, 128, 256, 512, settings.hnsw_ef_search} | extra):
        index.hnsw.efSearch = max(ef, settings.candidates)
        _, found = index.search(qvecs, 10)
        times = []
        for v in qvecs:
            t = time.perf_counter(); index.search(v.reshape(1, -1), settings.candidates); times.append(time.perf_counter() - t)
        out.append({"ef_search": index.hnsw.efSearch, "faiss_p50_ms": median(times) * 1000,
                    "recall_at_10": float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=False)]))})
    index.hnsw.efSearch = ef_search_for(index.ntotal, settings.hnsw_ef_search)
    return out


def _cached_faiss(n: int, kind: str, vectors: np.ndarray, settings, payload: dict):
    """Very large HNSW graphs take many minutes on 2 cores; they are built once and kept in work/."""
    import faiss

    from careerbot.index.versions import make_faiss_index

    key = f"{n}-{kind}-{payload['real']}-{payload.get('sigma', 0.6)}-{settings.index_type}-{settings.hnsw_m}-" \
          f"{settings.hnsw_ef_construction}-{settings.exact_threshold}"
    path = WORK / "scale" / f"faiss-{hashlib.sha256(key.encode()).hexdigest()[:12]}.index"
    cached = path.exists()
    if cached:
        index = faiss.read_index(str(path))
    else:
        log(f"building the FAISS index for {n:,} vectors (cached afterwards)")
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # graph construction is parallel; use every core
        index = make_faiss_index(vectors, settings.index_type, settings.exact_threshold, settings.hnsw_m,
                                 settings.hnsw_ef_construction, settings.hnsw_ef_search)
        faiss.write_index(index, str(path))
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = ef_search_for(index.ntotal, settings.hnsw_ef_search)
    return index, path.stat().st_size, cached


def task_prepare_scale(payload: dict) -> dict:
    """Fill the caches a full run needs (real embeddings, very large indexes) without timing anything."""
    from careerbot.index.embed import Embedder

    settings = _settings()
    records, real = real_chunks(payload["real"], settings, Embedder.load(settings))
    print(json.dumps({"real_cache": str(_real_cache_path(payload["real"], settings))}), file=sys.stderr)
    for n in payload["sizes"]:
        if n >= 200_000:
            _cached_faiss(n, "synthetic", synthetic(real, n, payload.get("sigma", 0.6)), settings, payload)
    return {"real_chunks": len(records), "real_cache": str(_real_cache_path(payload["real"], settings))}


if __name__ == "__main__":
    request = json.loads(sys.stdin.read())
    task = {"query": task_query, "scale": task_scale, "prepare_scale": task_prepare_scale}[request["task"]]
    print(json.dumps(task(request)))
