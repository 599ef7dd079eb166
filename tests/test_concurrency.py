"""Concurrent writers are refused by the writers' lock; readers keep serving and switch atomically.

All on a private copy of the real index with the real model. The only test double is a progress
callback that pauses a real update while it holds the lock, so the overlap is certain rather than
left to timing.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import MLE_VS_LEAD

from careerbot import KnowledgeBase
from careerbot.errors import IndexLocked
from careerbot.index import versions as store

NEW_SOURCE = "zz_prompt_engineer.txt"
NEW_ARTICLE = """Prompt Engineer vs. Machine Learning Engineer

Feb. 2, 2025

Salary

According to the Quillfeather Survey, the average salary for a Prompt Engineer is $98,765 per year.

Skills

The skills required for a Prompt Engineer include:

- Writing precise instructions for language models
- Evaluating model outputs systematically
"""
LOCKED_MESSAGE = "another careerbot process is updating"


def cli(*argv: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", CAREERBOT_PROGRESS="off")
    return subprocess.run([sys.executable, "-m", "careerbot.cli", *argv], capture_output=True, text=True,
                          env=env, timeout=600)


def assert_consistent(index: Path, settings, corpus: Path) -> KnowledgeBase:
    """The live index loads with every check on, matches the corpus, and answers."""
    kb = KnowledgeBase.load(index, settings, corpus=corpus)  # raises if corrupt or behind the corpus
    snapshot = kb.snapshot
    assert snapshot.faiss_index.ntotal == len(snapshot.records) == snapshot.manifest["counts"]["chunks"]
    assert [p.name for p in index.iterdir() if p.name.startswith(("v-", ".tmp-"))] == [snapshot.path.name]
    assert kb.search("lead machine learning engineer salary", k=3)
    return kb


class PausedUpdate:
    """Runs kb.update in a thread and holds it (lock taken) at its first progress report."""

    def __init__(self, kb: KnowledgeBase, corpus: Path) -> None:
        self.inside, self.go = threading.Event(), threading.Event()
        self.result, self.error = None, None
        self.thread = threading.Thread(target=self._run, args=(kb, corpus), daemon=True)

    def _progress(self, fraction: float, message: str) -> None:
        if not self.inside.is_set():
            self.inside.set()
            self.go.wait(timeout=600)

    def _run(self, kb: KnowledgeBase, corpus: Path) -> None:
        try:
            self.result = kb.update(corpus, progress=self._progress)
        except BaseException as exc:  # reported by finish()
            self.error = exc

    def __enter__(self) -> PausedUpdate:
        self.thread.start()
        assert self.inside.wait(timeout=600), "the update never started"
        return self

    def __exit__(self, *exc_info) -> None:
        self.go.set()
        self.thread.join(timeout=600)

    def finish(self):
        self.go.set()
        self.thread.join(timeout=600)
        if self.error:
            raise self.error
        return self.result


def test_a_second_writer_is_refused_while_an_update_runs(writable, settings):
    corpus, index = writable
    writer = KnowledgeBase.load(index, settings)
    second = KnowledgeBase.load(index, settings)
    reader = KnowledgeBase.load(index, settings)  # loaded before the update: keeps its snapshot
    old_version, old_chunks = writer.snapshot.path, len(writer.snapshot.records)
    (corpus / NEW_SOURCE).write_text(NEW_ARTICLE, encoding="utf-8")
    with PausedUpdate(writer, corpus) as update:
        # Another writer in this process, and the real CLI in another process, are both refused.
        with pytest.raises(IndexLocked, match=LOCKED_MESSAGE):
            second.update(corpus)
        run = cli("index", "update", "--corpus", str(corpus), "--index", str(index))
        assert run.returncode == IndexLocked.exit_code, run.stderr
        assert LOCKED_MESSAGE in run.stderr and "Traceback" not in run.stderr
        # Readers keep serving the old index while the update holds the lock.
        assert reader.search("Quillfeather", k=1, mode="bm25") == []
        assert KnowledgeBase.load(index, settings).snapshot.path == old_version
        report = update.finish()
    assert report.added == (NEW_SOURCE,)
    # The writer switched to the new version; the early reader still has the old one, intact in memory
    # although its directory has been pruned from disk.
    assert writer.search("Quillfeather", k=1, mode="bm25")[0].source == NEW_SOURCE
    assert not old_version.exists()
    assert len(reader.snapshot.records) == old_chunks
    assert reader.search("Quillfeather", k=1, mode="bm25") == []
    assert reader.search("Glassdoor lead machine learning engineer salary", k=1)[0].source == MLE_VS_LEAD
    fresh = assert_consistent(index, settings, corpus)
    assert len(fresh.snapshot.records) == len(writer.snapshot.records) > old_chunks
    # Once the lock is free, the refused writer can bring itself up to date.
    assert not second.update(corpus).changed_anything
    assert second.snapshot.path == fresh.snapshot.path


def test_two_cli_updates_at_once_leave_one_good_index(writable, settings):
    corpus, index = writable
    (corpus / NEW_SOURCE).write_text(NEW_ARTICLE, encoding="utf-8")
    env = dict(os.environ, HF_HUB_OFFLINE="1", CAREERBOT_PROGRESS="off")
    argv = [sys.executable, "-m", "careerbot.cli", "index", "update", "--corpus", str(corpus), "--index",
            str(index)]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    results = [(p.wait(timeout=600), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    # Serialized (both succeed, the second finds nothing to do) or refused with the lock message.
    assert codes in ([0, 0], [0, IndexLocked.exit_code]), results
    for code, _out, err in results:
        assert "Traceback" not in err
        if code == IndexLocked.exit_code:
            assert LOCKED_MESSAGE in err
    kb = assert_consistent(index, settings, corpus)
    assert kb.search("Quillfeather", k=1, mode="bm25")[0].source == NEW_SOURCE


def test_a_reader_that_loses_the_race_with_a_writer_loads_the_new_version(writable, settings, monkeypatch):
    """A reader opens version N; before it reads the files, a writer publishes N+1 and prunes N.
    The reader must load N+1, not report a corrupt index (which would make open_or_build rebuild).
    The race is forced by running the writer from inside the reader's first manifest read."""
    corpus, index = writable
    writer = KnowledgeBase.load(index, settings)
    (corpus / NEW_SOURCE).write_text(NEW_ARTICLE, encoding="utf-8")
    real_read_manifest = store.read_manifest
    raced = []

    def read_manifest_after_a_writer(version: Path):
        if not raced:
            raced.append(version)
            writer.update(corpus)  # publishes a new version and prunes `version`
        return real_read_manifest(version)

    monkeypatch.setattr(store, "read_manifest", read_manifest_after_a_writer)
    kb = KnowledgeBase.load(index, settings)
    assert raced and not raced[0].exists()
    assert kb.snapshot.path == writer.snapshot.path != raced[0]
    assert kb.search("Quillfeather", k=1, mode="bm25")[0].source == NEW_SOURCE


def test_readers_keep_serving_while_the_same_kb_updates(writable, settings):
    """Threads search a KnowledgeBase and load fresh ones from disk while it adds then removes an
    article. No reader ever fails; each search sees the old or the new index; the switch is visible."""
    corpus, index = writable
    kb = KnowledgeBase.load(index, settings)
    stop = threading.Event()
    errors: list[BaseException] = []
    searches: list[bool] = []  # whether the new article was visible
    loads: list[int] = []

    def searcher() -> None:
        while not stop.is_set():
            try:
                hits = kb.search("Quillfeather", k=3, mode="bm25")
                searches.append(any(h.source == NEW_SOURCE for h in hits))
            except BaseException as exc:
                errors.append(exc)

    def loader() -> None:
        while not stop.is_set():
            try:
                snapshot = KnowledgeBase.load(index, settings).snapshot
                assert snapshot.faiss_index.ntotal == len(snapshot.records)
                loads.append(len(snapshot.records))
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=searcher), threading.Thread(target=loader)]
    for thread in threads:
        thread.start()
    try:
        (corpus / NEW_SOURCE).write_text(NEW_ARTICLE, encoding="utf-8")
        assert kb.update(corpus).added == (NEW_SOURCE,)
        assert kb.search("Quillfeather", k=1, mode="bm25")[0].source == NEW_SOURCE
        (corpus / NEW_SOURCE).unlink()
        assert kb.update(corpus).removed == (NEW_SOURCE,)
        assert kb.search("Quillfeather", k=1, mode="bm25") == []
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    assert not errors, errors[:3]
    assert searches and loads
    assert_consistent(index, settings, corpus)
