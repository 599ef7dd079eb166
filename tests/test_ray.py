"""Embedding a build on a local Ray cluster (ray.init(num_cpus=2), bound to 127.0.0.1): Ray Data actors
make exactly the chunks and (to float rounding) the vectors of a local build, into the PostgreSQL store,
and a re-run publishes the same again."""
from __future__ import annotations

import numpy as np
import pytest

from careerbot import KnowledgeBase

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'careerbot[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             configure_logging=False)
    try:
        yield ray
    finally:
        ray.shutdown()  # Ray's processes ignore SIGTERM; shutdown stops the ones this init started


def test_ray_build_equals_a_local_build(local_ray, pg_url, session_corpus, settings, kb):
    ray_settings = settings.with_overrides(store=pg_url, ray="auto", ray_workers=2)
    seen: list[str] = []
    built = KnowledgeBase.build(session_corpus, "unused", ray_settings, progress=lambda f, m: seen.append(m))
    assert any("on Ray" in m for m in seen)  # progress comes from the actors' batches as they finish
    assert [r.chunk for r in built.snapshot.records] == [r.chunk for r in kb.snapshot.records]
    ids = np.arange(len(kb.snapshot.records))

    def passage_vectors(kb_) -> np.ndarray:
        return kb_.snapshot.faiss_index.reconstruct_batch(ids)

    assert abs(passage_vectors(built) - passage_vectors(kb)).max() < 1e-5
    for record in built.snapshot.records:
        texts, vectors = built.chunk_units(record.chunk.chunk_id)
        assert texts == kb.chunk_units(record.chunk.chunk_id)[0]
        assert vectors.shape == kb.chunk_units(record.chunk.chunk_id)[1].shape
        assert abs(vectors - kb.chunk_units(record.chunk.chunk_id)[1]).max() < 1e-5
    first = built.store.live_version()
    again = KnowledgeBase.build(session_corpus, "unused", ray_settings)  # idempotent: the same content again
    assert again.store.live_version() != first
    assert [r.chunk for r in again.snapshot.records] == [r.chunk for r in built.snapshot.records]
    assert abs(passage_vectors(again) - passage_vectors(built)).max() < 1e-5
    assert [h.chunk_id for h in again.search("How much does a Lead Machine Learning Engineer earn?", k=5)] == \
        [h.chunk_id for h in kb.search("How much does a Lead Machine Learning Engineer earn?", k=5)]
