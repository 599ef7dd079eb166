"""References: the articles a question names, and what it asks once the naming words are set aside.

A question can name an article three ways: by its title in quotes ("In 'Why I Left Nursing', how many
shifts …"), by a description ending in a word for a piece of writing ("the night-shift survival guide",
"the post on night shifts"), or by its publisher or author ("the Medscape article", from the bylines).
The first two scope the answer to those articles; the third only favours them. The naming words are not
what the question asks, so they are neither looked up nor required of the evidence.

Usage:
    ref = find_references(question, titles={"a.md": "Why I Left Nursing"}, bylines={}, known=vocab.words)
    ref.scoped, ref.rest, ref.consumed
"""
from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher

# Plain English for a piece of writing: what precedes "about …" or follows a description of it.
_WRITING = (r"(?:article|post|blog(?:\s+post)?|guide|piece|essay|write-?up|interview|story|roadmap|handbook|"
            r"tutorial|primer|overview)s?")
_QUOTED = re.compile(r"(?<!\w)[\"“‘']([^\"“”‘’']{4,120}?)[\"”’'](?!\w)")
# "the <description> guide", "this post", "her interview"; the description is up to seven words.
_DESCRIBED = re.compile(r"\b(?:the|this|that|these|those|his|her|their|your)\s+((?:[\w’'+#-]+\s+){0,7}?)"
                        + _WRITING + r"\b(?:\s+(?:on|about)\s+([^,.;:?!]{3,80}))?", re.I)
MIN_SHARED = 2  # words a description must share with a title (a one-word title: that word)


@dataclass(frozen=True)
class References:
    """What a question says about which articles to answer from."""

    scoped: frozenset[str] = frozenset()  # sources the question names by title or description: answer from these
    favoured: frozenset[str] = frozenset()  # sources it names by publisher or author: favour these
    consumed: frozenset[str] = frozenset()  # publisher or author terms that named them, not asked about
    rest: str = ""  # the question without the spans that name articles by title or description


def find_references(question: str, titles: Mapping[str, str], bylines: Mapping[str, str],
                    known: Collection[str], terms: Callable[[str], list[str]]) -> References:
    """The articles `question` names. `titles` and `bylines`: source → text; `known`: the corpus's own
    lower-case words (a byline word the articles also use as a word, such as "Data", names nothing);
    `terms`: the project's term function (stems, stopwords dropped)."""
    title_terms = {source: set(terms(title)) - _writing_terms(terms) for source, title in titles.items()}
    scoped: set[str] = set()
    consumed: set[str] = set()
    spans: list[tuple[int, int]] = []
    for match in _QUOTED.finditer(question):
        sources = _closest(match.group(1), _best_titles(set(terms(match.group(1))), title_terms, quoted=True),
                           titles)
        if sources:
            scoped |= sources
            start = _writing_before(question, match.start())
            spans.append((start, match.end()))
    for match in _DESCRIBED.finditer(question):
        if any(s <= match.start() < e for s, e in spans):
            continue
        sources = _best_titles(_described(match, set().union(*title_terms.values()), terms), title_terms,
                               quoted=False)
        if not _plural(match) and len(sources) > 1:  # "the guide on …" names one article
            sources = _most_words(match.group(0), sources, titles)
        if sources:
            scoped |= sources
            spans.append(_trimmed(match, set().union(*(title_terms[s] for s in sources)), terms))
    if scoped:
        consumed |= _writer_terms(terms)  # "the author" of a named article is that article's writer
    favoured: set[str] = set()
    asked = set(terms(question))
    for source, byline in bylines.items():
        for word in re.findall(r"\b[A-Z][\w-]{2,}", byline or ""):
            term = (terms(word) or [""])[0]
            if term in asked and word.lower() not in known:
                favoured.add(source)
                consumed.add(term)
    rest = question
    for start, end in sorted(spans, reverse=True):
        rest = rest[:start] + " " + rest[end:]
    rest = re.sub(r"\s+([,.;:?!])", r"\1", " ".join(rest.split())).lstrip(",;: ")
    return References(frozenset(scoped), frozenset(favoured - scoped), frozenset(consumed), rest)


def _plural(match: re.Match) -> bool:
    """The description names several pieces of writing ("the two articles about …")."""
    writing = re.match(r"\s*" + _WRITING + r"\b", match.string[match.end(1):], re.I)
    return bool(writing and writing.group(0).lower().endswith("s"))


def _described(match: re.Match, title_words: set[str], terms: Callable[[str], list[str]]) -> set[str]:
    """The terms of a description: the words before the writing word, and of "… about <topic>" only as far
    as any title's words go ("the two articles about nurses and doctors think they overlap?" describes
    with "nurses and doctors", not with the rest of the question)."""
    described = set(terms(match.group(1) or ""))
    about = [set(terms(w)) for w in re.findall(r"[\w’'+#-]+", match.group(2) or "")]
    last = max((i for i, t in enumerate(about) if t & title_words), default=-1)
    return described.union(*about[: last + 1])


def _best_titles(described: set[str], title_terms: Mapping[str, set[str]], quoted: bool) -> set[str]:
    """The titles a description fits best: most shared words, at least MIN_SHARED (or the whole title),
    covering most of the description (a quote: most of the title too). Ties name every tied article."""
    if not described:
        return set()
    best, chosen = 0, set[str]()
    for source, title in title_terms.items():
        shared = len(described & title)
        enough = shared >= min(MIN_SHARED, len(title)) and shared * 2 >= len(described)
        if quoted:
            enough = enough and shared * 3 >= 2 * len(title)
        if not enough or shared < best:
            continue
        if shared > best:
            best, chosen = shared, set()
        chosen.add(source)
    return chosen


def _trimmed(match: re.Match, title: set[str], terms: Callable[[str], list[str]]) -> tuple[int, int]:
    """The span of a description that names the article: from its first word the title shares to the end
    of the writing word, or through "… on <topic>" only as far as the title's words go ("the guide on
    night shifts ranks which factor first?" keeps "ranks which factor first")."""
    start = match.start()
    words = list(re.finditer(r"[\w’'+#-]+", match.group(1) or ""))
    first = next((i for i, w in enumerate(words) if set(terms(w.group(0))) & title), None)
    if first is not None and any(terms(w.group(0)) for w in words[:first]):
        start = match.start(1) + words[first].start()  # "the nurse in the night-shift guide": from "night"
    if match.group(2) is None:
        return start, match.end()
    end, best, shared = match.start(2), 0, set()
    for word in re.finditer(r"[\w’'+#-]+", match.group(2)):
        shared |= set(terms(word.group(0))) & title
        if len(shared) > best:
            best, end = len(shared), match.start(2) + word.end()
    return start, end


def _closest(quote: str, sources: set[str], titles: Mapping[str, str]) -> set[str]:
    """Of titles sharing a quote's words equally, the one spelled most like it ("Nurse or Doctor?" is not
    "Nurse and Doctor: Who Does What?")."""
    if len(sources) < 2:
        return sources
    ratio = {s: SequenceMatcher(None, quote.lower(), titles[s].lower()).ratio() for s in sources}
    return {max(ratio, key=lambda s: ratio[s])}


def _most_words(description: str, sources: set[str], titles: Mapping[str, str]) -> set[str]:
    """Of tied titles, the one whose own words, small ones included, the description repeats most ("the
    guide on who does what between …" is "… Who Does What?")."""
    def words(text: str) -> set[str]:
        return {w.rstrip("s") for w in re.findall(r"[a-z]+", text.lower())}

    said = words(description)
    share = {s: len(said & words(titles[s])) / max(1, len(words(titles[s]))) for s in sources}
    return {max(sorted(share), key=lambda s: share[s])}


def _writer_terms(terms: Callable[[str], list[str]]) -> set[str]:
    return set(terms("author writer blogger"))


def _writing_before(question: str, start: int) -> int:
    """Where "the post" / "the article" right before a quoted title starts (else the quote's start)."""
    before = re.search(r"\b(?:the|this|that|his|her|their)\s+" + _WRITING + r"\s*$", question[:start], re.I)
    return before.start() if before else start


def _writing_terms(terms: Callable[[str], list[str]]) -> set[str]:
    return set(terms("article post blog guide piece essay writeup interview story roadmap handbook tutorial primer "
                     "overview"))
