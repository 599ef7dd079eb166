"""Answers on a second, small corpus outside AI written for these tests (nursing, teaching and design pages in
tests/fixtures/pages, with their furniture), asked 24 questions of their own (tests/questions-pages.jsonl,
written after the pages, never used to fit the decision): the same aggregate checks as the bundled set, so the
answer stage is held to a corpus whose words, entities and headings it was not developed on. Runs wherever
the checkout does (the devset, test_answer_devset.py, lives outside it)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from careerbot import KnowledgeBase
from careerbot.evaluation.questions import fact_covered, load_questions, markers_valid

HERE = Path(__file__).parent
QUESTIONS = load_questions(HERE / "questions-pages.jsonl")


@pytest.fixture(scope="module")
def answered(tmp_path_factory, settings):
    root = tmp_path_factory.mktemp("pages")
    shutil.copytree(HERE / "fixtures" / "pages", root / "corpus")
    kb = KnowledgeBase.build(root / "corpus", root / "index", settings)
    return {row["id"]: kb.ask(row["question"], row["history"]) for row in QUESTIONS}


def test_the_pages_question_set_is_well_formed_and_its_facts_are_in_its_sources():
    pages = HERE / "fixtures" / "pages"
    kinds = {row["kind"] for row in QUESTIONS}
    assert {"single", "paraphrase", "comparison", "followup", "unanswerable"} <= kinds
    for row in QUESTIONS:
        text = " ".join((pages / s).read_text(encoding="utf-8").lower() for s in row["sources"])
        assert row["answerable"] == bool(row["facts"]), row["id"]
        assert all(any(a.lower() in text for a in alts) for alts in row["facts"]), row["id"]


def test_answers_on_another_domain_hold_the_aggregate_floors(answered, artifacts_dir):
    answerable = [r for r in QUESTIONS if r["answerable"]]
    unanswerable = [r for r in QUESTIONS if not r["answerable"]]

    def right(row) -> bool:
        answer = answered[row["id"]]
        cited = {c.hit.source for c in answer.citations}
        return not answer.abstained and fact_covered(answer.text, row["facts"]) and bool(cited & set(row["sources"]))

    rates = {
        "facts_and_source": sum(map(right, answerable)) / len(answerable),
        "false_abstention": sum(answered[r["id"]].abstained for r in answerable) / len(answerable),
        "abstained_when_due": sum(answered[r["id"]].abstained for r in unanswerable) / len(unanswerable),
        "markers_valid": sum(markers_valid(a) for a in answered.values()) / len(answered),
    }
    wrong = [r["id"] for r in answerable if not right(r)] + [r["id"] for r in unanswerable
                                                              if not answered[r["id"]].abstained]
    (artifacts_dir / "pages_answer_rates.json").write_text(json.dumps({**rates, "wrong": wrong}, indent=2))
    # Floors a couple of answers under the level at the last change (17 / 18 answered right, no false
    # refusal, 6 / 6 abstained; first contact, before the fixes its failures led to: 13 / 18, 2 / 18).
    assert rates["facts_and_source"] >= 0.83, (rates, wrong)
    assert rates["false_abstention"] <= 0.12, (rates, wrong)
    assert rates["abstained_when_due"] >= 0.83, (rates, wrong)
    assert rates["markers_valid"] == 1.0
