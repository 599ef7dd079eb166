"""Ratings of answers, one JSON line each, so that an operator can turn real questions into evaluation
cases (docs/ui.md, "Feedback"). Lines are appended whole under a lock, so concurrent ratings never mix.

Usage: record_feedback(settings.feedback_file(), question, payload, "up")
"""
from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from .errors import InvalidArgument

RATINGS = ("up", "down")
_lock = threading.Lock()


def record_feedback(path: str | Path, question: str, answer: dict, rating: str) -> dict:
    """Append one rating: the question, the answer payload's text, mode and citations, and the time.
    `answer` is the /chat payload (ui.answer_payload). Returns the line written."""
    if rating not in RATINGS:
        raise InvalidArgument(f"rating must be one of {', '.join(RATINGS)}, not {rating!r}")
    line = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "rating": rating, "question": question,
            "answer": answer.get("answer", ""), "abstained": bool(answer.get("abstained")),
            "mode": answer.get("mode", ""), "query": answer.get("query", ""),
            "citations": [{k: c.get(k) for k in ("n", "title", "section", "date", "source", "chunk_id", "quote")}
                          for c in answer.get("citations", []) if isinstance(c, dict)]}
    path = Path(path)
    text = json.dumps(line, ensure_ascii=False) + "\n"
    with _lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as out:
            out.write(text)
    return line


def read_feedback(path: str | Path) -> list[dict]:
    """The ratings recorded so far (a missing file has none; unreadable lines are skipped)."""
    path = Path(path)
    if not path.is_file():
        return []
    rows = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and row.get("rating") in RATINGS:
            rows.append(row)
    return rows


def eval_cases(rows: Iterable[dict]) -> list[dict]:
    """Draft evaluation cases in the format of tests/questions.jsonl, one per distinct question. A thumbs-up
    answer becomes an answerable case citing its sources; a thumbs-down one is left for the operator to
    decide ("answerable": null, "review" says why). `facts` is empty: the operator writes them."""
    cases: dict[str, dict] = {}
    for row in rows:
        question = str(row.get("question", "")).strip()
        if not question:
            continue
        liked = row.get("rating") == "up"
        sources = sorted({c["source"] for c in row.get("citations", []) if c.get("source")})
        cases[question] = {"id": f"fb{len(cases) + 1:03d}" if question not in cases else cases[question]["id"],
                           "question": question, "history": [],
                           "answerable": (not row.get("abstained")) if liked else None,
                           "facts": [], "sources": sources if liked else [], "kind": "feedback",
                           "review": ("rated up: write the facts the answer must contain" if liked else
                                      f"rated down; the answer was: {str(row.get('answer', ''))[:200]}")}
    return list(cases.values())
