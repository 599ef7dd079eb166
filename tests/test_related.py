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


def test_corpus_words_come_from_titles_headings_and_text_one_spelling_per_stem():
    from careerbot.answer.related import corpus_words
    from careerbot.records import Chunk

    chunks = [Chunk("a#0", "a", "Becoming a Midwife", ("Training",), None, 0,
                    "Most midwives begin work immediately after training."),
              Chunk("a#1", "a", "Becoming a Midwife", ("Training",), None, 1, "Trainees begin on wards.")]
    words = corpus_words(chunks)
    assert {"becoming", "midwife", "training", "begin", "immediately", "wards"} <= set(words)
    assert "the" not in words and "a" not in words  # stopwords are never related terms
    assert len([w for w in words if w.startswith("begin")]) == 1


def test_a_clipped_word_stands_for_the_articles_word_it_begins(kb):
    related = RelatedTerms(kb.embedder(), ["physiotherapy", "graduate", "gradient", "administrator", "admiral"])
    assert "physiotherapi" in related.alternatives("physio")  # "physio" is a word the articles never use
    assert "administr" in related.alternatives("admin")
    # Beginning alike is not enough: the model must agree ("grad" is not "gradient", nor "admin" "admiral").
    assert "graduat" in related.alternatives("grad") and "gradient" not in related.alternatives("grad")
    assert "admir" not in related.alternatives("admin")
