"""Answers on small corpora outside AI written for these tests, each asked questions of its own that were
written after the pages and never used to fit the decision: the same aggregate checks as the bundled set, so
the answer stage is held to corpora whose words, entities and headings it was not developed on. Runs wherever
the checkout does (the devset, test_answer_devset.py, lives outside it).

- pages: nursing, teaching and design pages (tests/fixtures/pages, tests/questions-pages.jsonl, 24 questions);
- trades: physiotherapy, airline pilot, CPA and plumbing pages in four formats with their furniture
  (tests/fixtures/trades, tests/questions-trades.jsonl, 26 questions), written blind by a helper who never
  read the answer code;
- care: veterinary technician, chef, social worker and IT support vs sysadmin pages (tests/fixtures/care,
  tests/questions-care.jsonl, 26 questions), written blind the same way.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from careerbot import KnowledgeBase
from careerbot.evaluation.questions import fact_covered, load_questions, markers_valid

HERE = Path(__file__).parent
# Floors a couple of answers under the level at the last change; first contact (before the fixes their
# failures led to) in the comments.
SETS = {
    # 18 / 18 answered right, 6 / 6 abstained (first contact: 13 / 18 right, 2 / 18 refused)
    "pages": {"facts_and_source": 0.83, "false_abstention": 0.12, "abstained_when_due": 0.83},
    # 19 / 22 answered right, 1 / 22 refused, 4 / 4 abstained (first contact: 17 / 22, 2 / 22 refused, 3 / 4)
    "trades": {"facts_and_source": 0.77, "false_abstention": 0.1, "abstained_when_due": 0.75},
    # 19 / 22 answered right, no false refusal, 4 / 4 abstained (first contact: 16 / 22, 3 / 22 refused, 4 / 4)
    "care": {"facts_and_source": 0.77, "false_abstention": 0.1, "abstained_when_due": 0.75},
}


def questions(name: str) -> list[dict]:
    return load_questions(HERE / f"questions-{name}.jsonl")


@pytest.fixture(scope="module", params=sorted(SETS))
def answered(request, tmp_path_factory, settings):
    name = request.param
    root = tmp_path_factory.mktemp(name)
    shutil.copytree(HERE / "fixtures" / name, root / "corpus")
    kb = KnowledgeBase.build(root / "corpus", root / "index", settings)
    return name, {row["id"]: kb.ask(row["question"], row["history"]) for row in questions(name)}


@pytest.mark.parametrize("name", sorted(SETS))
def test_each_question_set_is_well_formed_and_its_facts_are_in_its_sources(name):
    folder = HERE / "fixtures" / name
    rows = questions(name)
    kinds = {row["kind"] for row in rows}
    assert {"single", "paraphrase", "comparison", "followup", "unanswerable"} <= kinds
    for row in rows:
        text = " ".join((folder / s).read_text(encoding="utf-8").lower() for s in row["sources"])
        assert row["answerable"] == bool(row["facts"]), row["id"]
        assert all(any(a.lower() in text for a in alts) for alts in row["facts"]), row["id"]


def test_answers_on_another_domain_hold_the_aggregate_floors(answered, artifacts_dir):
    name, answers = answered
    rows = questions(name)
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]

    def right(row) -> bool:
        answer = answers[row["id"]]
        cited = {c.hit.source for c in answer.citations}
        return not answer.abstained and fact_covered(answer.text, row["facts"]) and bool(cited & set(row["sources"]))

    rates = {
        "facts_and_source": sum(map(right, answerable)) / len(answerable),
        "false_abstention": sum(answers[r["id"]].abstained for r in answerable) / len(answerable),
        "abstained_when_due": sum(answers[r["id"]].abstained for r in unanswerable) / len(unanswerable),
        "markers_valid": sum(markers_valid(a) for a in answers.values()) / len(answers),
    }
    wrong = [r["id"] for r in answerable if not right(r)] + [r["id"] for r in unanswerable
                                                              if not answers[r["id"]].abstained]
    (artifacts_dir / f"{name}_answer_rates.json").write_text(json.dumps({**rates, "wrong": wrong}, indent=2))
    floors = SETS[name]
    assert rates["facts_and_source"] >= floors["facts_and_source"], (rates, wrong)
    assert rates["false_abstention"] <= floors["false_abstention"], (rates, wrong)
    assert rates["abstained_when_due"] >= floors["abstained_when_due"], (rates, wrong)
    assert rates["markers_valid"] == 1.0
