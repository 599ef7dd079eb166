"""Questions of several parts (no model): where a question asks two things, each part is found; a part that
only names articles stays with the one before; context before a colon and choices after one reach every
part; a single question stays whole."""
from __future__ import annotations

from careerbot.answer.parts import MAX_PARTS, split_question


def asked(question: str, names_only=lambda part: False) -> list[str]:
    return [p.asked for p in split_question(question, names_only)]


def test_a_question_asking_two_things_is_split_at_the_second_question_word():
    assert asked("How common is nursing as a second career, and why did the night-shift nurse leave?") == [
        "How common is nursing as a second career", "why did the night-shift nurse leave?"]
    assert asked("What does a paralegal earn? And how long is the training?") == [
        "What does a paralegal earn?", "how long is the training?"]


def test_one_question_stays_whole():
    for question in ("What do electricians and plumbers earn?", "How and why do teachers burn out?",
                     "Is a degree needed, or is experience enough", "what does a UX designer do?"):
        assert asked(question) == [question]


def test_a_part_that_only_names_articles_stays_with_the_question_it_scopes():
    names = lambda part: part.startswith("What do the")  # noqa: E731 — stands in for the reference check
    assert asked("Do I need a degree to teach? What do the certification guide and the Harris post say?",
                 names) == ["Do I need a degree to teach? What do the certification guide and the Harris post say?"]


def test_opening_context_that_names_articles_reaches_every_part():
    names = lambda part: part.startswith("From the")  # noqa: E731
    parts = split_question("From the nursing guide: how long is the degree, and what does it cost?", names)
    assert [p.searched for p in parts] == ["From the nursing guide: how long is the degree",
                                           "From the nursing guide: what does it cost?"]
    # Background about the asker stays with the first part only.
    parts = split_question("I'm moving into teaching: how common is it, and why do teachers quit?", lambda p: False)
    assert parts[1].searched == "why do teachers quit?"


def test_choices_offered_at_the_end_reach_every_part():
    parts = split_question("Which needs a licence, and which needs a degree: electrician or paralegal?",
                           lambda p: False)
    assert [p.searched for p in parts] == ["Which needs a licence: electrician or paralegal?",
                                           "which needs a degree: electrician or paralegal?"]


def test_too_many_clauses_read_as_one_question():
    question = ", and ".join(["what is the pay"] * (MAX_PARTS + 1)) + "?"
    assert asked(question) == [question]


def test_opening_context_reaches_every_part_whatever_word_starts_the_first():
    names = lambda part: part.startswith("From the")  # noqa: E731
    parts = split_question("From the nursing guide: after how many shifts did it click, and what does she "
                           "suggest for sleep?", names)
    assert [p.searched for p in parts] == ["From the nursing guide: after how many shifts did it click",
                                           "From the nursing guide: what does she suggest for sleep?"]
