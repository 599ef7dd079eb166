"""Retrieval: fusion arithmetic, hybrid search on a tiny corpus and on the real one, diversity across
articles and roles, and neighbour expansion of passages cut inside a list."""
from __future__ import annotations

import pytest
from conftest import DS_VS_LEAD, MLE_VS_LEAD, RESEARCHER_VS_ENGINEER, RS_VS_LEAD

from careerbot import KnowledgeBase, Settings
from careerbot.retrieve.search import convex_fuse, diversify, expand_text, rrf_fuse


# ----- fusion arithmetic -------------------------------------------------------------------------
def test_rrf_by_hand():
    fused = rrf_fuse([[3, 1], [1, 2]], [1.0, 1.0], 60)
    assert [doc for doc, _ in fused] == [1, 3, 2]
    assert dict(fused) == pytest.approx({1: 1 / 62 + 1 / 61, 3: 1 / 61, 2: 1 / 62})
    # Weighting the first list 4x (rrf_k 1) lifts its top document (4/2 = 2) over the one both lists
    # share (4/3 + 1/2).
    assert rrf_fuse([[3, 1], [1, 2]], [4.0, 1.0], 1)[:2] == [(3, pytest.approx(2.0)), (1, pytest.approx(4 / 3 + 0.5))]


def test_convex_by_hand():
    dense = {1: 0.9, 2: 0.5, 3: 0.7}
    keyword = {2: 8.0, 3: 4.0}
    # min-max dense: 1 → 1, 2 → 0, 3 → 0.5; BM25 over its max: 1 → 0, 2 → 1, 3 → 0.5.
    fused = convex_fuse(dense, keyword, 0.7)
    assert [doc for doc, _ in fused] == [1, 3, 2]
    assert dict(fused) == pytest.approx({1: 0.7, 3: 0.5, 2: 0.3})
    assert [doc for doc, _ in convex_fuse(dense, keyword, 0.2)] == [2, 3, 1]
    assert convex_fuse({}, {}, 0.5) == []
    assert convex_fuse({5: 0.3}, {}, 0.5) == [(5, 0.5)]  # one candidate: normalized dense is 1


def test_diversify_caps_each_article_but_fills_k():
    ranked = [(0, 0.9), (1, 0.8), (2, 0.7), (3, 0.6), (4, 0.5)]
    sources = ["a", "a", "a", "b", "c"]
    assert [d for d, _ in diversify(ranked, sources, 3, 2)] == [0, 1, 3]
    assert [d for d, _ in diversify(ranked, sources, 5, 1)] == [0, 3, 4, 1, 2]  # too few others: refill
    assert [d for d, _ in diversify(ranked, sources, 3, 0)] == [0, 1, 2]  # 0 switches it off


# ----- hybrid on a tiny corpus (real model, real FAISS and BM25) ---------------------------------
TINY = {
    "a_pay.txt": "Pay at Northwind\n\nSalaries\n\nA senior platform engineer at Northwind is paid 140,000 "
                 "dollars a year, plus a yearly bonus.\n",
    "b_tools.txt": "Build tooling at Northwind\n\nTooling\n\nEvery service is released through the QX-7 "
                   "pipeline, which runs the unit tests before each release.\n",
    "c_people.txt": "Working at Northwind\n\nCulture\n\nTeams meet every Monday to plan the week and share "
                    "what they learned.\n",
}


@pytest.fixture(scope="module")
def tiny_kb(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("tiny_corpus")
    for name, text in TINY.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return KnowledgeBase.build(corpus, tmp_path_factory.mktemp("tiny_index"), Settings(progress="off"))


def test_hybrid_finds_an_exact_code_name_through_bm25(tiny_kb):
    assert [h.source for h in tiny_kb.search("QX-7", k=3, mode="bm25")] == ["b_tools.txt"]
    assert tiny_kb.search("QX-7", k=1, mode="hybrid")[0].source == "b_tools.txt"


def test_hybrid_finds_a_paraphrase_through_the_embeddings(tiny_kb):
    query = "compensation of staff developers"  # shares no word with the pay passage
    assert tiny_kb.search(query, k=3, mode="bm25") == []
    assert tiny_kb.search(query, k=1, mode="dense")[0].source == "a_pay.txt"
    assert tiny_kb.search(query, k=1, mode="hybrid")[0].source == "a_pay.txt"


def test_hybrid_scores_are_fused_and_similarity_is_cosine(tiny_kb):
    hits = tiny_kb.search("QX-7 release pipeline", k=3, mode="hybrid")
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert hits == sorted(hits, key=lambda h: -h.score)
    dense = {h.chunk_id: h.similarity for h in tiny_kb.search("QX-7 release pipeline", k=3, mode="dense")}
    for hit in hits:
        assert hit.similarity == pytest.approx(dense[hit.chunk_id], abs=1e-5)


# ----- the real corpus: golden rankings, diversity and expansion --------------------------------
def test_lead_salary_question_ranks_the_glassdoor_passage_first(kb):
    for mode in ("hybrid", "dense"):
        top = kb.search("How much does a Lead Machine Learning Engineer earn?", k=5, mode=mode)[0]
        assert top.source == MLE_VS_LEAD and "$153,000" in top.text and top.section == ("Outlook",)


def test_exact_term_needs_bm25(kb):
    """Dense search alone misses "CircleCI"; hybrid puts the one passage that has it first."""
    dense = kb.search("CircleCI", k=1, mode="dense")[0]
    assert "CircleCI" not in dense.text
    hybrid = kb.search("CircleCI", k=1, mode="hybrid")[0]
    assert "CircleCI" in hybrid.text and hybrid.source == RS_VS_LEAD


def test_comparison_question_sees_both_roles(kb):
    hits = kb.search("how is a data scientist different from a lead ML engineer?", k=5)
    assert hits[0].source == DS_VS_LEAD
    texts = [f"{h.section_name}\n{h.text}".lower() for h in hits]
    assert any("data scientist" in t for t in texts)
    assert any("lead machine learning engineer" in t for t in texts)


@pytest.mark.parametrize("question, sources", [
    ("What salary figures do the articles give for machine learning engineers?",
     {RESEARCHER_VS_ENGINEER, MLE_VS_LEAD}),
    ("What employment growth figures do the articles cite from the Bureau of Labor Statistics?",
     {RS_VS_LEAD, DS_VS_LEAD}),
])
def test_question_across_articles_sees_every_article(kb, question, sources):
    assert sources <= {h.source for h in kb.search(question, k=5)}


def test_per_article_cap_makes_room_for_other_articles(kb, settings):
    question = "What does a data scientist do?"
    capped = kb.search(question, k=5)
    assert max(sum(h.source == s for h in capped) for s in {h.source for h in capped}) <= settings.per_article_cap
    uncapped = KnowledgeBase.load(kb.index_dir, settings.with_overrides(per_article_cap=0)).search(question, k=5)
    assert len({h.source for h in capped}) >= len({h.source for h in uncapped})


def test_passage_cut_inside_a_list_is_continued_from_the_next_chunk(kb):
    snapshot = kb.snapshot
    expanded = [i for i in range(len(snapshot.records)) if expand_text(snapshot, i) != snapshot.records[i].chunk.text]
    assert expanded, "the corpus has lists split across chunks; expansion should apply to some"
    for i in expanded:
        this, following = snapshot.records[i].chunk, snapshot.records[i + 1].chunk
        assert (following.source, following.section) == (this.source, this.section)
        extra = expand_text(snapshot, i)[len(this.text):].strip().split("\n")
        assert all(line.startswith("- ") and line in following.text.split("\n") for line in extra)
        assert not set(extra) & set(this.text.split("\n"))
    # A hit on such a passage carries the continuation; with expansion off it does not.
    chunk = snapshot.records[expanded[0]].chunk
    query = chunk.text.split("\n")[-1].lstrip("- ")
    hit = next(h for h in kb.search(query, k=5) if h.chunk_id == chunk.chunk_id)
    assert hit.text == expand_text(snapshot, expanded[0]) and len(hit.text) > len(chunk.text)
    plain = KnowledgeBase.load(kb.index_dir, kb.settings.with_overrides(expand_neighbours=False))
    hit = next(h for h in plain.search(query, k=5) if h.chunk_id == chunk.chunk_id)
    assert hit.text == chunk.text


def test_chunks_that_end_in_prose_are_not_expanded(kb):
    snapshot = kb.snapshot
    for i, record in enumerate(snapshot.records):
        if not record.chunk.text.split("\n")[-1].startswith("- "):
            assert expand_text(snapshot, i) == record.chunk.text
