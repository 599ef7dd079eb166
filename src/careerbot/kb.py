"""KnowledgeBase: the one engine behind the CLI, the Python API and the app.

Usage:
    kb = KnowledgeBase.build("corpus", "index")
    kb = KnowledgeBase.load("index")
    hits = kb.search("what do lead ML engineers earn?", k=5)
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .chunk import Chunker, chunk_article, split_units
from .corpus import scan_corpus
from .errors import CareerbotError, EmptyCorpus, IndexLocked, InvalidArgument, StaleIndex, UnsupportedFile
from .index import versions as store
from .ingest import fingerprints, read_page, site_chrome, to_article
from .records import Answer, ArticleInfo, Chunk, Hit, UpdateReport
from .retrieve.lexical import keyword_terms
from .settings import DEFAULTS, Settings
from .store import Store, open_store

log = logging.getLogger("careerbot")
ProgressFn = Callable[[float, str], None]


@dataclass(frozen=True)
class CorpusDiff:
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]

    @property
    def is_current(self) -> bool:
        return not (self.added or self.changed or self.removed)


class KnowledgeBase:
    """A loaded index plus the embedder. Thread-safe: searches read an immutable snapshot that
    updates replace in one assignment, so readers keep serving the old index during an update.

    The index lives in a store (careerbot.store): the index folder by default, or a PostgreSQL database
    when `settings.store` names one. A shared store can be written by other processes (app replicas):
    then every search, answer and article listing first adopts the store's newest version, checking for
    one at most every `settings.store_poll` seconds."""

    def __init__(self, snapshot: store.Snapshot, index_dir: Path, settings: Settings,
                 backend: Store | None = None) -> None:
        self._snapshot = snapshot
        self.index_dir = index_dir
        self.settings = settings
        self.store = backend if backend is not None else open_store(settings, index_dir)
        self._embedder = None
        self._embedder_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._checked = time.monotonic()

    # ----- construction -------------------------------------------------------------------------
    @classmethod
    def build(cls, corpus: str | Path = DEFAULTS.corpus_dir, index: str | Path = DEFAULTS.index_dir,
              settings: Settings | None = None, progress: ProgressFn | None = None) -> KnowledgeBase:
        """Full (re)build of the index from corpus; returns the loaded knowledge base."""
        settings = settings or Settings.from_env()
        kb = cls(None, Path(index), settings)  # type: ignore[arg-type]
        kb._write(Path(corpus), reuse=None, progress=progress)
        return kb

    @classmethod
    def load(cls, index: str | Path = DEFAULTS.index_dir, settings: Settings | None = None,
             corpus: str | Path | None = None) -> KnowledgeBase:
        """Open a built index. With `corpus`, also refuse an index that the corpus has moved past."""
        settings = settings or Settings.from_env()
        backend = open_store(settings, index)
        snapshot = backend.load()
        store.check_compatible(snapshot.manifest, settings)
        kb = cls(snapshot, Path(index), settings, backend)
        if corpus is not None:
            diff = kb.diff(corpus)
            if not diff.is_current:
                raise StaleIndex(f"the corpus changed since the index was built ({_describe(diff)}); "
                                 f"bring it up to date with: careerbot index update --corpus {corpus} "
                                 f"--index {index}")
        return kb

    @classmethod
    def open_or_build(cls, corpus: str | Path, index: str | Path, settings: Settings | None = None,
                      progress: ProgressFn | None = None) -> KnowledgeBase:
        """Load the index, building or updating it first when it is missing or behind the corpus."""
        settings = settings or Settings.from_env()
        try:
            try:
                kb = cls.load(index, settings)
            except (store.IndexNotFound, StaleIndex, store.CorruptIndex) as exc:
                log.warning("%s — building the index", exc)
                return cls.build(corpus, index, settings, progress)
            if not kb.diff(corpus).is_current:
                kb.update(corpus, progress)
            return kb
        except IndexLocked:
            if not settings.store:
                raise
        # Replicas starting together on one store: another one is writing it; use what it publishes.
        log.warning("another replica is writing the store; waiting for it")
        return cls._wait_for_writer(index, settings)

    @classmethod
    def _wait_for_writer(cls, index: str | Path, settings: Settings, patience: float = 1800.0) -> KnowledgeBase:
        deadline = time.monotonic() + patience
        while True:
            backend = open_store(settings, index)
            try:
                backend.lock(timeout=min(60.0, max(0.0, deadline - time.monotonic()))).release()
                return cls.load(index, settings)
            except IndexLocked:
                if time.monotonic() >= deadline:
                    raise

    # ----- writing ------------------------------------------------------------------------------
    def update(self, corpus: str | Path = DEFAULTS.corpus_dir, progress: ProgressFn | None = None) -> UpdateReport:
        """Embed only new or changed articles, drop removed ones, and swap the result in atomically."""
        return self._write(Path(corpus), reuse=self._snapshot, progress=progress)

    def remove(self, source: str, corpus: str | Path = DEFAULTS.corpus_dir,
               progress: ProgressFn | None = None) -> UpdateReport:
        """Delete an indexed article's file from the corpus and update the index (incremental, atomic).
        The file is set aside first and put back if the update fails. Usage: kb.remove("a.md", "corpus")"""
        corpus = Path(corpus)
        path = corpus / source
        if source not in self._snapshot.manifest.get("files", {}) or corpus.resolve() not in path.resolve().parents:
            raise InvalidArgument(f"{source!r} is not an indexed article; `careerbot index info` lists them")
        aside = path.with_name(f".{path.name}.removed")  # not an article suffix: never indexed
        if path.is_file():
            path.replace(aside)
        try:
            report = self.update(corpus, progress)
        except BaseException:
            if aside.exists():
                aside.replace(path)
            raise
        aside.unlink(missing_ok=True)
        return report

    def _write(self, corpus: Path, reuse: store.Snapshot | None, progress: ProgressFn | None) -> UpdateReport:
        started = time.perf_counter()
        notify = progress or (lambda fraction, message: None)
        if not corpus.is_dir():
            raise EmptyCorpus(f"corpus directory {corpus} does not exist; put .txt, .md or .html articles there")
        lock = self.store.lock(timeout=0.5)
        try:
            if reuse is not None:  # another writer may have published since we loaded
                reuse = self.store.latest(reuse)
            old_files = (reuse.manifest.get("files", {}) if reuse else {})
            old_skipped = reuse.manifest.get("skipped", {}) if reuse else {}
            # An update reads only files whose size or mtime changed; a build reads them all.
            scan = _scan(corpus, reuse.manifest) if reuse else scan_corpus(corpus)
            notify(0.0, f"read {scan.reread} of {len(scan.files)} file(s)")
            found = {f.source: f for f in scan.files}
            hashes = scan.hashes()
            keep = {s for s, h in hashes.items() if old_files.get(s, {}).get("sha256") == h}
            # Files skipped last time, unchanged since and under the same size limit are not retried (and
            # do not force a rewrite); `index build` retries everything.
            limit = self.settings.max_file_bytes
            bad = {s: {**old_skipped[s], **found[s].meta()} for s, h in hashes.items()
                   if old_skipped.get(s, {}).get("sha256") == h and old_skipped[s].get("max_file_bytes") == limit}
            todo = [s for s in sorted(hashes) if s not in keep and s not in bad]
            embedder = self.embedder()
            chunker = Chunker.from_settings(self.settings, fits=embedder.fits)
            new_chunks: list[Chunk] = []
            skipped, file_meta = [meta["reason"] for _, meta in sorted(bad.items())], {}
            for name in scan.links_out:
                log.warning("skipped %s: it links outside the corpus", name)
                skipped.append(f"{name}: links outside the corpus; skipped")
            pages = {}
            for source in todo:
                try:
                    pages[source] = read_page(corpus / source, corpus, self.settings.max_file_bytes)
                except UnsupportedFile as exc:
                    self._skip(exc, source, found, bad, skipped)
            # Site chrome is what repeats across the corpus, so adding or removing an article can change
            # it for articles kept as they are: those are parsed again.
            prints = {s: tuple(old_files[s].get("blocks", ())) for s in keep}
            prints.update({s: fingerprints(page.blocks) for s, page in pages.items()})
            chrome = site_chrome(prints.values())
            moved = chrome ^ frozenset(reuse.manifest.get("chrome", ()) if reuse else ())
            for source in sorted(s for s in keep if moved & {fp.rstrip("~") for fp in prints[s]}):
                keep.discard(source)
                todo.append(source)
                pages[source] = read_page(corpus / source, corpus, self.settings.max_file_bytes)
            for source in sorted(pages):
                try:
                    article = to_article(pages[source], chrome)
                except UnsupportedFile as exc:
                    self._skip(exc, source, found, bad, skipped)
                    continue
                chunks = chunk_article(article, chunker)
                new_chunks.extend(chunks)
                file_meta[source] = {**found[source].meta(), "title": article.title, "date": article.date,
                                     "byline": article.byline, "title_from": article.title_from,
                                     "chunks": len(chunks), "blocks": list(prints[source])}
            removed = set(old_files) - set(hashes)
            if reuse is not None and not todo and not removed:
                self._snapshot = reuse  # another writer may have brought the index up to date
                notify(1.0, "up to date")
                return UpdateReport((), (), (), tuple(sorted(keep)), tuple(skipped), 0, len(reuse.records),
                                    time.perf_counter() - started)
            kept_records = [r for r in (reuse.records if reuse else []) if r.chunk.source in keep]
            if not kept_records and not new_chunks:
                raise EmptyCorpus(f"no readable article in {corpus} (supported: .txt, .md, .html); "
                                  "the existing index was left untouched")
            notify(0.1, f"embedding {len(new_chunks)} new chunk(s)")
            records, new_vectors, new_units, embedded = self._assemble(kept_records, new_chunks, embedder, notify)
            for source in keep:
                file_meta[source] = {**old_files[source], **found[source].meta()}
            notify(0.95, "writing the index")
            manifest = {
                "model": self.settings.model, "dimension": embedder.dimension,
                "max_tokens": embedder.max_tokens, "chunker": self.settings.chunker_fingerprint(),
                "sentence_vectors": self.settings.sentence_vectors,
                "hnsw_ef_search": self.settings.hnsw_ef_search,
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "corpus": str(corpus), "scanned_ns": scan.scanned_ns, "files": dict(sorted(file_meta.items())),
                "skipped": dict(sorted(bad.items())), "chrome": sorted(chrome),
                "counts": {"articles": len(file_meta), "chunks": len(records),
                           "units": sum(r.unit_count for r in records)},
            }
            # The store adds what is its own (index type, keyword settings) and makes the version live.
            self._snapshot = self.store.publish(manifest, reuse, kept_records, records, new_vectors, new_units)
            self._checked = time.monotonic()
        finally:
            lock.release()
        notify(1.0, "done")
        old = set(old_files)
        return UpdateReport(
            added=tuple(s for s in todo if s not in old and s in file_meta),
            changed=tuple(s for s in todo if s in old and s in file_meta),
            removed=tuple(sorted(old - set(hashes))), unchanged=tuple(sorted(keep)),
            skipped=tuple(skipped), chunks_embedded=embedded, chunks_total=len(records),
            seconds=time.perf_counter() - started)

    def _skip(self, exc: UnsupportedFile, source: str, found, bad: dict, skipped: list[str]) -> None:
        log.warning("skipped %s", exc)
        skipped.append(str(exc))
        bad[source] = {**found[source].meta(), "reason": str(exc), "max_file_bytes": self.settings.max_file_bytes}

    def _assemble(self, kept_records, new_chunks, embedder, notify):
        """The new version's records (kept ones first, with new unit offsets), the vectors of the new
        chunks and their sentences (None when a Ray build staged them in the store) and how many chunks were
        encoded: only new chunks are embedded; kept ones keep their stored vectors."""
        show = self.settings.show_progress()
        new_units = [split_units(c.text) for c in new_chunks]
        embedded = len(new_chunks)
        if self.settings.ray:  # the same encoder calls, on Ray actors (ray_embed.py)
            from .index.ray_embed import embed_on_ray

            # Into a store with staging each batch is written as it arrives, and what it holds is skipped.
            staging = self.store.staging({"model": self.settings.model, "dimension": embedder.dimension,
                                          "max_tokens": embedder.max_tokens,
                                          "sentence_vectors": self.settings.sentence_vectors})
            result = embed_on_ray([c.embed_text for c in new_chunks], [c.text for c in new_chunks], new_units,
                                  self.settings, embedder.dimension, notify, staging)
            new_vectors, new_unit_vectors, embedded = result.vectors, result.unit_vectors, result.embedded
        elif self.settings.sentence_vectors == "late":  # one pass: sentences pooled from the chunk's tokens
            new_vectors, new_unit_vectors = embedder.encode_with_spans(
                [c.embed_text for c in new_chunks], [c.text for c in new_chunks], new_units, progress=show)
        else:
            new_vectors = _encode_distinct(embedder, [c.embed_text for c in new_chunks], show)
            flat_units = [u for units in new_units for u in units]
            notify(0.6, f"embedding {len(flat_units)} sentence(s)")
            new_unit_vectors = _encode_distinct(embedder, flat_units, show)
        dim = embedder.dimension
        records, unit_start = [], 0
        for record in kept_records:
            records.append(store.ChunkRecord(record.chunk, record.terms, unit_start, record.unit_count))
            unit_start += record.unit_count
        for chunk, units in zip(new_chunks, new_units, strict=False):
            records.append(store.ChunkRecord(chunk, tuple(keyword_terms(chunk)), unit_start, len(units)))
            unit_start += len(units)
        if new_vectors is None or new_unit_vectors is None:
            return records, None, None, embedded
        return (records, np.asarray(new_vectors, np.float32).reshape(-1, dim),
                np.asarray(new_unit_vectors, np.float32).reshape(-1, dim), embedded)

    # ----- reading ------------------------------------------------------------------------------
    def embedder(self):
        """The embedding model, loaded on first use and shared."""
        with self._embedder_lock:
            if self._embedder is None:
                from .index.embed import Embedder

                self._embedder = Embedder.load(self.settings)
            return self._embedder

    @property
    def snapshot(self) -> store.Snapshot:
        return self._snapshot

    def refresh(self) -> bool:
        """Adopt the store's live version when another process has published a newer one; True if it did.

        Usage: kb.refresh()  # after another replica's upload"""
        with self._refresh_lock:
            return self._adopt_live()

    def _adopt_live(self) -> bool:
        self._checked = time.monotonic()
        if self.store.live_version() == self.store.version_of(self._snapshot):
            return False
        snapshot = self.store.load()
        store.check_compatible(snapshot.manifest, self.settings)
        self._snapshot = snapshot
        return True

    def _follow_store(self) -> None:
        """For a shared store, adopt a newer version before serving (checked at most every store_poll s).
        One thread checks while the others keep serving the snapshot they have."""
        if not self.store.shared or time.monotonic() - self._checked < self.settings.store_poll:
            return
        if not self._refresh_lock.acquire(blocking=False):
            return
        try:
            self._adopt_live()
        except CareerbotError as exc:  # keep serving the version we have; the next request tries again
            log.warning("kept serving the loaded index: %s", exc)
        finally:
            self._refresh_lock.release()

    def search(self, query: str, k: int | None = None, mode: str | None = None) -> list[Hit]:
        """Ranked passages for a query, best first. Usage: kb.search("lead ML engineer salary", k=5)"""
        from .retrieve.search import search

        self._follow_store()
        return search(self._snapshot, self.embedder(), query, self.settings, k=k, mode=mode)

    def ask(self, question: str, history: list[dict] | None = None) -> Answer:
        """A grounded answer with [n] citations. Usage: kb.ask("Do I need a PhD?").text"""
        from .answer.respond import answer_question

        self._follow_store()
        return answer_question(self, question, history or [])

    def ask_stream(self, question: str, history: list[dict] | None = None) -> Iterator[str | Answer]:
        """Text pieces as they are composed, then the final Answer.

        With a model the final Answer is authoritative: its text may differ from the streamed tokens
        (markers repaired, or an extractive fallback), so show `answer.text` once it arrives.
        Usage: for event in kb.ask_stream("What do data scientists do?"): ...
        """
        from .answer.respond import stream_answer

        self._follow_store()
        return stream_answer(self, question, history or [])

    def diff(self, corpus: str | Path) -> CorpusDiff:
        """How the corpus differs from what the index was built from."""
        corpus, manifest = Path(corpus), self._snapshot.manifest
        indexed = manifest.get("files", {})
        skipped = manifest.get("skipped", {})  # unreadable files are not new each time
        current = _scan(corpus, manifest).hashes() if corpus.is_dir() else {}
        current_bad = {s for s in current if s not in indexed and skipped.get(s, {}).get("sha256") == current[s]}
        return CorpusDiff(
            added=tuple(sorted(set(current) - set(indexed) - current_bad)),
            changed=tuple(sorted(s for s in current if s in indexed and indexed[s]["sha256"] != current[s])),
            removed=tuple(sorted(set(indexed) - set(current))),
            unchanged=tuple(sorted(s for s in current if s in indexed and indexed[s]["sha256"] == current[s])))

    def articles(self) -> list[ArticleInfo]:
        """The indexed articles, in file order."""
        self._follow_store()
        files = self._snapshot.manifest.get("files", {})
        return [ArticleInfo(source, meta.get("title", source), meta.get("date"), int(meta.get("chunks", 0)),
                            meta.get("sha256", ""), meta.get("title_from", "metadata"))
                for source, meta in files.items()]

    def info(self) -> dict:
        """Manifest facts for `index info`: model, counts, build time, location."""
        m = self._snapshot.manifest
        return {"index": self.store.describe(self._snapshot), "model": m.get("model"), "dimension": m.get("dimension"),
                "index_type": m.get("index_type"), "built_at": m.get("built_at"), "counts": m.get("counts"),
                "chunker": m.get("chunker"), "format_version": m.get("format_version")}

    def chunk_units(self, chunk_id: str) -> tuple[list[str], np.ndarray]:
        """The sentences/list items of a chunk and their precomputed vectors (for extractive answers)."""
        snapshot = self._snapshot
        record = snapshot.records[snapshot.by_id[chunk_id]]
        return split_units(record.chunk.text), snapshot.units_of(record)


def _encode_distinct(embedder, texts: list[str], progress: bool) -> np.ndarray:
    """Vectors for texts, embedding each distinct text once: overlapping chunks share sentences (about 10%
    of a build's sentences repeat), and a repeat gets the very same vector anyway."""
    distinct = list(dict.fromkeys(texts))
    vectors = embedder.encode(distinct, progress=progress)
    if len(distinct) == len(texts):
        return vectors
    row = {text: i for i, text in enumerate(distinct)}
    return vectors[[row[text] for text in texts]]


def _scan(corpus: Path, manifest: Mapping):
    """The corpus scanned against an index's manifest: files (indexed or skipped) whose size and mtime it
    recorded keep their hash unread. The scan time is trusted only as an int (0 trusts nothing)."""
    scanned_ns = manifest.get("scanned_ns")
    if not isinstance(scanned_ns, int) or isinstance(scanned_ns, bool):
        scanned_ns = 0
    return scan_corpus(corpus, {**manifest.get("skipped", {}), **manifest.get("files", {})}, scanned_ns)


def _describe(diff: CorpusDiff) -> str:
    parts = [f"{len(v)} {name}" for name, v in (("new", diff.added), ("changed", diff.changed),
                                                 ("removed", diff.removed)) if v]
    return ", ".join(parts) + " file(s)"
