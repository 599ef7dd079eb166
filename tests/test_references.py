"""The articles a question names (references.py), model-free, over titles in two domains."""
from careerbot.answer.references import find_references
from careerbot.answer.rewrite import terms

TITLES = {
    "nights.md": "The Night-Shift Survival Guide for New Nurses",
    "left.md": "Why I Left Nursing",
    "pay.md": "Registered Nurse Salary by State",
    "second.md": "Teaching as a Second Career",
    "quit.txt": "Why I Quit Teaching",
    "roles.md": "Teacher and Teaching Assistant: Who Does What?",
    "which.html": "Are you a teacher or a teaching assistant?",
}
BYLINES = {"pay.md": "By Dana Whitfield, Careers at Medscape", "second.md": ""}


def find(question: str):
    return find_references(question, TITLES, BYLINES, known={"careers", "by"}, terms=terms)


def test_a_quoted_title_scopes_the_answer_and_leaves_the_question():
    ref = find("In 'Why I Quit Teaching', how many class periods were there in a day?")
    assert ref.scoped == {"quit.txt"}
    assert "Quit" not in ref.rest and "class periods" in ref.rest


def test_curly_quotes_and_the_author_of_a_named_article():
    ref = find("How many years did the author of “Why I Left Nursing” work nights?")
    assert ref.scoped == {"left.md"}
    assert set(terms("author")) <= ref.consumed  # "the author" is the named article's writer, not a topic


def test_of_titles_sharing_the_quoted_words_the_closest_spelling_wins():
    assert find("What does 'Are you a teacher or a teaching assistant?' say about grading?").scoped == {"which.html"}


def test_a_description_ending_in_a_word_for_writing():
    ref = find("What does the night-shift survival guide say about sleep?")
    assert ref.scoped == {"nights.md"}
    assert "sleep" in ref.rest and "survival" not in ref.rest


def test_a_description_after_on_stops_where_the_title_words_stop():
    ref = find("Which state does the article on registered nurse salary rank highest?")
    assert ref.scoped == {"pay.md"}
    assert "rank highest" in ref.rest


def test_two_named_articles_scope_both():
    ref = find("What do the second career article and the quit teaching essay say about pay?")
    assert ref.scoped == {"second.md", "quit.txt"}


def test_articles_about_a_topic_name_every_tied_title_and_one_article_the_closest():
    both = find("Do the two articles about teachers and teaching assistants think the roles overlap?")
    assert both.scoped == {"roles.md", "which.html"}  # the rest of the question does not describe them
    assert "overlap" in both.rest
    one = find("In the guide on who does what between teachers and teaching assistants, who grades?")
    assert one.scoped == {"roles.md"}


def test_a_publisher_in_the_byline_favours_without_scoping():
    ref = find("What does the Medscape article say nurses earn?")
    assert ref.favoured == {"pay.md"} and not ref.scoped
    assert "medscap" in ref.consumed


def test_ordinary_questions_name_no_article():
    for question in ("What does a registered nurse earn in Ohio?", "Is teaching a good second career?",
                     "What's the best guide for new nurses?", "I'm a nurse; what's the pay like?"):
        ref = find(question)
        assert not ref.scoped and not ref.favoured, question
        assert ref.rest == question


def test_a_roadmap_or_a_handbook_is_a_piece_of_writing_too():
    ref = find("What does the new nurses night-shift roadmap say about sleep?")
    assert ref.scoped == {"nights.md"}
    assert "sleep" in ref.rest and "roadmap" not in ref.rest
