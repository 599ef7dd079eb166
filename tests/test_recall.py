"""Recall for comparisons, with the real model over a small corpus outside AI: a section named for one side
joins that side's passages even when it shares none of the question's words."""
import pytest
from conftest import built_kb

ARTICLE = """---
title: "Nurse and Paramedic: Who Does What?"
date: 2024-03-01
---
Nurses and paramedics work side by side, and people often ask who is accountable for what. Accountability
matters: knowing who is accountable for an outcome tells a team who makes the final call. Being accountable
does not mean doing all the work alone, and both roles are accountable to their patients.

## Nurses

Nurses own the care plan on the ward: they assess each patient, give medication on schedule and tell the
doctor when a patient gets worse. A nurse is the one who answers for the ward's records at the end of a shift.

## Paramedics

Paramedics answer for the patient from the first call until the handover at the hospital door. They treat
people at the scene, keep them stable on the road and choose which hospital can take them.

{accountability}
## Working together

A good handover between the two roles saves time: the paramedic explains what happened and the nurse takes
over the care plan. Many people work as a nurse. Some later become a paramedic. Paramedics who trained as
nurses are in demand, and nurses who move the other way are rarer. To become a nurse, you need a degree; to
work as a paramedic, a diploma.
"""
# Passages about accountability in general, which outrank both role sections for the question's words.
TOPICS = ("shift handovers", "incident reports", "audits", "staffing", "training days", "patient complaints",
          "equipment checks", "night cover", "budgets", "team meetings", "new starters", "policy reviews")
ARTICLE = ARTICLE.replace("{accountability}\n", "".join(
    f"## Accountability for {topic}\n\nWho is ultimately accountable for {topic}? Each team decides who is "
    f"accountable for {topic}, and the person accountable for {topic} reports on them every month.\n\n"
    for topic in TOPICS))
OTHER = """---
title: Becoming a Teacher
date: 2024-02-01
---
Teachers plan lessons, mark work and meet parents. A teaching degree takes three or four years, and many
states offer alternative certification for people who switch careers.
"""


@pytest.fixture(scope="module")
def compare_kb(tmp_path_factory, settings):
    return built_kb(tmp_path_factory.mktemp("recall"), {"nurse_and_paramedic.md": ARTICLE, "teacher.md": OTHER},
                    settings)


def test_each_side_of_a_comparison_is_quoted_from_the_section_named_for_it(compare_kb):
    answer = compare_kb.ask("What is each one ultimately accountable for: the nurse versus the paramedic?")
    assert not answer.abstained, answer.text
    sections = {c.hit.section[-1] for c in answer.citations if c.hit.section}
    assert {"Nurses", "Paramedics"} <= sections, answer.text
