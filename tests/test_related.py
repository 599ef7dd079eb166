"""Related terms told by the bundled embedding model: a question's word may stand for a heading's word."""
from careerbot.answer.related import RelatedTerms


def test_related_words_are_found_and_opposites_are_not(kb):
    related = RelatedTerms(kb.embedder(), ["education", "responsibilities", "salary", "easy", "first"])
    assert "educ" in related.alternatives("schooling")
    assert "respons" in related.alternatives("duties")
    assert "salari" in related.alternatives("wage")
    assert related.alternatives("hard") == frozenset({"hard"})  # "easy" is near in vectors, opposite in meaning
    assert related.alternatives("second") == frozenset({"second"})


def test_a_question_is_read_word_by_word(kb):
    related = RelatedTerms.of(kb.snapshot, kb.embedder())
    assert related.words and all(w == w.lower() for w in related.words)
    found = related.alternatives_of("What duties does a lead ML engineer have?")
    assert set(found) >= {"duti", "lead", "engin"} and all(stem in alts for stem, alts in found.items())
