"""Answers, hits and conversations as plain JSON: the one shape every edge (the app's /chat API, the HTTP
API) sends and accepts, so the two never drift apart.

Usage: answer_payload(kb.ask("Do I need a PhD?"))  # {"answer": "... [1]", "citations": [{"n": 1, ...}], ...}
"""
from __future__ import annotations

from typing import Any

from .records import Answer, Citation, Hit

SOURCES_HEADING = "Sources:"


def citation_payload(citation: Citation) -> dict:
    """One cited passage: its marker number, the supporting sentence and where it comes from."""
    hit = citation.hit
    return {"n": citation.n, "quote": citation.quote, "title": hit.title, "section": hit.section_name,
            "section_path": list(hit.section), "date": hit.date, "source": hit.source, "chunk_id": hit.chunk_id,
            "passage": hit.text}


def answer_payload(answer: Answer) -> dict:
    """What the /chat and /api/ask APIs return: the answer text with [n] markers and the cited passages."""
    return {"answer": answer.text, "abstained": answer.abstained, "mode": answer.mode, "query": answer.query,
            "citations": [citation_payload(c) for c in answer.citations]}


def hit_payload(hit: Hit) -> dict:
    """A search hit for /api/search: the passage, its score and rank, and where it comes from."""
    return {"rank": hit.rank, "score": round(float(hit.score), 6), "similarity": round(float(hit.similarity), 6),
            "title": hit.title, "section": hit.section_name, "section_path": list(hit.section), "date": hit.date,
            "source": hit.source, "chunk_id": hit.chunk_id, "position": hit.position, "text": hit.text}


def sources_text(citations: tuple[Citation, ...]) -> str:
    """The citations as lines to append to an answer, for clients that show only the text:
    "\\n\\nSources:\\n[1] Title › Section (date; file.txt)". "" when nothing is cited."""
    if not citations:
        return ""
    lines = []
    for citation in citations:
        hit = citation.hit
        where = " › ".join(part for part in (hit.title, hit.section_name) if part)
        lines.append(f"[{citation.n}] {where} ({'; '.join(p for p in (hit.date, hit.source) if p)})")
    return f"\n\n{SOURCES_HEADING}\n" + "\n".join(lines)


def without_sources(text: str) -> str:
    """An earlier answer as the engine wrote it: the appended sources list (see sources_text) removed."""
    head, sep, _ = text.rpartition(f"\n\n{SOURCES_HEADING}\n")
    return head if sep else text


def clean_history(history: Any) -> list[dict]:
    """Only {"role": user|assistant, "content": str} messages pass from clients to the engine."""
    if not isinstance(history, list):
        return []
    return [{"role": m["role"], "content": m["content"]} for m in history
            if isinstance(m, dict) and m.get("role") in ("user", "assistant") and isinstance(m.get("content"), str)]
