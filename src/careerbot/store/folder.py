"""The local folder store (the default): FAISS + bm25s in versioned directories (careerbot.index.versions).

Usage: store = FolderStore(Path("index"), settings); snapshot = store.load()
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from ..index import versions as folder
from ..index.versions import ChunkRecord, Index, Snapshot

log = logging.getLogger("careerbot")


class FolderStore:
    """An index directory: CURRENT names the live version; writers hold a file lock."""

    shared = False

    def __init__(self, index_dir: Path, settings) -> None:
        self.index_dir = index_dir
        self.settings = settings

    @property
    def location(self) -> str:
        return str(self.index_dir)

    def describe(self, snapshot: Snapshot) -> str:
        return str(snapshot.path)

    def load(self) -> Snapshot:
        return folder.read_index(self.index_dir, settings=self.settings)

    def live_version(self) -> str:
        return folder.current_version(self.index_dir).name

    def version_of(self, snapshot: Snapshot) -> str:
        return Path(snapshot.path).name

    def lock(self, timeout: float):
        return folder.acquire_lock(self.index_dir, timeout=timeout)

    def latest(self, reuse: Snapshot) -> Snapshot:
        if folder.current_version(self.index_dir) != reuse.path:
            return folder.read_index(self.index_dir, settings=self.settings)
        return reuse

    def staging(self, model) -> None:
        return None  # a build's vectors are written with its version

    def publish(self, manifest: dict[str, Any], reuse: Snapshot | None, kept: list[ChunkRecord],
                records: list[ChunkRecord], new_vectors: np.ndarray | None,
                new_unit_vectors: np.ndarray | None) -> Snapshot:
        if new_vectors is None or new_unit_vectors is None:
            raise RuntimeError("the folder store keeps no staged vectors")  # a caller's bug
        dim = int(manifest["dimension"])
        vectors, units = _gathered(reuse, kept, new_vectors, new_unit_vectors, dim)
        index = Index(self.settings).of_records(records, vectors, units)  # BM25 from the records' stored terms
        manifest = dict(manifest, index_type="hnsw" if hasattr(index.faiss_index, "hnsw") else "flat",
                        keyword={"library": "bm25s", "k1": index.keyword.k1, "b": index.keyword.b})
        version = folder.write_index(self.index_dir, manifest, index, reuse)
        # What was just written is what is in memory: adopt it rather than reading it back.
        return Snapshot.of(index, version, folder.read_manifest(version))


def _gathered(reuse: Snapshot | None, kept: list[ChunkRecord], new_vectors: np.ndarray,
              new_unit_vectors: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The new version's chunk and unit matrices: the kept records' rows taken from the live version with
    one gather per matrix, then the new rows."""
    empty = np.zeros((0, dim), np.float32)
    if reuse is None or not kept:
        old_vectors, old_units = empty, empty
    else:
        old_vectors = folder.all_vectors(reuse.faiss_index)[[reuse.by_id[r.chunk.chunk_id] for r in kept]]
        old_units = reuse.unit_vectors[np.concatenate([np.arange(r.unit_start, r.unit_start + r.unit_count)
                                                       for r in kept])]
    matrix = np.vstack([old_vectors, np.asarray(new_vectors, np.float32).reshape(-1, dim)])
    unit_matrix = np.vstack([old_units, np.asarray(new_unit_vectors, np.float32).reshape(-1, dim)])
    return matrix.astype(np.float32, copy=False), unit_matrix.astype(np.float32, copy=False)

