"""Parts: a question that asks two things ("how common is X, and why did Y leave?") is answered part by
part, so each part is looked up on its own and neither is crowded out by the other.

A part starts where a new clause asks something: after ", and" / ";" / "?" comes a question word or an
auxiliary ("what", "why", "how", "does", "is" …; plain English, no corpus words). A part that only points
at articles ("What do the X guide and the Y article say?") is no question of its own and stays with the
one before it. Context that opens the question before a colon ("From the X guide: …, and …") applies to
every part.

Usage:
    [p.asked for p in split_question("How common is it, and why did she leave?", lambda p: False)]
    # ['How common is it', 'why did she leave?']
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_ASKS = (r"(?:what|which|why|how|when|where|who|whom|whose|is|are|was|were|do|does|did|can|could|should|"
         r"will|would|has|have)\b")
# The break keeps its "?" with the part before it; "and" after "?" joins nothing and is dropped.
_BREAK = re.compile(r"(?:\s*[,;]\s+and\s+|\s*;\s+|(?<=\?)\s+(?:and\s+)?)(?=" + _ASKS + ")", re.I)
_PREAMBLE = re.compile(r"^([^?:]{3,200}):\s+(?=\w)")
_OPTIONS = re.compile(r":\s+([^:?]{3,120})\?\s*$")  # "…, and which needs Y: A or B?" — the choices
MAX_PARTS = 3  # more clauses than this are read as one question


@dataclass(frozen=True)
class Part:
    """One thing a question asks: as the user wrote it, and as it is looked up (with the opening context)."""

    asked: str
    searched: str


def split_question(question: str, names_only: Callable[[str], bool]) -> list[Part]:
    """The parts a question asks, in order (one part: the question itself). `names_only(part)` says a part
    only names articles, asking nothing of its own."""
    text = question.strip()
    preamble = _PREAMBLE.match(text)
    # Opening words that name articles ("From the X guide: …") scope every part; background about the
    # asker ("I'm moving into teaching: …") stays with the first.
    context = preamble.group(1).strip() if preamble and names_only(preamble.group(1)) else ""
    pieces = [p.strip() for p in _BREAK.split(text) if p.strip()]
    parts: list[str] = []
    for piece in pieces:
        if parts and (names_only(piece) or len(re.findall(r"\w+", piece)) < 3):
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    if not 1 < len(parts) <= MAX_PARTS:
        return [Part(question, question)]
    # The opening context belongs to every part (the first part already has it), and so do choices
    # offered at the end ("…, and which expects Y: A or B?"; the last part already has them).
    options = _OPTIONS.search(parts[-1])
    choices = f": {options.group(1).strip()}?" if options else ""
    searched = []
    for i, part in enumerate(parts):
        looked_up = f"{context}: {part}" if context and i else part
        searched.append(f"{looked_up.rstrip('?')}{choices}" if choices and i < len(parts) - 1 else looked_up)
    return [Part(part, looked_up) for part, looked_up in zip(parts, searched, strict=True)]
