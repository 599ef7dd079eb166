"""The index: chunk records, their FAISS vectors and BM25 in memory (`Index`), and the inspectable,
versioned directory that persists it, swapped in atomically.

    index/
      CURRENT               name of the live version (replaced atomically with os.replace)
      .lock                 writers hold it; readers never wait
      v-<time>-<id>/        one complete version: an Index saved (Index.save) plus its manifest
        manifest.json       format, model, dimension, chunker settings, per-file hashes, counts, checksums
        vectors.faiss       FAISS inner-product index over normalized chunk vectors
        chunks.jsonl        chunk store, line i = FAISS id i (text, metadata, keyword tokens)
        units.npy           sentence/list-item vectors for extractive answers
        keyword/            bm25s index

A version is written under a temporary name, fsynced, renamed, and only then named by CURRENT, so a
crash at any point leaves the previous version live.
Usage: index = Index(settings).fit(chunks); index.search("what do nurses earn?", k=5);
snapshot = read_index(Path("index"), settings=settings)
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import numpy as np

from ..errors import CorruptIndex, IndexLocked, IndexNotFound, StaleIndex
from ..files import sha256_file
from ..records import Chunk, ChunkRecord, Hit
from ..retrieve.lexical import KeywordIndex, keyword_terms
from ..retrieve.search import search

# 2: a chunk's section is its heading path, a JSON list (was one 'A › B' string).
FORMAT_VERSION = 2
ARTIFACTS = ("vectors.faiss", "chunks.jsonl", "units.npy")
REBUILD_HINT = "rebuild it with: careerbot index build"
IndexT = TypeVar("IndexT", bound="Index")


def _read_only(array: np.ndarray) -> np.ndarray:
    """A read-only float32 view (the caller's array stays as it was)."""
    view = np.asarray(array, dtype=np.float32).view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True, eq=False)
class Index:
    """Chunk records with their FAISS index and BM25 index, in memory; minsearch's surface over the
    product's own retrieval (careerbot.retrieve.search). Never changed: `fit` returns a new Index.

    `records[i]` is FAISS id i and BM25 document i; `unit_vectors` hold the sentence vectors of every
    record (rows unit_start … unit_start + unit_count), which extractive answers score. `embedder`
    (optional) is the encoder to use; by default the one `settings.model` names is loaded once per process.
    Usage: index = Index(settings).fit(chunks); hits = index.search("what do nurses earn?", k=5, mode="bm25")
    """

    settings: Any = None
    records: Sequence[ChunkRecord] = ()
    faiss_index: Any = None
    unit_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    keyword: KeywordIndex = field(default_factory=lambda: KeywordIndex.build([]))
    embedder: Any = field(default=None, repr=False)
    by_id: Mapping[str, int] = field(init=False, repr=False)
    # Chunk id → article, built once here: rebuilding it per query cost 15 ms at 100k chunks and 68 ms at 1M
    # (benchmarks/README.md), more than the FAISS and BM25 searches together.
    sources: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        records = tuple(self.records)
        object.__setattr__(self, "records", records)
        object.__setattr__(self, "unit_vectors", _read_only(self.unit_vectors))
        object.__setattr__(self, "by_id", MappingProxyType({r.chunk.chunk_id: i for i, r in enumerate(records)}))
        object.__setattr__(self, "sources", tuple(r.chunk.source for r in records))

    # ----- building -----------------------------------------------------------------------------------
    def fit(self, chunks: Sequence[Chunk], vectors: np.ndarray | None = None,
            terms: Sequence[Sequence[str]] | None = None) -> Index:
        """A new Index over `chunks`, in their order. `vectors` (one unit-length row per chunk) default to
        the embedder's vectors of each chunk's embed_text, `terms` (BM25 tokens per chunk) to
        lexical.keyword_terms(chunk). Sentence vectors are not computed (KnowledgeBase adds them for answers).

        Usage: Index(settings).fit(chunks, vectors=precomputed)  # no model needed
        """
        chunks = list(chunks)
        embedder = self.embedder
        if vectors is None:
            embedder = self._embedder()
            vectors = embedder.encode([c.embed_text for c in chunks])
        vectors = np.asarray(vectors, dtype=np.float32)
        terms = [keyword_terms(c) for c in chunks] if terms is None else terms
        if vectors.ndim != 2 or len(vectors) != len(chunks) or len(terms) != len(chunks):
            raise ValueError(f"fit needs one vector row and one token list per chunk: {len(chunks)} chunks, "
                             f"vectors of shape {vectors.shape}, {len(terms)} token lists")
        if len({c.chunk_id for c in chunks}) != len(chunks):
            raise ValueError("chunk ids must be unique: they name the passages that hits cite")
        records = [ChunkRecord(c, tuple(t), 0, 0) for c, t in zip(chunks, terms, strict=False)]
        return self.of_records(records, vectors, np.zeros((0, vectors.shape[1]), np.float32), embedder)

    def of_records(self, records: Sequence[ChunkRecord], vectors: np.ndarray, unit_vectors: np.ndarray,
                   embedder: Any = None, keyword: KeywordIndex | None = None) -> Index:
        """A new Index (these settings) over records whose chunk and sentence vectors are given; the BM25
        index is built from the records' stored terms unless `keyword` is already one over them."""
        s = self._require_settings()
        faiss_index = make_faiss_index(vectors, s.index_type, s.exact_threshold, s.hnsw_m,
                                       s.hnsw_ef_construction, s.hnsw_ef_search)
        if keyword is None:
            keyword = KeywordIndex.build([r.terms for r in records])
        return Index(s, records, faiss_index, unit_vectors, keyword, embedder or self.embedder)

    # ----- reading ------------------------------------------------------------------------------------
    def search(self, query: str, k: int | None = None, mode: str | None = None) -> list[Hit]:
        """Ranked hits for a query, best first (careerbot.retrieve.search); `k` and `mode` default to the
        settings' k and retrieval. Usage: index.search("night shift pay", k=3, mode="hybrid")"""
        if self.faiss_index is None:
            raise ValueError("the index holds nothing yet: fit it first (Index(settings).fit(chunks))")
        return search(self, self._embedder(), query, self._require_settings(), k=k, mode=mode)

    def units_of(self, record: ChunkRecord) -> np.ndarray:
        """The vectors of a chunk's sentences/list items (extractive answers score them)."""
        return self.unit_vectors[record.unit_start:record.unit_start + record.unit_count]

    def _embedder(self):
        if self.embedder is not None:
            return self.embedder
        from .embed import Embedder

        return Embedder.load(self._require_settings())  # loaded once per process and model

    def _require_settings(self):
        if self.settings is None:
            raise ValueError("this index has no settings: build it as Index(settings) or load it with settings=")
        return self.settings

    # ----- persistence --------------------------------------------------------------------------------
    def save(self, directory: Path, base: Index | None = None, base_dir: Path | None = None) -> None:
        """Write this index's files (vectors.faiss, chunks.jsonl, units.npy, keyword/) into `directory`.

        When the records begin with every record of `base` (saved in `base_dir`), unchanged and in order (an
        update that only adds articles), its chunk store is copied as bytes and only the new records are
        serialized. Usage: index.save(Path("my-index"))
        """
        import faiss

        directory.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.faiss_index, str(directory / "vectors.faiss"))
        start = 0
        if base is not None and base_dir is not None and self.records[:len(base.records)] == base.records:
            shutil.copyfile(base_dir / "chunks.jsonl", directory / "chunks.jsonl")
            start = len(base.records)
        with open(directory / "chunks.jsonl", "a" if start else "w", encoding="utf-8") as out:
            for record in self.records[start:]:
                out.write(json.dumps(_record_to_json(record), ensure_ascii=False) + "\n")
        np.save(directory / "units.npy", np.ascontiguousarray(self.unit_vectors, dtype=np.float32))
        self.keyword.save(directory / "keyword")

    @classmethod
    def load(cls: type[IndexT], directory: Path, settings: Any = None, ef_search: int | None = None,
             **extra: Any) -> IndexT:
        """An Index read from `directory` (written by save); raises CorruptIndex unless its files agree with
        each other. `extra` are the fields of a subclass (Snapshot: path, manifest).

        Usage: Index.load(Path("my-index"), settings)"""
        import faiss

        try:
            faiss_index = faiss.read_index(str(directory / "vectors.faiss"))
            records = [_record_from_json(json.loads(line))
                       # split on "\n" only: passages may hold U+2028 or \x85, which splitlines() breaks on
                       for line in (directory / "chunks.jsonl").read_text(encoding="utf-8").split("\n") if line]
            unit_vectors = np.load(directory / "units.npy", allow_pickle=False)
            keyword = KeywordIndex.load(directory / "keyword", [r.terms for r in records])
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise CorruptIndex(f"the index at {directory} cannot be read ({exc}); {REBUILD_HINT}") from exc
        if not (faiss_index.ntotal == len(records) == keyword.size
                and len(unit_vectors) == sum(r.unit_count for r in records)
                and unit_vectors.ndim == 2 and unit_vectors.shape[1] == faiss_index.d
                and _units_in_order(records)):
            raise CorruptIndex(f"the files of {directory} disagree with each other; {REBUILD_HINT}")
        if ef_search is None and settings is not None:
            ef_search = settings.hnsw_ef_search
        if hasattr(faiss_index, "hnsw") and ef_search is not None:
            faiss_index.hnsw.efSearch = ef_search_for(faiss_index.ntotal, int(ef_search))
        return cls(settings, records, faiss_index, unit_vectors, keyword, **extra)


@dataclass(frozen=True, eq=False, kw_only=True)
class Snapshot(Index):
    """One loaded, consistent version of the index folder: the Index saved there, where it is and its
    manifest. Never changed; an update publishes a new one."""

    path: Path
    manifest: Mapping[str, Any]

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.manifest, MappingProxyType):
            object.__setattr__(self, "manifest", MappingProxyType(dict(self.manifest)))

    @classmethod
    def of(cls, index: Index, path: Path, manifest: Mapping[str, Any]) -> Snapshot:
        """`index` as the version at `path` with `manifest` (what a writer has just published)."""
        return cls(index.settings, index.records, index.faiss_index, index.unit_vectors, index.keyword,
                   index.embedder, path=path, manifest=manifest)


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


def write_index(index_dir: Path, manifest: Mapping[str, Any], index: Index, stored: Snapshot | None = None) -> Path:
    """Save `index` as a complete new version with `manifest` and make it live atomically. Call with the
    writers' lock held. When the index only adds records to the `stored` version, its chunk store is
    copied as bytes (Index.save). Usage: write_index(Path("index"), manifest, index)
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"v-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    tmp = index_dir / f".tmp-{name}"
    tmp.mkdir()
    index.save(tmp, stored, stored.path if stored is not None else None)
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


def check_compatible(manifest: Mapping[str, Any], settings) -> None:
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


def read_index(index_dir: Path, verify: bool = True, settings: Any = None) -> Snapshot:
    """Load the live version, checking every artifact against the manifest before trusting it."""
    version = current_version(index_dir)
    for _ in range(4):
        try:
            return read_version(version, verify, settings)
        except CorruptIndex:
            # A writer may have published a newer version and pruned this one while we read it;
            # the index is only corrupt if the version that fails to read is still the live one.
            latest = current_version(index_dir)
            if latest == version:
                raise
            version = latest
    return read_version(version, verify, settings)


def read_version(version: Path, verify: bool = True, settings: Any = None) -> Snapshot:
    """Load one version directory; raises CorruptIndex unless its files agree with the manifest."""
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
    snapshot = Snapshot.load(version, settings, ef_search=int(manifest.get("hnsw_ef_search", 256)),
                             path=version, manifest=manifest)
    counts = manifest.get("counts", {})
    if not (len(snapshot.records) == counts.get("chunks") and len(snapshot.unit_vectors) == counts.get("units")
            and snapshot.faiss_index.d == manifest.get("dimension")):
        raise CorruptIndex(f"the files of {version} disagree with each other or with the manifest; "
                           f"{REBUILD_HINT}")
    return snapshot


def _units_in_order(records: Sequence[ChunkRecord]) -> bool:
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
