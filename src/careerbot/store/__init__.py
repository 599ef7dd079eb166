"""Where an index lives: the local folder (the default) or a PostgreSQL database with pgvector.

Both stores keep versions that are published atomically and hand out immutable snapshots (index.Snapshot,
or its PostgreSQL subclass); KnowledgeBase does the reading, chunking and embedding and asks the store
only to lock, load and publish. Usage: store = open_store(settings); snapshot = store.load()
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..errors import InvalidArgument
from ..index.ray_embed import Staging
from ..index.versions import ChunkRecord, Snapshot

__all__ = ["Lock", "Staging", "Store", "is_database_url", "open_store"]


class Lock(Protocol):
    def release(self) -> None: ...


class Store(Protocol):
    """What KnowledgeBase needs from a place that keeps index versions."""

    shared: bool  # other processes may publish versions (replicas poll for them)

    @property
    def location(self) -> str:
        """Where the index is, for people (a folder, or a database URL without its password)."""
        ...

    def describe(self, snapshot: Snapshot) -> str:
        """Where a loaded version is, for `index info`."""
        ...

    def load(self) -> Snapshot:
        """The live version. Raises IndexNotFound, StaleIndex or CorruptIndex."""
        ...

    def live_version(self) -> str:
        """A cheap identifier of the live version (what replicas poll)."""
        ...

    def version_of(self, snapshot: Snapshot) -> str:
        """The identifier `live_version` gives while `snapshot` is live."""
        ...

    def lock(self, timeout: float) -> Lock:
        """The writers' lock. Raises IndexLocked when another writer holds it."""
        ...

    def latest(self, reuse: Snapshot) -> Snapshot:
        """`reuse`, or the live version when another writer has published since (writers' lock held)."""
        ...

    def staging(self, model: Mapping[str, Any]) -> Staging | None:
        """Where a build can write its vectors batch by batch as they are embedded, for the model that
        `model` (manifest fields: model, dimension, max_tokens, sentence_vectors) names; None when the store
        keeps none (the folder: a build's vectors are written with its version). Writers' lock held."""
        ...

    def publish(self, manifest: dict[str, Any], reuse: Snapshot | None, kept: list[ChunkRecord],
                records: list[ChunkRecord], new_vectors: np.ndarray | None,
                new_unit_vectors: np.ndarray | None) -> Snapshot:
        """Write a complete version and make it live atomically (writers' lock held).

        `records` are the kept records (in `kept`'s order, each with its new unit_start) followed by new
        ones; `new_vectors` / `new_unit_vectors` are the vectors of the new records and of their units, or
        None when they were written to the store's staging (by content key). Kept records keep the vectors
        they have in `reuse`."""
        ...


def is_database_url(value: str) -> bool:
    return value.startswith(("postgresql://", "postgres://"))


def open_store(settings, index_dir: str | Path | None = None) -> Store:
    """The store the settings name: `settings.store` (a postgresql:// URL), else the index folder.

    Usage: open_store(Settings(store="postgresql://careerbot@127.0.0.1:5432/careerbot"))"""
    if settings.store:
        if not is_database_url(settings.store):
            raise InvalidArgument(f"--store takes a postgresql://USER@HOST:PORT/DATABASE URL, not "
                                  f"{settings.store!r}; leave it out to use the index folder")
        from .postgres import PostgresStore

        return PostgresStore(settings.store, settings)
    from .folder import FolderStore

    return FolderStore(Path(index_dir if index_dir is not None else settings.index_dir), settings)
