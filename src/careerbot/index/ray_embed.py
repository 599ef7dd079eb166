"""Embedding on a Ray cluster: the chunks of a build go through Ray Data `map_batches` to actors that each
load the model once and run careerbot's own encoder (Embedder.encode_with_spans or encode), so the vectors
are the ones a local build makes. Optional extra: careerbot[ray].

`settings.ray` is "local" (start a one-machine Ray for this build, bound to 127.0.0.1, and shut it down
after), an address of a running cluster ("HOST:PORT" or "ray://HOST:PORT"), or "auto" (use the Ray this
process already initialised). Usage: vectors, units = embed_on_ray(texts, passages, units, settings, notify)
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable

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


def embed_on_ray(embed_texts: list[str], passages: list[str], units: list[list[str]], settings, dim: int,
                 notify: ProgressFn) -> tuple[np.ndarray, np.ndarray]:
    """(chunk vectors, unit vectors in chunk order), computed by `settings.ray_workers` actors."""
    try:
        import ray
    except ImportError as exc:
        raise ModelUnavailable("--ray needs Ray: pip install 'careerbot[ray]'") from exc
    if not embed_texts:
        return np.zeros((0, dim), np.float32), np.zeros((0, dim), np.float32)
    started_here = _connect(ray, settings.ray)
    try:
        dataset = ray.data.from_items([{"row": i, "embed_text": e, "text": p, "units": json.dumps(u)}
                                       for i, (e, p, u) in enumerate(zip(embed_texts, passages, units, strict=False))])
        worker_settings = json.dumps({**_plain(settings), "threads": 1, "progress": "off", "ray": ""})
        mapped = dataset.map_batches(EncodeBatch, fn_constructor_kwargs={"settings_json": worker_settings},
                                     batch_size=settings.batch_size * 4, batch_format="numpy",
                                     concurrency=max(1, settings.ray_workers), num_cpus=1)
        vectors = np.zeros((len(embed_texts), dim), np.float32)
        blocks: list[bytes] = [b""] * len(embed_texts)
        done = 0
        for batch in mapped.iter_batches(batch_format="numpy", batch_size=None):
            rows = np.asarray(batch["row"], dtype=np.int64)
            vectors[rows] = np.asarray(batch["vector"], np.float32).reshape(len(rows), dim)
            for row, block in zip(rows, batch["units"], strict=False):
                blocks[int(row)] = bytes(block)
            done += len(rows)
            notify(0.1 + 0.8 * done / len(embed_texts), f"embedded {done} of {len(embed_texts)} chunk(s) on Ray")
    finally:
        if started_here:
            ray.shutdown()
    unit_vectors = np.frombuffer(b"".join(blocks), dtype=np.float32).reshape(-1, dim)
    return vectors, unit_vectors


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
