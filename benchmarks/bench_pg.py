"""Past one machine: the PostgreSQL store at 10k and 100k chunks, app replicas behind nginx, Ray embedding.

    python benchmarks/bench_pg.py [--only scale,replicas,ray] [--sizes 10000,100000]

Starts its own PostgreSQL + pgvector (tests/pg_engine.py, pgserver's binaries) on a free 127.0.0.1 port.
Writes benchmarks/results-pg.json; the figures are in benchmarks/README.md and docs/deploy.md.

scale     SciFact's 5,183 real document vectors (the eval cache; `careerbot eval ../shared/benchmarks/scifact`
          fills it), real-plus-noise beyond that (as bench_query.py), with each document's BM25 terms.
          Per size: the exact scan and HNSW (m=32, ef_construction=80), dense top-10 and the full hybrid
          ranking p50/p95 over 100 SciFact queries, recall@10 of HNSW against the exact scan, HNSW build
          time and index size; on the exact-scan version, the keyword side alone (top candidates) p50/p95
          for each settings.store_keyword method (postings, gin-bm25, gin-rank).
replicas  1, 2 and 4 `careerbot serve --store` replicas behind nginx, answers from an OpenAI-compatible
          endpoint simulated on loopback with a fixed latency (generation is waiting, not CPU, here), 8
          clients each pinned by a header, 6 questions each: throughput and p50/p95.
ray       rows/s embedding the same chunks on a local Ray with 1 and 2 actors, next to one local process.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests"), str(BENCH)]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from common import percentile  # noqa: E402
from pg_engine import PgEngine, free_port  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "benchmarks" / "scifact"
LATENCY = 0.5  # seconds the simulated model endpoint waits before answering


def log(message: str) -> None:
    print(f"[bench_pg] {message}", file=sys.stderr, flush=True)


def stats(values: list[float]) -> dict:
    return {"p50_ms": round(1000 * percentile(values, 50), 2), "p95_ms": round(1000 * percentile(values, 95), 2)}


# ----- scale ---------------------------------------------------------------------------------------
def bench_scale(engine: PgEngine, sizes: list[int], kinds: tuple[str, ...] = ("flat", "hnsw")) -> dict:
    from bench_query import synthetic

    from careerbot.evaluation.beir import corpus_vectors, load_beir
    from careerbot.index.embed import Embedder
    from careerbot.index.versions import ChunkRecord
    from careerbot.records import Chunk
    from careerbot.retrieve.lexical import tokenize
    from careerbot.retrieve.search import candidate_count, ranked
    from careerbot.settings import Settings
    from careerbot.store.postgres import PgKeyword, PostgresStore

    settings = Settings(progress="off", per_article_cap=0, expand_neighbours=False)
    data = load_beir(SCIFACT, "test")
    embedder = Embedder.load(settings)
    real, _, cached = corpus_vectors(embedder, data.documents(), data.corpus_sha, False)
    log(f"SciFact vectors {'from the cache' if cached else 'embedded'}: {real.shape}")
    queries = list(data.queries.values())[:100]
    qvecs = embedder.encode(queries)
    terms = [tuple(tokenize(d)) for d in data.documents()]
    out = {}
    for n in sizes:
        vectors = real[:n] if n <= len(real) else synthetic(real, n, 0.6)
        records = [ChunkRecord(Chunk(f"{data.doc_ids[i % len(real)]}#{i}", f"d{i}", data.titles[i % len(real)], (),
                                     None, 0, data.texts[i % len(real)]), terms[i % len(real)], 0, 0)
                   for i in range(n)]
        row: dict = {"chunks": n}
        for kind in kinds:
            url = engine.database(f"scale_{n}_{kind}")
            store = PostgresStore(url, settings.with_overrides(index_type=kind))
            lock = store.lock(timeout=10)
            started = time.perf_counter()
            try:
                snapshot = store.publish({"model": settings.model, "dimension": 384, "counts": {}}, None, [], records,
                                         vectors, np.zeros((0, 384), np.float32))
            finally:
                lock.release()
            publish_s = time.perf_counter() - started
            conn = store.conn()
            size = conn.execute(f"SELECT pg_relation_size(indexrelid) FROM pg_index WHERE indrelid = "
                                f"'careerbot.chunks_{snapshot.version_id}'::regclass AND indexrelid::regclass::text "
                                "LIKE '%embedding%'").fetchall()
            dense_t, hybrid_t, tops = [], [], []
            for query, vector in zip(queries, qvecs, strict=False):
                started = time.perf_counter()
                _, ids = snapshot.faiss_index.search(vector.reshape(1, -1), 10)
                dense_t.append(time.perf_counter() - started)
                tops.append(list(ids[0]))
                started = time.perf_counter()
                ranked(snapshot, vector, query, settings, 10, "hybrid")
                hybrid_t.append(time.perf_counter() - started)
            row[kind] = {"publish_s": round(publish_s, 1), "dense_top10": stats(dense_t), "hybrid_top10": stats(hybrid_t),
                         "vector_index_mb": round(size[0][0] / 2**20, 1) if size else 0.0,
                         "ef_search": snapshot.faiss_index.ef_search}
            row[f"_{kind}_tops"] = tops
            if kind == "flat":
                row["keyword_top"] = {}
                for method in ("postings", "gin-bm25", "gin-rank"):
                    keyword = PgKeyword(store, snapshot.keyword.chunks, snapshot.keyword.terms,
                                        snapshot.keyword.size, snapshot.keyword.avgdl, method)
                    times = []
                    for query in queries:
                        started = time.perf_counter()
                        keyword.top(tokenize(query), candidate_count(settings, 10))
                        times.append(time.perf_counter() - started)
                    row["keyword_top"][method] = stats(times)
                    log(f"{n} chunks, keyword {method}: {row['keyword_top'][method]}")
            log(f"{n} chunks, {kind}: {row[kind]}")
        if set(kinds) != {"flat", "hnsw"}:
            out[str(n)] = {k: v for k, v in row.items() if not k.startswith("_")}
            continue
        exact, approx = row.pop("_flat_tops"), row.pop("_hnsw_tops")
        row["hnsw_recall@10"] = round(float(np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=False)])), 3)
        log(f"{n} chunks: recall@10 {row['hnsw_recall@10']}")
        out[str(n)] = row
    return out


# ----- replicas behind nginx ---------------------------------------------------------------------
class FakeModel(BaseHTTPRequestHandler):
    """An OpenAI-compatible chat endpoint that waits LATENCY seconds, then streams a short cited answer."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(LATENCY)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in ("The articles say a research scientist usually holds a Ph.D. [1].", "[DONE]"):
            body = piece if piece == "[DONE]" else json.dumps({"choices": [{"delta": {"content": piece}}]})
            self.wfile.write(f"data: {body}\n\n".encode())
        self.wfile.flush()

    def log_message(self, *args) -> None:
        pass


def bench_replicas(engine: PgEngine, counts: list[int], clients: int = 8, per_client: int = 6) -> dict:
    import httpx

    from careerbot import KnowledgeBase, Settings

    url = engine.database("replicas")
    KnowledgeBase.build(ROOT / "corpus", "unused", Settings(progress="off", store=url))
    model = ThreadingHTTPServer(("127.0.0.1", free_port()), FakeModel)
    threading.Thread(target=model.serve_forever, daemon=True).start()
    work = Path(tempfile.mkdtemp(prefix="careerbot-bench-", dir="/tmp"))
    work.chmod(0o777)
    env = {**os.environ, "CAREERBOT_PROGRESS": "off", "CAREERBOT_THREADS": "1", "CAREERBOT_STORE_POLL": "1",
           "PYTHONPATH": str(ROOT / "src")}
    ports = [free_port() for _ in range(max(counts))]
    replicas = []
    for i, port in enumerate(ports):
        with open(work / f"replica{i}.log", "w") as out:
            replicas.append(subprocess.Popen(
                [sys.executable, "-m", "careerbot.cli", "serve", "--store", url, "--corpus", str(ROOT / "corpus"),
                 "--port", str(port), "--llm", f"openai:http://127.0.0.1:{model.server_address[1]}/v1#fake"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))
    results: dict = {"latency_s": LATENCY, "clients": clients, "questions_per_client": per_client}
    try:
        for i, proc in enumerate(replicas):
            deadline = time.monotonic() + 600
            while "Running on local URL" not in (work / f"replica{i}.log").read_text():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((work / f"replica{i}.log").read_text()[-2000:])
                time.sleep(0.5)
        log(f"{len(replicas)} replicas up")
        for count in counts:
            results[str(count)] = _load(work, ports[:count], clients, per_client, httpx)
            log(f"{count} replica(s): {results[str(count)]}")
        results["connections_per_replica"] = _connections(url, len(replicas))
    finally:
        for proc in replicas:
            proc.send_signal(signal.SIGTERM)
        for proc in replicas:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        model.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    return results


def _connections(url: str, replicas: int) -> float:
    import psycopg

    with psycopg.connect(url) as conn:
        n = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                         "AND pid <> pg_backend_pid()").fetchone()[0]
    return round(n / replicas, 1)


def _load(work: Path, ports: list[int], clients: int, per_client: int, httpx) -> dict:
    """nginx over these replicas, sticky by a client header (every client here is 127.0.0.1, so ip_hash
    would send them all to one replica); `clients` threads asking `per_client` questions each."""
    prefix = work / f"nginx{len(ports)}"
    for sub in ("logs", "tmp"):
        (prefix / sub).mkdir(parents=True)
    for path in (prefix, prefix / "tmp"):
        path.chmod(0o777)
    listen = free_port()
    text = (ROOT / "deploy" / "nginx.conf").read_text().replace("ip_hash;", "hash $http_x_client consistent;")
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in ports)
    text = re.sub(r"(        server 127\.0\.0\.1:\d+ [^\n]*\n)+", servers + "\n", text)
    (prefix / "nginx.conf").write_text(text.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{listen};"))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proxy = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e",
                              str(prefix / "logs" / "error.log"), "-g", "daemon off;"])
    time.sleep(1.0)
    base = f"http://127.0.0.1:{listen}/gradio_api/call/chat"
    questions = ["Do I need a PhD to become a research scientist?", "What does a data scientist do day to day?",
                 "Which tools does a lead ML engineer use?"]
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client(cid: int) -> None:
        with httpx.Client(headers={"X-Client": f"client-{cid}"}, timeout=120) as http:
            for j in range(per_client):
                started = time.perf_counter()
                try:
                    event = http.post(base, json={"data": [questions[(cid + j) % len(questions)], []]}).json()["event_id"]
                    body = http.get(f"{base}/{event}").text
                    ok = "event: complete" in body
                except (httpx.HTTPError, KeyError, ValueError):
                    ok = False
                with lock:
                    if ok:
                        times.append(time.perf_counter() - started)
                    else:
                        errors[0] += 1

    try:
        client(99)  # warm-up
        times.clear()
        errors[0] = 0
        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
    finally:
        proxy.send_signal(signal.SIGQUIT)
        proxy.wait(timeout=20)
    used = set(re.findall(r"upstream=127\.0\.0\.1:(\d+)", (prefix / "logs" / "access.log").read_text()))
    return {"answers": len(times), "errors": errors[0], "wall_s": round(wall, 1),
            "answers_per_s": round(len(times) / wall, 2), **stats(times), "replicas_used": len(used)}


# ----- Ray ---------------------------------------------------------------------------------------
def bench_ray(workers: list[int], chunks: int = 600) -> dict:
    import ray
    from generate import write_corpus

    from careerbot.chunk import Chunker, chunk_article, split_units
    from careerbot.index.embed import Embedder
    from careerbot.index.ray_embed import embed_on_ray
    from careerbot.ingest import parse_file
    from careerbot.settings import Settings

    settings = Settings(progress="off")
    embedder = Embedder.load(settings)
    work = Path(tempfile.mkdtemp(prefix="careerbot-ray-"))
    chunker = Chunker.from_settings(settings, fits=embedder.fits)
    items, i = [], 0
    while len(items) < chunks:
        path = write_corpus(work, 1, "short", start=i)[0]
        items.extend(chunk_article(parse_file(path, work), chunker))
        i += 1
    items = items[:chunks]
    texts, passages = [c.embed_text for c in items], [c.text for c in items]
    units = [split_units(c.text) for c in items]
    out: dict = {"chunks": chunks}
    started = time.perf_counter()
    embedder.encode_with_spans(texts, passages, units)
    out["local_rows_per_s"] = round(chunks / (time.perf_counter() - started), 1)
    # Ray's workers import careerbot too: this checkout's, as the driver does (sys.path above).
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             configure_logging=False)
    try:
        for n in workers:
            started = time.perf_counter()
            embed_on_ray(texts, passages, units, settings.with_overrides(ray="auto", ray_workers=n), 384,
                         lambda f, m: None)
            out[f"ray_{n}_rows_per_s"] = round(chunks / (time.perf_counter() - started), 1)
            log(f"Ray, {n} actor(s): {out[f'ray_{n}_rows_per_s']} rows/s (actor start-up and model load included)")
    finally:
        ray.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="scale,replicas,ray")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--kinds", default="flat,hnsw", help="vector indexes to build per size (scale)")
    args = parser.parse_args()
    only = set(args.only.split(","))
    path = BENCH / "results-pg.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results["machine"] = {"cpus": os.cpu_count(), "note": "2 cores shared with other work; figures are ratios of one run"}

    def save(section: str, value: dict) -> None:  # after each section: a later failure keeps what was measured
        results[section] = value
        path.write_text(json.dumps(results, indent=2) + "\n")
        print(json.dumps({section: value}, indent=2))

    if only & {"scale", "replicas"}:
        engine = PgEngine.start()
        try:
            if "scale" in only:
                scale = bench_scale(engine, [int(s) for s in args.sizes.split(",")], tuple(args.kinds.split(",")))
                # A run of some sizes or kinds updates those figures and keeps the others.
                kept = results.get("scale", {})
                save("scale", {**kept, **{n: {**kept.get(n, {}), **row} for n, row in scale.items()}})
            if "replicas" in only:
                save("replicas", bench_replicas(engine, [1, 2, 4]))
        finally:
            engine.stop()
    if "ray" in only:
        save("ray", bench_ray([1, 2]))


if __name__ == "__main__":
    main()
