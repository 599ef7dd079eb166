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
from dataclasses import dataclass, field

import numpy as np

from ..chunk import split_sentences
from ..index.embed import SMALL_INPUT
from ..records import Hit
from ..retrieve.lexical import STOPWORDS, tokenize
from ..retrieve.search import clean_query
from .entities import Lexicon, Mention, fit
from .library import Library
from .recall import Remembering, previous_articles, recall, recall_within, references_of, with_neighbours
from .related import TEMPLATE, RelatedTerms
from .rewrite import COMPARES, Vocabulary, asked_numbers, content_terms, earlier_questions, expand, rewrite_query

MIN_FIT = 0.6  # a unit must speak about the asked role at least this well to support an answer
# Calibrated on tests/questions.jsonl (see docs/answers.md): the supporting unit must cover this share
# of the question's non-role terms, and coverage + cosine similarity must reach MIN_STRENGTH.
MIN_ASPECT = 0.33
MIN_STRENGTH = 0.9
# Late sentence vectors (pooled from their passage's token vectors) share the passage's context, so the
# sentences of one passage look alike to the question. Ranking subtracts this share of the passage's mean
# sentence vector, which restores their contrast (docs/answers.md: 0.4–0.8 all give fact coverage 1.000).
# Judging still uses the plain cosine, as calibrated.
LATE_CONTRAST = 0.5
# A related word (related.py) covers a question's term in part: "pay" for "salary" is likely, not certain.
RELATED_CREDIT = 0.7
# Money one is paid and money one pays, in generic English: a figure of the other kind does not answer
# ("what does an apprenticeship cost?" is not answered by what an electrician earns).
EARNED_WORDS = "earn earns earning earned paid pay pays salary salaries wage wages income compensation".split()
SPENT_WORDS = "cost costs price prices priced fee fees tuition spend spent afford".split()
_EARNED = re.compile(r"\b(?:" + "|".join(EARNED_WORDS) + r")\b", re.I)
_SPENT = re.compile(r"\b(?:" + "|".join(SPENT_WORDS) + r")\b", re.I)
# The words of one kind of money are one term to the evidence check: "pay" is answered by what one "earns".
_MONEY_FAMILY = {stem: family for family in (frozenset(tokenize(" ".join(w))) for w in (EARNED_WORDS, SPENT_WORDS))
                 for stem in family}
# Plain English that asks for an amount: "how much", "how many", "what percent", and the words for money
# ("earn", "cost", "salary"). (Deriving them from the corpus, as words whose sentences mostly hold numbers,
# was tried: four articles give too few sentences per word, and "employ" came out a figure word.)
_MONEY_WORDS = r"\b(?:" + "|".join(EARNED_WORDS + SPENT_WORDS) + r")\b"
_MONEY_WORD = re.compile(_MONEY_WORDS, re.I)
# A score, a grade point average or a rate is a number too ("what GRE score do programs require?").
_FIGURE_NOUN = re.compile(r"\bwhat (?:\w+ )?(scores?|gpa|rates?)\b", re.I)
_FIGURE = re.compile(r"\bpercent|\bpercentage\b|%|\bhow much (?:money|do|does|did|will|would|can|could|is)\b|"
                     r"\bhow much\s*\?|" + _FIGURE_NOUN.pattern + "|" + _MONEY_WORDS, re.I)
# A clause that opens with the asker ("I", "my", "we") tells about them; it asks only if it ends in "?".
_TELLS = re.compile(r"(?:i|i['’](?:m|ve|d|ll)|my|me|we|we['’](?:re|ve)|our)\b", re.I)
# A question about money wants an amount of money, not any number ("the top 1% earn more" is no salary).
_MONEY_ASKED = re.compile(_MONEY_WORDS + r"|\bmoney\b|\bhow much (?:do|does|did|will|would|can|could)\b[^?]*"
                          r"\b(?:make|makes|making|take home)\b", re.I)


# "How can a nurse earn more?" asks for a way, not an amount: a money word in a question of manner is no
# figure asked ("how much …" still is).
_MANNER = re.compile(r"\bhow (?:can|could|do|does|did|should|would|might|to)\b", re.I)
# "Do apprentices get paid while they train?" asks whether, not how much: a yes/no question (it opens with
# an auxiliary and asks no what / which / how) names money without asking for an amount.
_YES_NO = re.compile(r"^\W*(?:do|does|did|is|are|was|were|can|could|will|would|should|has|have)\b(?!.*\b(?:what|which|"
                     r"how)\b)", re.I)


def asks_figure(query: str) -> bool:
    """The question asks for a number: a figure word outside what the asker tells of themselves ("my
    employer might pay for my masters, anything to watch out for?" asks for no amount).
    Usage: asks_figure("how much do electricians earn?")  # True"""
    # "How does pay compare …?" compares amounts: no question of manner.
    return any(_FIGURE.search(_MONEY_WORD.sub(" ", c) if (_MANNER.search(c) and not COMPARES.search(c))
                              or _YES_NO.match(c) else c) for c in asked_clauses(query))


def asked_clauses(query: str) -> list[str]:
    """The clauses that ask, less those where the asker tells of themselves ("I'm torn between A and B.").
    Usage: asked_clauses("I earn 50k as a teacher. How do I switch?")  # ["How do I switch?"]"""
    clauses = [c for c in re.split(r"(?<=[,;:.!])\s+", query.strip()) if c]
    return [c for c in clauses if c.rstrip().endswith("?") or not _TELLS.match(c)] or clauses


def asks_amount(query: str) -> bool:
    """The question asks for a figure, a count or a span of time. Usage: asks_amount("how many hours?")  # True"""
    return asks_figure(query) or bool(_HOW_MANY.search(query) or _HOW_LONG.search(query))


# Words about the articles themselves ("what do the articles cite / say / mention?"): what a question asks
# of its sources, never what an answering sentence must contain.
# ("blog" and "post" stay: "writing a blog" and "job posts" are topics.)
_ABOUT_WRITING = frozenset(tokenize("article articles cite cites cited mention mentions mentioned say says said "
                                    "according"))


def asked_terms(query: str, lexicon: Lexicon, consumed: frozenset[str] = frozenset()) -> list[str]:
    """The terms an answer should cover: the question's content terms less the words about the articles
    themselves and those that named an article (`consumed`).
    Usage: asked_terms("what growth do the articles cite?", lexicon)  # ['growth']"""
    return [t for t in content_terms(query, lexicon) if t not in consumed and t not in _ABOUT_WRITING]


def money_kind(text: str) -> str:
    """'earned', 'spent', or '' when the text speaks of neither or of both."""
    earned, spent = bool(_EARNED.search(text)), bool(_SPENT.search(text))
    return "earned" if earned and not spent else "spent" if spent and not earned else ""


# Numbers written as words count as figures ("two to five dollars an hour"); "one" is left out, being as
# often a pronoun ("one of the best").
_SMALL_NUMBERS = "two|three|four|five|six|seven|eight|nine|ten"
_NUMBER_WORDS = (r"(?:" + _SMALL_NUMBERS + r"|eleven|twelve|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
                 r"hundred|thousand|million|billion|dozen|half)")
_NUMBER = re.compile(r"\d|\b" + _NUMBER_WORDS + r"\b", re.I)


# Generic English words that qualify an amount, not whose amount it is.
_AMOUNT_TERMS = frozenset(tokenize("per extra additional average typical approximate approximately roughly annual "
                                   "annually yearly monthly weekly daily hourly total overall"))


def holds_number(text: str) -> bool:
    """A digit or a number written as a word. Usage: holds_number("two to five dollars an hour")  # True"""
    return bool(_NUMBER.search(text))


_MONEY = re.compile(r"[$€£¥]\s?\d|\d\s?[kK]\b|\b\d{1,3}(?:,\d{3})+\b|\b\d+\s?(?:dollars?|euros?|pounds?)\b|"
                    r"\b" + _NUMBER_WORDS + r"\s+(?:dollars?|euros?|pounds?)\b|"
                    r"\b(?:USD|EUR|GBP)\b", re.I)
# "How many years …" is answered by "several years"; "how long …" by a span of time.
_HOW_MANY = re.compile(r"\bhow many ((?:[a-z]+ )?[a-z]+)", re.I)
_HOW_LONG = re.compile(r"\bhow long\b|\bhow much time\b", re.I)
_QUANTITY = r"(?:\d[\d,.]*|several|few|dozens|hundreds|thousands|millions|" + _SMALL_NUMBERS + ")"
# "… a few years ago" is when something happened: neither a span of time nor a count of years.
_DURATION = re.compile(r"(?:" + _QUANTITY + r"|one|an?)\s+(?:\w+\s+)?"
                       r"(?:years?|months?|weeks?|days?|hours?|minutes?|min)\b(?!\s+ago\b)", re.I)
# A quantity, maybe a range ("300-400", "two to three"), and the one or two words after it.
_COUNT = re.compile(r"(?<!\w)" + _QUANTITY + r"(?:\s*(?:-|–|to)\s*" + _QUANTITY + r")?"
                    r"\s+([\w-]+)\b(?!\s+ago\b)(?:\s+([\w-]+))?", re.I)
# "Which X is best / fastest?" asks for a ranking; only a unit that ranks something can answer it.
_RANKING = re.compile(r"\bwhich\b[^?.]*\b(?:is|are)\s+(?:the\s+)?(?:best|top|\w{3,}est)\b", re.IGNORECASE)
_RANKS = re.compile(r"\b(?:most|best|top|\w{3,}est|better|worse)\b", re.IGNORECASE)
_PROPER = re.compile(r"(?<=[a-z,;:] )[A-Z][a-z]{2,}\b")
# "… in Canada", "… at Google": a place or an organisation that scopes what is asked.
_SCOPE = re.compile(r"\b(?:in|at)\s+(?:the\s+)?([A-Z][a-z]{2,})\b")
_RELATIVE = re.compile(r"\bhow much (?:more|less|extra|higher|lower)\b", re.I)
_SHARE = re.compile(r"\d\s?%|\bpercent\b", re.I)
# "What was the name of …", "… called?": the answer is a name, written with a capital inside a sentence.
_NAME_ASKED = re.compile(r"\bname of\b|\b(?:called|named)\s*\?", re.I)


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
    mentioned: tuple[Mention, ...] = ()  # the roles the unit is about
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def is_item(self) -> bool:
        return self.text.startswith("- ")


@dataclass(frozen=True)
class Verdict:
    answerable: bool
    reason: str  # "" or why not: "no-terms", "figure", "numbers", "names", "off-topic"
    strength: float  # aspect coverage + similarity of the best supporting unit
    support: Unit | None = None  # that unit
    eligible: tuple[Unit, ...] = ()  # every unit that meets the question's constraints (entity, figures, names)


@dataclass(frozen=True)
class Evidence:
    question: str
    query: str  # what was retrieved for, after follow-up resolution and typo repair
    terms: tuple[str, ...]
    asked_roles: tuple[Mention, ...]
    hits: tuple[Hit, ...]
    units: tuple[Unit, ...]  # best first
    verdict: Verdict
    figure: bool = False  # the question asks for a figure (salary, how much, how many, percent)
    named: frozenset[str] = frozenset()  # the articles the question names (by title or description)


def vocabulary(kb: Library) -> Vocabulary:
    """The corpus vocabulary, with the embedder's whole words as the dictionary of correctly spelled
    words (so 'hire' is never 'corrected' to 'here')."""
    tokenizer = getattr(kb.embedder().model, "tokenizer", None)
    return Vocabulary.of(kb.snapshot, _whole_words(tokenizer))


_WHOLE_WORDS: dict[int, tuple[object, frozenset]] = {}


def _whole_words(tokenizer) -> frozenset:
    """The tokenizer's alphabetic pieces, computed once per tokenizer (30k words: ~50 ms a question)."""
    if tokenizer is None:
        return frozenset()
    cached = _WHOLE_WORDS.get(id(tokenizer))
    if cached is None or cached[0] is not tokenizer:
        cached = (tokenizer, frozenset(w for w in tokenizer.get_vocab() if w.isalpha()))
        _WHOLE_WORDS[id(tokenizer)] = cached
    return cached[1]


def gather(kb: Library, question: str, history: list[dict]) -> Evidence:
    """Retrieve for the (rewritten) question, score every unit of every hit, and judge the evidence."""
    vocab = vocabulary(kb)
    lexicon = vocab.lexicon
    query = rewrite_query(clean_query(question, kb.settings.max_query_chars), history, vocab)
    query = focused(query, kb.embedder())
    # A question naming an article ("In 'Why I Left Nursing', how many …") is answered from it, and asks
    # what is left once the naming words are set aside.
    refs = references_of(kb, query, vocab)
    named_query = query
    if refs.scoped and content_terms(refs.rest, lexicon):
        query = refs.rest
    embedder = Remembering(kb.embedder())  # retrieval and unit scoring share one query embedding
    asked = list(lexicon.mentions(query))
    related = RelatedTerms.of(kb.snapshot, kb.embedder())
    # A question that names no entity or article of its own goes on with the articles of the turn before,
    # and is read with that turn's question ("roughly what does one cost?" after "which nursing degree?").
    earlier = earlier_questions(history, vocab)
    kept = previous_articles(kb, embedder, earlier[0], vocab) \
        if earlier and not (refs.scoped or refs.favoured or lexicon.mentions(question)) else frozenset()
    expanded = expand(query, lexicon, vocab)  # acronyms and clipped words written out, once per question
    searched = clean_query(expanded, kb.settings.max_query_chars)
    if kept:
        contextual = clean_query(f"{searched} {earlier[0]}", kb.settings.max_query_chars)
        searched = contextual if embedder.token_count(contextual) <= embedder.max_tokens else searched
    unseen = related.unseen(query)[:SMALL_INPUT - 1]  # one short batch; any others are embedded alone
    if unseen and searched and embedder.token_count(searched) <= embedder.max_tokens:
        # The question and its new words in one encoder pass (the words' vectors find related terms).
        vectors = embedder.encode([searched, *(TEMPLATE.format(w) for w in unseen)])
        embedder.remember([searched], vectors[:1])
        related.learn(unseen, vectors[1:])
    scope = refs.scoped or kept
    if scope:
        hits = recall_within(kb, embedder, searched if kept else expanded, scope,
                             each=bool(refs.scoped))
    else:
        hits = recall(kb, embedder, expanded, asked, vocab)  # validates the query like kb.search
    # Named articles' sentences are scored against the full wording: its naming words describe them.
    query_vector = embedder.encode([named_query if refs.scoped else searched])[0]
    wanted = asked_terms(query, lexicon, refs.consumed)
    found = related.alternatives_of(query)
    entity_terms = {t for m in asked for t in m.terms | m.qualifiers}
    # Entities are matched as named ("researcher" is not "scientist"); what is asked of them may be
    # said in related words.
    alternatives = {t: frozenset({t}) if t in entity_terms else found.get(t, frozenset()) | _MONEY_FAMILY.get(t, set())
                    | {t} for t in wanted}
    aspects = aspect_weights(wanted, asked, vocab, alternatives)
    figure = asks_figure(query)
    ask = _Asked(query_vector, wanted, asked, {t: term_weight(alternatives[t], vocab) for t in wanted}, aspects,
                 set(alternatives[next(iter(aspects))]) if aspects else set(), {t for r in asked for t in r.terms},
                 set(refs.scoped | refs.favoured | kept), lexicon, alternatives, vocab, bool(_NEXT_ASKED.search(query)))
    contrast = LATE_CONTRAST if kb.snapshot.manifest.get("sentence_vectors") == "late" else 0.0
    units: list[Unit] = []
    seen: set[tuple] = set()
    for hit in with_neighbours(kb, hits, query_vector):
        texts, vectors = kb.chunk_units(hit.chunk_id)
        units.extend(_score_units(ask, hit, texts, vectors, seen, contrast))
    units.sort(key=lambda u: -u.score)
    verdict = judge(query, wanted, aspects, units, vocab, figure, set(refs.consumed), alternatives)
    return Evidence(question, query, tuple(wanted), tuple(asked), tuple(hits), tuple(units), verdict, figure,
                    refs.scoped)


LONG_QUESTION_WORDS = 40  # above this, a question of several sentences is searched by what it asks


def focused(query: str, embedder) -> str:
    """A long question (a paragraph about someone's background, then the ask) is searched by what it asks:
    its questions, with the sentence before them when they are too short to stand alone ("How do I
    switch?"), and never more than the model reads.
    Usage: focused("I taught for ten years ... How do I switch to data analysis?", kb.embedder())"""
    sentences = split_sentences(" ".join(query.split()))
    too_long = embedder.token_count(query) > embedder.max_tokens
    if not too_long and (len(sentences) < 3 or len(query.split()) <= LONG_QUESTION_WORDS):
        return query
    asks = [i for i, s in enumerate(sentences) if s.rstrip().endswith("?")] or [len(sentences) - 1]
    kept = set(asks)
    if len(" ".join(sentences[i] for i in asks).split()) < 8 and asks[0] > 0:
        kept.add(asks[0] - 1)
    text = " ".join(sentences[i] for i in sorted(kept))
    while embedder.token_count(text) > embedder.max_tokens:  # one sentence longer than the model reads
        text = " ".join(text.split()[: max(1, len(text.split()) * 3 // 4)])
    return text


@dataclass(frozen=True)
class _Asked:
    """What units are scored against."""

    vector: np.ndarray
    wanted: list[str]
    roles: list[Mention]
    weights: dict[str, float]
    aspects: dict[str, float]
    focus: set[str]
    role_terms: set[str]
    named_sources: set[str]
    lexicon: Lexicon
    alternatives: dict[str, frozenset[str]]  # each wanted term → the corpus stems that count as it
    vocab: Vocabulary
    next_step: bool = False  # the question asks what comes after something


def contrasted(vectors: np.ndarray, weight: float) -> np.ndarray:
    """A passage's sentence vectors less `weight` × their mean, unit-length again: what tells them apart.
    Usage: contrasted(kb.chunk_units(chunk_id)[1], 0.5) @ query_vector"""
    if weight == 0 or len(vectors) == 0:
        return vectors
    shifted = vectors - weight * vectors.mean(axis=0)
    return shifted / np.maximum(np.linalg.norm(shifted, axis=1, keepdims=True), 1e-12)


def _score_units(ask: _Asked, hit: Hit, texts: list[str], vectors: np.ndarray, seen: set,
                 contrast: float = 0.0) -> list[Unit]:
    """Score the sentences and list items of one passage (skipping ones already seen in an overlapping
    chunk, and lead-ins whose list is elsewhere). `contrast`: see LATE_CONTRAST."""
    sims = vectors @ ask.vector if len(texts) else np.zeros(0)
    ranked = contrasted(vectors, contrast) @ ask.vector if contrast and len(texts) else sims
    lexicon = ask.lexicon
    nearby = frozenset(lexicon.terms(f"{hit.title}\n{hit.section_name}\n{hit.text}"))
    # A unit naming no entity is about what its article is about: the title's entities, and those the
    # article names most.
    title_roles = list(lexicon.mentions(hit.title)) + list(ask.vocab.article_entities.get(hit.source, ()))
    tail = hit.section[-1] if len(hit.section) > 1 else ""
    # Prose of a passage that ends in a lead-in with no items ("Here are the skills of each role:")
    # only introduces the sub-sections that follow; the answer is in those.
    introduces = bool(texts) and texts[-1].rstrip().endswith(":")
    previous_prose, units = "", []
    for i, (text, sim, rank_sim) in enumerate(zip(texts, sims, ranked, strict=False)):
        item = text.startswith("- ")
        lead_in = _lead_in(texts, i) if item else ""
        key = (hit.source, hit.section, lead_in, " ".join(text.lower().split()))
        dangling = text.rstrip().endswith(":") and not (i + 1 < len(texts) and texts[i + 1].startswith("- "))
        if key in seen or dangling:
            continue
        seen.add(key)
        # A list item is about its heading and its list's role; a sentence about what it says and the
        # roles it names (its heading counts half, through `nearby`).
        own = frozenset(lexicon.terms(f"{text}\n{lead_in}\n{hit.section_name if item else ''}"))
        context = list(lexicon.mentions(f"{lead_in} {tail}"))
        named_here = _widened(lexicon.mentions(text), text, ask.roles, ask.vocab)
        if item:
            mentioned = context or named_here
        else:
            mentioned = named_here or context or list(lexicon.mentions(previous_prose))
            previous_prose = text
        fit = _entity_fit(ask.roles, mentioned, title_roles, ask.vocab.article_terms.get(hit.source, frozenset()),
                          ask.vocab.distinctive)
        coverage = coverage_of(ask.weights, own, nearby, ask.alternatives)
        aspect = coverage_of(ask.aspects, own, nearby, ask.alternatives)
        # Informative units say something beyond the question's own words and the roles they name.
        novel = set(lexicon.terms(text)) - {a for t in ask.wanted for a in ask.alternatives[t]} \
            - {t for r in mentioned for t in r.terms | r.qualifiers}
        # A heading or lead-in naming what is asked ("Shift Patterns › Registered Nurse") marks the
        # passage written to answer exactly that.
        heading = set(lexicon.terms(f"{hit.section_name}\n{lead_in}"))
        named = bool(ask.focus & heading)
        headed = 0.15 * named + 0.15 * (named and ask.role_terms <= heading and fit >= 0.8)
        # A question that only names an entity ("what is a paralegal?") asks for a description.
        describe = 0.2 if not ask.aspects and not item else 0.0
        # "What do I do after the course?": a unit that opens on the next step ("After that, …") answers it.
        follows = NEXT_STEP * (ask.next_step and bool(_NEXT_STEP.match(text)))
        score = follows + (0.5 * float(rank_sim) + 0.5 * hit.similarity + 0.25 * coverage + 0.5 * aspect + 0.5 * fit
                 + 0.2 * min(1.0, len(novel) / 4) + headed + describe + 0.2 * (hit.source in ask.named_sources)
                 - (0.3 if introduces and not item else 0.0))
        units.append(Unit(text, hit, i, lead_in, float(sim), coverage, aspect, fit, score, tuple(mentioned),
                          vectors[i]))
    return units


NEXT_STEP = 0.3  # 0.15-0.5 give the same figures on every set
# A question about what comes after something, and a unit that opens on the next step (plain English).
_NEXT_ASKED = re.compile(r"\b(?:after|next|then)\b(?!\s+(?:\d|how\b))", re.I)  # not "after how many …"
_NEXT_STEP = re.compile(r"^(?:after (?:that|this)|then|next|afterwards|once (?:that|this|you)|from there)\b", re.I)


def term_weight(alternatives: frozenset[str], vocab: Vocabulary) -> float:
    """0.4–1.0: rarer terms count more; a term the articles never use (nor anything related) counts fully."""
    df = max((vocab.df.get(t, 0) for t in alternatives), default=0)
    if not df:
        return 1.0
    rarity = math.log((vocab.chunks + 1) / (df + 0.5)) / math.log(max(vocab.chunks, 2))
    return 0.4 + 0.6 * min(1.0, max(0.0, rarity))


# Words that frame a request ("tips for sleeping", "ways to get hired", "steps to become"): what is asked
# about is the word after them, so they are never the question's focus.
_FRAMING_TERMS = frozenset(tokenize("tip tips way ways step steps thing things guide advice idea ideas"))


def aspect_weights(wanted: list[str], asked: list[Mention], vocab: Vocabulary,
                   alternatives: dict[str, frozenset[str]]) -> dict[str, float]:
    """Weights of the terms that say what is asked about an entity; the first one the articles use (what
    a question names first: "which *industries* employ …") counts double."""
    role_terms = {t for r in asked for t in r.terms | r.qualifiers}
    # Numbers are checked as constraints of their own (judge), not as words to cover.
    aspects = {t: term_weight(alternatives[t], vocab) for t in wanted if t not in role_terms and not t[:1].isdigit()}
    focus = next((t for t in aspects if _known(alternatives[t], vocab) and aspects[t] >= 0.55
                  and t not in _FRAMING_TERMS), None)
    if focus is not None:
        aspects = {focus: 2 * aspects[focus], **{t: w for t, w in aspects.items() if t != focus}}
    return aspects


def _known(alternatives: frozenset[str], vocab: Vocabulary) -> bool:
    return any(vocab.known(t) for t in alternatives)


def coverage_of(weights: dict[str, float], own: frozenset, nearby: frozenset,
                alternatives: dict[str, frozenset[str]]) -> float:
    """Weighted share of terms present in the unit (full credit) or elsewhere in its passage (half); a
    related corpus term counts as the term."""
    total = sum(weights.values())
    if total <= 0:
        return 1.0
    got = 0.0
    for term, weight in weights.items():
        related = alternatives[term]
        credit = 1.0 if term in own else RELATED_CREDIT if related & own else \
            0.5 if term in nearby else 0.5 * RELATED_CREDIT if related & nearby else 0.0
        got += weight * credit
    return got / total


def judge(query: str, wanted: list[str], aspects: dict[str, float], units: list[Unit], vocab: Vocabulary,
          figure: bool, references: frozenset[str] | set[str],
          alternatives: dict[str, frozenset[str]]) -> Verdict:
    """Answer only when one unit carries the question: it speaks about the asked role, contains the
    question's numbers and names (years, places), holds a figure when one is asked for, and covers
    enough of the remaining terms. Thresholds are calibrated on tests/questions.jsonl (docs/answers.md)."""
    if not wanted:
        return Verdict(False, "no-terms", 0.0)
    required_numbers = asked_numbers(query)
    money = figure and bool(_MONEY_ASKED.search(query))
    kind = money_kind(query) if money else ""
    ranking = not figure and bool(_RANKING.search(query))
    name_asked = bool(_NAME_ASKED.search(query))
    asked_words = {w.lower() for w in re.findall(r"[A-Za-z]+", query)}
    proper = [w for w in _PROPER.findall(query) if not any(t in references for t in vocab.lexicon.terms(w))]
    forms = {w: {a for t in vocab.lexicon.terms(w) for a in alternatives.get(t, frozenset({t}))} for w in proper}
    # A name the articles use in another form is theirs ("Canadian" where they say "Canada": a related term).
    names = [w for w in proper if not _known(frozenset(forms[w]), vocab)]
    # A name the corpus uses must still be used by the answering unit's article: "How much does a
    # physiotherapist earn in Canada?" is not answered by an article whose figures are England's; nor is a
    # question about "the Canadian exam" by an article that never names Canada. In a comparison the place
    # may scope one side only ("plumbing in Ontario or flying for an airline").
    scopes = {m.group(1) for m in _SCOPE.finditer(query)} \
        | {w for w in proper if w not in names and not any(vocab.known(t) for t in vocab.lexicon.terms(w))}
    known_names = [] if COMPARES.search(query) else [w for w in proper if w not in names and w in scopes]
    if figure:
        # A figure is about someone: a word the articles never use ("ethicist") must be in the figure's
        # sentence, like a name. Words that only qualify the amount ("extra", "per hour") name nobody.
        # Only words of what is asked: "I'm torn between …" tells of the asker.
        asked_stems = set(tokenize(" ".join(asked_clauses(query))))
        names += [t for t in aspects if not _known(alternatives[t], vocab) and not t[:1].isdigit()
                  and t not in _AMOUNT_TERMS and t in asked_stems]
    # "How much more would I earn in London?" is answered by a share as well as an amount ("10 to 15% higher").
    relative = bool(_RELATIVE.search(query))
    # "What score / GPA / rate …?" names the figure it wants: a unit with some other number does not give it.
    named_figure = _FIGURE_NOUN.search(query)
    kind_word = next(iter(tokenize(named_figure.group(1))), "") if named_figure else ""
    best, reason, eligible = None, "off-topic", []
    for unit in units:
        if unit.fit < MIN_FIT:
            continue
        failed = ("figure" if figure and not holds_number(unit.text) else
                  "figure" if kind_word and not alternatives.get(kind_word, {kind_word}) & set(tokenize(unit.text)) else
                  "figure" if money and not (_MONEY.search(unit.text) or relative and _SHARE.search(unit.text)) else
                  "figure" if kind and _other_kind(kind, unit) else
                  "ranking" if ranking and not _RANKS.search(unit.text) else
                  "figure" if not _answers_quantity(query, unit.text, alternatives) else
                  "numbers" if any(n not in unit.text.replace(",", "") for n in required_numbers) else
                  "names" if any(not says_name(name, unit.text) for name in names) else
                  "names" if any(not forms[name] & vocab.article_terms.get(unit.hit.source, set())
                                 for name in known_names) else
                  "names" if name_asked and not any(w.lower() not in asked_words for w in _PROPER.findall(unit.text))
                  else "")
        if failed:
            # Say why only about units that would otherwise answer; else the question is off-topic.
            reason = failed if unit.aspect >= 0.25 and reason == "off-topic" else reason
            continue
        eligible.append(unit)
        strength = unit.aspect + unit.similarity
        if best is None or strength > best[0]:
            best = (strength, unit.aspect, unit)
    if best is None:
        return Verdict(False, reason, 0.0)
    strength, covered, unit = best
    if covered < MIN_ASPECT or strength < MIN_STRENGTH:
        # Too weak for the check's own say-so; the units that meet the constraints are still reported, for
        # the learned decision to answer from (answer.answerable).
        return Verdict(False, reason, strength, unit, tuple(eligible))
    return Verdict(True, "", strength, unit, tuple(eligible))


_CAPITALIZED_RUN = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:(?:of|and|for|the)\s+)?[A-Z][a-z]+)+")


def says_name(name: str, text: str) -> bool:
    """The text has the name, or spells out its letters ("US" in "the United States", "BLS" in "the Bureau of
    Labor Statistics"). Usage: says_name("US", "nurses in the United States earned …")  # True"""
    if name.lower() in text.lower():
        return True
    letters = name.upper()
    runs = _CAPITALIZED_RUN.finditer(text)
    initials = ("".join(w[0] for w in run.group(0).split() if w[0].isupper()) for run in runs)
    return 1 < len(letters) <= 6 and letters.isalpha() and any(letters in run for run in initials)


def _other_kind(kind: str, unit: Unit) -> bool:
    """The unit's words, list lead-in and headings do not speak of the kind of money asked about (a figure
    with no word for it, or with words of both kinds, is no answer either: measured, the lenient check that
    refused only the other kind changed nothing on the devset). The nearest context that speaks of money
    decides: the unit itself, then its list's lead-in, then its headings, innermost first."""
    context = next((c for c in (unit.text, unit.lead_in, *reversed(unit.hit.section)) if _MONEY_WORD.search(c)), "")
    return money_kind(context) != kind


def _answers_quantity(query: str, text: str, alternatives: dict[str, frozenset[str]] | None = None) -> bool:
    """'How many <things>' needs a quantity (or a range, "300-400") of those things in the unit, the things
    maybe in related words ("questions" for "problems", from `alternatives`); 'how long' a span of time."""
    many = _HOW_MANY.search(query)
    if many:
        # "nine class hours" answers "how many class periods"; "seven of those" counts what was named.
        counted = {a for w in many.group(1).lower().split() if w not in STOPWORDS for t in tokenize(w)
                   for a in (alternatives or {}).get(t, frozenset()) | {t}}
        for count in _COUNT.finditer(text):
            following = [w for w in count.groups() if w]
            if any(w.lower() == "of" or set(tokenize(w)) & counted for w in following) or not counted:
                return True
        return False
    if _HOW_LONG.search(query):
        return bool(_DURATION.search(text))
    return True


def _lead_in(texts: list[str], i: int) -> str:
    """The sentence right before a run of list items: it introduces them, whether it ends in a colon
    ('... include:') or a full stop ('these are some essential skills you'll need.')."""
    j = i
    while j > 0 and texts[j - 1].startswith("- "):
        j -= 1
    return texts[j - 1] if j > 0 else ""


def _widened(mentions, text: str, asked: list[Mention], vocab: Vocabulary) -> list[Mention]:
    """The mentions of a text, each with the asked entity's words that are written right before it (within
    three words) though the corpus never made them a modifier: "new graduate nurses" names graduate nurses. An
    asked word the articles never use that begins a written one ("grad" for "graduate") is that word.
    Usage: _widened(lexicon.mentions(text), text, asked_roles, vocab)"""
    if not asked:
        return list(mentions)
    widened = []
    for mention in mentions:
        at = text.lower().find(mention.text.lower())
        before = set(tokenize(" ".join(text[:at].split()[-3:]))) if at > 0 else set()
        terms, qualifiers = set(mention.terms), set(mention.qualifiers)
        for role in asked:
            if not role.terms & mention.terms:
                continue
            for term in (role.terms | role.qualifiers) - terms - qualifiers:
                clipped = len(term) >= 4 and not vocab.known(term)
                written = next((w for w in sorted(before | terms) if w == term or clipped and w.startswith(term)), None)
                if written is not None:
                    terms.discard(written)
                    (qualifiers if term in role.qualifiers else terms).add(term)
        widened.append(Mention(mention.text, frozenset(terms), frozenset(qualifiers)))
    return widened


def _entity_fit(asked: list[Mention], mentioned: list[Mention], title_roles: list[Mention],
                article: frozenset[str] = frozenset(), distinctive: frozenset[str] = frozenset()) -> float:
    if not asked:
        return 1.0
    if not mentioned:
        # The unit names no entity; its article's title says which entities the article is about.
        return 0.4 + 0.6 * max(0.0, max(fit(role, title_roles, article, distinctive) for role in asked))
    return max(0.0, max(fit(role, mentioned, article, distinctive) for role in asked))
