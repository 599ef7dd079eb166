"""Questions that name an article, and follow-ups, answered with the real model over small corpora outside
AI (nursing, teaching, design pages in tests/fixtures/pages)."""
import shutil

import pytest

from careerbot import KnowledgeBase

PAGES = "tests/fixtures/pages"
# (question, history, the file it must be answered from, a fact that must be in the answer)
NAMED = [
    ("In 'Three Paths to a Teaching Certificate', what do principals value when they hire?", [],
     "teacher_certification_paths.html", "supervised practice"),
    ("What does “Switching to a Career in Teaching” give as the median salary for high school teachers?", [],
     "teacher_career_change.txt", "62,360"),
    ("According to the night shift nursing guide, what helps more than sleep aids?", [],
     "nurse_night_shift_guide.md", "blackout curtains"),
    ("how long do those programs take?",
     [{"role": "user", "content": "How do career changers become teachers?"},
      {"role": "assistant", "content": "Many states offer alternative certification for career changers."}],
     "teacher_career_change.txt", "one to two years"),
]


@pytest.fixture(scope="module")
def pages_kb(tmp_path_factory, settings):
    root = tmp_path_factory.mktemp("named")
    shutil.copytree(PAGES, root / "corpus")
    return KnowledgeBase.build(root / "corpus", root / "index", settings)


def test_named_articles_and_follow_ups_are_answered_from_those_articles(pages_kb):
    answers = [pages_kb.ask(question, history=history) for question, history, _, _ in NAMED]
    right = 0
    for (question, _, source, fact), answer in zip(NAMED, answers, strict=False):
        if answer.abstained:
            continue
        # A named article scopes the answer: nothing else is quoted.
        assert {c.hit.source for c in answer.citations} == {source}, (question, answer.text)
        right += fact in answer.text.lower()
    assert right >= 3, [a.text for a in answers]


def test_a_question_naming_no_article_still_searches_them_all(pages_kb):
    answer = pages_kb.ask("What do registered nurses earn in California?")
    assert not answer.abstained and "137,690" in answer.text
    assert {c.hit.source for c in answer.citations} == {"nurse_salary_guide.md"}


def test_a_question_of_two_parts_is_answered_from_the_article_each_part_asks_about(pages_kb):
    answer = pages_kb.ask("What do registered nurses earn in California, and what helps night-shift nurses sleep "
                          "more than sleep aids?")
    assert not answer.abstained
    assert "137,690" in answer.text and "blackout curtains" in answer.text.lower(), answer.text
    assert {c.hit.source for c in answer.citations} == {"nurse_salary_guide.md", "nurse_night_shift_guide.md"}
    assert len(answer.text.split()) <= 160  # the two parts share one answer's length


def test_opening_words_that_name_articles_and_their_author_ask_nothing_of_their_own(pages_kb):
    from careerbot.answer.compose import _names_only

    assert _names_only(pages_kb, "From the night shift nursing guide and the nurse salary guide (same author)")
    assert not _names_only(pages_kb, "From the night shift nursing guide, on sleep")
