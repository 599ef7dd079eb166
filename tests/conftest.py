"""Shared fixtures: a real copy of the bundled corpus, indexed once per session with the real model."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
ARTIFACTS = ROOT / "tests" / "artifacts"

# The four bundled articles, by the role pair they compare.
RS_VS_LEAD = "000_f511443fd0edb9e9.txt"
DS_VS_LEAD = "001_eb89f16ec7da9b7c.txt"
RESEARCHER_VS_ENGINEER = "002_537d8ab69a3132ca.txt"
MLE_VS_LEAD = "003_5938be9f1a266103.txt"


@pytest.fixture(scope="session")
def settings():
    from careerbot import Settings

    return Settings(progress="off")


@pytest.fixture(scope="session")
def session_corpus(tmp_path_factory) -> Path:
    """A private copy of the bundled corpus (tests must never touch ./corpus)."""
    target = tmp_path_factory.mktemp("corpus")
    for path in CORPUS.iterdir():
        if path.is_file():
            shutil.copy2(path, target / path.name)
    return target


@pytest.fixture(scope="session")
def session_index(tmp_path_factory, session_corpus, settings) -> Path:
    """The bundled corpus indexed once with the real model and FAISS. Treat as read-only."""
    from careerbot import KnowledgeBase

    index_dir = tmp_path_factory.mktemp("index")
    KnowledgeBase.build(session_corpus, index_dir, settings)
    return index_dir


@pytest.fixture(scope="session")
def kb(session_index, settings):
    """A loaded knowledge base over the bundled corpus (shared; do not update it)."""
    from careerbot import KnowledgeBase

    return KnowledgeBase.load(session_index, settings)


@pytest.fixture
def writable(tmp_path, session_corpus, session_index):
    """A private corpus and index copy that a test may change: returns (corpus_dir, index_dir)."""
    corpus = tmp_path / "corpus"
    index = tmp_path / "index"
    shutil.copytree(session_corpus, corpus)
    shutil.copytree(session_index, index)
    return corpus, index


def built_kb(root: Path, articles: dict[str, str], settings):
    """A knowledge base built from small articles written for a test ({file name: text}) under root."""
    from careerbot import KnowledgeBase

    (root / "corpus").mkdir()
    for name, text in articles.items():
        (root / "corpus" / name).write_text(text, encoding="utf-8")
    return KnowledgeBase.build(root / "corpus", root / "index", settings)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@contextlib.contextmanager
def app_process(work: Path, corpus: Path, index: Path, env: dict[str, str] | None = None):
    """`python app.py` (the real serve() path) on a free loopback port; yields (url, port, log path) once it
    serves and stops the process by its PID afterwards."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_path = work / "server.log"
    environ = {**os.environ, "HF_HUB_OFFLINE": "1", "CAREERBOT_PROGRESS": "off", "CAREERBOT_LLM": "", **(env or {})}
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--corpus", str(corpus),
                                 "--index", str(index)], cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300  # a start-up bound, not a speed assertion: CI machines are slow
    while "Running on local URL" not in log_path.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"app did not start:\n{log_path.read_text()}")
        time.sleep(0.5)
    try:
        yield f"http://127.0.0.1:{port}/", port, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def pg_engine():
    """A real PostgreSQL + pgvector server on a free 127.0.0.1 port (tests/pg_engine.py), for the session.
    Skips with the reason when it cannot start here; scripts/setup.sh test installs what it needs."""
    from pg_engine import EngineUnavailable, PgEngine

    try:
        import pgvector.psycopg  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg and pgvector are not installed (pip install 'careerbot[postgres]')")
    try:
        engine = PgEngine.start()
    except EngineUnavailable as exc:
        pytest.skip(f"PostgreSQL cannot start here: {exc}")
    yield engine
    engine.stop()


@pytest.fixture
def pg_url(pg_engine, request) -> str:
    """The URL of a fresh, empty database on the test server."""
    import re

    return pg_engine.database("t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:50])


@pytest.fixture(scope="session")
def pg_template(pg_engine, session_corpus, settings) -> str:
    """The name of a database holding the bundled corpus built into the PostgreSQL store (never read
    directly: tests work on clones of it)."""
    from careerbot import KnowledgeBase

    url = pg_engine.database("careerbot_template")
    KnowledgeBase.build(session_corpus, "unused", settings.with_overrides(store=url))
    return "careerbot_template"


@pytest.fixture
def pg_built(pg_engine, pg_template, request) -> str:
    """The URL of a private copy of the built PostgreSQL store that a test may change."""
    import re

    return pg_engine.clone(pg_template, "c_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:50])
