"""The BM25 keyword index: tokenizer, scoring, persistence with the FAISS index and incremental updates."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import RS_VS_LEAD

from careerbot import KnowledgeBase
from careerbot.index.versions import current_version
from careerbot.retrieve.lexical import K1, B, KeywordIndex, keyword_terms, tokenize

RARE_ARTICLE = """Quantum Prompt Architect vs. Machine Learning Engineer

March 3, 2025

Tools

The tools a Quantum Prompt Architect uses include:

- Zorblatt, a circuit simulator for prompt graphs
- Version control with Git

Salary

According to the Zorblatt Guild, a Quantum Prompt Architect earns $77,777 per year.
"""


# ----- tokenizer ---------------------------------------------------------------------------------
def test_tokenizer_keeps_figures_and_tech_names():
    assert "153000" in tokenize("The average salary is $153,000 per year.")
    assert tokenize("C++ and C# and Python 3.11") == ["c++", "c#", "python", "3.11"]
    assert "phd" in tokenize("She holds a Ph.D. in statistics")
    assert tokenize("CircleCI") == ["circleci"]


def test_tokenizer_drops_stopwords_and_stems():
    tokens = tokenize("What are the responsibilities of the engineers?")
    assert tokens == tokenize("responsibility engineer")  # stemmed, stopwords gone
    assert "the" not in tokens and "what" not in tokens
    assert tokenize("") == [] and tokenize("the of and") == []


# ----- scoring -----------------------------------------------------------------------------------
def test_bm25_ranks_by_term_rarity_and_keeps_ids_aligned():
    docs = [tokenize("salary of a data scientist"), [],  # an empty document must not shift later ids
            tokenize("salary and bonus of a lead engineer"), tokenize("lead engineer tools: CircleCI")]
    index = KeywordIndex.build(docs)
    assert index.size == 4
    top = index.top(tokenize("lead engineer CircleCI"), 10)
    assert [doc for doc, _ in top] == [3, 2]  # the rare term decides; doc 0 shares no term
    assert all(score > 0 for _, score in top) and top[0][1] > top[1][1]
    assert index.scores(tokenize("nothing matches zzz")).tolist() == [0.0] * 4
    assert index.top(tokenize("unknownword"), 5) == []
    assert index.top(tokenize("salary"), 1) == [index.top(tokenize("salary"), 5)[0]]


def test_bm25_matches_the_lucene_formula_by_hand():
    docs = [["a", "b"], ["a", "a", "c"], ["d"]]
    index = KeywordIndex.build(docs, k1=K1, b=B)
    avgdl, n = 2.0, 3
    idf = np.log(1 + (n - 2 + 0.5) / (2 + 0.5))  # "a" is in 2 of 3 documents
    for doc, tokens in enumerate(docs[:2]):
        tf, dl = tokens.count("a"), len(tokens)
        expected = idf * tf / (tf + K1 * (1 - B + B * dl / avgdl))
        assert index.scores(["a"])[doc] == pytest.approx(expected, rel=1e-5)


def test_keyword_index_save_and_load_round_trip(tmp_path):
    docs = [tokenize(t) for t in ("lead engineer salary", "research scientist PhD", "CircleCI Jenkins")]
    index = KeywordIndex.build(docs)
    index.save(tmp_path / "kw")
    loaded = KeywordIndex.load(tmp_path / "kw", docs)
    for query in ("salary", "PhD scientist", "circleci jenkins lead"):
        assert np.allclose(loaded.scores(tokenize(query)), index.scores(tokenize(query)))


# ----- in the knowledge base ---------------------------------------------------------------------
def _paragraph_tokens() -> list[list[str]]:
    """Token lists of every paragraph of the shipped articles: a real vocabulary, no model needed."""
    corpus = Path(__file__).resolve().parent.parent / "corpus"
    return [tokenize(block) for path in sorted(corpus.glob("*.txt"))
            for block in path.read_text(encoding="utf-8").split("\n\n") if block.strip()]


QUERIES = ("lead machine learning engineer salary", "do I need a PhD research scientist",
           "Python SQL Tableau skills", "CircleCI Jenkins deployment", "glassdoor 153,000")


def test_bm25_scores_equal_bm25s_indexing_the_same_tokens():
    import bm25s

    docs = _paragraph_tokens()
    ours = KeywordIndex.build(docs)
    theirs = bm25s.BM25(k1=K1, b=B, method="lucene")
    theirs.index([d or ["\x00empty"] for d in docs], show_progress=False)
    assert len(docs) > 100
    for query in QUERIES:
        known = [t for t in tokenize(query) if t in theirs.vocab_dict]
        np.testing.assert_allclose(ours.scores(tokenize(query)), theirs.get_scores(known), rtol=1e-5, atol=1e-6)


def test_a_saved_index_over_other_documents_is_refused(tmp_path):
    docs = _paragraph_tokens()[:10]
    KeywordIndex.build(docs).save(tmp_path / "kw")
    assert KeywordIndex.load(tmp_path / "kw", docs).size == 10
    with pytest.raises(ValueError, match="11 chunks"):  # read_version turns it into CorruptIndex
        KeywordIndex.load(tmp_path / "kw", docs + [["new"]])


def test_an_index_over_no_documents_scores_nothing():
    empty = KeywordIndex.build([], k1=1.2)
    assert empty.k1 == 1.2 and empty.b == B and empty.size == 0
    assert empty.top(["salary"], 5) == [] and empty.scores(["salary"]).shape == (0,)


def test_keyword_search_finds_circleci_in_the_tools_chunk(kb):
    hits = kb.search("CircleCI", k=3, mode="bm25")
    assert hits[0].source == RS_VS_LEAD and "CircleCI" in hits[0].text
    assert hits[0].section[0].startswith("Tools and Software Used")
    assert len(hits) == 1  # no other passage contains the term


def test_stored_terms_are_the_section_and_text_tokens(kb):
    for record in kb.snapshot.records:
        assert list(record.terms) == keyword_terms(record.chunk)
    manifest = kb.snapshot.manifest["keyword"]
    assert manifest == {"library": "bm25s", "k1": K1, "b": B}


def test_search_never_rebuilds_the_keyword_index(kb, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the keyword index was rebuilt at query time")

    monkeypatch.setattr(KeywordIndex, "build", refuse)
    monkeypatch.setattr(KeywordIndex, "load", refuse)
    for mode in ("bm25", "hybrid"):
        assert kb.search("Which CI/CD tools do lead engineers use?", k=3, mode=mode)


def test_incremental_update_persists_the_keyword_index(writable, settings):
    corpus, index = writable
    kb = KnowledgeBase.load(index, settings)
    old_terms = {r.chunk.chunk_id: r.terms for r in kb.snapshot.records}
    assert kb.search("Zorblatt", k=3, mode="bm25") == []
    (corpus / "zz_rare.txt").write_text(RARE_ARTICLE, encoding="utf-8")
    report = kb.update(corpus)
    assert report.added == ("zz_rare.txt",) and report.chunks_embedded >= 1

    hits = kb.search("Zorblatt", k=3, mode="bm25")
    assert hits and {h.source for h in hits} == {"zz_rare.txt"}
    assert kb.search("Zorblatt simulator", k=1, mode="hybrid")[0].source == "zz_rare.txt"
    # Old chunks keep their stored tokens (only the new article was tokenized), and the BM25 index has
    # one document per FAISS id.
    for record in kb.snapshot.records:
        if record.chunk.source != "zz_rare.txt":
            assert record.terms == old_terms[record.chunk.chunk_id]
    assert kb.snapshot.keyword.size == len(kb.snapshot.records) == kb.snapshot.faiss_index.ntotal

    # The keyword index on disk is the updated one: a fresh process reloads it and scores identically.
    version = current_version(index)
    assert (version / "keyword").is_dir()
    assert any(name.startswith("keyword/") for name in kb.snapshot.manifest["checksums"])
    reloaded = KnowledgeBase.load(index, settings, corpus=corpus)
    query = tokenize("Zorblatt guild salary")
    assert np.allclose(reloaded.snapshot.keyword.scores(query), kb.snapshot.keyword.scores(query))
    assert reloaded.search("Zorblatt", k=1, mode="bm25")[0].source == "zz_rare.txt"

    # Removing the article removes its terms too: nothing stale is left to match.
    (corpus / "zz_rare.txt").unlink()
    kb.update(corpus)
    assert kb.search("Zorblatt", k=3, mode="bm25") == []
    assert KnowledgeBase.load(index, settings).search("Zorblatt", k=3, mode="bm25") == []
