"""Composition on hand-built evidence (no model): an answer goes on with the next most relevant sentences of
the article it quotes while it is short, never past its word cap, never from an article it does not quote,
and never with sentences far below the best one."""
from __future__ import annotations

from careerbot.answer.compose import FILL_MARGIN, WORD_BUDGET, WORD_CAP, render, select
from careerbot.answer.evidence import Evidence, Unit, Verdict
from careerbot.answer.rewrite import asked_numbers
from careerbot.records import Hit

NURSING = Hit("nursing.md#0", "", 1.0, "Becoming a nurse", ("Training",), "nursing.md", None, 0)
TEACHING = Hit("teaching.md#0", "", 0.9, "Teaching as a second career", ("Routes",), "teaching.md", None, 0)


def unit(text: str, hit: Hit, score: float, position: int = 0) -> Unit:
    return Unit(text, hit, position, "", 0.7, 0.8, 0.8, 1.0, score)


def evidence(*units: Unit) -> Evidence:
    ranked = tuple(sorted(units, key=lambda u: -u.score))
    verdict = Verdict(True, "", 1.5, ranked[0], ranked)
    return Evidence("How long does nurse training take?", "How long does nurse training take?", ("long", "train"),
                    (), (NURSING, TEACHING), ranked, verdict)


def sentence(words: int, tag: str) -> str:
    return " ".join([tag] + ["word"] * (words - 2)) + " end."


def texts(blocks) -> list[str]:
    return [u.text for b in blocks for u in b.units]


def test_a_short_answer_goes_on_with_the_next_sentences_of_its_article():
    best = unit("A nursing degree takes three years.", NURSING, 2.0, 0)
    near = unit("An accelerated course takes eighteen months.", NURSING, 2.0 - FILL_MARGIN / 2, 1)
    far = unit("Nurses work in many places.", NURSING, 2.0 - 2 * FILL_MARGIN, 2)
    other = unit("Teachers train for a year.", TEACHING, 1.9, 0)
    chosen = texts(select(evidence(best, near, far, other)))
    assert chosen[0] == best.text and near.text in chosen
    assert far.text not in chosen  # too far below the best sentence
    # Another article as relevant joins as its own part, after the parts of the first article.
    assert other.text not in chosen or chosen.index(other.text) > chosen.index(near.text)



def test_filling_takes_a_sentence_with_a_figure_before_one_that_only_frames_the_topic():
    best = unit(sentence(WORD_BUDGET - 5, "best"), NURSING, 2.0, 0)  # room for one more sentence
    framing = unit("There is a lot to consider when choosing a nursing school.", NURSING, 1.75, 5)
    figure = unit("Four in five new nurses hold a bachelor's degree.", NURSING, 1.65, 9)
    chosen = texts(select(evidence(best, framing, figure)))
    assert chosen == [best.text, figure.text]

def test_filling_stops_at_the_budget_and_never_passes_the_cap():
    units = [unit(sentence(40, f"s{i}"), NURSING, 2.0 - 0.01 * i, i) for i in range(8)]
    blocks = select(evidence(*units))
    words = sum(len(t.split()) for t in texts(blocks))
    assert WORD_BUDGET <= words <= WORD_CAP
    text, citations = render(blocks)
    assert [c.n for c in citations] == [1] and text.count("[1]") == len(texts(blocks))


def test_a_long_best_sentence_is_not_padded():
    best = unit(sentence(WORD_BUDGET + 5, "long"), NURSING, 2.0, 0)
    near = unit("Another sentence of the article.", NURSING, 2.0 - FILL_MARGIN / 2, 1)  # a filler, not a runner-up
    assert texts(select(evidence(best, near))) == [best.text]


def test_numbers_that_describe_the_asker_are_not_asked_about():
    assert asked_numbers("im 35 with zero tech background, can i even break into data??") == []
    assert asked_numbers("I have 5 years of experience as a nurse, how do I switch?") == []
    assert asked_numbers("I'm 35, what did nurses earn in 2023?") == ["2023"]
    assert asked_numbers("What will I earn after 5 years?") == ["5"]
    assert asked_numbers("How many of the 3 routes need a degree?") == ["3"]


def test_money_is_told_apart_by_who_pays():
    from careerbot.answer.evidence import money_kind

    assert money_kind("How much does a nursing degree cost?") == "spent"
    assert money_kind("What do teachers earn in their first year?") == "earned"
    assert money_kind("Tuition is $9,000 and graduates earn $60,000") == ""  # both: no kind
    assert money_kind("Expect to earn an average of $65,000 per year.") == "earned"
    assert money_kind("Total cost: $1200.") == "spent"


def test_the_nearest_context_tells_which_money_a_unit_speaks_of():
    from dataclasses import replace

    from careerbot.answer.evidence import _other_kind

    pay = replace(NURSING, section=("Pay", "By state"))
    row = Unit("- State: Ohio; Mean wage: $80,000", pay, 1, "Living costs explain part of the gap in salary.",
               0.7, 0.8, 0.8, 1.0, 2.0)
    assert not _other_kind("earned", row)  # the row says "wage"; its lead-in's mixed words do not decide
    bare = replace(row, text="- Ohio: $80,000")
    assert _other_kind("earned", bare) and _other_kind("spent", bare)  # the lead-in speaks of both kinds
    plain = replace(bare, lead_in="The states:", hit=replace(NURSING, section=("Where nurses work",)))
    assert _other_kind("earned", plain)  # no word for money anywhere near the figure
    assert not _other_kind("earned", replace(plain, hit=pay))  # the heading "Pay" says it


def test_the_sentence_before_a_list_introduces_it_whatever_its_punctuation():
    from careerbot.answer.evidence import _lead_in

    texts_ = ["Nurses need a licence.", "These are the skills you will need.", "- Empathy", "- Stamina"]
    assert _lead_in(texts_, 2) == _lead_in(texts_, 3) == "These are the skills you will need."
    assert _lead_in(["- First item", "- Second"], 1) == ""


def test_function_words_and_single_letters_are_not_asked_about():
    from careerbot.answer.rewrite import content_terms

    assert content_terms("What do you need before you can get into a nursing course?") == ["nurs", "cours"]
    assert content_terms("can u become a teacher w/o a degree") == ["teacher", "degre"]


def test_the_next_sentence_of_a_quoted_one_comes_first_and_the_answer_reads_in_order():
    best = unit("You may disagree with the final plan.", NURSING, 2.0, 3)
    after = unit("Then say so, and commit to the decision.", NURSING, 2.0 - FILL_MARGIN * 0.8, 4)
    earlier = unit("Plans change often on a ward.", NURSING, 2.0 - FILL_MARGIN * 0.2, 1)
    chosen = texts(select(evidence(best, after, earlier)))
    assert chosen[0] == best.text  # the answering sentence leads
    assert after.text in chosen  # its continuation is taken although it scores lower
    assert chosen[1:] == [earlier.text, after.text]  # the rest as the article has them


def test_neighbours_with_alike_vectors_are_not_redundant_unless_their_words_repeat():
    import numpy as np

    v = np.ones(4) / 2
    first = replace_vector(unit("Voice your concerns in the meeting.", NURSING, 2.0, 1), v)
    other = replace_vector(unit("Then accept the decision and commit.", NURSING, 1.9, 2), v)
    again = replace_vector(unit("Voice your concerns in that meeting.", NURSING, 1.9, 3), v)
    chosen = texts(select(evidence(first, other, again)))
    assert other.text in chosen and again.text not in chosen


def replace_vector(u: Unit, vector) -> Unit:
    from dataclasses import replace

    return replace(u, vector=vector)


def test_chat_shorthand_is_spelled_out_unless_the_articles_use_it():
    from careerbot.answer.rewrite import spell_out as spell

    assert spell("avg pay w/o a degree, 2 yrs exp?", set()) == "average pay without a degree, 2 years experience?"
    assert spell("the info desk", {"info"}) == "the info desk"
    assert spell("avgas and bcrypt", set()) == "avgas and bcrypt"  # whole words only
    # A single letter alone in a question is shorthand, even where the articles write "x and y".
    assert spell("y did u quit, short version pls", {"y", "u"}) == "why did you quit, short version please"
    assert spell("what certs help a mgr?", set()) == "what certifications help a manager?"
    # A lone 4 or 2 after a particle or before a pronoun is a word; a count stays a number.
    assert spell("anything to watch out 4?", set()) == "anything to watch out for?"
    assert spell("is it good 4 me?", set()) == "is it good for me?"
    for counted in ("what are the top 4?", "I worked 4 years as a nurse", "what is level 2?"):
        assert spell(counted, set()) == counted


def test_a_question_naming_two_articles_hears_from_both():
    from dataclasses import replace

    best = unit("Nurses train for three years.", NURSING, 2.0, 0)
    close = unit("An accelerated course takes eighteen months.", NURSING, 1.95, 1)
    weaker = unit("Teachers train for a year.", TEACHING, 1.2, 0)
    ev = replace(evidence(best, close, weaker), named=frozenset({"nursing.md", "teaching.md"}))
    assert weaker.text in texts(select(ev))
    assert weaker.text not in texts(select(evidence(best, close, weaker)))  # named by neither: too weak


def item(text: str, hit: Hit, score: float, position: int, lead_in: str = "The skills you need:") -> Unit:
    return Unit(f"- {text}", hit, position, lead_in, 0.7, 0.8, 0.8, 1.0, score)


def test_a_long_list_is_cut_to_fit_a_chat_answer_keeping_its_best_items():
    from careerbot.answer.compose import ANSWER_WORDS, MIN_ITEMS

    items = [item(f"Skill {i}: " + " ".join(["word"] * 30) + ". A second sentence of this item goes on.", NURSING,
                  2.0 - 0.01 * i, i + 1) for i in range(6)]
    blocks = select(evidence(*items))
    text, _ = render(blocks)
    assert len(text.split()) <= ANSWER_WORDS + 5  # markers and the lead-in line
    kept = texts(blocks)
    assert len(kept) >= MIN_ITEMS and kept[0].startswith("- Skill 0") and "second sentence" not in " ".join(kept)


def test_a_list_split_over_two_passages_reads_as_one_list_with_each_part_cited():
    from dataclasses import replace

    later = replace(NURSING, chunk_id="nursing.md#1")
    first = [item(f"Skill {i}", NURSING, 2.0 - 0.01 * i, i + 1) for i in range(2)]
    rest = [item(f"Skill {i}", later, 1.9 - 0.01 * i, i + 1) for i in range(2, 4)]
    text, citations = render(select(evidence(*first, *rest)))
    assert text.count("The skills you need") == 1 and [c.n for c in citations] == [1, 2]
    assert text.index("[1]") < text.index("Skill 0") < text.index("Skill 3") < text.index("[2]")


def test_how_many_is_answered_by_a_count_or_range_of_the_things_in_related_words():
    from careerbot.answer.evidence import _answers_quantity

    question = "After how many practice problems did it click?"
    assert _answers_quantity(question, "After 300-400 problems, I got the hang of it.")
    assert not _answers_quantity(question, "After 300-400 questions, I got the hang of it.")
    related = {"problem": frozenset({"problem", "question"})}
    assert _answers_quantity(question, "After 300-400 questions, I got the hang of it.", related)
    assert _answers_quantity(question, "I did two to three problems a day.")
    assert not _answers_quantity(question, "I practised for 2 hours a day.", related)


def test_a_score_or_a_rate_is_a_figure_to_ask_for():
    from careerbot.answer.evidence import _FIGURE

    assert _FIGURE.search("What GRE score do nursing programs require?")
    assert _FIGURE.search("what pass rate does the licensing exam have?")
    assert not _FIGURE.search("How are nursing applicants scored and ranked?")


def test_a_figure_is_asked_for_outside_what_the_asker_tells_of_themselves():
    from careerbot.answer.evidence import asks_figure

    assert asks_figure("how much do electricians earn?")
    assert asks_figure("salary of a lead ML engineer, in the US?")
    assert asks_figure("My salary is 50k, what would I earn as a nurse practitioner?")
    assert asks_figure("I want to know the salary of a nurse")  # it tells nothing else, so it asks this
    assert not asks_figure("my employer might pay for my masters, anything I should watch out for?")
    assert not asks_figure("I earn 50k as a teacher. How do I switch to data analysis?")


def test_a_question_of_manner_about_money_asks_for_a_way_not_an_amount():
    from careerbot.answer.evidence import asks_figure

    assert not asks_figure("how can a nurse earn more money?")
    assert not asks_figure("How do teachers get paid more over the summer?")
    assert asks_figure("how much can a nurse earn on nights?")  # an amount, however it is asked
    assert asks_figure("How can I tell what percent of electricians are unionized?")  # a figure word stays one
    assert asks_figure("How does pay for a vet nurse compare with a care assistant?")  # compares amounts


def test_a_comparison_side_no_sentence_covers_is_described_by_the_section_named_for_it():
    from dataclasses import replace

    from careerbot.answer.entities import Mention

    nurse = Mention("registered nurse", frozenset({"nurs"}), frozenset({"regist"}))
    medic = Mention("paramedic", frozenset({"paramed"}))
    roles = Hit("roles.md#1", "", 1.0, "Nurse or paramedic?", ("Roles",), "roles.md", None, 1)
    medics = Hit("roles.md#3", "", 0.8, "Nurse or paramedic?", ("Roles", "Paramedics"), "roles.md", None, 3)
    asked = unit("Registered nurses are accountable for the care plan.", roles, 2.0, 0)
    intro = unit("I once worked beside a paramedic on a busy ward.", roles, 1.9, 1)
    section = unit("Paramedics are responsible for care on the way to hospital.", medics, 2.0 - 2 * FILL_MARGIN, 0)
    asked, intro, section = (replace(asked, mentioned=(nurse,)), replace(intro, mentioned=(medic,), aspect=0.2),
                             replace(section, mentioned=(medic,), aspect=0.2))
    ev = replace(evidence(asked, intro, section), query="What is each accountable for: registered nurse versus "
                 "paramedic?", asked_roles=(nurse, medic))
    chosen = texts(select(ev))
    assert asked.text in chosen and section.text in chosen  # a passing mention is no description of the side


def test_words_about_the_articles_themselves_are_not_asked_of_the_answer():
    from careerbot.answer.entities import Lexicon
    from careerbot.answer.evidence import asked_terms

    assert asked_terms("What growth figures do the articles cite from the BLS?", Lexicon()) == \
        asked_terms("What growth figures from the BLS?", Lexicon())
    assert "say" not in asked_terms("What does the author say about night shifts?", Lexicon())
    assert "blog" in asked_terms("Does writing a blog help you get hired?", Lexicon())  # a topic, not a source


def test_the_two_things_a_question_compares_are_told_apart_by_their_own_words():
    from careerbot.answer.compose import compared_sides
    from careerbot.answer.entities import Mention

    assert compared_sides("How does an apprenticeship differ from a trade school?") == [
        frozenset({"apprenticeship"}), frozenset({"trade", "school"})]
    assert compared_sides("What's the difference between night shifts and day shifts?") == [
        frozenset({"night"}), frozenset({"day"})]  # "shifts" is on both sides: it tells nothing apart
    nurse = Mention("nurses", frozenset({"nurs"}))
    assert compared_sides("bootcamp vs degree for nurses", [nurse]) == [frozenset({"bootcamp"}), frozenset({"degre"})]
    assert compared_sides("How long does nurse training take?") == []


def test_each_compared_thing_is_quoted_from_its_own_section_or_a_sentence_naming_it():
    from dataclasses import replace

    apprentice = Hit("trades.md#2", "", 0.9, "Into the trades", ("Routes", "Apprenticeships"), "trades.md", None, 2)
    college = Hit("trades.md#3", "", 0.8, "Into the trades", ("Routes", "Colleges"), "trades.md", None, 3)
    opening = unit("Most electricians start this way.", apprentice, 1.6, 0)
    detail = unit("You earn while you learn for four years.", apprentice, 1.5, 1)
    both = unit("Apprenticeships and trade school both lead to a licence.", college, 2.2, 0)
    school = unit("A trade school course takes a year of classes.", college, 1.7, 1)
    ev = replace(evidence(opening, detail, both, school),
                 query="How does an apprenticeship differ from a trade school?")
    chosen = texts(select(ev))
    # The apprenticeship side is its section, in the section's order, though no sentence names it.
    assert chosen.index(opening.text) < chosen.index(detail.text)
    assert school.text in chosen or both.text in chosen


def test_a_sentence_two_parts_of_a_question_both_quote_is_said_once():
    from dataclasses import replace

    from careerbot.answer.compose import Block, merged

    lesson = unit("Each lesson lasts 10 to 25 minutes and has 3 to 5 questions.", NURSING, 2.0, 0)
    later = unit("After 300 questions it clicked.", NURSING, 1.5, 3)
    first = [Block((lesson,))]
    second = [Block((replace(lesson, score=1.7),)), Block((later,))]  # the same sentence, scored by the other part
    text, _ = render(merged([first, second]))
    assert text.count("Each lesson lasts") == 1 and "After 300 questions" in text


def test_numbers_written_as_words_are_figures_and_amounts_of_money():
    from careerbot.answer.evidence import _MONEY, holds_number

    assert holds_number("Night shifts pay two to five dollars an hour more.")
    assert holds_number("Most programs take eighteen months.") is False  # not every number word is listed
    assert not holds_number("It is one of the best-paid roles.")  # "one" is as often a pronoun
    assert _MONEY.search("a differential of two to five dollars an hour")
    assert not _MONEY.search("several years of critical-care experience")


def test_an_asked_initialism_is_found_spelled_out():
    from careerbot.answer.evidence import says_name

    assert says_name("US", "A registered nurse in the United States earned $86,070.")
    assert says_name("BLS", "According to the Bureau of Labor Statistics, pay rose.")
    assert says_name("Ohio", "She lives in Ohio.")
    assert not says_name("UK", "A registered nurse in the United States earned $86,070.")
    assert not says_name("Texas", "Nurses in California earn the most.")


def test_words_that_qualify_an_amount_are_not_names_a_figure_must_contain():
    from careerbot.answer.evidence import _AMOUNT_TERMS
    from careerbot.retrieve.lexical import tokenize

    assert set(tokenize("extra per hourly")) <= _AMOUNT_TERMS
    assert not set(tokenize("paralegal ethicist Texas")) & _AMOUNT_TERMS


def test_a_word_framing_the_request_is_never_the_focus_of_the_question():
    from careerbot.answer.evidence import aspect_weights
    from careerbot.answer.rewrite import Vocabulary

    vocab = Vocabulary.build(["Tip: keep a notebook.", "Sleeping in the daytime needs blackout curtains.",
                              "Night shifts pay more.", "Day shifts come later."])
    wanted = ["tip", "sleep", "day"]
    weights = aspect_weights(wanted, [], vocab, {t: frozenset({t}) for t in wanted})
    # "tips for sleeping during the day": the focus (counted double) is what the tips are about.
    assert weights["sleep"] > weights["tip"]


def test_a_time_ago_is_neither_a_count_nor_a_span():
    from careerbot.answer.evidence import _answers_quantity

    # "a few years ago" says when, not how many years or how long.
    assert not _answers_quantity("How many years has she worked as a midwife?", "I switched a few years ago.")
    assert _answers_quantity("How many years has she worked as a midwife?", "I have worked there for several years.")
    assert not _answers_quantity("How long does the course take?", "I took it two years ago.")
    assert _answers_quantity("How long does the course take?", "It takes two years, part time.")


def judged(question: str, texts: dict[str, str], answering: str, terms: list[str], figure: bool = False,
           related: dict[str, frozenset[str]] | None = None, aspects: list[str] | None = None):
    """The verdict on a question when the one unit is the whole text of article `answering` (model-free);
    `related`: a term's related corpus stems, as the model would find them; `aspects`: the terms asked of
    the answer (default: the last)."""
    from types import SimpleNamespace

    from careerbot.answer.evidence import judge
    from careerbot.answer.rewrite import Vocabulary

    hit = Hit(f"{answering}#0", "", 0.9, answering, (), answering, None, 0)
    chunks = [SimpleNamespace(source=s, title=s, section_name="", text=t) for s, t in texts.items()]
    vocab = Vocabulary.build(list(texts.values())).with_articles(chunks)
    return judge(question, terms, dict.fromkeys(aspects or terms[-1:], 1.0), [unit(texts[answering], hit, 2.0)],
                 vocab, figure, set(),
                 {t: frozenset({t}) | (related or {}).get(t, frozenset()) for t in terms})


def test_a_place_the_corpus_knows_must_be_one_the_answering_article_names():
    texts = {"physio.md": "Physiotherapists in England earn £28,407 in their first year.",
             "plumber.txt": "Plumbers in Canada earn $35 an hour once qualified."}
    asked = ["physiotherapist", "earn"]
    assert judged("How much does a physiotherapist earn in England?", texts, "physio.md", asked, True).answerable
    # Canada: only the plumbing article names it.
    refused = judged("How much does a physiotherapist earn in Canada?", texts, "physio.md", asked, True)
    assert not refused.answerable and not refused.eligible


def test_a_split_list_reads_in_the_articles_order_whichever_part_answers():
    from dataclasses import replace

    later = replace(NURSING, chunk_id="nursing.md#1", position=1)
    early = [item(f"Step {i}", NURSING, 1.5 - 0.01 * i, i + 1) for i in range(2)]
    answering = [item(f"Step {i}", later, 2.0 - 0.01 * i, i + 1) for i in range(2, 4)]
    text, citations = render(select(evidence(*answering, *early)))
    assert text.index("Step 0") < text.index("Step 1") < text.index("Step 2") < text.index("Step 3")
    assert [c.hit.chunk_id for c in citations] == ["nursing.md#0", "nursing.md#1"]


def test_a_cut_list_keeps_an_items_figure_when_the_question_asks_for_one():
    from careerbot.answer.compose import _first_sentence

    step = item("Reach the licensing minimums. A full licence needs 1,500 supervised hours.", NURSING, 2.0, 1)
    assert "1,500" in _first_sentence(step, amounts=True).text
    assert _first_sentence(step).text == "- Reach the licensing minimums."
    plain = item("Pass the board exam. Most people study for it with a group.", NURSING, 2.0, 1)
    assert _first_sentence(plain, amounts=True).text == "- Pass the board exam."


def test_a_yes_no_question_about_money_asks_whether_not_how_much():
    from careerbot.answer.evidence import asks_figure

    assert not asks_figure("do plumbing apprentices get paid while they train or is it free labour?")
    assert not asks_figure("Does a vet nurse earn more than a care assistant?")
    assert asks_figure("Does a vet nurse earn more, and how much?")  # the second clause asks the amount
    assert asks_figure("do you know what vet nurses earn?")  # "what … earn" asks for the amount


def test_a_place_that_scopes_one_side_of_a_comparison_does_not_bind_the_other():
    texts = {"pilot.html": "Most students reach the airlines in around two years.",
             "plumber.txt": "In Ontario the apprenticeship takes about five years."}
    verdict = judged("Which takes longer: plumbing in Ontario or flying for an airline?", texts, "pilot.html",
                     ["long"])
    assert verdict.eligible  # the pilot's side is not about Ontario


def test_a_name_the_articles_write_in_another_form_is_theirs_and_scopes_the_answer():
    texts = {"social.txt": "In Canada the entry exam has 150 questions and takes four hours.",
             "vet.html": "The national exam has 170 scored questions and a pass score of 425."}
    canadian = {"canadian": frozenset({"canada"})}  # "Canadian" where the articles say "Canada"
    asked = ["canadian", "exam", "question"]
    assert judged("How many questions are on the Canadian exam?", texts, "social.txt", asked,
                  related=canadian).eligible
    # The vet exam's article never names Canada; the social work one gives no score.
    for source in texts:
        assert not judged("What score do you need to pass the Canadian exam?", texts, source,
                          ["score", "canadian", "exam"], True, canadian).eligible, source


def test_how_much_more_is_answered_by_a_share_as_well_as_an_amount():
    texts = {"vet.md": "In London, vet nurse salaries are usually 10 to 15% higher than elsewhere."}
    asked = ["vet", "nurs", "earn", "london"]
    assert judged("How much more do vet nurses earn in London?", texts, "vet.md", asked, True).eligible
    assert not judged("How much do vet nurses earn in London?", texts, "vet.md", asked, True).eligible  # an amount


def test_what_the_asker_tells_of_themselves_is_no_name_a_figure_must_carry():
    texts = {"vet.md": "Vet nurses start out earning about $43,900 a year in most clinics."}
    terms, aspects = ["torn", "vet", "nurs", "start", "earn"], ["torn", "start", "earn"]
    # "torn" is a word the articles never use, but it tells of the asker, not of the figure.
    assert judged("I'm torn between vet nursing and teaching. What does a vet nurse earn at the start?", texts,
                  "vet.md", terms, True, aspects=aspects).eligible
    assert not judged("What does a torn vet nurse earn at the start?", texts, "vet.md", terms, True,
                      aspects=aspects).eligible  # asked of the figure, it must be there


def test_a_question_about_the_next_step_is_told_from_one_about_a_count_or_a_time():
    from careerbot.answer.evidence import _NEXT_ASKED, _NEXT_STEP

    assert _NEXT_ASKED.search("what do I do after the pre-apprenticeship course?")
    assert not _NEXT_ASKED.search("after how many practice problems did it click?")  # a count
    assert not _NEXT_ASKED.search("what do nurses earn after 5 years?")  # a time
    assert _NEXT_STEP.match("After that, apply to a union apprenticeship.") and _NEXT_STEP.match("Then sit the exam.")
    assert not _NEXT_STEP.match("The course takes after-school hours.")
