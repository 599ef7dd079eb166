"""Embedding on a Ray cluster: the chunks of a build go through Ray Data `map_batches` to actors that each
load the model once and run careerbot's own encoder (Embedder.encode_with_spans or encode), so the vectors
are the ones a local build makes. Optional extra: careerbot[ray].

`settings.ray` is "local" (start a one-machine Ray for this build, bound to 127.0.0.1, and shut it down
after), an address of a running cluster ("HOST:PORT" or "ray://HOST:PORT"), or "auto" (use the Ray this
process already initialised). Into a store with staging (PostgreSQL) each batch is written as it is embedded,
keyed by content and model, so a re-run or a resumed run embeds only what the store does not hold yet.
Usage: embedding = embed_on_ray(texts, passages, units, settings, dim, notify, store.staging(manifest))
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import InvalidArgument, ModelUnavailable

ProgressFn = Callable[[float, str], None]


class EncodeBatch:
    """A Ray Data actor: the model loaded once, then one encoder pass per batch of chunks."""

    def __init__(self, settings_json: str) -> None:
        from ..settings import Settings
        from .embed import Embedder

        self.settings = Settings(**json.loads(settings_json))
        self.embedder = Embedder.load(self.settings)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        embed_texts = [str(t) for t in batch["embed_text"]]
        passages = [str(t) for t in batch["text"]]
        units = [json.loads(str(u)) for u in batch["units"]]
        if self.settings.sentence_vectors == "late":
            vectors, unit_vectors = self.embedder.encode_with_spans(embed_texts, passages, units)
        else:
            vectors = self.embedder.encode(embed_texts)
            flat = [u for chunk in units for u in chunk]
            unit_vectors = self.embedder.encode(flat) if flat else np.zeros((0, vectors.shape[1]), np.float32)
        unit_vectors = np.asarray(unit_vectors, np.float32)
        dim = vectors.shape[1]
        blocks, start = [], 0
        for chunk in units:
            blocks.append(unit_vectors[start:start + len(chunk)].reshape(-1, dim).tobytes())
            start += len(chunk)
        return {"row": np.asarray(batch["row"]), "vector": np.asarray(vectors, np.float32),
                "units": np.array(blocks, dtype=object)}


class Staging(Protocol):
    """Where a build writes its vectors batch by batch (the PostgreSQL store's staged table), so that a build
    that dies loses only the batches in flight and the next one embeds only what is missing."""

    def key(self, embed_text: str, text: str, units: list[str]) -> str:
        """The content key of a chunk: a hash of what its vectors are computed from."""
        ...

    def held(self, keys: list[str]) -> set[str]:
        """Those of `keys` whose vectors the store holds already (staged, or in the live version)."""
        ...

    def write(self, keys: list[str], vectors: np.ndarray, unit_blocks: list[bytes]) -> None:
        """One embedded batch, committed."""
        ...


@dataclass(frozen=True)
class RayEmbedding:
    """What a Ray build embedded: the vectors (None when they went to the store's staging) and how many
    chunks were encoded in this run."""

    vectors: np.ndarray | None
    unit_vectors: np.ndarray | None
    embedded: int


def embed_on_ray(embed_texts: list[str], passages: list[str], units: list[list[str]], settings, dim: int,
                 notify: ProgressFn, staging: Staging | None = None) -> RayEmbedding:
    """The chunks' vectors computed by `settings.ray_workers` actors. With `staging`, each batch is written
    there as it arrives and chunks whose content key it already holds are not embedded again; without, the
    vectors (chunk vectors, unit vectors in chunk order) are gathered here and returned."""
    try:
        import ray
    except ImportError as exc:
        raise ModelUnavailable("--ray needs Ray: pip install 'careerbot[ray]'") from exc
    total = len(embed_texts)
    keys: list[str] = []
    todo = list(range(total))
    if staging is not None and total:
        keys = [staging.key(e, p, u) for e, p, u in zip(embed_texts, passages, units, strict=True)]
        held = staging.held(keys)
        first: dict[str, int] = {}  # one encoder pass per distinct content
        for i, key in enumerate(keys):
            if key not in held:
                first.setdefault(key, i)
        todo = sorted(first.values())
        notify(0.1, f"{total - len(todo)} of {total} chunk(s) already embedded in the store; "
                    f"{len(todo)} to embed on Ray")
    vectors = np.zeros((total if staging is None else 0, dim), np.float32)
    blocks: list[bytes] = [b""] * (total if staging is None else 0)
    if todo:
        started_here = _connect(ray, settings.ray)
        try:
            dataset = ray.data.from_items([{"row": i, "embed_text": embed_texts[i], "text": passages[i],
                                            "units": json.dumps(units[i])} for i in todo])
            worker_settings = json.dumps({**_plain(settings), "threads": 1, "progress": "off", "ray": ""})
            mapped = dataset.map_batches(EncodeBatch, fn_constructor_kwargs={"settings_json": worker_settings},
                                         batch_size=settings.batch_size * 4, batch_format="numpy",
                                         concurrency=max(1, settings.ray_workers), num_cpus=1)
            batches = mapped.iter_batches(batch_format="numpy", batch_size=None)
            try:
                done = 0
                for batch in batches:
                    rows = np.asarray(batch["row"], dtype=np.int64)
                    batch_vectors = np.asarray(batch["vector"], np.float32).reshape(len(rows), dim)
                    batch_blocks = [bytes(b) for b in batch["units"]]
                    if staging is not None:  # committed before the next batch is taken
                        staging.write([keys[int(r)] for r in rows], batch_vectors, batch_blocks)
                    else:
                        vectors[rows] = batch_vectors
                        for row, block in zip(rows, batch_blocks, strict=True):
                            blocks[int(row)] = block
                    done += len(rows)
                    where = ", written to the store" if staging is not None else ""
                    notify(0.1 + 0.8 * done / len(todo), f"embedded {done} of {len(todo)} chunk(s) on Ray{where}")
            finally:
                # Closed even when a write or the progress callback raises, so Ray stops this build's actors
                # (they hold the cluster's CPUs) before the caller goes on.
                close = getattr(batches, "close", None)
                if close is not None:
                    close()
        finally:
            if started_here:
                ray.shutdown()
    if staging is not None:
        return RayEmbedding(None, None, len(todo))
    unit_vectors = np.frombuffer(b"".join(blocks), dtype=np.float32).reshape(-1, dim)
    return RayEmbedding(vectors, unit_vectors, len(todo))


def _connect(ray, address: str) -> bool:
    """Join or start Ray; True when this call started it (and so must shut it down)."""
    if address == "auto":
        if not ray.is_initialized():
            raise InvalidArgument("--ray auto needs Ray initialised in this process; pass an address or 'local'")
        return False
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    if address == "local":
        # Pinned to loopback: otherwise Ray advertises another interface and its workers may never connect.
        ray.init(num_cpus=max(1, os.cpu_count() or 1), include_dashboard=False, _node_ip_address="127.0.0.1",
                 log_to_driver=False, configure_logging=False)
    else:
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    return True


def _plain(settings) -> dict:
    return settings.model_dump()
