"""Answer: grounded answers with numbered citations. Extractive by default (sentences and list items
chosen from the retrieved passages).

Usage:
    answer = extractive_answer(kb, "Do I need a PhD to become a research scientist?", history=[])
    for piece in pieces(answer.text): ...  # what an edge streams
The dispatch between this and a model's answer is in respond.py.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from ..chunk import split_sentences
from ..records import Answer, Citation, Hit
from ..retrieve.search import clean_query
from .decide import shipped_decision
from .entities import fit
from .evidence import MIN_FIT, Evidence, Unit, asks_amount, gather, holds_number, vocabulary
from .library import Library
from .parts import Part, split_question
from .recall import references_of
from .rewrite import COMPARES, asked_numbers, content_terms, numbers, terms

# Two things compared that are not entities ("how does alternative certification differ from a provisional
# license?", "difference between a bootcamp and a degree", "bootcamp vs degree"): generic English only.
_SIDES = (re.compile(r"\bdifferences? between (?P<a>[^?,;:]+?) and (?P<b>[^?,;:]+)", re.I),
          re.compile(r"\b(?:does|do|is|are)\s+(?P<a>[^?,;:]+?)\s+(?:differ|compare)\w*\s+(?:from|to|with)\s+"
                     r"(?P<b>[^?,;:]+)", re.I),
          re.compile(r"(?P<a>[^?,;:]+?)\s+(?:vs\.?|versus|compared (?:to|with))\s+(?P<b>[^?,;:]+)", re.I))
SIDE_WORDS = 5  # the words of a side read next to "between / differ from / vs"
SIDE_SHARE = 0.3  # the share of the answer's length one side's own section may take
MAX_BLOCKS = 3  # separate passages quoted in one answer (comparisons: one more per extra role)
MAX_ITEMS = 7  # list items kept from one list
NEAR_BEST = 0.15  # a further passage joins the answer when it scores within this of the best one
REDUNDANT = 0.85  # cosine above which two sentences say the same thing
# An answer goes on with the next most relevant sentences of the articles it quotes while it is short: the
# facts a question asks for are often spread over neighbouring sentences (devset: facts in the answer 53% ->
# 59%, unseen questions 65% -> 70%, tuned set unchanged; docs/answers.md).
FILL_MARGIN = 0.5  # how far below the best unit's score a filling unit may be
WORD_BUDGET = 90  # fill while the answer is shorter than this
WORD_CAP = 130  # and never past this
ANSWER_WORDS = 150  # the most an answer says, lists included
MIN_ITEMS = 3  # a list cut to fit keeps at least these
CONTINUATION = 0.3  # the next sentence of a quoted one counts this much more when filling
# A filling sentence that holds a figure (a share, an amount, a duration) adds a fact where its neighbours may
# only frame the topic ("There is a lot to consider when choosing a degree." against "91% of … hold one").
FIGURE_FILL = 0.15


@dataclass(frozen=True)
class Block:
    """A cited piece of an answer: one sentence, or a list with its lead-in."""

    units: tuple[Unit, ...]
    lead_in: str = ""

    @property
    def hit(self) -> Hit:
        return self.units[0].hit

    @property
    def best(self) -> Unit:
        return max(self.units, key=lambda u: u.score)


def pieces(text: str) -> Iterator[str]:
    """An answer text in streamable pieces: lines, then sentences, keeping every character."""
    for line in text.splitlines(keepends=True):
        yield from (p for p in re.split(r"(?<=[.!?\]] )", line) if p)


def extractive_answer(kb: Library, question: str, history: list[dict], evidence: Evidence | None = None,
                      mode: str = "extractive") -> Answer:
    """Compose an answer from the best sentences and lists, or abstain. Usage: extractive_answer(kb, q, [])"""
    if evidence is None:
        # Checked first, so bad input gets the same clear error as a one-part question.
        parts = split_question(clean_query(question, kb.settings.max_query_chars), lambda part: _names_only(kb, part))
        if len(parts) > 1:
            return _answer_parts(kb, question, parts, history, mode)
    ev = evidence or gather(kb, question, history)
    ready = answerable(ev)
    if ready is None:
        return Answer(question, abstain_text(kb, ev), (), True, mode, ev.hits, ev.query)
    blocks = select(ready)
    text, citations = render(blocks)
    return Answer(question, text, citations, False, mode, ev.hits, ev.query)


def _names_only(kb: Library, part: str) -> bool:
    """The part names articles and asks nothing else ("What do the X guide and the Coursera post say?"): what
    is left once the named articles are set aside has no lower-case content word (a capitalized leftover
    is a publisher's or person's name)."""
    vocab = vocabulary(kb)
    refs = references_of(kb, part, vocab)
    lower = " ".join(w for w in refs.rest.split() if not w[:1].isupper())
    # "(same author)": the writer of a named article is part of naming it (References.consumed).
    return bool(refs.scoped) and not set(content_terms(lower, vocab.lexicon)) - refs.consumed


def _answer_parts(kb: Library, question: str, parts: list[Part], history: list[dict], mode: str) -> Answer:
    """Each part answered on its own, in the question's order, sharing the answer's length; a part the
    articles don't answer is said to be unanswered."""
    evidence = [gather(kb, part.searched, history) for part in parts]
    ready = [answerable(ev) for ev in evidence]
    if not any(ready):
        # No part stands alone (each may need the others' words): the question is judged as a whole.
        return extractive_answer(kb, question, history, gather(kb, question, history), mode)
    hits = tuple({h.chunk_id: h for ev in evidence for h in ev.hits}.values())
    query = " | ".join(ev.query for ev in evidence)
    blocks = merged([select(ev, share=1 / len(parts)) for ev in ready if ev is not None])
    text, citations = render(blocks)
    unanswered = [part.asked.rstrip("?") for part, ev in zip(parts, ready, strict=True) if ev is None]
    if unanswered:
        text += "\n\n" + " ".join(f"The articles don't answer “{asked}”." for asked in unanswered)
    return Answer(question, text, citations, False, mode, hits, query)


def merged(selections: list[list[Block]]) -> list[Block]:
    """The blocks of each part's answer in turn; a sentence two parts both quote (each scoring it its own
    way) is said once. Usage: merged([select(ev1, 0.5), select(ev2, 0.5)])"""
    blocks: list[Block] = []
    for selection in selections:
        blocks += [b for b in selection if not all(_quoted(u, blocks) for u in b.units)]
    return blocks


CLOSEST = 3  # articles a refusal names


def answerable(ev: Evidence) -> Evidence | None:
    """The evidence to answer from, or None to abstain: the learned decision (decide.py) says answer and
    something may be quoted. When it answers where the evidence stage's own check did not, the units that
    speak about the asked role are the candidates. The one decision for extractive and model answers."""
    if not shipped_decision().answerable(ev):
        return None
    if ev.verdict.answerable and ev.verdict.eligible:
        return ev
    constrained = ev.verdict.reason in ("figure", "numbers", "names", "ranking")
    eligible = ev.verdict.eligible or (() if constrained else tuple(u for u in ev.units if u.fit >= MIN_FIT))
    if not eligible:
        return None
    return replace(ev, verdict=replace(ev.verdict, answerable=True, eligible=eligible))


def abstain_text(kb: Library, ev: Evidence) -> str:
    """Plain sentences: why the articles don't answer this (what was actually missing), the few articles
    that come closest, and how to ask instead. A question with nothing to look up asks what to expand on."""
    closest = _titles(ev.hits) or _titles_of(kb)
    if ev.verdict.reason == "no-terms":
        return ("What would you like to know more about? Name a role or a topic; the articles include "
                f"{_listed(closest)}.")
    if ev.verdict.reason == "numbers":
        asked = " or ".join(asked_numbers(ev.question)[:3])
        reason = f"the passages closest to your question don't mention {asked}"
    elif ev.verdict.reason == "figure":
        reason = "the passages closest to your question give no figure for that"
    else:
        reason = "none of them says that"
    near = "comes closest" if len(closest) == 1 else "come closest"
    return (f"I can't answer that from the articles: {reason}. {_listed(closest)} {near}; "
            f"try asking about something they cover, or rephrase with the role or topic you mean.")


def _titles(hits) -> list[str]:
    return list(dict.fromkeys(h.title for h in hits))[:CLOSEST]


def _titles_of(kb: Library) -> list[str]:
    return [a.title for a in kb.articles()][:CLOSEST]


def _listed(titles: list[str]) -> str:
    quoted = [f"“{t}”" for t in titles]
    if len(quoted) > 1:
        return ", ".join(quoted[:-1]) + f" and {quoted[-1]}"
    return "".join(quoted) or "the articles"


def select(ev: Evidence, share: float = 1.0) -> list[Block]:
    """The passages of the answer: the best supported one (for a comparison, the best for each role),
    then equally relevant passages from other articles (so differing figures are all shown, each
    attributed), then close runners-up that add something. `share`: the part of the answer's length it
    may take (a question of two parts gives each half)."""
    # Only units meeting the question's constraints (role, figure, numbers, names) may be quoted.
    candidates = sorted(ev.verdict.eligible, key=lambda u: -u.score)
    roles = _distinct(ev.asked_roles)
    blocks: list[Block] = []
    # Two roles make a comparison when the question compares ("vs", "differ", "or", "than", "both"); "how do
    # nurses support surgeons?" names two roles but asks one thing.
    if len(roles) > 1 and COMPARES.search(ev.query):
        blocks = _per_role(candidates, roles, ev)
    else:
        roles = roles[:1]
        blocks = _per_side(candidates, compared_sides(ev.query, roles), ev, share)
    if not blocks:
        blocks.append(_block(candidates[0], ev))
    # A question naming several articles ("what do the X guide and the Y article say?") hears from each.
    for source in sorted(ev.named - {b.hit.source for b in blocks}) if len(ev.named) > 1 else ():
        own = [u for u in candidates if u.hit.source == source and not _inside(u, blocks)]
        if own:
            blocks.append(_block(own[0], ev))
    first = max((b.best for b in blocks), key=lambda u: u.score)
    # Lists are long: one more list from another article at most. Figures: every article's figure.
    limit = MAX_BLOCKS + max(0, len(roles) - 1) if not blocks[0].lead_in and not first.is_item else 2
    margin = 2 * NEAR_BEST if ev.figure else NEAR_BEST
    for unit in candidates:  # the same answer in other articles: their figures may differ
        if len(blocks) >= limit or unit.score < first.score - margin or (len(roles) > 1 and not ev.figure):
            break
        if (unit.hit.source not in {b.hit.source for b in blocks} and unit.aspect >= first.aspect - 0.1
                and unit.fit >= 0.8 and unit.is_item == first.is_item and not _redundant(unit, blocks)):
            blocks.append(_block(unit, ev))
    for unit in candidates:  # close runners-up from the same articles
        if len(blocks) >= limit or unit.score < first.score - NEAR_BEST or len(roles) > 1:
            break
        if _adds_to(unit, blocks, first):
            blocks.append(_block(unit, ev))
    return _within_limit(_reading_order(_fill(blocks, candidates, ev, first, share)), round(ANSWER_WORDS * share),
                         amounts=asks_amount(ev.query))


def _within_limit(blocks: list[Block], limit: int = ANSWER_WORDS, amounts: bool = False) -> list[Block]:
    """An answer a person reads in a chat: at most `limit` words, lead-ins included. Over it, list items
    keep their first sentence (their label and first claim; `amounts`: the question asks for a figure, and
    an item whose later sentences hold one keeps them); then later parts go, except the rest of a list split
    over two passages; then a list's weakest items, down to MIN_ITEMS (fewer for a shorter limit)."""
    if _length(blocks) > limit:
        blocks = [replace(b, units=tuple(_first_sentence(u, amounts) for u in b.units)) if b.units[0].is_item
                  else b for b in blocks]
    while _length(blocks) > limit:
        later = [i for i in range(1, len(blocks)) if not _same_list(blocks[i - 1], blocks[i])]
        if not later:
            break
        del blocks[later[-1]]
    while _length(blocks) > limit:
        items = [(u.score, i, u) for i, b in enumerate(blocks) if b.units[0].is_item and len(b.units) > 1
                 for u in b.units]
        if sum(len(b.units) for b in blocks if b.units[0].is_item) <= max(1, MIN_ITEMS * limit // ANSWER_WORDS) \
                or not items:
            break
        _, i, weakest = min(items, key=lambda t: t[0])
        blocks[i] = replace(blocks[i], units=tuple(u for u in blocks[i].units if u is not weakest))
    return blocks


def _length(blocks: list[Block]) -> int:
    return _words(b.units for b in blocks) + sum(len(b.lead_in.split()) for b in blocks)


def _first_sentence(item: Unit, amounts: bool = False) -> Unit:
    sentences = split_sentences(item.text.removeprefix("- "))
    if amounts and any(holds_number(s) for s in sentences[1:]):
        return item  # "- Reach the ATP minimums. A full ATP certificate needs 1,500 hours."
    return replace(item, text="- " + sentences[0]) if item.is_item and len(sentences) > 1 else item


def _reading_order(blocks: list[Block]) -> list[Block]:
    """The answering block first; the others by article (in order of first use), then as the article has
    them, so sentences of one passage read in their own order."""
    articles = {source: i for i, source in enumerate(dict.fromkeys(b.hit.source for b in blocks))}
    rest = sorted(blocks[1:], key=lambda b: (articles[b.hit.source], b.hit.chunk_id != blocks[0].hit.chunk_id,
                                             b.hit.position, b.units[0].position))
    # A list split over passages reads in the article's order, whichever part answers.
    lead = sorted([blocks[0]] + [b for b in rest if _same_list(blocks[0], b)],
                  key=lambda b: (b.hit.position, b.units[0].position))
    return lead + [b for b in rest if b not in lead]


def _adds_to(unit: Unit, blocks: list[Block], first: Unit) -> bool:
    """A unit of an article already quoted that says something the blocks do not, about the asked entity; a
    prose answer is not padded with list items."""
    return (unit.hit.source in {b.hit.source for b in blocks} and unit.fit >= 0.8 and not _inside(unit, blocks)
            and not _redundant(unit, blocks) and not (unit.is_item and not first.is_item))


def _fill(blocks: list[Block], candidates: list[Unit], ev: Evidence, first: Unit, share: float = 1.0) -> list[Block]:
    """Add the next most relevant units of the articles already quoted, best first, while the answer is
    under WORD_BUDGET words, never past WORD_CAP. The sentence right after a quoted sentence comes first
    when it is relevant at all: it usually goes on with what that sentence began; a sentence holding a figure
    comes before one that only frames the topic."""
    words = _words(b.units for b in blocks)
    pool = [u for u in candidates if u.score >= first.score - FILL_MARGIN]
    while words < WORD_BUDGET * share and pool:
        unit = max(pool, key=lambda u: u.score + CONTINUATION * _continues(u, blocks)
                   + FIGURE_FILL * holds_number(u.text))
        pool.remove(unit)
        if not _adds_to(unit, blocks, first):
            continue
        block = _block(unit, ev)
        added = _words([block.units])
        if words + added <= WORD_CAP * share:
            blocks.append(block)
            words += added
    return blocks


def _continues(unit: Unit, blocks: list[Block]) -> bool:
    """The unit is the prose sentence right after a quoted prose sentence of its passage."""
    return not unit.is_item and any(
        not b.lead_in and not u.is_item and u.hit.chunk_id == unit.hit.chunk_id and u.position + 1 == unit.position
        for b in blocks for u in b.units)


def _words(unit_groups) -> int:
    return sum(len(u.text.split()) for units in unit_groups for u in units)


def _per_role(candidates: list[Unit], roles: list, ev: Evidence) -> list[Block]:
    """A comparison: for each role, the best passage about that role alone (passages naming both roles
    tend to say only that they differ), preferring the article already quoted so the sides match."""
    blocks: list[Block] = []
    for role in roles:
        if any(_role_score(b.best, role) >= 0.8 and b.best.aspect >= 0.5 for b in blocks):
            continue
        about = [u for u in candidates if _role_score(u, role) >= 0.8 and not _inside(u, blocks)]
        alone = [u for u in about if not any(_role_score(u, o) >= 0.8 for o in roles if o is not role)]
        # Failing a unit that covers the question, the section named for the role describes it.
        headed = [u for u in alone if u.hit.section and set(terms(u.hit.section[-1])) == set(terms(role.text))]
        good = ([u for u in alone if u.aspect >= 0.5]
                or [u for u in about if u.aspect >= 0.5 and re.search(r"\d", u.text)] or headed or alone or about)
        if not good:
            continue
        pick = good[0]
        if blocks:
            same = [u for u in good if u.hit.source == blocks[0].hit.source and u.score >= pick.score - 2 * NEAR_BEST]
            pick = same[0] if same else pick
        blocks.append(_block(pick, ev))
    return blocks


def compared_sides(query: str, roles: list | tuple = ()) -> list[frozenset[str]]:
    """The two things a question compares, as the stems that tell them apart (the words both share, and the
    asked entities', set aside); [] when it compares no two things.
    Usage: compared_sides("how does a bootcamp differ from a degree?")  # [{'bootcamp'}, {'degre'}]"""
    for pattern in _SIDES:
        found = pattern.search(query)
        if found:
            a = set(terms(" ".join(found.group("a").split()[-SIDE_WORDS:])))
            b = set(terms(" ".join(found.group("b").split()[:SIDE_WORDS])))
            named = {t for r in roles for t in r.terms | r.qualifiers}
            a, b = a - b - named, b - a - named
            return [frozenset(a), frozenset(b)] if a and b else []
    return []


def _per_side(candidates: list[Unit], sides: list[frozenset[str]], ev: Evidence, share: float) -> list[Block]:
    """A comparison of two things: for each, the section headed by it, opening first (up to SIDE_SHARE of
    the answer), else its best unit that names it; nothing unless both sides are found."""
    blocks: list[Block] = []
    for side in sides:
        headed = [u for u in candidates if u.hit.section and side <= set(terms(u.hit.section[-1]))
                  and not _inside(u, blocks)]
        if headed:
            section = headed[0].hit.section
            opening = sorted((u for u in headed if u.hit.section == section and u.hit.source == headed[0].hit.source),
                             key=lambda u: (u.hit.position, u.position))
            words = 0
            for unit in opening:
                if words and words + len(unit.text.split()) > SIDE_SHARE * ANSWER_WORDS * share:
                    break
                if not _inside(unit, blocks):
                    blocks.append(_block(unit, ev))
                    words += _length(blocks[-1:])
            continue
        named = [u for u in candidates if side <= set(terms(f"{u.lead_in} {u.text}")) and not _inside(u, blocks)]
        if not named:
            return []
        blocks.append(_block(named[0], ev))
    return blocks


def _items_after(unit: Unit, ev: Evidence) -> list[Unit]:
    return [u for u in ev.units if u.hit.chunk_id == unit.hit.chunk_id and u.lead_in == unit.text]


def _block(unit: Unit, ev: Evidence) -> Block:
    """A list item brings its whole list (best items if long); a lead-in brings its items; a sentence
    stands alone."""
    if unit.is_item or _items_after(unit, ev):
        lead_in = unit.lead_in if unit.is_item else unit.text
        items = [u for u in ev.units if u.hit.chunk_id == unit.hit.chunk_id and u.is_item
                 and u.lead_in == lead_in and _same_run(u, unit, ev)]
        items = sorted(sorted(items, key=lambda u: -u.score)[:MAX_ITEMS], key=lambda u: u.position)
        return Block(tuple(items) or (unit,), lead_in)
    return Block((unit,))


def _same_run(item: Unit, anchor: Unit, ev: Evidence) -> bool:
    """Items of one list: no prose sentence of the chunk lies between them and the anchor."""
    low, high = sorted((item.position, anchor.position))
    return not any(u.hit.chunk_id == anchor.hit.chunk_id and not u.is_item and low < u.position < high
                   and u.text != anchor.text for u in ev.units)


def _quoted(unit: Unit, blocks: list[Block]) -> bool:
    """The same sentence of the same passage is in the blocks already, however it was scored."""
    return any(u.hit.chunk_id == unit.hit.chunk_id and u.text == unit.text for b in blocks for u in b.units)


def _inside(unit: Unit, blocks: list[Block]) -> bool:
    return any(unit.hit.chunk_id == b.hit.chunk_id and (_quoted(unit, [b]) or (b.lead_in and (
        unit.lead_in == b.lead_in or unit.text == b.lead_in))) for b in blocks)


def _redundant(unit: Unit, blocks: list[Block]) -> bool:
    """Says nearly the same as a chosen unit, with the same figures (differing figures are never redundant).
    Late sentence vectors of one passage share its context (neighbours reach 0.9), so within a passage
    the words must repeat as well."""
    for block in blocks:
        for other in block.units:
            if (unit.vector is not None and other.vector is not None and float(unit.vector @ other.vector) > REDUNDANT
                    and numbers(unit.text) == numbers(other.text)
                    and (unit.hit.chunk_id != other.hit.chunk_id or _shared_words(unit.text, other.text) >= 0.5)):
                return True
    return False


def _shared_words(a: str, b: str) -> float:
    """Share of the shorter text's terms that the other has."""
    ta, tb = set(terms(a)), set(terms(b))
    return len(ta & tb) / max(1, min(len(ta), len(tb)))


def _distinct(asked) -> list:
    out: list = []
    for role in asked:
        if not any(role.terms == o.terms and role.qualifiers == o.qualifiers for o in out):
            out.append(role)
    return out


def _role_score(unit: Unit, role) -> float:
    return fit(role, list(unit.mentioned)) if unit.mentioned else 0.0


def render(blocks: list[Block]) -> tuple[str, tuple[Citation, ...]]:
    """Answer text with [n] markers (numbered in order of first use) and the citations they point to.
    When the answer draws on several articles, each article is named once, before its first part, so
    who says what stays clear (figures differ between sources); sentences keep their own capitals."""
    numbering: dict[str, int] = {}
    quotes: dict[str, str] = {}
    hits: dict[str, Hit] = {}
    several = len({b.hit.source for b in blocks}) > 1
    named: set[str] = set()
    parts: list[str] = []
    previous: Block | None = None
    for block in blocks:
        cid = block.hit.chunk_id
        if cid not in numbering:
            numbering[cid] = len(numbering) + 1
            hits[cid] = block.hit
            quotes[cid] = block.best.text.removeprefix("- ").strip()
        marker = f"[{numbering[cid]}]"
        prefix = f"“{block.hit.title}”: " if several and block.hit.source not in named else ""
        named.add(block.hit.source)
        if block.lead_in or block.units[0].is_item:
            heading = block.lead_in or _heading(block.hit.section) or block.hit.title
            if parts and previous is not None and _same_list(previous, block):
                # The same list, split over two passages: its items go on, cited to their own passage.
                parts[-1] += "\n" + "\n".join(u.text for u in block.units) + f" {marker}"
            else:
                heading = heading.rstrip().rstrip(":")
                # A lead-in that is a whole sentence keeps its own stop; a heading gets a colon.
                lines = [f"{prefix}{heading}{'' if heading.endswith(('.', '!', '?')) else ':'} {marker}"]
                lines += [u.text for u in block.units]
                parts.append("\n".join(lines))
        else:
            parts.append(f"{prefix}{block.units[0].text} {marker}")
        previous = block
    citations = tuple(Citation(n, hits[cid], quotes[cid]) for cid, n in numbering.items())
    joiner = "\n\n" if any("\n" in p for p in parts) or several else " "
    return joiner.join(parts), citations


def _same_list(previous: Block, block: Block) -> bool:
    return (previous.units[0].is_item and block.units[0].is_item and previous.hit.source == block.hit.source
            and previous.hit.section == block.hit.section and previous.lead_in == block.lead_in)


def _heading(section: tuple[str, ...]) -> str:
    """("Responsibilities", "Data Scientist") → 'Data Scientist – responsibilities'."""
    if len(section) > 1:
        return f"{section[-1]} – {section[0].lower()}"
    return section[0] if section else ""
