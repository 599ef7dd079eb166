"""The local folder store (the default): FAISS + bm25s in versioned directories (careerbot.index).

Usage: store = FolderStore(Path("index"), settings); snapshot = store.load()
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from .. import index as folder
from ..index import ChunkRecord, Snapshot
from ..lexical import KeywordIndex

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
        return folder.read_index(self.index_dir)

    def live_version(self) -> str:
        return folder.current_version(self.index_dir).name

    def version_of(self, snapshot: Snapshot) -> str:
        return Path(snapshot.path).name

    def lock(self, timeout: float):
        return folder.acquire_lock(self.index_dir, timeout=timeout)

    def latest(self, reuse: Snapshot) -> Snapshot:
        if folder.current_version(self.index_dir) != reuse.path:
            return folder.read_index(self.index_dir)
        return reuse

    def publish(self, manifest: dict[str, Any], reuse: Snapshot | None, kept: list[ChunkRecord],
                records: list[ChunkRecord], new_vectors: np.ndarray, new_unit_vectors: np.ndarray) -> Snapshot:
        settings = self.settings
        dim = int(manifest["dimension"])
        vectors, units = _gathered(reuse, kept, new_vectors, new_unit_vectors, dim)
        faiss_index = folder.make_faiss_index(vectors, settings.index_type, settings.exact_threshold,
                                              settings.hnsw_m, settings.hnsw_ef_construction, settings.hnsw_ef_search)
        keyword = _keyword_index(reuse, kept, records)
        manifest = dict(manifest, index_type="hnsw" if hasattr(faiss_index, "hnsw") else "flat",
                        keyword={"library": "bm25s", "k1": keyword.retriever.k1, "b": keyword.retriever.b})
        version = folder.write_index(self.index_dir, manifest, faiss_index, records, units, keyword, reuse)
        # What was just written is what is in memory: adopt it rather than reading it back.
        return Snapshot(version, folder.read_manifest(version), faiss_index, records, units, keyword)


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


def _keyword_index(reuse, kept_records, records) -> KeywordIndex:
    """BM25 over `records` (kept ones first): derived from the live index's stored term counts when it has
    them, so only new chunks are counted; otherwise counted from every record's stored terms."""
    if reuse is not None:
        try:
            return reuse.keyword.extended([reuse.by_id[r.chunk.chunk_id] for r in kept_records],
                                          [list(r.terms) for r in records[len(kept_records):]])
        except (OSError, ValueError, KeyError, IndexError) as exc:  # e.g. an index written before counts were kept
            log.info("recounting keyword terms (%s)", exc)
    return KeywordIndex.build([list(r.terms) for r in records])
