"""Answers over the real corpus, real model and real index: facts present, the right article cited,
markers valid, abstention where the articles are silent, follow-ups resolved. Every question of
tests/questions.jsonl is asked once (session cache); the aggregate rates are asserted against the targets
and written to tests/artifacts/answer_rates.json."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import DS_VS_LEAD, MLE_VS_LEAD, RESEARCHER_VS_ENGINEER, RS_VS_LEAD

from careerbot.errors import EmptyQuery, QueryTooLong
from careerbot.records import Answer

QUESTIONS = [json.loads(line) for line in (Path(__file__).parent / "questions.jsonl").read_text().splitlines()
             if line.strip()]
KINDS = {"single", "paraphrase", "typo", "comparison", "multi", "followup", "unanswerable"}


@pytest.fixture(scope="session")
def answers(kb) -> dict[str, Answer]:
    """Every question of the set answered once."""
    return {row["id"]: kb.ask(row["question"], row["history"]) for row in QUESTIONS}


def markers_valid(answer: Answer) -> bool:
    """Every [n] points at a citation; citations are numbered 1..k in order of first use."""
    used = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    numbers = [c.n for c in answer.citations]
    first_use = list(dict.fromkeys(used))
    return set(used) == set(numbers) and numbers == list(range(1, len(numbers) + 1)) and first_use == numbers


def correct(row: dict, answer: Answer) -> tuple[bool, str]:
    text = answer.text.lower()
    if not row["answerable"]:
        return answer.abstained, "should abstain"
    if answer.abstained:
        return False, "abstained"
    missing = [alternatives for alternatives in row["facts"] if not any(a.lower() in text for a in alternatives)]
    cited = {c.hit.source for c in answer.citations}
    if missing:
        return False, f"facts missing: {missing}"
    if not cited & set(row["sources"]):
        return False, f"cites {sorted(cited)}, expected one of {row['sources']}"
    return True, ""


def test_question_set_schema():
    assert len(QUESTIONS) >= 60
    assert sum(not row["answerable"] for row in QUESTIONS) >= 12
    assert len({row["id"] for row in QUESTIONS}) == len(QUESTIONS)
    for row in QUESTIONS:
        assert row["kind"] in KINDS, row
        assert isinstance(row["question"], str) and row["question"].strip()
        assert all(m["role"] in ("user", "assistant") and isinstance(m["content"], str) for m in row["history"])
        if row["answerable"]:
            assert row["facts"] and all(isinstance(f, list) and f for f in row["facts"]) and row["sources"], row
        else:
            assert row["kind"] in ("unanswerable", "followup") and not row["sources"], row
    assert {row["kind"] for row in QUESTIONS} == KINDS


@pytest.mark.parametrize("row", QUESTIONS, ids=[row["id"] for row in QUESTIONS])
def test_answer_form(row, answers):
    """Form holds for every answer; whether it is right is judged in aggregate (test_aggregate_rates), so a
    change that generalizes is not held back by one tuned question."""
    answer = answers[row["id"]]
    assert markers_valid(answer), answer.text
    if answer.abstained:
        assert not answer.citations and not re.search(r"\[\d+\]", answer.text)


def test_aggregate_rates(answers, artifacts_dir):
    """The targets for extractive mode, on the whole set."""
    answerable = [r for r in QUESTIONS if r["answerable"]]
    unanswerable = [r for r in QUESTIONS if not r["answerable"]]
    rates = {
        "questions": len(QUESTIONS),
        "facts_and_source": sum(correct(r, answers[r["id"]])[0] for r in answerable) / len(answerable),
        "false_abstention": sum(answers[r["id"]].abstained for r in answerable) / len(answerable),
        "abstained_when_due": sum(answers[r["id"]].abstained for r in unanswerable) / len(unanswerable),
        "markers_valid": sum(markers_valid(a) for a in answers.values()) / len(answers),
    }
    wrong = {r["id"]: correct(r, answers[r["id"]])[1] for r in QUESTIONS if not correct(r, answers[r["id"]])[0]}
    (artifacts_dir / "answer_rates.json").write_text(json.dumps({**rates, "wrong": wrong}, indent=2))
    print("answer rates:", rates, "wrong:", wrong)
    # Floors a few answers under today's level (facts and a right source 91.1%, false refusals 4.0%,
    # abstentions 100%; 2026-12-03); the targets (95%, 3%, 90%) are in docs/answers.md.
    assert rates["facts_and_source"] >= 0.88
    assert rates["abstained_when_due"] >= 0.95
    assert rates["false_abstention"] <= 0.06
    assert rates["markers_valid"] == 1.0


def test_citation_quotes_are_sentences_of_the_cited_passage(answers):
    for answer in answers.values():
        for citation in answer.citations:
            assert citation.quote and citation.quote in citation.hit.text, (citation.quote, citation.hit.chunk_id)


def test_disagreeing_salaries_are_attributed_to_their_articles(kb):
    answer = kb.ask("What is the average salary of a machine learning engineer?")
    by_source = {c.hit.source: c for c in answer.citations}
    assert {RESEARCHER_VS_ENGINEER, MLE_VS_LEAD} <= set(by_source)
    parts = answer.text.split("\n\n")
    built_in = next(p for p in parts if "145,296" in p)
    glassdoor = next(p for p in parts if "112,000" in p)
    # Each figure sits in a part that names its article and its source, with that article's marker.
    assert "Built In" in built_in and by_source[RESEARCHER_VS_ENGINEER].hit.title in built_in
    assert f"[{by_source[RESEARCHER_VS_ENGINEER].n}]" in built_in
    assert "Glassdoor" in glassdoor and by_source[MLE_VS_LEAD].hit.title in glassdoor
    assert f"[{by_source[MLE_VS_LEAD].n}]" in glassdoor


def test_comparison_covers_both_roles(kb):
    answer = kb.ask("How do the educational backgrounds of research scientists and lead ML engineers differ?")
    sections = [c.hit.section for c in answer.citations]
    assert any(s[-1:] == ("Research Scientist",) for s in sections), sections
    assert any(s[-1:] == ("Lead Machine Learning Engineer",) for s in sections), sections
    assert "Ph.D." in answer.text and "Master" in answer.text


def test_a_list_stays_a_list(kb):
    answer = kb.ask("What are the responsibilities of a data scientist?")
    items = [line for line in answer.text.splitlines() if line.startswith("- ")]
    assert len(items) >= 5
    assert answer.citations[0].hit.section == ("Responsibilities", "Data Scientist")


def test_abstention_is_plain_and_names_what_the_articles_cover(kb):
    answer = kb.ask("What does a nurse earn?")
    assert answer.abstained and not answer.citations
    unquoted = re.sub(r"“[^”]*”", "TITLE", answer.text)  # titles carry their own "vs." and "?"
    assert len(re.findall(r"[.!?](?:\s|$)", unquoted)) <= 2
    # The articles that come closest, not a list of every article (unusable at a few dozen).
    assert 1 <= sum(f"“{article.title}”" in answer.text for article in kb.articles()) <= 3


@pytest.mark.parametrize("occupation", ["nurse", "teacher", "accountant", "pilot", "data engineer",
                                        "product manager", "UX designer"])
def test_salaries_of_roles_the_articles_never_cover_are_not_given(kb, occupation):
    assert kb.ask(f"How much does a {occupation} make per year?").abstained


@pytest.mark.parametrize("year", ["2005", "2012", "2031", "2045"])
def test_figures_for_years_the_articles_never_give_are_not_given(kb, year):
    assert kb.ask(f"What was the average machine learning engineer salary in {year}?").abstained


def test_salary_paraphrases_are_answered(kb):
    """Most ways of asking for pay get the figure (no thesaurus maps them to "salary": "get paid" and "take
    home" still miss, docs/answers.md); whatever is given is a figure from the articles or a refusal."""
    right = 0
    for verb in ["earn", "make", "get paid", "take home"]:
        answer = kb.ask(f"How much do lead ML engineers {verb}?")
        right += not answer.abstained and "153,000" in answer.text and \
            MLE_VS_LEAD in {c.hit.source for c in answer.citations}
        assert answer.abstained or re.search(r"\$\s?\d", answer.text), answer.text
    assert right >= 2


def test_job_ads_are_never_an_answer(kb):
    answer = kb.ask("What salary does the Founding AI Engineer job at Occam AI offer?")
    assert answer.abstained and "100K" not in answer.text


def test_follow_up_resolves_the_role_from_history(kb):
    history = [{"role": "user", "content": "What do machine learning researchers do?"},
               {"role": "assistant", "content": "They build models from data [1]."}]
    answer = kb.ask("and what do they earn?", history)
    assert "researcher" in answer.query.lower()
    assert "133,871" in answer.text and RESEARCHER_VS_ENGINEER in {c.hit.source for c in answer.citations}
    alone = kb.ask("and what do they earn?")  # without the conversation, "they" stays unresolved
    assert "researcher" not in alone.query.lower()


def test_follow_up_with_a_new_role_keeps_the_topic(kb):
    history = [{"role": "user", "content": "Which industries employ data scientists?"},
               {"role": "assistant", "content": "Healthcare, finance, retail, technology and government [1]."}]
    answer = kb.ask("what about lead ML engineers?", history)
    assert "industr" in answer.query.lower() and "lead ml engineer" in answer.query.lower()
    assert "Manufacturing" in answer.text or "E-commerce" in answer.text


def test_follow_up_about_a_figure_the_articles_lack_abstains(kb):
    history = [{"role": "user", "content": "What does a lead ML engineer earn?"},
               {"role": "assistant", "content": "$153,000 per year [1]."}]
    assert kb.ask("and what about data scientists?", history).abstained


def test_stream_yields_the_text_then_the_answer(kb):
    events = list(kb.ask_stream("Which industries employ data scientists?"))
    assert isinstance(events[-1], Answer) and all(isinstance(e, str) for e in events[:-1])
    assert len(events) > 2 and "".join(events[:-1]) == events[-1].text
    assert events[-1].mode == "extractive"


def test_question_validation_matches_search(kb):
    with pytest.raises(EmptyQuery):
        kb.ask("   ")
    with pytest.raises(QueryTooLong):
        kb.ask("why " * 1000)


def test_greeting_without_content_asks_what_to_expand_on(kb):
    for question in ("hello!", "tell me more"):
        answer = kb.ask(question)
        assert answer.abstained and answer.text.startswith("What would you like to know more about?")
        assert sum(a.title in answer.text for a in kb.articles()) <= 3


def test_a_refusal_gives_its_reason_and_at_most_three_closest_articles(kb):
    answer = kb.ask("What does a Lead Machine Learning Engineer earn in Tokyo in 2031?")
    assert answer.abstained and "I can't answer that from the articles:" in answer.text
    named = [a.title for a in kb.articles() if f"“{a.title}”" in answer.text]
    assert 1 <= len(named) <= 3 and "rephrase" in answer.text


def test_every_article_can_be_cited(answers):
    cited = {c.hit.source for a in answers.values() for c in a.citations}
    assert cited == {RS_VS_LEAD, DS_VS_LEAD, RESEARCHER_VS_ENGINEER, MLE_VS_LEAD}


def test_the_unseen_batch_is_well_formed_and_its_facts_are_in_its_sources():
    """tests/questions-unseen.jsonl is scored by `careerbot eval`, never tuned on (docs/answers.md): here
    only its form is checked, and that every expected fact is really in a named article."""
    path = Path(__file__).parent / "questions-unseen.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    corpus = Path(__file__).resolve().parents[1] / "corpus"
    assert len({row["id"] for row in rows}) == len(rows) >= 20
    assert not {row["id"] for row in rows} & {row["id"] for row in QUESTIONS}
    for row in rows:
        assert row["kind"] in KINDS | {"figure"} and row["question"].strip(), row
        if not row["answerable"]:
            assert not row["facts"] and not row["sources"], row
            continue
        texts = [(corpus / source).read_text(encoding="utf-8").lower() for source in row["sources"]]
        for group in row["facts"]:
            assert any(fact in text for fact in group for text in texts), (row["id"], group)


def test_a_long_question_about_a_background_is_answered(kb):
    background = ("I studied biology and spent six years in a wet lab running experiments, writing up results "
                  "and presenting them at conferences. Over the last two years I taught myself Python and "
                  "statistics, built a few small projects on public data sets and helped my lab automate its "
                  "analysis pipeline. My manager says I explain results well and my colleagues come to me with "
                  "questions about their data. ") * 4
    question = background + "Do I need a PhD to become a research scientist?"
    assert kb.embedder().token_count(question) > kb.embedder().max_tokens  # longer than the model reads
    answer = kb.ask(question)
    assert not answer.abstained and "Ph.D." in answer.text, answer.text
