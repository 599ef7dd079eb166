"""Evidence: the sentences and list items of retrieved passages, each scored against the question with
its precomputed vector (no passage is embedded at query time), the question terms it covers, and how
well the roles it speaks about match the roles asked about; then the decision to answer or abstain.

Usage:
    ev = gather(kb, "what do lead ML engineers earn?", history=[])
    ev.verdict.answerable, ev.units[0].text
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

import numpy as np

from .retrieve import clean_query, search
from .rewrite import (RoleMention, Vocabulary, content_terms, expand, numbers, rewrite_query, role_fit, roles,
                      synonyms, terms)
from .types import Hit

ANSWER_K = 10  # passages retrieved for an answer: both roles of a comparison and every article that answers
MIN_FIT = 0.6  # a unit must speak about the asked role at least this well to support an answer
# Calibrated on tests/questions.jsonl (see docs/answers.md): the supporting unit must cover this share
# of the question's non-role terms, and coverage + cosine similarity must reach MIN_STRENGTH.
MIN_ASPECT = 0.33
MIN_STRENGTH = 0.9
_SALARY = synonyms("salari")
_FIGURE = re.compile(r"\bpercent|\bpercentage\b|%|\bhow much (?:money|do|does|did|will|would|can|could|is)\b", re.I)
# "How many years …" is answered by "several years"; "how long …" by a span of time.
_HOW_MANY = re.compile(r"\bhow many (?:[a-z]+ )?([a-z]+)", re.I)
_QUANTITY = r"(?:\d[\d,.]*|several|few|dozens|hundreds|thousands|millions|two|three|four|five|six|seven|eight|nine|ten)"
_DURATION = re.compile(_QUANTITY + r"\s+(?:\w+\s+)?(?:years?|months?|weeks?|days?|hours?)\b", re.I)
_PROPER = re.compile(r"(?<=[a-z,;:] )[A-Z][a-z]{2,}\b")


@dataclass(frozen=True)
class Unit:
    """One sentence or list item of a retrieved passage, scored against the question."""

    text: str  # "- item" or a sentence, exactly as in the passage
    hit: Hit
    position: int  # order within its chunk
    lead_in: str  # the "... include:" sentence a list item hangs from ("" for prose)
    similarity: float  # cosine of the unit and the query
    coverage: float  # weighted share of the question's terms found in the unit and its context
    aspect: float  # the same for the terms that do not name a role ("earn", "tools", "PhD")
    fit: float  # how well the roles the unit speaks about match the asked roles (1 when none asked)
    score: float  # ranking score: similarity, coverage and fit together
    own: frozenset = frozenset()  # terms of the unit, its lead-in and section
    nearby: frozenset = frozenset()  # terms of its whole passage and article title
    mentioned: tuple[RoleMention, ...] = ()  # the roles the unit is about
    vector: np.ndarray = field(default=None, compare=False, repr=False)

    @property
    def is_item(self) -> bool:
        return self.text.startswith("- ")


@dataclass(frozen=True)
class Verdict:
    answerable: bool
    reason: str  # "" or why not: "no-terms", "figure", "numbers", "names", "off-topic"
    strength: float  # aspect coverage + similarity of the best supporting unit
    support: Unit | None = None  # that unit


@dataclass(frozen=True)
class Evidence:
    question: str
    query: str  # what was retrieved for, after follow-up resolution and typo repair
    terms: tuple[str, ...]
    asked_roles: tuple[RoleMention, ...]
    hits: tuple[Hit, ...]
    units: tuple[Unit, ...]  # best first
    verdict: Verdict
    figure: bool = False  # the question asks for a figure (salary, how much, how many, percent)


def vocabulary(kb) -> Vocabulary:
    """The corpus vocabulary, with the embedder's whole words as the dictionary of correctly spelled
    words (so 'hire' is never 'corrected' to 'here')."""
    tokenizer = getattr(kb.embedder().model, "tokenizer", None)
    english = frozenset(w for w in tokenizer.get_vocab() if w.isalpha()) if tokenizer is not None else frozenset()
    return Vocabulary.of(kb.snapshot, english)


def gather(kb, question: str, history: list[dict], k: int = ANSWER_K) -> Evidence:
    """Retrieve for the (rewritten) question, score every unit of every hit, and judge the evidence."""
    vocab = vocabulary(kb)
    query = expand(rewrite_query(clean_query(question, kb.settings.max_query_chars), history, vocab))
    embedder = _Remembering(kb.embedder())
    # An answer often lives in one article: let up to 5 of its passages through (retrieval's default
    # diversity cap is tuned for result lists).
    settings = replace(kb.settings, per_article_cap=max(kb.settings.per_article_cap, 5)) \
        if kb.settings.per_article_cap else kb.settings
    hits = search(kb.snapshot, embedder, query, settings, k=max(k, kb.settings.k))  # validates the query
    query_vector = embedder.encode([clean_query(query, kb.settings.max_query_chars)])[0]
    named = article_references(kb, query, vocab)
    wanted = [t for t in content_terms(query) if t not in named.values()]
    asked = roles(query)
    hits = hits + _per_role_hits(kb, embedder, query, asked, {h.chunk_id for h in hits})
    weights = {t: term_weight(t, vocab) for t in wanted}
    aspects = aspect_weights(wanted, asked, vocab)
    focus = set(synonyms(next(iter(aspects)))) if aspects else set()
    role_terms = {t for r in asked for t in r.terms}
    units, seen = [], set()
    for hit in _with_neighbours(kb, hits, query_vector):
        texts, vectors = kb.chunk_units(hit.chunk_id)
        sims = vectors @ query_vector if len(texts) else np.zeros(0)
        nearby = frozenset(terms(f"{hit.title}\n{hit.section}\n{hit.text}"))
        title_roles, tail = roles(hit.title), hit.section.split("›")[-1] if "›" in hit.section else ""
        # Prose of a passage that ends in a lead-in with no items ("Here are the skills of each role:")
        # only introduces the sub-sections that follow; the answer is in those.
        introduces = bool(texts) and texts[-1].rstrip().endswith(":")
        previous_prose = ""
        for i, (text, sim) in enumerate(zip(texts, sims)):
            lead_in = _lead_in(texts, i) if text.startswith("- ") else ""
            key = (hit.source, hit.section, lead_in, " ".join(text.lower().split()))  # overlapping chunks
            dangling = text.rstrip().endswith(":") and not (i + 1 < len(texts) and texts[i + 1].startswith("- "))
            if key in seen or dangling:
                continue
            seen.add(key)
            # A list item is about its heading; a sentence is about what it says (its heading counts half).
            own = frozenset(terms(f"{text}\n{lead_in}\n{hit.section if text.startswith('- ') else ''}"))
            context = roles(f"{lead_in} {tail}")
            # A list item is about the role its list is about; a sentence about the roles it names.
            if text.startswith("- "):
                mentioned = context or roles(text)
            else:
                mentioned = roles(text) or context or roles(previous_prose)
                previous_prose = text
            fit = _fit(asked, mentioned, title_roles)
            coverage, aspect = coverage_of(weights, own, nearby), coverage_of(aspects, own, nearby)
            # Informative units say something beyond the question's own words and the roles they name.
            novel = set(terms(text)) - set(wanted) - {t for r in mentioned for t in r.terms | r.seniority}
            # A heading or lead-in naming what is asked ("Tools and Software › Data Scientist") marks the
            # passage written to answer exactly that.
            heading = set(terms(f"{hit.section}\n{lead_in}"))
            headed = 0.15 * bool(focus & heading) + 0.15 * bool(focus & heading and role_terms <= heading
                                                                 and fit >= 0.8)
            # A question that only names a role ("what is a research scientist?") asks for a description.
            describe = 0.2 if not aspects and not text.startswith("- ") else 0.0
            score = (0.5 * float(sim) + 0.5 * hit.similarity + 0.25 * coverage + 0.5 * aspect + 0.5 * fit
                     + 0.2 * min(1.0, len(novel) / 4) + headed + describe + 0.2 * (hit.source in named)
                     - (0.3 if introduces and not text.startswith("- ") else 0.0))
            units.append(Unit(text, hit, i, lead_in, float(sim), coverage, aspect, fit, score, own, nearby,
                              tuple(mentioned), vectors[i]))
    units.sort(key=lambda u: -u.score)
    figure = bool(set(wanted) & _SALARY or _FIGURE.search(query))
    verdict = judge(query, wanted, aspects, units, vocab, figure, set(named.values()))
    return Evidence(question, query, tuple(wanted), tuple(asked), tuple(hits), tuple(units), verdict, figure)


def article_references(kb, query: str, vocab: Vocabulary) -> dict[str, str]:
    """Articles the question names by their publisher or author ("the Qwak article"): source → the
    term that named it. Those names come from the bylines and are not something to look up."""
    named = {}
    asked = set(terms(query))
    for source, meta in kb.snapshot.manifest.get("files", {}).items():
        for word in re.findall(r"\b[A-Z][\w-]{2,}", meta.get("byline") or ""):
            term = (terms(word) or [""])[0]
            if term in asked and word.lower() not in vocab.words:
                named[source] = term
    return named


def _per_role_hits(kb, embedder, query: str, asked: list[RoleMention], have: set[str]) -> list[Hit]:
    """For a comparison, passages retrieved for each role on its own ("tools of a data scientist"), since
    passages about both roles at once tend to be introductions rather than answers."""
    distinct = list({(r.terms, r.seniority): r for r in asked}.values())
    if len(distinct) < 2:
        return []
    role_terms = {t for r in asked for t in r.terms | r.seniority}
    asking = [w for w in re.findall(r"[\w’'+#-]+", query) if set(terms(w)) - role_terms and set(terms(w)) <=
              set(content_terms(query))]
    extra = []
    for role in distinct[:3]:
        sub = f"{role.text} {' '.join(asking)}".strip()
        for hit in search(kb.snapshot, embedder, sub, kb.settings, k=4):
            if hit.chunk_id not in have:
                have.add(hit.chunk_id)
                extra.append(hit)
    return extra


def term_weight(term: str, vocab: Vocabulary) -> float:
    """0.4–1.0: rarer terms count more; a term the articles never use counts fully."""
    if not vocab.known(term):
        return 1.0
    df = max(vocab.df.get(t, 0) for t in synonyms(term))
    rarity = math.log((vocab.chunks + 1) / (df + 0.5)) / math.log(max(vocab.chunks, 2))
    return 0.4 + 0.6 * min(1.0, max(0.0, rarity))


def aspect_weights(wanted: list[str], asked: list[RoleMention], vocab: Vocabulary) -> dict[str, float]:
    """Weights of the terms that say what is asked about a role; the first one the articles use (what a
    question names first: "which *industries* employ …") counts double."""
    role_terms = {t for r in asked for t in r.terms | r.seniority}
    # Numbers are checked as constraints of their own (judge), not as words to cover.
    aspects = {t: term_weight(t, vocab) for t in wanted if t not in role_terms and not t[:1].isdigit()}
    focus = next((t for t in aspects if vocab.known(t) and aspects[t] >= 0.55), None)  # not "ML" itself
    if focus is not None:
        aspects = {focus: 2 * aspects[focus], **{t: w for t, w in aspects.items() if t != focus}}
    return aspects


def coverage_of(weights: dict[str, float], own: frozenset, nearby: frozenset) -> float:
    """Weighted share of terms present in the unit (full credit) or elsewhere in its passage (half)."""
    total = sum(weights.values())
    if total <= 0:
        return 1.0
    got = 0.0
    for term, weight in weights.items():
        alternatives = synonyms(term)
        got += weight if alternatives & own else 0.5 * weight if alternatives & nearby else 0.0
    return got / total


def judge(query: str, wanted: list[str], aspects: dict[str, float], units: list[Unit], vocab: Vocabulary,
          figure: bool, references: set[str] = frozenset()) -> Verdict:
    """Answer only when one unit carries the question: it speaks about the asked role, contains the
    question's numbers and names (years, places), holds a figure when one is asked for, and covers
    enough of the remaining terms. Thresholds are calibrated on tests/questions.jsonl (docs/answers.md)."""
    if not wanted:
        return Verdict(False, "no-terms", 0.0)
    required_numbers = numbers(query)
    names = [w for w in _PROPER.findall(query)
             if not any(vocab.known(t) or t in references for t in terms(w))]
    best, reason = None, "off-topic"
    for unit in units:
        if unit.fit < MIN_FIT:
            continue
        failed = ("figure" if figure and not re.search(r"\d", unit.text) else
                  "figure" if not _answers_quantity(query, unit.text) else
                  "numbers" if any(n not in unit.text.replace(",", "") for n in required_numbers) else
                  "names" if any(name.lower() not in unit.text.lower() for name in names) else "")
        if failed:
            # Say why only about units that would otherwise answer; else the question is off-topic.
            reason = failed if unit.aspect >= 0.25 and reason == "off-topic" else reason
            continue
        strength = unit.aspect + unit.similarity
        if best is None or strength > best[0]:
            best = (strength, unit.aspect, unit)
    if best is None:
        return Verdict(False, reason, 0.0)
    strength, covered, unit = best
    if covered < MIN_ASPECT or strength < MIN_STRENGTH:
        return Verdict(False, reason, strength, unit)
    return Verdict(True, "", strength, unit)


def _answers_quantity(query: str, text: str) -> bool:
    """'How many <things>' needs a quantity of those things in the unit; 'how long' a span of time."""
    many = _HOW_MANY.search(query)
    if many:
        head = many.group(1).lower().rstrip("s")
        return bool(re.search(_QUANTITY + r"\s+(?:[\w-]+\s+)?" + re.escape(head), text, re.I))
    if re.search(r"\bhow long\b", query, re.I):
        return bool(_DURATION.search(text))
    return True


def _lead_in(texts: list[str], i: int) -> str:
    """The sentence right before a run of list items, when it introduces them ('... include:')."""
    j = i
    while j > 0 and texts[j - 1].startswith("- "):
        j -= 1
    return texts[j - 1] if j > 0 and texts[j - 1].rstrip().endswith(":") else ""


def _fit(asked: list[RoleMention], mentioned: list[RoleMention], title_roles: list[RoleMention]) -> float:
    if not asked:
        return 1.0
    if not mentioned:
        # The unit names no role; its article's title says which roles the article is about.
        return 0.4 + 0.3 * max(0.0, max(role_fit(role, title_roles) for role in asked))
    return max(0.0, max(role_fit(role, mentioned) for role in asked))


def _with_neighbours(kb, hits: list[Hit], query_vector: np.ndarray) -> list[Hit]:
    """The hits, each followed by the chunks before and after it under the same heading (rank 0): a
    section split across chunks keeps its figures and lists together, and "Tools › Data Scientist"
    comes with "Tools › Lead Machine Learning Engineer" for comparisons."""
    snapshot, out, have = kb.snapshot, [], {h.chunk_id for h in hits}
    for hit in hits:
        out.append(hit)
        i = snapshot.by_id.get(hit.chunk_id)
        for j in (i - 1, i + 1) if i is not None else ():
            if 0 <= j < len(snapshot.records):
                chunk = snapshot.records[j].chunk
                same_heading = chunk.section.split("›")[0].strip() == hit.section.split("›")[0].strip()
                if chunk.source == hit.source and same_heading and chunk.chunk_id not in have:
                    have.add(chunk.chunk_id)
                    similarity = float(snapshot.faiss_index.reconstruct(j) @ query_vector)
                    out.append(Hit(chunk.chunk_id, chunk.text, hit.score * 0.9, chunk.title, chunk.section,
                                   chunk.source, chunk.date, chunk.position, 0, similarity))
    return out


class _Remembering:
    """The embedder, remembering what it encoded: retrieval and unit scoring share one query embedding."""

    def __init__(self, embedder) -> None:
        self._embedder, self._memo = embedder, {}

    def __getattr__(self, name):
        return getattr(self._embedder, name)

    def encode(self, texts: list[str], **kwargs) -> np.ndarray:
        key = tuple(texts)
        if key not in self._memo:
            self._memo[key] = self._embedder.encode(texts, **kwargs)
        return self._memo[key]
