"""One KnowledgeBase contract, run on both stores: the index folder and PostgreSQL + pgvector (a real
server started by the tests, tests/pg_engine.py). Build, load, golden ranking, answers, incremental
update, refusing mismatched settings, and bad input must behave the same on each."""
from __future__ import annotations

import pytest
from conftest import MLE_VS_LEAD
from test_index import NEW_ARTICLE

from careerbot import KnowledgeBase, Settings
from careerbot.errors import EmptyQuery, IndexNotFound, InvalidArgument, QueryTooLong, StaleIndex

QUERIES = ["How much does a Lead Machine Learning Engineer earn?", "Which CI/CD tools does a lead ML engineer use?",
           "Do research scientists need a PhD?", "data scientist vs lead ML engineer responsibilities"]


@pytest.fixture(params=["folder", "postgres"])
def store(request, settings, tmp_path):
    """(settings, index folder, corpus, writable) for each store kind: `writable()` gives a private copy."""
    if request.param == "folder":
        corpus, index = request.getfixturevalue("writable")
        return settings, index, corpus
    url = request.getfixturevalue("pg_built")
    return settings.with_overrides(store=url), tmp_path / "no-index-folder", request.getfixturevalue("writable")[0]


def test_build_and_load_agree_with_the_folder(store, kb):
    settings, index, _ = store
    loaded = KnowledgeBase.load(index, settings)
    info = loaded.info()
    assert info["counts"]["articles"] == 4 and info["counts"]["chunks"] == len(loaded.snapshot.records)
    assert info["model"] == "all-MiniLM-L6-v2" and info["dimension"] == 384
    # The same chunks, in the same order, with the same sentence units as the folder store built.
    assert [r.chunk for r in loaded.snapshot.records] == [r.chunk for r in kb.snapshot.records]
    for record in loaded.snapshot.records[::7]:
        texts, vectors = loaded.chunk_units(record.chunk.chunk_id)
        assert texts == kb.chunk_units(record.chunk.chunk_id)[0] and vectors.shape == (len(texts), 384)
        assert abs(vectors - kb.chunk_units(record.chunk.chunk_id)[1]).max() < 1e-6
    if settings.store:
        assert "schema careerbot" in info["index"] and settings.store.split("@")[1] in info["index"]


def test_golden_ranking_in_every_mode(store, kb):
    settings, index, _ = store
    loaded = KnowledgeBase.load(index, settings)
    hits = loaded.search(QUERIES[0], k=5)
    assert hits[0].source == MLE_VS_LEAD and "$153,000" in hits[0].text and hits[0].section == ("Outlook",)
    for mode in ("dense", "bm25", "hybrid"):
        assert any("CircleCI" in h.text for h in loaded.search(QUERIES[1], k=3, mode=mode))
        for query in QUERIES:  # the database ranks exactly as FAISS + bm25s do
            got = [(h.chunk_id, round(h.similarity, 4)) for h in loaded.search(query, k=8, mode=mode)]
            assert got == [(h.chunk_id, round(h.similarity, 4)) for h in kb.search(query, k=8, mode=mode)]


def test_answers_are_the_same(store, kb):
    settings, index, _ = store
    loaded = KnowledgeBase.load(index, settings)
    for question in ("Do I need a PhD to become a research scientist?", "What is the capital of Peru?"):
        answer, expected = loaded.ask(question), kb.ask(question)
        assert answer.text == expected.text and answer.abstained == expected.abstained
        assert [c.hit.chunk_id for c in answer.citations] == [c.hit.chunk_id for c in expected.citations]
    assert not loaded.ask("Do I need a PhD to become a research scientist?").abstained


def test_incremental_update(store):
    settings, index, corpus = store
    kb = KnowledgeBase.load(index, settings)
    before = {r.chunk.chunk_id: r.chunk for r in kb.snapshot.records}
    (corpus / "zz_prompt.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    with pytest.raises(StaleIndex, match="careerbot index update"):
        KnowledgeBase.load(index, settings, corpus=corpus)
    dense_before = [(h.chunk_id, round(h.similarity, 5)) for h in kb.search(QUERIES[2], k=5, mode="dense")]
    report = kb.update(corpus)
    assert report.added == ("zz_prompt.txt",) and not report.changed and not report.removed
    new_chunks = [r for r in kb.snapshot.records if r.chunk.source == "zz_prompt.txt"]
    assert report.chunks_embedded == len(new_chunks) >= 1
    assert report.chunks_total == len(before) + len(new_chunks)
    assert all(before[r.chunk.chunk_id] == r.chunk for r in kb.snapshot.records if r.chunk.source != "zz_prompt.txt")
    assert kb.search("What does a prompt engineer earn?", k=1)[0].source == "zz_prompt.txt"
    assert kb.search("Zorblatt", k=1, mode="bm25")[0].source == "zz_prompt.txt"
    # kept chunks keep their vectors: the old dense ranking is unchanged
    assert [(h.chunk_id, round(h.similarity, 5)) for h in kb.search(QUERIES[2], k=5, mode="dense")] == dense_before
    reloaded = KnowledgeBase.load(index, settings, corpus=corpus)  # another process sees it; current for the corpus
    assert len(reloaded.snapshot.records) == report.chunks_total
    (corpus / "zz_prompt.txt").write_text(NEW_ARTICLE.replace("$98,765", "$91,000"), encoding="utf-8")
    assert kb.update(corpus).changed == ("zz_prompt.txt",)
    assert "$91,000" in kb.search("prompt engineer salary", k=1)[0].text
    (corpus / "zz_prompt.txt").unlink()
    report = kb.update(corpus)
    assert report.removed == ("zz_prompt.txt",) and report.chunks_embedded == 0
    assert len(kb.snapshot.records) == len(before)
    assert not kb.update(corpus).changed_anything
    assert not kb.search("Zorblatt", k=3, mode="bm25")


def test_mismatched_settings_are_refused(store, tmp_path):
    settings, index, _ = store
    with pytest.raises(StaleIndex, match="chunker settings"):
        KnowledgeBase.load(index, settings.with_overrides(chunk_tokens=200))
    other_model = tmp_path / "fake-model"
    other_model.mkdir()
    with pytest.raises(StaleIndex, match="model"):
        KnowledgeBase.load(index, settings.with_overrides(model=str(other_model)))


def test_bad_input_gets_clear_errors(store, request, tmp_path):
    settings, index, _ = store
    kb = KnowledgeBase.load(index, settings)
    with pytest.raises(EmptyQuery):
        kb.search("   \n\t ")
    with pytest.raises(InvalidArgument):
        kb.search("salary", k=0)
    with pytest.raises(QueryTooLong, match="limit"):
        kb.search("salary " * 1000)
    empty = Settings(progress="off", store=request.getfixturevalue("pg_url")) if settings.store else settings
    with pytest.raises(IndexNotFound, match="careerbot index build"):
        KnowledgeBase.load(tmp_path / "nothing-here", empty)
