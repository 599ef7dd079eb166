"""What a page says of itself when it has no metadata: its title line, date and byline.

A title is a short heading-like line near the top. Scored by general evidence: it shares words with the
file name, a date follows it, the page repeats it, it comes first. Body text is never taken as a title.

Usage: choice = choose_title(blocks, "why_i_quit_teaching.txt")
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from .blocks import HEADING, PARA, Block, stopwords

DATE = re.compile(
    r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?,?\s+\d{4}\b"
    r"|\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:[+-]\d{2}:?\d{2}|Z)?)?\b")
_WORDS = re.compile(r"[a-z]+")


def _norm(s: str) -> str:
    return re.sub(r"\W+", " ", s).strip().lower()


def same_heading(a: str, b: str) -> bool:
    """Same heading, or a followed by a subtitle of b ("Title: A Comprehensive Comparison")."""
    if _norm(a) == _norm(b):
        return True
    return bool(b) and a.lower().startswith(b.lower()) and bool(re.match(r"\s*[:|–—-]\s", a[len(b):]))


def is_title_line(heading: str, title: str) -> bool:
    """The page's title as a heading, perhaps with a badge or kicker glued on ("Gold BlogUX Designer vs. …")
    or a subtitle after it."""
    h, t = _norm(heading), _norm(title)
    if not t or same_heading(heading, title):
        return bool(t)
    extra = len(h) - len(t)
    return t in h and extra <= 24


_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                        "dec"), start=1)}


def date_parts(printed: str) -> tuple[int, int, int] | None:
    """(year, month, day) of a date as printed: 'Sept. 8th, 2019', '8 September 2019', '2019-09-08'."""
    iso = re.match(r"(\d{4})-(\d{2})-(\d{2})", printed)
    if iso:
        return int(iso.group(1)), int(iso.group(2)), int(iso.group(3))
    month = re.search(r"[A-Za-z]{3}", printed)
    numbers = re.findall(r"\d+", printed)
    if not month or len(numbers) < 2 or month.group(0).lower() not in _MONTHS:
        return None
    day, year = (int(numbers[0]), int(numbers[-1])) if len(numbers[-1]) == 4 else (int(numbers[-1]), int(numbers[0]))
    return year, _MONTHS[month.group(0).lower()], day


def printed_form(iso: str | None, texts: Iterable[str]) -> str | None:
    """The date as the page prints it, when the page prints the date its metadata gives (ISO)."""
    if not iso:
        return iso
    wanted = date_parts(iso)
    for text in texts:
        for match in DATE.finditer(text):
            if date_parts(match.group(0)) == wanted:
                return match.group(0)
    return iso


def find_date(texts: list[str], max_len: int = 120) -> str | None:
    """The first date printed on a short line (a dateline or byline), as printed. A date in parentheses is
    a citation's access date ("(visited July 5, 2019)"), not the article's."""
    for text in texts:
        if len(text) <= max_len:
            for match in DATE.finditer(text):
                if not re.search(r"\([^()]*$", text[:match.start()]):
                    return match.group(0)
    return None


def file_name_words(source: str) -> list[str]:
    """Words of a file name that look like words ('d12_why_i_quit_teaching.txt' → why, i, quit, teaching);
    hashes and numbers give none."""
    stem = PurePath(source).stem
    words = [w for w in re.split(r"[\W_]+", stem.lower()) if w]
    return [w for w in words if w.isalpha() and (len(w) > 1 or w in ("a", "i")) and re.search(r"[aeiouy]", w)]


def title_from_file_name(source: str) -> str | None:
    words = file_name_words(source)
    if len([w for w in words if w not in stopwords()]) < 1:
        return None
    return " ".join(words).capitalize()


@dataclass(frozen=True)
class TitleChoice:
    title: str
    index: int | None  # the block that is the title line, or None when it comes from elsewhere
    source: str  # "heading" | "file name"


def choose_title(blocks: list[Block], source: str, first_body: int) -> TitleChoice:
    """The page's title line among the headings before its first body paragraph (`first_body`)."""
    # Content words compared by their first five letters (teacher ~ teaching, career ~ careers); short
    # function words say nothing.
    name_words = {w[:5] for w in file_name_words(source) if len(w) >= 4}
    candidates = [i for i, b in enumerate(blocks[:max(first_body, 1)])
                  if b.kind == HEADING and len(b.text.split()) <= 16]
    best, best_score = None, 0.0
    normed = [_norm(b.plain) for b in blocks]
    for rank, i in enumerate(candidates):
        words = {w[:5] for w in _WORDS.findall(blocks[i].text.lower()) if len(w) >= 4}
        score = 0.0
        if words and name_words:
            score += 2.0 * len(words & name_words) / len(words)
        # A dateline right under a title line marks it; one a few blocks further, less so.
        score += next((weight for weight, b in zip((1.0, 0.5, 0.5), blocks[i + 1:i + 4], strict=False)
                       if b.kind == PARA and find_date([b.plain], 80)), 0.0)
        # Repeated by the page (whole, or with a subtitle after it).
        mine = normed[i]
        score += 1.0 if mine and any(
            (other == mine or other.startswith(mine) or mine.startswith(other)) and other
            and (same_heading(blocks[j].plain, blocks[i].text) or same_heading(blocks[i].text, blocks[j].plain))
            for j, other in enumerate(normed[i + 1:], start=i + 1)) else 0.0
        score += 0.5 if rank == 0 else 0.0
        if score > best_score:
            best, best_score = i, score
    if best is not None:
        return TitleChoice(blocks[best].text, best, "heading")
    from_name = title_from_file_name(source)
    if from_name:
        return TitleChoice(from_name, None, "file name")
    headings = [b.text for b in blocks if b.kind == HEADING]
    return TitleChoice(headings[0] if headings else "Untitled", None, "file name")


def find_byline(texts: list[str], title: str) -> str | None:
    """A short name-like line near the top, counted only when marked ("By …") or confirmed by the next
    line (the name again, or "Role at Org")."""
    for i, line in enumerate(texts):
        name = re.fullmatch(r"(By\s+)?([A-Z][a-z]+(?:\s+[A-Z][a-z.'-]+){1,2})", line)
        if not name or same_heading(line, title):
            continue
        nxt = texts[i + 1] if i + 1 < len(texts) else ""
        if nxt == line:
            nxt = texts[i + 2] if i + 2 < len(texts) else ""
        role = bool(re.search(r"\s(?:at|@)\s", nxt)) and len(nxt) < 80 and not nxt.endswith(".")
        if name.group(1) or role:
            return f"{name.group(2)}, {nxt}" if role else name.group(2)
    return None
