"""The PostgreSQL store: versions of the index in tables, shared by any number of app replicas.

    <schema>.meta          schema_version (created with the tables on first use; 1 is upgraded to 2 in place)
    <schema>.versions      one row per published version: manifest (jsonb), counts, BM25 statistics
    <schema>.live          one row naming the live version (changed in the publishing transaction)
    <schema>.chunks_<id>   a version's chunks: text and metadata, BM25 tokens as a tsvector with positions,
                           the passage vector (pgvector; HNSW above settings.exact_threshold, exact scan
                           below), the sentence vectors (float32 bytes), a GIN index over the tsvectors
                           and each chunk's content key (what its vectors were embedded from, and by which model)
    <schema>.terms_<id>    BM25 postings derived from the tsvectors in the server: per term its document
                           frequency, chunks and Lucene BM25 weights
    <schema>.staged        vectors embedded for a build that has not published yet, by model and content key:
                           a Ray build writes each batch here as it arrives, so a crashed build resumes

A version's tables are written once and never changed, so a reader using them always sees one whole
version. A build or update creates the tables, fills them (kept chunks are copied inside the server, only
new ones are sent) and moves `live` in ONE transaction: a crash or a killed writer leaves the previous
version live and nothing behind. Writers take an advisory lock; the last few versions are kept for replicas
that have not moved on yet. Search runs in the database: dense kNN (`<#>`) and BM25 from the postings
(Lucene's formula, the same scores as the folder's bm25s), fused in Python by careerbot.retrieve.search.
`settings.store_keyword` can rank the keyword side through the GIN index instead (gin-bm25: the same BM25
from the matching rows' tsvectors; gin-rank: ts_rank_cd), measured slower or worse (docs/deploy.md).

Usage: store = PostgresStore("postgresql://careerbot@127.0.0.1:5432/careerbot", settings)
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from ..chunk import split_units
from ..errors import CorruptIndex, IndexLocked, IndexNotFound, StaleIndex, StoreUnavailable
from ..index.versions import ChunkRecord, Snapshot
from ..records import Chunk
from ..retrieve.lexical import K1, B

SCHEMA_VERSION = 2  # 2: a GIN index over each version's tsvectors, content keys, the staged table
READABLE = (1, 2)  # a schema-1 store reads the same (without the GIN index); a writer upgrades it in place
KEEP_VERSIONS = 3  # the live one and two before it, for replicas still reading those
MAX_EF_SEARCH = 1000  # pgvector's limit for hnsw.ef_search
MAX_LEXEME_BYTES = 2000  # PostgreSQL refuses lexemes over 2047 bytes
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


def redact(url: str) -> str:
    """The URL without its password. Usage: redact("postgresql://u:pw@h/db") == "postgresql://u:***@h/db" """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def tsvector_literal(terms: tuple[str, ...] | list[str]) -> str:
    """BM25 tokens as a tsvector with positions, so each lexeme's term frequency survives:
    ["data", "scienc", "data"] → "'data':1,3 'scienc':2". Tokens are careerbot's own (lexical.tokenize),
    so the database's text-search parser and stemmer never see the text."""
    positions: dict[str, list[int]] = {}
    for i, term in enumerate(terms, start=1):
        positions.setdefault(_lexeme(term), []).append(min(i, 16383))
    return " ".join(f"{_quote(t)}:{','.join(map(str, p[:256]))}" for t, p in positions.items() if t)


def _lexeme(term: str) -> str:
    return term.encode("utf-8")[:MAX_LEXEME_BYTES].decode("utf-8", "ignore").replace("\x00", "")


def _quote(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def tsquery_literal(terms: list[str]) -> str:
    """Any of the lexemes, as a tsquery: ["data", "scienc"] → "'data' | 'scienc'" (quoted as in a tsvector)."""
    return " | ".join(_quote(t) for t in dict.fromkeys(terms))


def model_identity(manifest: Mapping[str, Any]) -> str:
    """What makes two builds' vectors of one text the same: the model, its dimension and token limit, and
    how sentence vectors are made. Usage: model_identity(manifest)"""
    return json.dumps([manifest["model"], int(manifest["dimension"]), int(manifest.get("max_tokens") or 0),
                       manifest.get("sentence_vectors", "")])


def content_key(embed_text: str, text: str, units: list[str]) -> str:
    """A chunk's content key: a hash of everything its vectors are computed from (the encoder's text, the
    passage and its sentence units). Usage: content_key(chunk.embed_text, chunk.text, split_units(chunk.text))"""
    return hashlib.sha256(json.dumps([embed_text, text, units]).encode("utf-8")).hexdigest()


def chunk_key(chunk: Chunk) -> str:
    return content_key(chunk.embed_text, chunk.text, split_units(chunk.text))


@dataclass(frozen=True, eq=False, kw_only=True)
class PgSnapshot(Snapshot):
    """A loaded version: records in memory (the answer stage reads them), vectors and BM25 in the database."""

    version_id: int = 0

    def units_of(self, record: ChunkRecord) -> np.ndarray:
        return self.faiss_index.units(self.by_id[record.chunk.chunk_id])


class PostgresStore:
    """Versions of the index in a PostgreSQL database (pgvector); see the module docstring."""

    shared = True

    def __init__(self, url: str, settings, schema: str = "careerbot") -> None:
        if not _IDENT.match(schema):
            raise ValueError(f"not a schema name: {schema!r}")
        self.url = url
        self.settings = settings
        self.schema = schema
        self._local = threading.local()
        self._writer: Any = None

    @property
    def location(self) -> str:
        return redact(self.url)

    def describe(self, snapshot: Snapshot) -> str:
        return f"{self.location} (schema {self.schema}, version {getattr(snapshot, 'version_id', '?')})"

    # ----- connections ----------------------------------------------------------------------------
    def connect(self, vectors: bool = True):
        """A new autocommit connection (with pgvector's types when `vectors`)."""
        try:
            import psycopg
        except ImportError as exc:
            raise StoreUnavailable("the PostgreSQL store needs psycopg and pgvector: pip install "
                                   "'careerbot[postgres]'") from exc
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().split("\n")[0]
            raise StoreUnavailable(f"cannot reach the PostgreSQL store at {self.location} ({reason}); start "
                                   "the server or correct --store / CAREERBOT_STORE") from exc
        if vectors:
            self._register(conn)
        return conn

    @staticmethod
    def _register(conn) -> None:
        from pgvector.psycopg import register_vector

        try:
            register_vector(conn)
        except Exception as exc:  # psycopg.ProgrammingError: the extension is not installed
            conn.close()
            raise IndexNotFound("the database has no pgvector extension yet, so no careerbot index; build one "
                                "with: careerbot index build --store URL") from exc

    def conn(self):
        """This thread's reading connection (Gradio and the BM25 worker run searches on several threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.broken:
            conn = self._local.conn = self.connect()
        return conn

    def run(self, sql: str, params: Any = None) -> list[tuple]:
        """Rows of one statement on this thread's connection; database errors become careerbot's."""
        import psycopg

        try:
            return self.conn().execute(sql, params).fetchall()
        except psycopg.errors.UndefinedTable as exc:
            raise CorruptIndex(f"a version of the index in {self.location} was removed while in use; "
                               "try again (this replica loads the live version)") from exc
        except psycopg.OperationalError as exc:
            self._local.conn = None
            raise StoreUnavailable(f"lost the PostgreSQL store at {self.location} ({exc}); try again") from exc

    def _t(self, name: str) -> str:
        return f'"{self.schema}"."{name}"'

    # ----- reading --------------------------------------------------------------------------------
    def live_version(self) -> str:
        return str(self._live()[0])

    def version_of(self, snapshot: Snapshot) -> str:
        return str(getattr(snapshot, "version_id", ""))

    def _live(self) -> tuple:
        import psycopg

        try:
            rows = self.conn().execute(
                f"SELECT v.id, v.manifest, v.chunks, v.units, v.dim, v.avgdl, v.index_type, m.value "
                f"FROM {self._t('live')} l JOIN {self._t('versions')} v ON v.id = l.version_id "
                f"CROSS JOIN {self._t('meta')} m WHERE m.key = 'schema_version'").fetchall()
        except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName) as exc:
            raise IndexNotFound(f"no careerbot index in the PostgreSQL store at {self.location}; build one "
                                f"with: careerbot index build --store URL") from exc
        except psycopg.OperationalError as exc:
            self._local.conn = None
            raise StoreUnavailable(f"lost the PostgreSQL store at {self.location} ({exc}); try again") from exc
        if not rows:
            raise IndexNotFound(f"the PostgreSQL store at {self.location} has no live version; build one with: "
                                "careerbot index build --store URL")
        if rows[0][7] not in READABLE:
            raise StaleIndex(f"the PostgreSQL store at {self.location} uses schema version {rows[0][7]}, this "
                             f"careerbot reads {', '.join(map(str, READABLE))}; use the careerbot that wrote it, or "
                             "rebuild it with: careerbot index build --store URL")
        return rows[0]

    def load(self) -> PgSnapshot:
        for attempt in range(4):  # a writer may prune the version between reading `live` and its rows
            version_id, manifest, n_chunks, n_units, dim, avgdl, index_type, _ = self._live()
            try:
                return self._read(version_id, manifest, n_chunks, n_units, dim, avgdl, index_type)
            except CorruptIndex:
                if attempt == 3 or self._live()[0] == version_id:
                    raise
        raise AssertionError("unreachable")

    def _read(self, version_id, manifest, n_chunks, n_units, dim, avgdl, index_type) -> PgSnapshot:
        rows = self.run(f"SELECT rid, chunk_id, source, title, section, date, position, text, unit_count "
                        f"FROM {self._t(f'chunks_{version_id}')} ORDER BY rid")
        records, start = [], 0
        for i, (rid, chunk_id, source, title, section, date, position, text, unit_count) in enumerate(rows):
            if rid != i:
                raise CorruptIndex(f"version {version_id} in {self.location} has a gap in its chunk rows; "
                                   "rebuild it with: careerbot index build --store URL")
            records.append(ChunkRecord(Chunk(chunk_id, source, title, tuple(section), date, position, text),
                                       (), start, unit_count))
            start += unit_count
        if len(records) != n_chunks or start != n_units:
            raise CorruptIndex(f"version {version_id} in {self.location} disagrees with its counts; rebuild it "
                               "with: careerbot index build --store URL")
        ef = min(MAX_EF_SEARCH, max(self.settings.hnsw_ef_search, n_chunks // 500))
        table = self._t(f"chunks_{version_id}")
        vectors = PgVectors(self, table, n_chunks, dim, ef if index_type == "hnsw" else 0)
        keyword = PgKeyword(self, table, self._t(f"terms_{version_id}"), n_chunks, avgdl,
                            self.settings.store_keyword)
        path = Path("postgresql", urlsplit(self.location).netloc, urlsplit(self.url).path.strip("/"),
                    self.schema, f"v{version_id}")
        # PgVectors and PgKeyword stand in for the FAISS index and KeywordIndex (the methods retrieval calls).
        return PgSnapshot(self.settings, records, vectors, np.zeros((0, dim), np.float32), keyword,  # type: ignore[arg-type]
                          path=path, manifest=manifest, version_id=version_id)

    # ----- writing --------------------------------------------------------------------------------
    def lock(self, timeout: float) -> PgLock:
        """The writers' lock: a session advisory lock on a connection of its own, which the server releases
        if the writer dies. That connection also creates the tables on first use and publishes."""
        conn = self.connect(vectors=False)
        key = zlib.crc32(f"careerbot:{self.schema}".encode())
        deadline = time.monotonic() + timeout
        while not conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
            if time.monotonic() >= deadline:
                conn.close()
                raise IndexLocked(f"another careerbot process is updating the PostgreSQL store at "
                                  f"{self.location}; wait for it to finish and try again")
            time.sleep(0.05)
        try:
            self._create_schema(conn)
            self._register(conn)
        except BaseException:
            conn.close()
            raise
        self._writer = conn
        return PgLock(self, conn)

    def _create_schema(self, conn) -> None:
        """Tables with a schema version, created once (writers' lock held)."""
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            conn.execute(f"CREATE TABLE IF NOT EXISTS {self._t('meta')} (key text PRIMARY KEY, value jsonb NOT NULL)")
            conn.execute(f"INSERT INTO {self._t('meta')} VALUES ('schema_version', %s) ON CONFLICT DO NOTHING",
                         (json.dumps(SCHEMA_VERSION),))
            conn.execute(f"CREATE TABLE IF NOT EXISTS {self._t('versions')} (id bigserial PRIMARY KEY, "
                         "created_at timestamptz NOT NULL DEFAULT now(), manifest jsonb NOT NULL, "
                         "chunks int NOT NULL DEFAULT 0, units int NOT NULL DEFAULT 0, dim int NOT NULL, "
                         "avgdl float8 NOT NULL DEFAULT 1, index_type text NOT NULL DEFAULT 'flat')")
            conn.execute(f"CREATE TABLE IF NOT EXISTS {self._t('live')} (one bool PRIMARY KEY DEFAULT true "
                         f"CHECK (one), version_id bigint NOT NULL REFERENCES {self._t('versions')})")
        found = conn.execute(f"SELECT value FROM {self._t('meta')} WHERE key = 'schema_version'").fetchone()[0]
        if found == 1:
            self._upgrade_from_1(conn)
        elif found != SCHEMA_VERSION:
            raise StaleIndex(f"the PostgreSQL store at {self.location} uses schema version {found}, this careerbot "
                             f"writes {SCHEMA_VERSION}; use the careerbot that wrote it, or another database or schema")
        with conn.transaction():
            conn.execute(f"CREATE TABLE IF NOT EXISTS {self._t('staged')} (model text NOT NULL, key text NOT NULL, "
                         "embedding vector NOT NULL, units bytea NOT NULL, staged_at timestamptz NOT NULL DEFAULT "
                         "now(), PRIMARY KEY (model, key))")

    def _upgrade_from_1(self, conn) -> None:
        """Schema 1 → 2 in one transaction (writers' lock held): a GIN index on every kept version's tsvectors.
        Building an index blocks writers only, so replicas keep reading meanwhile. Versions from schema 1 have
        no content keys (their manifest says schema 1): a Ray build re-embeds what they hold once."""
        with conn.transaction():
            ids = [r[0] for r in conn.execute(f"SELECT id FROM {self._t('versions')} ORDER BY id").fetchall()]
            for version_id in ids:
                if conn.execute("SELECT to_regclass(%s)", (self._t(f"chunks_{version_id}"),)).fetchone()[0]:
                    conn.execute(f"CREATE INDEX IF NOT EXISTS chunks_{version_id}_terms_gin ON "
                                 f"{self._t(f'chunks_{version_id}')} USING gin (terms)")
            conn.execute(f"UPDATE {self._t('meta')} SET value = %s WHERE key = 'schema_version'",
                         (json.dumps(SCHEMA_VERSION),))

    def staging(self, model: Mapping[str, Any]) -> PgStaging:
        """Where a build's batches of vectors go as they are embedded (writers' lock held)."""
        if self._writer is None or self._writer.closed:
            raise RuntimeError("staging needs the writers' lock")  # a caller's bug
        return PgStaging(self, self._writer, model_identity(model))

    def latest(self, reuse: Snapshot) -> Snapshot:
        if self.live_version() != self.version_of(reuse):
            return self.load()
        return reuse

    def publish(self, manifest: dict[str, Any], reuse: Snapshot | None, kept: list[ChunkRecord],
                records: list[ChunkRecord], new_vectors: np.ndarray | None,
                new_unit_vectors: np.ndarray | None) -> PgSnapshot:
        """As Store.publish; with `new_vectors` None the new records' vectors are taken from the staged table
        (a Ray build staged them by content key), which then drops what went live."""
        conn = self._writer
        if conn is None or conn.closed:
            raise RuntimeError("publish needs the writers' lock")  # a caller's bug
        settings, dim = self.settings, int(manifest["dimension"])
        hnsw = settings.index_type == "hnsw" or (settings.index_type == "auto"
                                                 and len(records) >= settings.exact_threshold)
        manifest = dict(manifest, index_type="hnsw" if hnsw else "flat", schema_version=SCHEMA_VERSION,
                        keyword={"library": "postgresql postings (Lucene BM25) and a GIN index", "k1": K1, "b": B})
        model = model_identity(manifest)
        with conn.transaction():
            conn.execute(f"SELECT version_id FROM {self._t('live')} FOR UPDATE").fetchall()
            version_id = conn.execute(f"INSERT INTO {self._t('versions')} (manifest, dim) VALUES (%s, %s) "
                                      "RETURNING id", (json.dumps(manifest), dim)).fetchone()[0]
            chunks, terms = self._t(f"chunks_{version_id}"), self._t(f"terms_{version_id}")
            conn.execute(f"CREATE TABLE {chunks} (rid int PRIMARY KEY, chunk_id text NOT NULL, source text NOT NULL, "
                         "title text NOT NULL, section text[] NOT NULL, date text, position int NOT NULL, "
                         "text text NOT NULL, unit_count int NOT NULL, units bytea NOT NULL, terms tsvector NOT NULL, "
                         f"length int NOT NULL, embedding vector({dim}) NOT NULL, embed_key text)")
            # Vectors stay in the row (not TOASTed out of line with the text): an exact scan over 5k SciFact
            # vectors took 42 ms out of line (benchmarks/README.md).
            conn.execute(f"ALTER TABLE {chunks} ALTER COLUMN embedding SET STORAGE PLAIN")
            if kept:
                old = getattr(reuse, "version_id", None)
                if old is None or reuse is None:
                    raise RuntimeError("kept records need the store's previous version")  # a caller's bug
                # A schema-1 version has no content keys; a kept chunk's key is only as good as its model's.
                same = reuse.manifest.get("schema_version", 1) >= 2 and model_identity(reuse.manifest) == model
                conn.execute(f"INSERT INTO {chunks} SELECT m.new, c.chunk_id, c.source, c.title, c.section, c.date, "
                             "c.position, c.text, c.unit_count, c.units, c.terms, c.length, c.embedding, "
                             f"{'c.embed_key' if same else 'NULL'} FROM {self._t(f'chunks_{old}')} c "
                             "JOIN unnest(%s::int[], %s::int[]) AS m(old, new) ON c.rid = m.old",
                             ([reuse.by_id[r.chunk.chunk_id] for r in kept], list(range(len(kept)))))
            self._copy_new(conn, chunks, records[len(kept):], len(kept), new_vectors, new_unit_vectors, dim, model)
            n, n_units, avgdl = conn.execute(f"SELECT count(*), coalesce(sum(unit_count), 0), "
                                             f"coalesce(avg(length), 1) FROM {chunks}").fetchone()
            if n != len(records) or n_units != sum(r.unit_count for r in records):
                raise CorruptIndex("the chunks written disagree with the chunks sent; nothing was published")
            # BM25's inverted index, derived inside the server from the chunks' tsvectors: one row per term
            # with its chunks and their Lucene BM25 weights (fixed for an immutable version).
            conn.execute(
                f"CREATE TABLE {terms} AS WITH d AS (SELECT u.lexeme AS term, c.rid, "
                f"cardinality(u.positions)::float8 AS tf, c.length FROM {chunks} c, unnest(c.terms) u), "
                "df AS (SELECT term, count(*)::float8 AS df FROM d GROUP BY term) "
                "SELECT d.term, count(*)::int AS df, array_agg(d.rid ORDER BY d.rid) AS rids, "
                "array_agg((ln(1 + (%(n)s - df.df + 0.5) / (df.df + 0.5)) * d.tf / "
                "(d.tf + %(k1)s * (1 - %(b)s + %(b)s * d.length / %(avgdl)s)))::real ORDER BY d.rid) AS weights "
                "FROM d JOIN df USING (term) GROUP BY d.term",
                {"n": float(n), "k1": K1, "b": B, "avgdl": float(avgdl)})
            conn.execute(f"ALTER TABLE {terms} ADD PRIMARY KEY (term)")
            conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
            conn.execute(f"CREATE INDEX chunks_{version_id}_terms_gin ON {chunks} USING gin (terms)")
            if hnsw:
                conn.execute(f"CREATE INDEX ON {chunks} USING hnsw (embedding vector_ip_ops) WITH "
                             f"(m = {int(settings.hnsw_m)}, ef_construction = {int(settings.hnsw_ef_construction)})")
            conn.execute(f"UPDATE {self._t('versions')} SET chunks = %s, units = %s, avgdl = %s, index_type = %s "
                         "WHERE id = %s", (n, n_units, float(avgdl), "hnsw" if hnsw else "flat", version_id))
            conn.execute(f"INSERT INTO {self._t('live')} (one, version_id) VALUES (true, %s) "
                         "ON CONFLICT (one) DO UPDATE SET version_id = excluded.version_id", (version_id,))
            # What went live is kept by the live version now (a later build re-stages it from there).
            conn.execute(f"DELETE FROM {self._t('staged')} s USING {chunks} c WHERE s.model = %s "
                         "AND s.key = c.embed_key", (model,))
        self._prune(conn, version_id)
        return self.load()

    def _copy_new(self, conn, table: str, records: list[ChunkRecord], first: int, vectors: np.ndarray | None,
                  unit_vectors: np.ndarray | None, dim: int, model: str) -> None:
        """New rows with one binary COPY (vectors travel as float32: formatting them as text took most of a
        build's writing time) into a temporary table, whose tsvector literals PostgreSQL then parses. Without
        `vectors` the rows' vectors are joined from the staged table by content key."""
        columns = ("rid, chunk_id, source, title, section, date, position, text, unit_count, units, terms, length, "
                   "embedding, embed_key")
        staged = vectors is None
        conn.execute(f"CREATE TEMP TABLE careerbot_stage (rid int, chunk_id text, source text, title text, "
                     f"section text[], date text, position int, text text, unit_count int, units bytea, "
                     f"terms text, length int, embedding vector({dim}), embed_key text) ON COMMIT DROP")
        matrix = None if vectors is None else np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dim)
        units = None if unit_vectors is None else np.ascontiguousarray(unit_vectors, dtype=np.float32).reshape(-1, dim)
        unit_start = 0
        with conn.cursor().copy(f"COPY careerbot_stage ({columns}) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "text", "text", "text", "text[]", "text", "int4", "text", "int4", "bytea",
                            "text", "int4", "vector", "text"])
            for i, record in enumerate(records):
                c = record.chunk
                vector = block = None
                if matrix is not None and units is not None:
                    vector = matrix[i]
                    block = units[unit_start:unit_start + record.unit_count].tobytes()
                unit_start += record.unit_count
                copy.write_row((first + i, c.chunk_id, c.source, c.title, list(c.section), c.date, c.position,
                                c.text.replace("\x00", ""), record.unit_count, block,
                                tsvector_literal(record.terms), max(len(record.terms), 1), vector, chunk_key(c)))
        if staged:
            found = conn.execute(f"SELECT count(*) FROM careerbot_stage t JOIN {self._t('staged')} s "
                                 "ON s.model = %s AND s.key = t.embed_key", (model,)).fetchone()[0]
            if found != len(records):
                raise CorruptIndex(f"{len(records) - found} of the build's chunks have no staged vectors; nothing "
                                   "was published (build again: what was staged is kept)")
            source = (f"t.rid, t.chunk_id, t.source, t.title, t.section, t.date, t.position, t.text, t.unit_count, "
                      f"s.units, t.terms::tsvector, t.length, s.embedding, t.embed_key FROM careerbot_stage t "
                      f"JOIN {self._t('staged')} s ON s.model = %s AND s.key = t.embed_key")
            conn.execute(f"INSERT INTO {table} ({columns}) SELECT {source}", (model,))
        else:
            conn.execute(f"INSERT INTO {table} ({columns}) SELECT rid, chunk_id, source, title, section, date, "
                         "position, text, unit_count, units, terms::tsvector, length, embedding, embed_key "
                         "FROM careerbot_stage")
        conn.execute("DROP TABLE careerbot_stage")

    def _prune(self, conn, live_id: int) -> None:
        """Drop versions older than the last KEEP_VERSIONS (writers' lock held)."""
        old = [row[0] for row in conn.execute(
            f"SELECT id FROM {self._t('versions')} WHERE id <> %s ORDER BY id DESC OFFSET %s",
            (live_id, KEEP_VERSIONS - 1)).fetchall()]
        for version_id in old:
            with conn.transaction():
                conn.execute(f"DROP TABLE IF EXISTS {self._t(f'chunks_{version_id}')}, "
                             f"{self._t(f'terms_{version_id}')}")
                conn.execute(f"DELETE FROM {self._t('versions')} WHERE id = %s", (version_id,))


def documents_snapshot(store: PostgresStore, manifest: dict[str, Any], records: list[ChunkRecord],
                       vectors: np.ndarray) -> PgSnapshot:
    """A version holding exactly these records (an evaluation corpus), reused while its manifest is the same.

    Usage: documents_snapshot(PostgresStore(url, settings, schema="careerbot_eval"), manifest, records, vectors)"""
    lock = store.lock(timeout=60)
    try:
        try:
            live = store.load()
            if live.manifest.get("documents") == manifest.get("documents"):
                return live
        except IndexNotFound:
            pass
        dim = int(manifest["dimension"])
        return store.publish(manifest, None, [], records, vectors, np.zeros((0, dim), np.float32))
    finally:
        lock.release()


class PgLock:
    def __init__(self, store: PostgresStore, conn) -> None:
        self._store, self._conn = store, conn

    def release(self) -> None:
        self._store._writer = None
        if not self._conn.closed:
            self._conn.close()  # closing the session releases its advisory lock


class PgStaging:
    """A build's vectors staged by content key as its batches are embedded (writers' lock held). Each batch
    is committed on its own, so a build that dies loses at most the batches in flight, and the next build
    embeds only what neither the staged table nor the live version holds.

    Usage: staging = store.staging(manifest); todo = [k for k in keys if k not in staging.held(keys)]"""

    def __init__(self, store: PostgresStore, conn, model: str) -> None:
        self.store, self.conn, self.model = store, conn, model
        self.table = store._t("staged")

    @staticmethod
    def key(embed_text: str, text: str, units: list[str]) -> str:
        return content_key(embed_text, text, units)

    def held(self, keys: list[str]) -> set[str]:
        """The keys whose vectors are staged, after staging the ones the live version holds (same model)."""
        with self.conn.transaction():
            live = self._live_table()
            if live:
                self.conn.execute(f"INSERT INTO {self.table} (model, key, embedding, units) SELECT %s, c.embed_key, "
                                  f"c.embedding, c.units FROM {live} c JOIN (SELECT DISTINCT unnest(%s::text[]) AS "
                                  "key) k ON c.embed_key = k.key ON CONFLICT DO NOTHING", (self.model, keys))
            rows = self.conn.execute(f"SELECT s.key FROM {self.table} s JOIN (SELECT DISTINCT unnest(%s::text[]) "
                                     "AS key) k ON s.model = %s AND s.key = k.key", (keys, self.model)).fetchall()
        return {r[0] for r in rows}

    def _live_table(self) -> str | None:
        rows = self.conn.execute(f"SELECT v.id, v.manifest FROM {self.store._t('live')} l JOIN "
                                 f"{self.store._t('versions')} v ON v.id = l.version_id").fetchall()
        if not rows:
            return None
        version_id, manifest = rows[0]
        if manifest.get("schema_version", 1) < 2 or model_identity(manifest) != self.model:
            return None  # no content keys, or another model's vectors
        return self.store._t(f"chunks_{version_id}")

    def write(self, keys: list[str], vectors: np.ndarray, unit_blocks: list[bytes]) -> None:
        """One embedded batch, committed: `unit_blocks` are each chunk's sentence vectors as float32 bytes."""
        rows = [(self.model, key, np.asarray(vector, np.float32), block)
                for key, vector, block in zip(keys, vectors, unit_blocks, strict=True)]
        with self.conn.transaction(), self.conn.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {self.table} (model, key, embedding, units) VALUES (%s, %s, %s, %s) "
                               "ON CONFLICT DO NOTHING", rows)


class PgVectors:
    """The version's passage vectors, with the part of FAISS's interface careerbot uses (search, reconstruct)."""

    def __init__(self, store: PostgresStore, table: str, ntotal: int, d: int, ef_search: int) -> None:
        self.store, self.table, self.ntotal, self.d, self.ef_search = store, table, ntotal, d, ef_search

    def search(self, queries: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Top n by inner product for one query: HNSW when the version has the index, else an exact scan."""
        query = np.asarray(queries, np.float32).reshape(-1)
        if self.ef_search:
            local = self.store._local
            if getattr(local, "ef_search", None) != self.ef_search:
                self.store.run("SELECT set_config('hnsw.ef_search', %s, false)", (str(self.ef_search),))
                local.ef_search = self.ef_search
        rows = self.store.run(f"SELECT rid, -(embedding <#> %(q)s) FROM {self.table} "
                              "ORDER BY embedding <#> %(q)s LIMIT %(n)s", {"q": query, "n": int(n)})
        ids = np.array([[r[0] for r in rows]], dtype=np.int64)
        return np.array([[r[1] for r in rows]], dtype=np.float32), ids

    def reconstruct_batch(self, ids) -> np.ndarray:
        ids = [int(i) for i in np.asarray(ids).reshape(-1)]
        rows = dict(self.store.run(f"SELECT rid, embedding FROM {self.table} WHERE rid = ANY(%s)", (ids,)))
        return np.array([_array(rows[i]) for i in ids], dtype=np.float32).reshape(len(ids), self.d)

    def reconstruct(self, i: int) -> np.ndarray:
        return self.reconstruct_batch([i])[0]

    def units(self, rid: int) -> np.ndarray:
        rows = self.store.run(f"SELECT units FROM {self.table} WHERE rid = %s", (int(rid),))
        return np.frombuffer(rows[0][0], dtype=np.float32).reshape(-1, self.d) if rows else \
            np.zeros((0, self.d), np.float32)


def _array(vector) -> np.ndarray:
    """pgvector's Vector (or an array, by version of the package) as float32."""
    return np.asarray(vector.to_numpy() if hasattr(vector, "to_numpy") else vector, dtype=np.float32)


class PgKeyword:
    """The keyword side of retrieval, by `method` (settings.store_keyword):

    postings  BM25 (Lucene's formula, careerbot's k1 and b; the scores of the folder's bm25s) from the
              version's postings: one row per term holding its chunks and their weights, so a query reads
              one row per term.
    gin-bm25  the same BM25, computed for the chunks the GIN index finds (`terms @@ query`) from their
              tsvectors: term frequencies are the lexemes' position counts, document frequencies are counted
              over those same rows (every chunk holding a query term is one of them).
    gin-rank  PostgreSQL's own ts_rank_cd (cover density) over the chunks the GIN index finds."""

    def __init__(self, store: PostgresStore, chunks: str, terms: str, size: int, avgdl: float,
                 method: str = "postings") -> None:
        self.store, self.chunks, self.terms, self.size, self.avgdl = store, chunks, terms, size, avgdl
        self.method = method

    def top(self, query_tokens: list[str], n: int) -> list[tuple[int, float]]:
        """The n best (row, score) pairs with a positive score, best first (as lexical.KeywordIndex.top)."""
        terms = [t for t in (_lexeme(t) for t in query_tokens) if t]
        if not terms or n <= 0 or self.size == 0:
            return []
        if self.method == "gin-bm25":
            rows = self._gin_bm25(terms, n)
        elif self.method == "gin-rank":
            rows = self.store.run(f"SELECT rid, ts_rank_cd(terms, q) AS score FROM {self.chunks}, "
                                  "CAST(%(q)s AS tsquery) AS q WHERE terms @@ q ORDER BY score DESC, rid "
                                  "LIMIT %(top)s", {"q": tsquery_literal(terms), "top": int(n)})
        else:
            rows = self._postings(terms, n)
        return [(int(rid), float(score)) for rid, score in rows if score > 0]

    def _gin_bm25(self, terms: list[str], n: int) -> list[tuple]:
        # Each term's weight is rounded to real as the postings store it, so both methods sum the same numbers.
        return self.store.run(
            "WITH q AS (SELECT term, count(*)::real AS times FROM unnest(%(terms)s::text[]) AS term GROUP BY term), "
            "m AS (SELECT c.rid, c.length, u.lexeme AS term, cardinality(u.positions)::float8 AS tf "
            f"FROM {self.chunks} c CROSS JOIN LATERAL unnest(c.terms) u "
            "WHERE c.terms @@ CAST(%(query)s AS tsquery) AND u.lexeme = ANY(%(terms)s::text[])), "
            "df AS (SELECT term, count(*)::float8 AS df FROM m GROUP BY term) "
            "SELECT m.rid, sum((ln(1 + (%(n)s - df.df + 0.5) / (df.df + 0.5)) * m.tf / "
            "(m.tf + %(k1)s * (1 - %(b)s + %(b)s * m.length / %(avgdl)s)))::real * q.times) AS score "
            "FROM m JOIN df USING (term) JOIN q USING (term) GROUP BY m.rid ORDER BY score DESC, m.rid LIMIT %(top)s",
            {"terms": terms, "query": tsquery_literal(terms), "n": float(self.size), "k1": K1, "b": B,
             "avgdl": float(self.avgdl), "top": int(n)})

    def _postings(self, terms: list[str], n: int) -> list[tuple]:
        return self.store.run(
            "SELECT u.rid, sum(u.weight * q.times) AS score "
            "FROM (SELECT term, count(*)::real AS times FROM unnest(%(terms)s::text[]) AS term GROUP BY term) q "
            f"JOIN {self.terms} p ON p.term = q.term CROSS JOIN LATERAL unnest(p.rids, p.weights) AS u(rid, weight) "
            "GROUP BY u.rid ORDER BY score DESC, u.rid LIMIT %(top)s", {"terms": terms, "top": int(n)})
