"""Build and update benchmarks, run as a worker process (model loaded once, before any timer starts).

Tasks: "build" (full build vs the raw encoder on the same texts), "update" (one new article on top of a
large generated corpus vs embedding that article alone), "peer_side" (careerbot's half of the LlamaIndex
comparison, in a fresh process so its peak RSS is its own).
Usage: echo '{"task": "build", "corpus": "benchmarks/work/build-corpus"}' | .venv/bin/python benchmarks/bench_build.py
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

from common import CAREERBOT, QUESTIONS, WORK, log, median, peak_rss_mb, run_child


def _settings():
    from careerbot import Settings

    return Settings.from_env().with_overrides(progress="off")


def _warm_embedder(settings):
    from careerbot.index.embed import Embedder

    embedder = Embedder.load(settings)
    embedder.encode(["warm-up sentence for the encoder", "a second one"])
    return embedder


def _texts(kb) -> tuple[list[str], list[str]]:
    """Exactly what a build embeds: every chunk's embed_text, and every unit of every chunk."""
    from careerbot.chunk import split_units

    records = kb.snapshot.records
    return [r.chunk.embed_text for r in records], [u for r in records for u in split_units(r.chunk.text)]


# ----- full build ------------------------------------------------------------------------------------
def task_build(payload: dict) -> dict:
    from careerbot import KnowledgeBase
    from careerbot.chunk import Chunker, chunk_article
    from careerbot.corpus import list_corpus
    from careerbot.ingest import parse_file

    settings = _settings()
    embedder = _warm_embedder(settings)
    corpus, index = Path(payload["corpus"]), WORK / "build" / "index"
    builds, raw_chunks, raw_units, chunking, inside = [], [], [], [], []
    late = settings.sentence_vectors == "late"  # one encoder pass (encode_with_spans), else two (encode)
    method = "encode_with_spans" if late else "encode"
    encoder_call = getattr(embedder, method)

    def timed_call(*args, **kwargs):  # the encoder calls the build itself makes (same object, same texts)
        start = time.perf_counter()
        try:
            return encoder_call(*args, **kwargs)
        finally:
            inside[-1] += time.perf_counter() - start

    for rep in range(payload.get("reps", 1)):  # alternate build and raw encoding, so load hits both alike
        shutil.rmtree(index, ignore_errors=True)
        inside.append(0.0)
        setattr(embedder, method, timed_call)
        start = time.perf_counter()
        kb = KnowledgeBase.build(corpus, index, settings)
        builds.append(time.perf_counter() - start)
        delattr(embedder, method)
        chunk_texts, unit_texts = _texts(kb)
        # The raw encoder: the model's own encode() on what the build has to embed, each distinct text
        # once (as the build does): the chunks, plus, with standalone sentence vectors, the sentences.
        start = time.perf_counter()
        embedder.encode(list(dict.fromkeys(chunk_texts)))
        raw_chunks.append(time.perf_counter() - start)
        start = time.perf_counter()
        if not late:
            embedder.encode(list(dict.fromkeys(unit_texts)))
        raw_units.append(time.perf_counter() - start)
        # The pipeline's own biggest non-encoder stage, timed alone to explain the overhead.
        start = time.perf_counter()
        chunker = Chunker.from_settings(settings, fits=embedder.fits)
        for path in list_corpus(corpus):
            chunk_article(parse_file(path, corpus.resolve()), chunker)
        chunking.append(time.perf_counter() - start)
        log(f"build rep {rep + 1}: build {builds[-1]:.1f}s, raw encode {raw_chunks[-1] + raw_units[-1]:.1f}s")
    build, enc_c, enc_u = median(builds), median(raw_chunks), median(raw_units)
    raw = [c + u for c, u in zip(raw_chunks, raw_units, strict=False)]
    return {"best_build_s": min(builds), "best_raw_s": min(raw), "best_raw_chunks_s": min(raw_chunks),
            "ratio_per_rep": [b / r for b, r in zip(builds, raw, strict=False)], "encoder_inside_build_s": inside,
            "overhead_ratio_per_rep": [b / i for b, i in zip(builds, inside, strict=False)], "sentence_vectors": settings.sentence_vectors,
            "articles": len(kb.articles()), "chunks": len(chunk_texts), "units": len(unit_texts),
            "unique_units": len(set(unit_texts)), "batch_size": settings.batch_size, "build_s": build,
            "builds_s": builds, "raw_chunks_s": enc_c, "raw_units_s": enc_u, "raw_total_s": enc_c + enc_u,
            "chunking_s": median(chunking), "chunks_per_s": len(chunk_texts) / build,
            "index_bytes": sum(p.stat().st_size for p in kb.snapshot.path.rglob("*") if p.is_file())}


# ----- update ----------------------------------------------------------------------------------------
def _base_index(articles: int, settings) -> tuple[Path, Path, float | None]:
    """A generated corpus of `articles` short articles and its index, built once and cached."""
    from generate import write_corpus

    from careerbot import KnowledgeBase
    from careerbot.errors import CareerbotError

    corpus, index = WORK / "update" / f"corpus-{articles}", WORK / "update" / f"index-{articles}"
    write_corpus(corpus, articles, "short")
    for extra in sorted(corpus.glob("gen_*.txt"))[articles:]:
        extra.unlink()
    try:
        kb = KnowledgeBase.load(index, settings, corpus=corpus)
        if "scanned_ns" in kb.snapshot.manifest:  # else written before manifests kept file sizes and mtimes,
            return corpus, index, None           # so every update would re-read the corpus once: rebuild it
    except CareerbotError:
        pass
    big = WORK / "update" / "index-1000"
    start = time.perf_counter()
    if articles < 1000 and big.exists():  # derive the small base from the big one: an update that removes
        shutil.rmtree(index, ignore_errors=True)
        shutil.copytree(big, index, ignore=shutil.ignore_patterns(".lock"))
        KnowledgeBase.load(index, settings).update(corpus)
    else:
        log(f"building the base index of {articles} generated articles (cached afterwards)")
        shutil.rmtree(index, ignore_errors=True)
        KnowledgeBase.build(corpus, index, settings)
    return corpus, index, time.perf_counter() - start


def _fresh_copy(corpus: Path, index: Path, new_article: int) -> tuple[Path, Path]:
    from generate import write_corpus

    run_corpus, run_index = WORK / "update" / "run-corpus", WORK / "update" / "run-index"
    for path in (run_corpus, run_index):
        shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(corpus, run_corpus)
    shutil.copytree(index, run_index, ignore=shutil.ignore_patterns(".lock"))
    write_corpus(run_corpus, 1, "short", start=new_article)
    return run_corpus, run_index


def task_update(payload: dict) -> dict:
    from careerbot import KnowledgeBase
    from careerbot.chunk import Chunker, chunk_article, split_units
    from careerbot.ingest import parse_file

    settings = _settings()
    embedder = _warm_embedder(settings)
    out = {"sizes": []}
    sizes = payload.get("sizes", [1000, 250])
    for articles in sorted(sizes, reverse=True):
        corpus, index, base_build_s = _base_index(articles, settings)
        new = articles + 7  # a fresh article that is not in the base corpus
        updates, embeds = [], []
        for _ in range(payload.get("reps", 3)):
            run_corpus, run_index = _fresh_copy(corpus, index, new)
            kb = KnowledgeBase.load(run_index, settings)
            start = time.perf_counter()
            report = kb.update(run_corpus)
            updates.append(time.perf_counter() - start)
            if report.added != (f"gen_{new:06d}.txt",):
                raise RuntimeError(f"update did not add exactly the new article: {report}")
            chunks = chunk_article(parse_file(run_corpus / f"gen_{new:06d}.txt", run_corpus.resolve()),
                                   Chunker.from_settings(settings, fits=embedder.fits))
            start = time.perf_counter()
            embedder.encode(list(dict.fromkeys(c.embed_text for c in chunks)))
            if settings.sentence_vectors != "late":  # late: the sentences come out of the chunk pass
                embedder.encode(list(dict.fromkeys(u for c in chunks for u in split_units(c.text))))
            embeds.append(time.perf_counter() - start)
        run_corpus, run_index = _fresh_copy(corpus, index, new)
        cli = run_child([str(CAREERBOT), "index", "update", "--corpus", str(run_corpus), "--index", str(run_index)])
        entry = {"articles": articles, "chunks": report.chunks_total, "new_chunks": report.chunks_embedded,
                 "update_s": median(updates), "updates_s": updates, "embed_article_s": median(embeds),
                 "best_update_s": min(updates), "best_embed_s": min(embeds), "embeds_s": embeds,
                 "cli_update_wall_s": cli["wall_s"], "cli_rc": cli["rc"], "base_built_s": base_build_s}
        log(f"update at {articles} articles: {entry['update_s']:.2f}s vs embed {entry['embed_article_s']:.2f}s")
        out["sizes"].append(entry)
    return out


# ----- careerbot's side of the peer comparison --------------------------------------------------------
def task_peer_side(payload: dict) -> dict:
    started = time.perf_counter()
    from careerbot import KnowledgeBase

    settings = _settings()
    embedder = _warm_embedder(settings)
    # LlamaIndex imports everything before its build timer starts; do the same for careerbot's lazy imports
    # (FAISS, bm25s, the tiktoken encoding), so both timers cover indexing only.
    import bm25s  # noqa: F401
    import faiss  # noqa: F401

    from careerbot.chunk import get_encoding

    get_encoding(settings.encoding)
    load_s = time.perf_counter() - started
    index = WORK / "peer" / "careerbot-index"
    shutil.rmtree(index, ignore_errors=True)
    start = time.perf_counter()
    kb = KnowledgeBase.build(payload["corpus"], index, settings)
    build_s = time.perf_counter() - start
    chunk_texts, unit_texts = _texts(kb)
    for q in QUESTIONS[:3]:
        kb.search(q)
    modes = {}
    for mode in ("hybrid", "dense"):
        times = []
        for _ in range(payload.get("rounds", 3)):
            for q in QUESTIONS:
                t = time.perf_counter()
                kb.search(q, mode=mode)
                times.append(time.perf_counter() - t)
        modes[mode] = times
    del embedder
    return {"chunks": len(chunk_texts), "units": len(unit_texts), "build_s": build_s, "load_s": load_s,
            "sentence_vectors": settings.sentence_vectors,
            "query_s": modes["hybrid"], "query_dense_s": modes["dense"], "peak_rss_mb": peak_rss_mb(),
            "chunks_jsonl": str(kb.snapshot.path / "chunks.jsonl")}


def task_prepare_update(payload: dict) -> dict:
    """Build (once) the base indexes of the update benchmark, largest first. Chunk vectors already
    embedded for the scale run (same generator, same chunker) are reused; only this fills caches, so no
    timing depends on it."""
    import numpy as np

    settings = _settings()
    embedder = _warm_embedder(settings)
    known: dict[str, np.ndarray] = {}
    for path in payload.get("reuse", []):
        if Path(path).exists():
            data = np.load(path, allow_pickle=False)
            from careerbot.records import context_prefix

            for record, vector in zip(json.loads(str(data["records"])), data["vectors"], strict=False):
                known[context_prefix(record["title"], tuple(record["section"])) + record["text"]] = vector
    encode = embedder.encode

    def remembering(texts, **kwargs):
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            known.update(zip(missing, encode(missing, **kwargs), strict=False))
        return np.vstack([known[t] for t in texts]) if texts else encode(texts, **kwargs)

    embedder.encode = remembering
    try:
        return {str(n): _base_index(n, settings)[2] for n in sorted(payload["sizes"], reverse=True)}
    finally:
        del embedder.encode


if __name__ == "__main__":
    request = json.loads(sys.stdin.read())
    task = {"build": task_build, "update": task_update, "peer_side": task_peer_side,
            "prepare_update": task_prepare_update}[request["task"]]
    print(json.dumps(task(request)))
