"""Index store: an inspectable, versioned directory swapped in atomically.

    index/
      CURRENT               name of the live version (replaced atomically with os.replace)
      .lock                 writers hold it; readers never wait
      v-<time>-<id>/        one complete version
        manifest.json       format, model, dimension, chunker settings, per-file hashes, counts, checksums
        vectors.faiss       FAISS inner-product index over normalized chunk vectors
        chunks.jsonl        chunk store, line i = FAISS id i (text, metadata, keyword tokens)
        units.npy           sentence/list-item vectors for extractive answers
        keyword/            bm25s index

A version is written under a temporary name, fsynced, renamed, and only then named by CURRENT, so a
crash at any point leaves the previous version live. Usage: snapshot = read_index(Path("index"))
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CorruptIndex, IndexLocked, IndexNotFound, StaleIndex
from .files import sha256_file
from .lexical import KeywordIndex
from .records import Chunk

# 2: a chunk's section is its heading path, a JSON list (was one 'A › B' string).
FORMAT_VERSION = 2
ARTIFACTS = ("vectors.faiss", "chunks.jsonl", "units.npy")
REBUILD_HINT = "rebuild it with: careerbot index build"


@dataclass(frozen=True)
class ChunkRecord:
    """A chunk as stored: the chunk, its keyword tokens and where its unit vectors start."""

    chunk: Chunk
    terms: tuple[str, ...]
    unit_start: int
    unit_count: int


@dataclass
class Snapshot:
    """One loaded, consistent version of the index. Never mutated after loading."""

    path: Path
    manifest: dict[str, Any]
    faiss_index: Any
    records: list[ChunkRecord]
    unit_vectors: np.ndarray
    keyword: KeywordIndex
    by_id: dict[str, int] = field(default_factory=dict)
    # Chunk id → article, built once here: rebuilding it per query cost 15 ms at 100k chunks and 68 ms at 1M
    # (benchmarks/README.md), more than the FAISS and BM25 searches together.
    sources: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_id = {r.chunk.chunk_id: i for i, r in enumerate(self.records)}
        self.sources = [r.chunk.source for r in self.records]

    def units_of(self, record: ChunkRecord) -> np.ndarray:
        """The vectors of a chunk's sentences/list items (extractive answers score them)."""
        return self.unit_vectors[record.unit_start:record.unit_start + record.unit_count]


def make_faiss_index(vectors: np.ndarray, index_type: str, exact_threshold: int, hnsw_m: int,
                     ef_construction: int, ef_search: int):
    """Exact inner product below the threshold, HNSW above it (both over normalized vectors)."""
    import faiss

    dim = vectors.shape[1] if vectors.ndim == 2 else 0
    use_hnsw = index_type == "hnsw" or (index_type == "auto" and len(vectors) >= exact_threshold)
    index: faiss.Index
    if use_hnsw:
        index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.hnsw.efSearch = ef_search_for(len(vectors), ef_search)
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def ef_search_for(size: int, configured: int) -> int:
    """HNSW search breadth for an index of `size` vectors: the configured value, widened for very large
    indexes (size / 500), where neighbourhoods are crowded and a fixed breadth loses recall
    (1M chunks: recall@10 0.79 at 256, 0.985 at 2,048). Usage: ef_search_for(1_000_000, 256) == 2000"""
    return int(min(max(configured, size // 500), 4096))


def all_vectors(faiss_index) -> np.ndarray:
    """Every stored vector, in id order (used to carry unchanged chunks into an update)."""
    if faiss_index.ntotal == 0:
        return np.zeros((0, faiss_index.d), dtype=np.float32)
    return faiss_index.reconstruct_n(0, faiss_index.ntotal)


def acquire_lock(index_dir: Path, timeout: float = 0.0):
    """The writers' lock. Raises IndexLocked when another build or update holds it."""
    from filelock import FileLock, Timeout

    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / ".lock"))
    try:
        lock.acquire(timeout=timeout)
    except Timeout as exc:
        raise IndexLocked(f"another careerbot process is updating {index_dir}; wait for it to finish "
                          "and try again") from exc
    return lock


def write_index(index_dir: Path, manifest: dict[str, Any], faiss_index, records: list[ChunkRecord],
                unit_vectors: np.ndarray, keyword: KeywordIndex, stored: Snapshot | None = None) -> Path:
    """Write a complete new version and make it live atomically. Call with the writers' lock held.

    When `records` begin with every record of the `stored` version, unchanged and in order (an update
    that only adds articles), its chunk store is copied as bytes and only the new records are serialized.
    """
    import faiss

    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"v-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    tmp = index_dir / f".tmp-{name}"
    tmp.mkdir()
    faiss.write_index(faiss_index, str(tmp / "vectors.faiss"))
    start = 0
    if stored is not None and records[:len(stored.records)] == stored.records:
        shutil.copyfile(stored.path / "chunks.jsonl", tmp / "chunks.jsonl")
        start = len(stored.records)
    with open(tmp / "chunks.jsonl", "a" if start else "w", encoding="utf-8") as out:
        for record in records[start:]:
            out.write(json.dumps(_record_to_json(record), ensure_ascii=False) + "\n")
    np.save(tmp / "units.npy", np.ascontiguousarray(unit_vectors, dtype=np.float32))
    keyword.save(tmp / "keyword")
    files = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
    manifest = dict(manifest, format_version=FORMAT_VERSION,
                    checksums={f: sha256_file(tmp / f) for f in files},
                    sizes={f: (tmp / f).stat().st_size for f in files})
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    _fsync_tree(tmp)
    final = index_dir / name
    os.rename(tmp, final)
    pointer = index_dir / f".CURRENT.{secrets.token_hex(3)}"
    pointer.write_text(name + "\n", encoding="utf-8")
    _fsync_file(pointer)
    os.replace(pointer, index_dir / "CURRENT")  # the single atomic step that publishes the version
    _fsync_dir(index_dir)
    prune_versions(index_dir, keep=name)
    return final


def prune_versions(index_dir: Path, keep: str) -> None:
    """Remove old versions and leftovers of interrupted writes (writers' lock held)."""
    for entry in index_dir.iterdir():
        if entry.name == keep or not entry.is_dir() and not entry.name.startswith(".CURRENT."):
            continue
        if entry.name.startswith(("v-", ".tmp-")):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(".CURRENT."):
            entry.unlink(missing_ok=True)


def current_version(index_dir: Path) -> Path:
    """The live version directory. Raises IndexNotFound with the command that creates one."""
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        raise IndexNotFound(f"no index at {index_dir}; build one with: careerbot index build "
                            f"--index {index_dir}")
    try:
        version = index_dir / pointer.read_text(encoding="utf-8").strip()
    except (OSError, ValueError) as exc:  # unreadable or not text (UnicodeDecodeError is a ValueError)
        raise CorruptIndex(f"{pointer} is unreadable; {REBUILD_HINT}") from exc
    if not version.is_dir() or version.parent != index_dir:
        raise CorruptIndex(f"{pointer} names a version that does not exist; {REBUILD_HINT}")
    return version


def read_manifest(version: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CorruptIndex(f"{version / 'manifest.json'} is missing or unreadable; {REBUILD_HINT}") from exc
    if not isinstance(manifest, dict) or not all(isinstance(manifest.get(key, {}), dict) for key in
                                                 ("sizes", "checksums", "counts", "files", "skipped", "chunker")):
        raise CorruptIndex(f"{version / 'manifest.json'} is not a manifest; {REBUILD_HINT}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise StaleIndex(f"the index at {version.parent} uses format {manifest.get('format_version')}, this "
                         f"careerbot reads format {FORMAT_VERSION}; {REBUILD_HINT}")
    return manifest


def check_compatible(manifest: dict[str, Any], settings) -> None:
    """Refuse an index built with another model or other chunker settings."""
    if manifest.get("model") != settings.model:
        raise StaleIndex(f"the index was built with model {manifest.get('model')!r} but the settings ask for "
                         f"{settings.model!r}; {REBUILD_HINT}")
    built_with = manifest.get("sentence_vectors", "standalone")  # indexes before the setting: standalone
    if built_with != settings.sentence_vectors:
        raise StaleIndex(f"the index's sentence vectors are {built_with!r} but the settings ask for "
                         f"{settings.sentence_vectors!r}; {REBUILD_HINT}")
    if manifest.get("chunker") != settings.chunker_fingerprint():
        raise StaleIndex(f"the index was built with chunker settings {manifest.get('chunker')} but the "
                         f"settings ask for {settings.chunker_fingerprint()}; {REBUILD_HINT}")


def read_index(index_dir: Path, verify: bool = True) -> Snapshot:
    """Load the live version, checking every artifact against the manifest before trusting it."""
    version = current_version(index_dir)
    for _ in range(4):
        try:
            return read_version(version, verify)
        except CorruptIndex:
            # A writer may have published a newer version and pruned this one while we read it;
            # the index is only corrupt if the version that fails to read is still the live one.
            latest = current_version(index_dir)
            if latest == version:
                raise
            version = latest
    return read_version(version, verify)


def read_version(version: Path, verify: bool = True) -> Snapshot:
    """Load one version directory; raises CorruptIndex unless its files agree with the manifest."""
    import faiss

    manifest = read_manifest(version)
    sizes = manifest.get("sizes") or {}
    if not set(ARTIFACTS) <= set(sizes):
        raise CorruptIndex(f"the manifest of {version} does not list every index file; {REBUILD_HINT}")
    for artifact in sizes:
        path = version / artifact
        try:
            size = path.stat().st_size
            same = not verify or sha256_file(path) == manifest.get("checksums", {}).get(artifact)
        except OSError as exc:  # missing, or pruned by a writer while we read (read_index retries then)
            raise CorruptIndex(f"{path} is missing or unreadable ({exc.strerror}); {REBUILD_HINT}") from exc
        if size != sizes[artifact]:
            raise CorruptIndex(f"{path} has the wrong size (truncated or replaced); {REBUILD_HINT}")
        if not same:
            raise CorruptIndex(f"{path} does not match its checksum (corrupted); {REBUILD_HINT}")
    try:
        faiss_index = faiss.read_index(str(version / "vectors.faiss"))
        records = [_record_from_json(json.loads(line))
                   # split on "\n" only: passages may hold U+2028 or \x85, which splitlines() breaks on
                   for line in (version / "chunks.jsonl").read_text(encoding="utf-8").split("\n") if line]
        unit_vectors = np.load(version / "units.npy", allow_pickle=False)
        keyword = KeywordIndex.load(version / "keyword", len(records))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise CorruptIndex(f"the index at {version} cannot be read ({exc}); {REBUILD_HINT}") from exc
    counts = manifest.get("counts", {})
    expected_units = sum(r.unit_count for r in records)
    if not (faiss_index.ntotal == len(records) == counts.get("chunks") == _documents(keyword)
            and len(unit_vectors) == expected_units == counts.get("units")
            and faiss_index.d == manifest.get("dimension")
            and unit_vectors.ndim == 2 and unit_vectors.shape[1] == faiss_index.d
            and _units_in_order(records)):
        raise CorruptIndex(f"the files of {version} disagree with each other or with the manifest; "
                           f"{REBUILD_HINT}")
    if hasattr(faiss_index, "hnsw"):
        faiss_index.hnsw.efSearch = ef_search_for(faiss_index.ntotal, int(manifest.get("hnsw_ef_search", 256)))
    return Snapshot(version, manifest, faiss_index, records, unit_vectors, keyword)


def _documents(keyword: KeywordIndex) -> int:
    """How many documents the BM25 matrix was built over (a keyword index from another version differs)."""
    scores = getattr(keyword.retriever, "scores", None)
    return int(scores.get("num_docs", -1)) if isinstance(scores, dict) else -1


def _units_in_order(records: list[ChunkRecord]) -> bool:
    """Each chunk's sentence vectors follow the previous chunk's: a reordered chunk store breaks this."""
    start = 0
    for record in records:
        if record.unit_start != start or record.unit_count < 0:
            return False
        start += record.unit_count
    return len({r.chunk.chunk_id for r in records}) == len(records)


def _record_to_json(record: ChunkRecord) -> dict[str, Any]:
    c = record.chunk
    return {"id": c.chunk_id, "source": c.source, "title": c.title, "section": list(c.section), "date": c.date,
            "position": c.position, "text": c.text, "terms": list(record.terms),
            "unit_start": record.unit_start, "unit_count": record.unit_count}


def _record_from_json(data: dict[str, Any]) -> ChunkRecord:
    chunk = Chunk(data["id"], data["source"], data["title"], tuple(data["section"]), data["date"],
                  int(data["position"]), data["text"])
    return ChunkRecord(chunk, tuple(data["terms"]), int(data["unit_start"]), int(data["unit_count"]))


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        _fsync_file(path)
    except OSError:  # some filesystems cannot fsync a directory; the rename is still atomic
        pass


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*"), reverse=True):
        (_fsync_file if path.is_file() else _fsync_dir)(path)
    _fsync_dir(root)
