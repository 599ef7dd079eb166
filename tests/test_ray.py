"""Embedding a build on a local Ray cluster (ray.init(num_cpus=2), bound to 127.0.0.1): Ray Data actors
make exactly the chunks and (to float rounding) the vectors of a local build, into the PostgreSQL store;
each batch is staged in the store as it arrives, so a re-run embeds nothing and a build interrupted after
some batches resumes with only the rest."""
from __future__ import annotations

import re

import numpy as np
import pytest

from careerbot import KnowledgeBase
from careerbot.errors import IndexNotFound

pytestmark = pytest.mark.slow
SALARY = "How much does a Lead Machine Learning Engineer earn?"


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'careerbot[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             configure_logging=False)
    try:
        yield ray
    finally:
        ray.shutdown()  # Ray's processes ignore SIGTERM; shutdown stops the ones this init started


def staged_rows(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM careerbot.staged").fetchone()[0]


def passage_vectors(kb_, n: int) -> np.ndarray:
    return kb_.snapshot.faiss_index.reconstruct_batch(np.arange(n))


def assert_same_as_local(built, kb) -> None:
    assert [r.chunk for r in built.snapshot.records] == [r.chunk for r in kb.snapshot.records]
    n = len(kb.snapshot.records)
    assert abs(passage_vectors(built, n) - passage_vectors(kb, n)).max() < 1e-5
    for record in built.snapshot.records:
        texts, vectors = built.chunk_units(record.chunk.chunk_id)
        local_texts, local_vectors = kb.chunk_units(record.chunk.chunk_id)
        assert texts == local_texts and vectors.shape == local_vectors.shape
        assert abs(vectors - local_vectors).max() < 1e-5


def embedded_counts(messages: list[str]) -> list[tuple[int, int]]:
    """(done, of) from the per-batch progress lines."""
    return [(int(m[1]), int(m[2])) for m in (re.match(r"embedded (\d+) of (\d+) chunk", s) for s in messages) if m]


def test_ray_build_equals_a_local_build_and_a_rerun_embeds_nothing(local_ray, pg_url, session_corpus, settings, kb):
    ray_settings = settings.with_overrides(store=pg_url, ray="auto", ray_workers=2)
    seen: list[str] = []
    built = KnowledgeBase.build(session_corpus, "unused", ray_settings, progress=lambda f, m: seen.append(m))
    total = len(kb.snapshot.records)
    counts = embedded_counts(seen)
    assert counts and counts[-1] == (total, total) and len(counts) >= 2  # per batch, as each is written
    assert_same_as_local(built, kb)
    assert staged_rows(pg_url) == 0  # what was staged went live with the version
    first = built.store.live_version()
    seen.clear()
    again = KnowledgeBase.build(session_corpus, "unused", ray_settings, progress=lambda f, m: seen.append(m))
    assert f"{total} of {total} chunk(s) already embedded in the store; 0 to embed on Ray" in seen
    assert not embedded_counts(seen)  # nothing went to Ray
    assert again.store.live_version() != first  # a new version, of the same content
    assert_same_as_local(again, kb)
    assert [h.chunk_id for h in again.search(SALARY, k=5)] == [h.chunk_id for h in kb.search(SALARY, k=5)]


class Interrupted(Exception):
    """Raised by the progress callback: the build dies between batches."""


def test_an_interrupted_ray_build_resumes_with_only_the_rest(local_ray, pg_url, session_corpus, settings, kb):
    ray_settings = settings.with_overrides(store=pg_url, ray="auto", ray_workers=2, batch_size=2)  # 8-chunk batches
    total = len(kb.snapshot.records)
    stopped_at: list[int] = []

    def die_after_two_batches(fraction: float, message: str) -> None:
        counts = embedded_counts([message])
        if counts and len(stopped_at) < 2:
            stopped_at.append(counts[0][0])
            if len(stopped_at) == 2:
                raise Interrupted

    with pytest.raises(Interrupted):
        KnowledgeBase.build(session_corpus, "unused", ray_settings, progress=die_after_two_batches)
    staged = stopped_at[-1]
    assert 0 < staged < total and staged_rows(pg_url) == staged  # the two batches were kept
    with pytest.raises(IndexNotFound):  # and nothing was published
        KnowledgeBase.load("unused", ray_settings)
    seen: list[str] = []
    resumed = KnowledgeBase.build(session_corpus, "unused", ray_settings, progress=lambda f, m: seen.append(m))
    rest = total - staged
    assert f"{staged} of {total} chunk(s) already embedded in the store; {rest} to embed on Ray" in seen
    assert embedded_counts(seen)[-1] == (rest, rest)
    assert_same_as_local(resumed, kb)
    assert staged_rows(pg_url) == 0
