"""The embedder: one code path's numbers whether a call carries one query or a batch (real model)."""
from __future__ import annotations

import numpy as np
import pytest

from careerbot.embed import SMALL_INPUT, Embedder

TEXTS = [
    "what does a lead ML engineer earn?",
    "PhD?",
    "how is a data scientist different from a machine learning engineer in day-to-day work " * 12,  # truncated
    "",
]


@pytest.fixture(scope="module")
def embedder(settings) -> Embedder:
    return Embedder.load(settings)


@pytest.mark.parametrize("count", range(1, SMALL_INPUT + 1))
def test_small_inputs_match_sentence_transformers_encode(embedder, count):
    """Queries skip model.encode's bookkeeping; the vectors must not change (padding, truncation, norm)."""
    texts = TEXTS[:count]
    ours = embedder.encode(texts)
    reference = embedder.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert ours.shape == (count, embedder.dimension) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, reference, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_a_query_embeds_the_same_alone_and_inside_a_batch(embedder):
    batch = embedder.encode(TEXTS + ["filler text"] * SMALL_INPUT)  # the batch path (model.encode)
    for i, text in enumerate(TEXTS):
        np.testing.assert_allclose(embedder.encode([text])[0], batch[i], atol=1e-5)


def test_nothing_to_embed_gives_an_empty_matrix(embedder):
    assert embedder.encode([]).shape == (0, embedder.dimension)


def test_a_build_embeds_each_distinct_sentence_once(tmp_path, settings, embedder):
    from careerbot import KnowledgeBase

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shared = "Most employers ask for strong Python and SQL skills."
    for name, role in (("a.txt", "Data Analyst"), ("b.txt", "Data Engineer")):
        (corpus / name).write_text(f"{role} Careers\n\nSkills\n\n{shared} A {role} also writes reports.\n",
                                   encoding="utf-8")
    seen: list[str] = []
    real_encode = embedder.encode

    def spy(texts, **kwargs):  # the real encoder, watched
        seen.extend(texts)
        return real_encode(texts, **kwargs)

    embedder.encode = spy
    try:
        kb = KnowledgeBase.build(corpus, tmp_path / "index", settings)
    finally:
        del embedder.encode
    assert seen.count(shared) == 1 and len(seen) == len(set(seen))
    vectors = [v for record in kb.snapshot.records
               for unit, v in zip(*kb.chunk_units(record.chunk.chunk_id)) if unit == shared]
    assert len(vectors) == 2 and np.array_equal(vectors[0], vectors[1])
