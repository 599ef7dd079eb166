"""Respond: the one place that decides how a question is answered, extractively (answer.py) or by the
configured model (llm.py, when settings.llm names one). answer.py and llm.py never import each other's
dispatch, so the answer stage has no cycle.

Usage:
    answer = answer_question(kb, "Do I need a PhD to become a research scientist?", history=[])
    for event in stream_answer(kb, "and what do they earn?", history): ...  # str pieces, then the Answer
"""
from __future__ import annotations

from collections.abc import Iterator

from ..records import Answer
from .compose import extractive_answer, pieces
from .library import Library


def answer_question(kb: Library, question: str, history: list[dict] | None = None) -> Answer:
    """The final Answer for a question. Usage: answer_question(kb, "What do data scientists do?").text"""
    for event in stream_answer(kb, question, history or []):
        if isinstance(event, Answer):
            return event
    raise RuntimeError("the answer stream ended without an Answer")  # a bug, never a user's input


def stream_answer(kb: Library, question: str, history: list[dict] | None = None) -> Iterator[str | Answer]:
    """Text pieces as they are composed (tokens, with a model), then the final Answer."""
    backend = (kb.settings.llm or "").strip()
    if backend:
        from .llm import stream_model_answer  # imported on use: llama.cpp and httpx stay unloaded

        yield from stream_model_answer(kb, question, history or [], backend)
        return
    answer = extractive_answer(kb, question, history or [])
    yield from pieces(answer.text)
    yield answer
