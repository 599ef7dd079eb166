"""Entities learned from a corpus's own titles, headings and text, in more than one domain (model-free)."""
from careerbot.answer.entities import Lexicon, Mention, fit
from careerbot.answer.rewrite import Vocabulary, content_terms, expand, rewrite_query

NURSING = Lexicon.build(
    titles=["How to Become a Registered Nurse", "Nurse Practitioner vs. Registered Nurse: Pay and Duties"],
    headings=["Salary", "Education", "Registered Nurse", "Nurse Practitioner", "Lead Nurse"],
    bodies=["A Registered Nurse (RN) cares for patients. Many nurses who start as an RN later work as a nurse "
            "practitioner. To become a registered nurse you need a degree.",
            "Nurse practitioners earn more than registered nurses. A lead nurse manages a ward; as a lead nurse "
            "you schedule shifts. Nurses who lead teams are valued."])
TEACHING = Lexicon.build(
    titles=["Teaching as a Second Career", "What Does a Substitute Teacher Do?"],
    headings=["Certification", "Substitute Teacher", "Special Education Teacher"],
    bodies=["Many teachers who switch careers work as a substitute teacher first. As a special education "
            "teacher you adapt lessons.", "Teachers who hold a licence earn more. Become a teacher in two years."])


def names(lexicon: Lexicon, text: str) -> list[str]:
    return [m.text for m in lexicon.mentions(text)]


def test_entities_come_from_titles_and_headings_in_any_domain():
    assert names(NURSING, "What does a registered nurse earn?") == ["registered nurse"]
    assert names(NURSING, "nurse practitioner vs registered nurse pay") == ["nurse practitioner", "registered nurse"]
    assert names(TEACHING, "how do I become a substitute teacher?") == ["substitute teacher"]
    assert names(TEACHING, "what do special education teachers do?") == ["special education teachers"]
    # Words that are no entity in this corpus are not mistaken for one.
    assert names(NURSING, "what is the salary?") == []
    assert names(TEACHING, "what does a registered nurse earn?") == []


def test_acronyms_defined_in_the_text_stand_for_their_entity():
    rn, = NURSING.mentions("How much does an RN make?")
    full, = NURSING.mentions("How much does a registered nurse make?")
    assert rn.terms == full.terms
    assert expand("How much does an RN make?", NURSING) == "How much does an RN make? (registered nurse)"
    assert content_terms("registered nurse salary", NURSING) == content_terms("RN salary", NURSING)


def test_a_qualifier_narrows_an_entity():
    lead, = NURSING.mentions("what does a lead nurse do?")
    plain, = NURSING.mentions("what does a nurse do?")
    assert lead.qualifiers and not plain.qualifiers and lead.terms == plain.terms
    assert fit(lead, [lead]) == 1.0
    assert fit(lead, [plain]) < fit(plain, [lead]) < 1.0  # plain nurses answer for lead ones only in part
    assert fit(plain, [Mention("teacher", frozenset({"teacher"}))]) == 0.0


def test_an_unknown_acronym_before_an_entity_stays_part_of_it():
    lexicon = Lexicon.build(["Designer Careers"], ["Designer"],
                            ["Designers who work as a designer earn well. As a designer you draw."])
    ux, ui = lexicon.mentions("UX designer or UI designer?")
    assert (ux.text, ui.text) == ("UX designer", "UI designer") and ux.terms != ui.terms


def test_follow_ups_resolve_to_the_entity_under_discussion():
    vocab = Vocabulary.build(["registered nurse salary education", "lead nurse duties"], lexicon=NURSING)
    history = [{"role": "user", "content": "What does a registered nurse earn?"},
               {"role": "assistant", "content": "About $80,000 [1]."}]
    assert rewrite_query("and what education do they need?", history, vocab) == \
        "and what education do registered nurse need?"
    assert rewrite_query("what about a nurse practitioner?", history, vocab) == \
        "What does a nurse practitioner earn?"
    assert rewrite_query("and the lead?", history, vocab).lower() == "what does a lead registered nurse earn?"


def test_a_word_the_corpus_never_uses_makes_another_entity():
    robotics, = TEACHING.mentions("What does a robotics teacher earn?")
    substitute, = TEACHING.mentions("What does a substitute teacher earn?")
    plain = Mention("teacher", frozenset({"teacher"}))
    assert robotics.text == "robotics teacher" and fit(robotics, [plain]) < 0.6 <= fit(substitute, [substitute])
    # Stopwords and modifiers in between do not count: "among substitute teachers" is about substitute teachers.
    among, = TEACHING.mentions("is a licence common among substitute teachers?")
    assert among.text == "substitute teachers"


def test_an_acronym_of_an_acronym_and_a_word_is_one_entity_with_both_spellings():
    # "ICU" is "intensive care unit"; "ICUN" spells "ICU nurse" with the shorter acronym inside it.
    lexicon = Lexicon.build(
        ["Intensive Care Unit Nurse Salaries", "Life as an ICU Nurse"], ["Intensive Care Unit Nurse", "Nurse"],
        ["An intensive care unit (ICU) is busy. Nurses who work there, as an intensive care unit nurse (ICUN), "
         "train long. As a nurse you rotate. The ICUN role pays well; an ICUN works nights; ICUN shifts vary."])
    short, = lexicon.mentions("What does an ICUN earn?")
    spelled, = lexicon.mentions("What does an ICU nurse earn?")
    full, = lexicon.mentions("What does an intensive care unit nurse earn?")
    assert (short.terms, short.qualifiers) == (spelled.terms, spelled.qualifiers) == (full.terms, full.qualifiers)
    assert lexicon.terms("ICUN") == lexicon.terms("ICU nurse")


def test_a_different_qualifier_fits_less_than_a_plain_entity():
    lead, = NURSING.mentions("what does a lead nurse do?")
    plain, = NURSING.mentions("what does a nurse do?")
    other = Mention("charge nurse", lead.terms, frozenset({"charg"}))
    assert fit(lead, [other]) < fit(lead, [plain])


def test_a_shorter_name_in_an_article_set_apart_by_the_missing_words_is_the_asked_entity():
    asked = Mention("charter school teacher", frozenset({"charter", "school", "teacher"}))
    brief = Mention("teacher", frozenset({"teacher"}))
    article = frozenset({"charter", "school", "teacher", "quit"})
    assert fit(asked, [brief]) < 0.6  # alone, "teacher" names only a third of the asked entity
    assert fit(asked, [brief], article, distinctive=frozenset({"charter"})) >= 0.8
    # Words every article uses ("school" here) set no article apart: the brief name stays another entity.
    assert fit(asked, [brief], article, distinctive=frozenset()) < 0.6
    # A different entity with a shared word is never the asked one, whatever the article says.
    other = Mention("substitute teacher", frozenset({"substitute", "teacher"}))
    assert fit(asked, [other], article | {"substitute"}, frozenset({"charter", "substitute"})) < 0.6


def test_the_words_that_set_articles_apart_are_derived_from_the_corpus():
    from types import SimpleNamespace

    chunk = lambda source, text: SimpleNamespace(source=source, title=source, section_name="", text=text)  # noqa: E731
    chunks = [chunk("a.md", "charter school teachers quit"), chunk("b.md", "school nurses work shifts"),
              chunk("c.md", "school electricians wire houses")]
    vocab = Vocabulary.build([c.text for c in chunks], lexicon=TEACHING).with_articles(chunks)
    assert "charter" in vocab.distinctive and "school" not in vocab.distinctive
    assert "charter" in vocab.article_terms["a.md"] and "charter" not in vocab.article_terms["b.md"]


def test_an_articles_main_entities_are_the_ones_its_text_names_most():
    from types import SimpleNamespace

    chunk = lambda source, text: SimpleNamespace(source=source, title=source, section_name="", text=text)  # noqa: E731
    chunks = [chunk("quit.md", "Teachers burn out. Good teachers leave."), chunk("quit.md", "Teachers are tired."),
              chunk("quit.md", "A nurse came by once."), chunk("ward.md", "Nurses work shifts. A nurse sleeps.")]
    vocab = Vocabulary.build([c.text for c in chunks], lexicon=TEACHING).with_articles(chunks)
    assert {m.text.lower() for m in vocab.article_entities["quit.md"]} == {"teachers"}  # the nurse, named once, is not
    assert vocab.article_entities.get("ward.md", ()) == ()  # this lexicon knows no nurses


def test_an_acronym_inside_an_ampersand_abbreviation_names_no_entity():
    assert [m.text for m in NURSING.mentions("Ask an RN about the ward.")] == ["RN"]
    assert NURSING.mentions("Classic RN&A questions") == ()  # "RN&A" is its own abbreviation, like "R&D"
    assert NURSING.mentions("Q&RN") == ()


def test_a_plain_word_for_any_occupation_names_no_entity():
    # "career" ends in an agent-noun suffix, is in a title and is used "as a second career", yet names no
    # particular occupation: "a data career" asks about no entity.
    lexicon = Lexicon.build(titles=["Teaching as a Second Career", "Choosing a Career in Data"], headings=[],
                            bodies=["Many people take up teaching as a second career.", "Careers in data grow.",
                                    "She chose teaching as a second career after a career in sales."])
    assert "career" not in lexicon.heads
    assert names(lexicon, "Do I need a degree for a data career?") == []


def test_an_asked_entity_is_named_by_words_written_before_a_mention_or_clipped_from_them():
    from careerbot.answer.evidence import _widened

    vocab = Vocabulary.build(["Most new graduate nurses start on nights.", "A lead nurse manages a ward."],
                             lexicon=NURSING)
    asked = list(NURSING.mentions("Why do new grad nurses end up on nights?"))
    text = "Most new graduate nurses start on night shifts."
    (named,) = _widened(NURSING.mentions(text), text, asked, vocab)
    assert fit(asked[0], [named]) == 1.0  # "grad" is clipped from "graduate", a word the articles never clip
    assert fit(asked[0], NURSING.mentions(text)) < 0.5
    # A word the articles use is never read as clipped: "lead" does not begin "leadership".
    lead = list(NURSING.mentions("what do lead nurses earn?"))
    text = "Nurses in leadership roles earn more."
    assert fit(lead[0], _widened(NURSING.mentions(text), text, lead, vocab)) < 1.0


def test_a_clipped_word_is_written_out_for_the_encoder():
    vocab = Vocabulary.build(["Physiotherapy is oversubscribed. Physiotherapy degrees take three years.",
                              "A physiotherapist treats patients."], english=frozenset({"is", "hard"}),
                             lexicon=NURSING)
    assert vocab.unclipped("physio") == "physiotherapy"  # the articles' most used word it begins
    assert vocab.unclipped("physiotherapy") is None and vocab.unclipped("hard") is None  # known words stay
    assert expand("is physio hard to get into?", NURSING, vocab) == "is physio hard to get into? (physiotherapy)"
    assert expand("is physio hard to get into?", NURSING) == "is physio hard to get into?"


def test_a_title_that_says_how_someone_became_one_names_a_role_whatever_its_ending():
    lexicon = Lexicon.build(titles=["How I Became an Airline Pilot at 34"], headings=["What it costs"],
                            bodies=["Most pilots build hours as instructors.", "Airline pilots retire at 65."])
    assert names(lexicon, "what do pilots earn?") == ["pilots"]
    assert names(Lexicon.build(titles=["Flying at 34"], headings=[], bodies=["Pilots retire at 65."]),
                 "what do pilots earn?") == []  # no title or sentence speaks of it as a role


def test_a_heading_that_asks_what_someone_does_names_a_role():
    lexicon = Lexicon.build(titles=["The Plumbing Apprenticeship in Canada"], headings=["What a plumber actually does"],
                            bodies=["Plumbers fix pipes in new houses.", "Most plumbers work for contractors."])
    assert names(lexicon, "what do plumbers earn?") == ["plumbers"]
    assert names(Lexicon.build(titles=["The Plumbing Apprenticeship"], headings=["Pay"],
                               bodies=["Plumbers fix pipes in new houses."]), "what do plumbers earn?") == []
