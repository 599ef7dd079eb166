"""A question about what comes after something ("what do I do after the course?") is answered by the sentence
that opens on the next step ("After that, …"), which leads the answer; with the real model over a small
corpus outside AI."""
import pytest
from conftest import built_kb

ARTICLE = """---
title: "How to Become an Electrician: A Step-by-Step Plan"
date: 2024-04-02
---
Electricians wire homes, shops and factories, and the route in is a mix of classes and paid work.

## Start with a pre-apprenticeship course

Start with a pre-apprenticeship course at a trade school, which covers safety, basic wiring and the
electrical code. Each module of the course lasts two weeks and ends with a short practical test. The course
costs less than a semester of college, and many schools offer evening classes for people who work.

The modules cover:

- Workplace safety and lockout procedures
- Reading blueprints and wiring diagrams
- Residential circuits and panels
- Conduit bending and cable pulling
- Motors, controls and the basics of solar

After that, apply to a union apprenticeship or to a contractor who will sponsor your training.
Apprentices work about 8,000 hours on the job over four years while they keep attending night classes.

## Getting licensed

Once the hours are done, you sit the journeyman exam, a test of the code and of electrical theory.
"""
OTHER = """---
title: Becoming a Plumber
date: 2024-02-01
---
Plumbers install and repair pipes. A plumbing apprenticeship takes four to five years, and most
apprentices find a sponsor through a union or a local contractor.
"""


@pytest.fixture(scope="module")
def trades_kb(tmp_path_factory, settings):
    return built_kb(tmp_path_factory.mktemp("next_step"), {"electrician_plan.md": ARTICLE, "plumber.md": OTHER},
                    settings)


def test_what_comes_after_something_is_answered_by_the_next_step(trades_kb):
    answer = trades_kb.ask("what should I do after the pre-apprenticeship course?")
    assert not answer.abstained, answer.text
    assert answer.text.startswith("After that, apply to a union apprenticeship"), answer.text  # it leads
