"""The PostgreSQL store's own promises, on a real server (tests/pg_engine.py): a clear error when the server
is unreachable, the CLI's --store and CAREERBOT_STORE, two writers at once, a writer SIGKILLed in the middle
of publishing, replicas adopting each other's versions without a restart, HNSW above the threshold, the GIN
index and each keyword method (settings.store_keyword), and a schema-1 store upgraded in place."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import MLE_VS_LEAD
from pg_engine import free_port
from test_index import NEW_ARTICLE

from careerbot import KnowledgeBase
from careerbot.cli import main
from careerbot.errors import IndexLocked, StaleIndex, StoreUnavailable
from careerbot.retrieve.lexical import tokenize
from careerbot.store.postgres import SCHEMA_VERSION, PostgresStore

SALARY = "How much does a Lead Machine Learning Engineer earn?"


def child_env() -> dict:
    return dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", CAREERBOT_PROGRESS="off",
                CAREERBOT_THREADS="1", TOKENIZERS_PARALLELISM="false")


def tables(url: str) -> set[str]:
    import psycopg

    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'careerbot'")}


def test_unreachable_store_and_bad_urls_are_clear(settings, capsys):
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    with pytest.raises(StoreUnavailable, match="cannot reach the PostgreSQL store"):
        KnowledgeBase.load("index", settings.with_overrides(store=url))
    assert main(["search", "salary", "--store", url]) == 10
    err = capsys.readouterr().err
    assert "cannot reach" in err and "--store" in err and "Traceback" not in err
    assert main(["search", "salary", "--store", "mysql://somewhere/db"]) == 2
    assert "postgresql://" in capsys.readouterr().err


def test_cli_takes_the_store_from_a_flag_or_the_environment(pg_built, writable, capsys, monkeypatch):
    corpus, _ = writable
    assert main(["search", SALARY, "--json", "--k", "3", "--store", pg_built]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits[0]["source"] == MLE_VS_LEAD and "$153,000" in hits[0]["text"]
    monkeypatch.setenv("CAREERBOT_STORE", pg_built)
    assert main(["index", "info", "--json", "--corpus", str(corpus)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["corpus_current"] and "schema careerbot" in info["index"] and len(info["articles"]) == 4
    (corpus / "zz_prompt.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    assert main(["index", "update", "--corpus", str(corpus)]) == 0
    assert "added: zz_prompt.txt" in capsys.readouterr().out
    assert main(["ask", "What is the average salary for a Prompt Engineer?", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert not answer["abstained"] and "$98,765" in answer["text"]
    assert answer["citations"][0]["source"] == "zz_prompt.txt"


def test_a_second_writer_is_refused_while_one_holds_the_lock(pg_built, writable, settings):
    corpus, _ = writable
    store = PostgresStore(pg_built, settings)
    lock = store.lock(timeout=1)
    try:
        kb = KnowledgeBase.load("unused", settings.with_overrides(store=pg_built))
        (corpus / "zz_prompt.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        with pytest.raises(IndexLocked, match="another careerbot process"):
            kb.update(corpus)
    finally:
        lock.release()
    assert kb.update(corpus).added == ("zz_prompt.txt",)


@pytest.mark.slow
def test_two_writers_at_once_never_corrupt_the_store(pg_url, session_corpus, settings):
    argv = [sys.executable, "-m", "careerbot.cli", "index", "build", "--store", pg_url, "--corpus", str(session_corpus)]
    procs = [subprocess.Popen(argv, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert set(codes) <= {0, 7} and 0 in codes, results  # 7: IndexLocked, the other writer's lock
    kb = KnowledgeBase.load("unused", settings.with_overrides(store=pg_url))
    assert kb.info()["counts"]["articles"] == 4
    assert kb.search(SALARY, k=1)[0].source == MLE_VS_LEAD
    import psycopg

    with psycopg.connect(pg_url) as conn:
        versions = {r[0] for r in conn.execute("SELECT id FROM careerbot.versions")}
    # every version row has its tables and no table is left without its version
    assert tables(pg_url) == {"meta", "versions", "live", "staged"} | \
        {f"{t}_{v}" for v in versions for t in ("chunks", "terms")}


@pytest.mark.slow
def test_sigkill_while_publishing_leaves_the_previous_version(pg_built, writable, settings):
    """The writer is held at its last statement (moving `live`) by a lock this test takes, with its new
    tables written but not committed; readers still get the old version; then it is SIGKILLed."""
    import psycopg

    corpus, _ = writable
    store_settings = settings.with_overrides(store=pg_built)
    before = KnowledgeBase.load("unused", store_settings)
    version, tables_before = before.store.live_version(), tables(pg_built)
    (corpus / "zz_prompt.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    blocker = psycopg.connect(pg_built)
    blocker.execute("LOCK TABLE careerbot.live IN SHARE MODE")  # held until rollback below
    watcher = psycopg.connect(pg_built, autocommit=True)  # its own statements: fresh activity snapshots
    proc = subprocess.Popen([sys.executable, "-m", "careerbot.cli", "index", "update", "--store", pg_built,
                             "--corpus", str(corpus)], env=child_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300  # a bound for a slow machine, not a speed assertion
        waiting = 0
        while time.monotonic() < deadline and proc.poll() is None and not waiting:
            time.sleep(0.1)
            waiting = watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                      "AND query LIKE 'INSERT INTO \"careerbot\".\"live\"%'").fetchone()[0]
        assert waiting and proc.poll() is None, f"the writer never reached its last statement ({proc.poll()})"
        # Mid-publish: a reader sees the previous version whole, and none of the new tables.
        reader = KnowledgeBase.load("unused", store_settings)
        assert reader.store.live_version() == version and len(reader.snapshot.records) == len(before.snapshot.records)
        assert reader.search(SALARY, k=1)[0].source == MLE_VS_LEAD
        assert tables(pg_built) == tables_before
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        blocker.rollback()
        blocker.close()
    # The killed writer's session ends and its transaction rolls back; its lock goes with it.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'INSERT INTO \"careerbot\".\"live\"%' "
            "AND pid <> pg_backend_pid()").fetchone()[0]:
        time.sleep(0.1)
    watcher.close()
    after = KnowledgeBase.load("unused", store_settings)
    assert after.store.live_version() == version and tables(pg_built) == tables_before
    assert after.search(SALARY, k=1)[0].source == MLE_VS_LEAD
    assert after.update(corpus).added == ("zz_prompt.txt",)  # the next writer is not blocked by leftovers


def test_replicas_adopt_a_version_published_by_another(pg_built, writable, settings):
    corpus, _ = writable
    replica_settings = settings.with_overrides(store=pg_built, store_poll=0.2)
    writer = KnowledgeBase.load("unused", replica_settings)
    reader = KnowledgeBase.load("unused", replica_settings)
    assert not reader.search("Zorblatt", k=1, mode="bm25")
    (corpus / "zz_prompt.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    writer.update(corpus)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not reader.search("Zorblatt", k=1, mode="bm25"):
        time.sleep(0.1)
    assert reader.search("Zorblatt", k=1, mode="bm25")[0].source == "zz_prompt.txt"
    assert "zz_prompt.txt" in {a.source for a in reader.articles()}
    assert "$98,765" in reader.ask("What is the average salary for a Prompt Engineer?").text


def test_hnsw_above_the_threshold(pg_url, session_corpus, settings, kb):
    import psycopg

    hnsw = KnowledgeBase.build(session_corpus, "unused", settings.with_overrides(store=pg_url, exact_threshold=10))
    assert hnsw.info()["index_type"] == "hnsw"
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = 'careerbot' "
                            "AND indexdef LIKE '%USING hnsw%'").fetchone()[0] == 1
    hits = hnsw.search(SALARY, k=5, mode="dense")
    exact = kb.search(SALARY, k=5, mode="dense")
    assert hits[0].chunk_id == exact[0].chunk_id and len({h.chunk_id for h in hits} & {h.chunk_id for h in exact}) >= 4


def gin_indexes(url: str) -> set[str]:
    """The chunk tables that have a GIN index over their tsvectors."""
    import psycopg

    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("SELECT tablename FROM pg_indexes WHERE schemaname = 'careerbot' "
                                           "AND indexdef LIKE '%USING gin (terms)%'")}


def test_each_keyword_method_ranks_through_the_gin_index(pg_built, settings, kb):
    postings = KnowledgeBase.load("unused", settings.with_overrides(store=pg_built))
    assert gin_indexes(pg_built) == {f"chunks_{postings.store.live_version()}"}
    queries = ["Jenkins, GitLab CI or CircleCI for deployment", SALARY, "Do research scientists need a PhD?"]
    by_method = {method: KnowledgeBase.load("unused", settings.with_overrides(store=pg_built, store_keyword=method))
                 for method in ("gin-bm25", "gin-rank")}
    for method, loaded in by_method.items():
        assert loaded.snapshot.keyword.method == method
        assert "CircleCI" in loaded.search(queries[0], k=1, mode="bm25")[0].text
        hit = loaded.search(SALARY, k=1)[0]  # hybrid
        assert hit.source == MLE_VS_LEAD and "$153,000" in hit.text
    for query in queries:  # gin-bm25 is the same BM25 as the postings, found another way
        expected = postings.snapshot.keyword.top(tokenize(query), 20)
        got = by_method["gin-bm25"].snapshot.keyword.top(tokenize(query), 20)
        assert [rid for rid, _ in got] == [rid for rid, _ in expected]
        assert max(abs(a - b) for (_, a), (_, b) in zip(got, expected, strict=True)) < 1e-4
        assert [h.chunk_id for h in by_method["gin-bm25"].search(query, k=8)] == \
            [h.chunk_id for h in kb.search(query, k=8)]
    rank = by_method["gin-rank"].snapshot.keyword.top(tokenize(queries[0]), 20)
    assert rank and all(a >= b for (_, a), (_, b) in zip(rank, rank[1:], strict=False))
    for keyword in (postings.snapshot.keyword, *(k.snapshot.keyword for k in by_method.values())):
        # lexemes that need quoting in a tsquery, and one no chunk has
        assert keyword.top(["it's", "back\\slash", "a|b", "zzzunseen"], 5) == []
        assert keyword.top(["it's", *tokenize("CircleCI")], 5)


def test_a_schema_1_store_is_read_then_upgraded_in_place_by_the_next_writer(pg_built, writable, settings):
    import psycopg

    corpus, _ = writable
    store_settings = settings.with_overrides(store=pg_built)
    version = KnowledgeBase.load("unused", store_settings).store.live_version()
    with psycopg.connect(pg_built) as conn:  # what schema 1 had: no GIN index, content keys or staged table
        conn.execute(f"DROP INDEX careerbot.chunks_{version}_terms_gin")
        conn.execute(f"ALTER TABLE careerbot.chunks_{version} DROP COLUMN embed_key")
        conn.execute("DROP TABLE careerbot.staged")
        conn.execute("UPDATE careerbot.meta SET value = '1' WHERE key = 'schema_version'")
        conn.execute("UPDATE careerbot.versions SET manifest = manifest || '{\"schema_version\": 1}'")
    assert not gin_indexes(pg_built)
    old = KnowledgeBase.load("unused", store_settings.with_overrides(store_keyword="gin-bm25"))  # readable as it is
    assert old.search(SALARY, k=1)[0].source == MLE_VS_LEAD
    (corpus / "zz_prompt.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    assert old.update(corpus).added == ("zz_prompt.txt",)  # the writer upgrades under its lock, then publishes
    new = old.store.live_version()
    assert gin_indexes(pg_built) == {f"chunks_{version}", f"chunks_{new}"}
    with psycopg.connect(pg_built) as conn:
        assert conn.execute("SELECT value FROM careerbot.meta WHERE key = 'schema_version'").fetchone()[0] == \
            SCHEMA_VERSION == 2
        keys = conn.execute(f"SELECT source = 'zz_prompt.txt', count(embed_key) > 0 FROM careerbot.chunks_{new} "
                            "GROUP BY 1 ORDER BY 1").fetchall()
    assert keys == [(False, False), (True, True)]  # kept schema-1 chunks have no content key; new ones do
    assert "staged" in tables(pg_built)
    assert old.search("Zorblatt", k=1, mode="bm25")[0].source == "zz_prompt.txt"
    with psycopg.connect(pg_built) as conn:
        conn.execute("UPDATE careerbot.meta SET value = '3' WHERE key = 'schema_version'")
    with pytest.raises(StaleIndex, match="schema version 3"):
        KnowledgeBase.load("unused", store_settings)
