"""careerbot.index.versions.Index, the in-memory index: fit, search, save and load over a small corpus written here
in two domains (nursing and teaching), so nothing in it depends on the bundled career articles.

Most tests use a hashing bag-of-words encoder (deterministic, no model) for the dense side, which is enough
to check the index's own logic; one test runs the real embedder end to end."""
from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest

from careerbot import Settings
from careerbot.errors import CorruptIndex
from careerbot.index.versions import Index
from careerbot.records import Chunk
from careerbot.retrieve.lexical import tokenize

ARTICLES = {
    "nursing.md": ("Becoming a Registered Nurse", [
        (("Duties",), "Registered nurses assess patients, give medication and keep charts during each shift."),
        (("Duties",), "Night shift nurses monitor vital signs and call the physician when a patient worsens."),
        (("Pay",), "A registered nurse earns about $81,000 a year; night shift differentials add to hourly pay."),
        (("Training",), "Nurses need a nursing degree and must pass the NCLEX licensing exam."),
    ]),
    "teaching.md": ("Teaching High School Mathematics", [
        (("Duties",), "Mathematics teachers plan lessons, grade homework and explain algebra to students."),
        (("Duties",), "Teachers meet parents at conferences and track each student's progress in geometry."),
        (("Pay",), "A high school teacher earns about $62,000 a year, with stipends for coaching clubs."),
        (("Training",), "Teachers need a bachelor's degree and a state teaching certificate."),
    ]),
}
QUESTIONS = {  # question → the article that answers it
    "what do night shift nurses do with vital signs?": "nursing.md",
    "which exam do nurses pass for a license?": "nursing.md",
    "how do teachers grade algebra homework?": "teaching.md",
    "what certificate does a mathematics teacher need?": "teaching.md",
}


def corpus() -> list[Chunk]:
    return [Chunk(f"{source}#{i}", source, title, section, None, i, text)
            for source, (title, passages) in ARTICLES.items()
            for i, (section, text) in enumerate(passages)]


class HashingEncoder:
    """Hashed bag of stemmed words, unit length: a deterministic dense encoder for logic tests."""

    dimension, max_tokens, name = 64, 256, "hashing"

    def encode(self, texts, progress=False, batch_size=None):
        out = np.zeros((len(texts), self.dimension), np.float32)
        for row, text in enumerate(texts):
            for token in tokenize(text):
                out[row, int(hashlib.md5(token.encode()).hexdigest(), 16) % self.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)

    def token_count(self, text):
        return len(text.split())


@pytest.fixture(scope="module")
def hashed():
    settings = Settings(progress="off", per_article_cap=0)
    return Index(settings, embedder=HashingEncoder()).fit(corpus())


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_each_question_finds_its_domain_first(hashed, mode):
    for question, source in QUESTIONS.items():
        hits = hashed.search(question, k=3, mode=mode)
        assert hits and hits[0].source == source, (mode, question, [h.chunk_id for h in hits])
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
        assert all(a.score >= b.score for a, b in zip(hits, hits[1:], strict=False))


def test_hits_carry_the_chunk_they_come_from(hashed):
    hit = hashed.search("NCLEX licensing exam", k=1, mode="bm25")[0]
    chunk = hashed.records[hashed.by_id[hit.chunk_id]].chunk
    assert (hit.text, hit.title, hit.section, hit.source, hit.position) == \
        (chunk.text, chunk.title, chunk.section, chunk.source, chunk.position)
    assert "NCLEX" in hit.text and hit.section == ("Training",)
    assert 0 < hit.similarity <= 1.0001  # the query–passage cosine, in every mode


def test_fit_returns_a_new_index_and_changes_nothing(hashed):
    empty = Index(hashed.settings, embedder=hashed.embedder)
    fitted = empty.fit(corpus()[:4])
    assert empty.records == () and empty.faiss_index is None
    assert len(fitted.records) == 4 and fitted.faiss_index.ntotal == 4 and fitted.keyword.size == 4
    assert fitted.sources == ("nursing.md",) * 4
    with pytest.raises(dataclasses.FrozenInstanceError):
        fitted.records = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        fitted.by_id["x"] = 0  # type: ignore[index]
    with pytest.raises(ValueError):
        fitted.unit_vectors[:] = 1.0
    with pytest.raises(ValueError, match="fit it first"):
        empty.search("nurse pay")


def test_fit_refuses_mismatched_inputs(hashed):
    chunks = corpus()
    with pytest.raises(ValueError, match="one vector row"):
        Index(hashed.settings).fit(chunks, vectors=np.zeros((3, 8), np.float32))
    with pytest.raises(ValueError, match="one vector row"):
        Index(hashed.settings).fit(chunks, vectors=np.zeros((len(chunks), 8), np.float32), terms=[["x"]])
    with pytest.raises(ValueError, match="unique"):
        Index(hashed.settings, embedder=HashingEncoder()).fit(chunks + chunks[:1])


def test_given_vectors_and_terms_are_used_as_they_are(hashed):
    chunks = corpus()
    terms = [["zebra"] if c.source == "teaching.md" else tokenize(c.text) for c in chunks]
    index = Index(hashed.settings, embedder=HashingEncoder()).fit(chunks, vectors=hashed.embedder.encode(
        [c.embed_text for c in chunks]), terms=terms)
    assert {h.source for h in index.search("zebra", k=8, mode="bm25")} == {"teaching.md"}
    n = len(chunks)
    assert np.allclose(index.faiss_index.reconstruct_n(0, n), hashed.faiss_index.reconstruct_n(0, n))


def test_save_and_load_round_trip(hashed, tmp_path):
    hashed.save(tmp_path / "idx")
    loaded = Index.load(tmp_path / "idx", hashed.settings, embedder=hashed.embedder)
    assert loaded.records == hashed.records and loaded.by_id == hashed.by_id
    n = len(hashed.records)
    assert np.array_equal(loaded.faiss_index.reconstruct_n(0, n), hashed.faiss_index.reconstruct_n(0, n))
    for question in QUESTIONS:
        assert np.array_equal(loaded.keyword.scores(tokenize(question)), hashed.keyword.scores(tokenize(question)))
        for mode in ("dense", "bm25", "hybrid"):
            assert loaded.search(question, k=4, mode=mode) == hashed.search(question, k=4, mode=mode)


def test_a_damaged_saved_index_is_refused_with_the_rebuild_command(hashed, tmp_path):
    hashed.save(tmp_path / "idx")
    lines = (tmp_path / "idx" / "chunks.jsonl").read_text(encoding="utf-8").split("\n")
    (tmp_path / "idx" / "chunks.jsonl").write_text("\n".join(lines[1:]), encoding="utf-8")
    with pytest.raises(CorruptIndex, match="careerbot index build"):
        Index.load(tmp_path / "idx", hashed.settings)


def test_the_real_embedder_end_to_end(settings, tmp_path):
    index = Index(settings.with_overrides(per_article_cap=0)).fit(corpus())
    assert index.faiss_index.d == index.embedder.dimension
    for question, source in QUESTIONS.items():
        for mode in ("dense", "hybrid"):
            assert index.search(question, k=2, mode=mode)[0].source == source, (mode, question)
    index.save(tmp_path / "idx")
    loaded = Index.load(tmp_path / "idx", index.settings)
    question = next(iter(QUESTIONS))
    # The same hits; scores agree to float precision (the encoder's thread count may differ between calls).
    before, after = index.search(question, k=4), loaded.search(question, k=4)
    assert [h.chunk_id for h in after] == [h.chunk_id for h in before]
    assert [h.similarity for h in after] == pytest.approx([h.similarity for h in before], abs=1e-5)
