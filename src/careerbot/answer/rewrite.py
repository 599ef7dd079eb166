"""Rewrite: a question (and the conversation so far) → the query to retrieve for, plus the query terms
and role mentions the answer stage checks evidence against. No model needed.

Usage:
    vocab = Vocabulary.of(kb.snapshot)
    query = rewrite_query("and what do they earn?", history, vocab)   # "and what do ML researchers earn?"
"""
from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache

from ..retrieve.lexical import STOPWORDS, tokenize
from .entities import Lexicon, Mention, entity_key

# Words a question can carry without asking for anything the passages must contain (plain English).
SOFT_WORDS = frozenset("""need needs needed require requires required requirement necessary must typical typically
usually normally generally common commonly good best better main key important tell know like get gets getting
become becoming want someone somebody person people kind sort type thing things really actually exactly just
some any info information explain describe list give show please hey hi hello thanks thank ok okay roughly
approximately average say says said mention mentioned according doing mostly whats what's hows how's u ur im i'm
pls plz lol guys folks regular normal plain me my mine one ones anything something way ways look looks expect
expected use used using anyone more most less least much many involve involves all regard regards respect
kinda sorta gonna wanna gotta lemme ya yall y'all tho pretty stuff happen happens happened""".split())
# A standard English stopword list (NLTK's, 179 words): function words a question carries in passing
# ("before", "onto", "out", "own"), which no passage needs to repeat.
STANDARD_STOPWORDS = frozenset("""i me my myself we our ours ourselves you you're you've you'll you'd your yours
yourself yourselves he him his himself she she's her hers herself it it's its itself they them their theirs
themselves what which who whom this that that'll these those am is are was were be been being have has had having
do does did doing a an the and but if or because as until while of at by for with about against between into
through during before after above below to from up down in out on off over under again further then once here
there when where why how all any both each few more most other some such no nor not only own same so than too
very s t can will just don don't should should've now d ll m o re ve y ain aren aren't couldn couldn't didn didn't
doesn doesn't hadn hadn't hasn hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan
shan't shouldn shouldn't wasn wasn't weren weren't won won't wouldn wouldn't""".split())
# A question that sets things side by side ("A or B", "A vs B", "how does A differ from B").
COMPARES = re.compile(r"\b(vs\.?|versus|compar\w*|differ\w*|between|or|than|both|each|contrast)\b", re.I)
# Words that make a question a comparison; the comparison itself is not something to look up.
COMPARISON_WORDS = frozenset("differ differs difference differences different compare compared comparison versus "
                             "vs contrast between".split())
_NUMBER = re.compile(r"\d[\d,.]*%?")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’.+#-]*[A-Za-z+#]|[A-Za-z]")
PRONOUN = re.compile(r"\b(they|them|their|theirs|those|these|he|she|his|her)\b", re.I)
FOLLOW_UP_START = re.compile(r"^\s*(and|but|also|so|then|ok|okay|what about|how about|and what about|"
                             r"what of|same for|same question for)\b", re.I)


def terms(text: str) -> list[str]:
    """Content terms of a text: stemmed keyword tokens, possessives dropped ('nurse’s' is 'nurse')."""
    return list(_terms(text))


@lru_cache(maxsize=8192)  # the same passages are scored on every question; tokenizing them is pure
def _terms(text: str) -> tuple[str, ...]:
    return tuple(tokenize(re.sub(r"(?<=\w)['’]s\b", "", text)))


_SOFT_TERMS = frozenset(tokenize(" ".join(SOFT_WORDS | STANDARD_STOPWORDS | COMPARISON_WORDS)))


def content_terms(question: str, lexicon: Lexicon | None = None) -> list[str]:
    """The question's terms that a supporting passage should contain (soft words dropped, order kept;
    with a lexicon, the corpus's acronyms folded: 'machine learning' and 'ML' are one term)."""
    seen: set[str] = set()
    out: list[str] = []
    for term in (lexicon.terms(question) if lexicon else terms(question)):
        # A single letter is no term ("w/o", "u"): it is an abbreviation or a typo.
        if term not in _SOFT_TERMS and term not in seen and not (len(term) == 1 and term.isalpha()):
            seen.add(term)
            out.append(term)
    return out


def expand(query: str, lexicon: Lexicon, vocab: Vocabulary | None = None) -> str:
    """The query with the corpus's acronyms spelled out once ('PM' → 'PM (product manager)') and, given the
    vocabulary, clipped words written out ('physio' → 'physio (physiotherapy)'): the encoder knows the
    words far better than the letters or the stubs."""
    spelled = {acronym: " ".join(words) for words, acronym in lexicon.aliases}
    extra = [spelled[w.lower()] for w in dict.fromkeys(re.findall(r"\b[A-Z]{2,5}s?\b", query))
             if w.lower() in spelled and spelled[w.lower()] not in query.lower()]
    if vocab is not None:
        extra += [full for w in dict.fromkeys(_WORD.findall(query)) for full in [vocab.unclipped(w)] if full]
    return f"{query} ({', '.join(extra)})" if extra else query


def numbers(text: str) -> list[str]:
    """Numbers in a text, normalized ('153,000' → '153000', '22 %' → '22')."""
    return [_normalized(m) for m in _number_matches(text)]


def _number_matches(text: str) -> list[re.Match]:
    return [m for m in _NUMBER.finditer(text) if m.group().strip(",.%")]


def _normalized(match: re.Match) -> str:
    return match.group().replace(",", "").rstrip("%.")


# "I'm 35", "I have 5 years of …", "my 2 kids": the asker describing themselves, in generic English.
_ABOUT_ASKER = re.compile(r"\b(?:i'?m|i am|i'?ve|i have|i had|i was|i'?ll be|my|we'?re|we are|we have)\s+"
                          r"(?:[a-z'’-]+\s+){0,2}?$", re.I)


def asked_numbers(question: str) -> list[str]:
    """The numbers a question asks about, which an answer must contain: not the ones that describe the
    asker ("I'm 35 with no tech background, can I …?"), which an article cannot be expected to repeat.
    Usage: asked_numbers("I'm 35, what did people earn in 2023?") == ["2023"]"""
    return [_normalized(m) for m in _number_matches(question) if not _ABOUT_ASKER.search(question[:m.start()])]


@dataclass(frozen=True)
class Vocabulary:
    """What the answer stage knows of the corpus: its words (for typo repair), chunk frequencies of stems
    (term weights) and its entities (`Lexicon`)."""

    words: Counter
    df: Counter
    chunks: int
    deletes: dict
    english: frozenset  # known words that are never "corrected" (the embedder's whole-word pieces)
    lexicon: Lexicon = field(default_factory=Lexicon)  # empty: no entities known
    article_terms: dict = field(default_factory=dict)  # source → the stems its article uses
    distinctive: frozenset = frozenset()  # stems at most half of the articles use
    article_entities: dict = field(default_factory=dict)  # source → the entities its article names most

    @classmethod
    def of(cls, snapshot, english: frozenset = frozenset()) -> Vocabulary:
        """The vocabulary of an index snapshot, built once per index version."""
        key = str(snapshot.path)
        with _LOCK:
            if key not in _CACHE:
                _CACHE.clear()  # one index version at a time is the common case; keep memory flat
                chunks = [r.chunk for r in snapshot.records]
                built = cls.build([f"{c.title}\n{c.section_name}\n{c.text}" for c in chunks], english,
                                  Lexicon.build({c.title for c in chunks}, {h for c in chunks for h in c.section},
                                                [c.text for c in chunks]))
                _CACHE[key] = built.with_articles(chunks)
            return _CACHE[key]

    @classmethod
    def build(cls, texts: list[str], english: frozenset = frozenset(),
              lexicon: Lexicon | None = None) -> Vocabulary:
        lexicon = lexicon or Lexicon()
        words: Counter[str] = Counter()
        df: Counter[str] = Counter()
        for text in texts:
            words.update(w.lower() for w in re.findall(r"[A-Za-z]+", text))
            df.update(set(lexicon.terms(text)))
        deletes: dict[str, set[str]] = {}
        for word in words:
            if len(word) >= 4:
                for variant in _deletes(word, 2 if len(word) >= 8 else 1):
                    deletes.setdefault(variant, set()).add(word)
        return cls(words, df, len(texts), deletes, frozenset(english), lexicon)

    def with_articles(self, chunks) -> Vocabulary:
        """This vocabulary with each article's stems, and the stems that set articles apart: those at most
        half of the articles use ("data" in every article says nothing of any one)."""
        used: dict[str, set[str]] = {}
        for c in chunks:
            used.setdefault(c.source, set()).update(self.lexicon.terms(f"{c.title}\n{c.section_name}\n{c.text}"))
        spread = Counter(t for stems in used.values() for t in stems)
        return replace(self, article_terms={source: frozenset(stems) for source, stems in used.items()},
                       distinctive=frozenset(t for t, n in spread.items() if n <= len(used) / 2),
                       article_entities=self._main_entities(chunks))

    def _main_entities(self, chunks) -> dict:
        """Each article's main entities: those its text names at least half as often as its most named one
        (and more than once). A sentence of "Why I Quit Teaching" that names no one is about teachers."""
        named: dict[str, Counter] = {}
        first: dict[tuple, Mention] = {}
        for c in chunks:
            for mention in self.lexicon.mentions(c.text):
                key = (mention.terms, mention.qualifiers)
                first.setdefault(key, mention)
                named.setdefault(c.source, Counter())[key] += 1
        main = {}
        for source, counts in named.items():
            top = max(counts.values())
            main[source] = tuple(first[k] for k, n in counts.most_common() if n > 1 and 2 * n >= top)
        return main

    def known(self, term: str) -> bool:
        return self.df.get(term, 0) > 0

    def unclipped(self, word: str) -> str | None:
        """The articles' most used word that a clipped word begins ("physio" → "physiotherapy"), for a word
        of four letters or more that neither the articles nor the encoder's dictionary know; else None."""
        low = word.lower()
        if len(low) < 4 or not low.isalpha() or low in self.words or low in self.english or low in STOPWORDS:
            return None
        clipped = [(-n, w) for w, n in self.words.items() if w.startswith(low)]
        return min(clipped)[1] if clipped else None

    def correct(self, word: str) -> str:
        """The corpus word closest to a misspelled word (edit distance 1, or 2 for long words)."""
        low = word.lower()
        known = low in self.words or low in self.english or low in SOFT_WORDS or low in STOPWORDS
        if len(low) < 4 or known or not low.isalpha():
            return word
        limit = 2 if len(low) >= 8 else 1
        candidates = set()
        for variant in _deletes(low, limit):
            candidates |= self.deletes.get(variant, set())
        scored = [(_distance(low, c), -self.words[c], c) for c in candidates]
        scored = [s for s in scored if s[0] <= limit]
        return min(scored)[2] if scored else word


_CACHE: dict[str, Vocabulary] = {}
_LOCK = threading.Lock()


def _deletes(word: str, depth: int) -> set[str]:
    out, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def _distance(a: str, b: str) -> int:
    """Damerau–Levenshtein (optimal string alignment) distance."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


# Chat shorthand of plain English, spelled out when the articles do not use the short form themselves.
SHORTHAND = {"avg": "average", "approx": "approximately", "yr": "year", "yrs": "years", "hr": "hour", "hrs": "hours",
             "mo": "month", "mos": "months", "wk": "week", "wks": "weeks", "mins": "minutes", "info": "information",
             "reqs": "requirements", "exp": "experience", "govt": "government", "mgmt": "management",
             "dept": "department", "uni": "university", "ppl": "people", "w/o": "without", "w/": "with",
             "b/c": "because", "bc": "because", "thru": "through", "b4": "before", "2day": "today",
             "y": "why", "wen": "when", "wut": "what", "u": "you", "ur": "your", "abt": "about", "pls": "please",
             "plz": "please", "thx": "thanks", "cert": "certification", "certs": "certifications",
             "quals": "qualifications", "mgr": "manager", "mgrs": "managers", "diff": "difference"}
_SHORTHAND = re.compile(r"(?<![\w/])(" + "|".join(re.escape(k) for k in sorted(SHORTHAND, key=len, reverse=True))
                        + r")(?![\w/])", re.I)


_DIGIT_WORD = re.compile(r"\b((?:out|up|on|in|off|over|how|go|good|back|used|want|need|ready) )([42])"
                         r"(?=\s*[?!.]*\s*$|\s+(?:me|you|u|us|them|it|this|that|my|your|the|a|an)\b)", re.I)


def spell_out(text: str, corpus_words) -> str:
    """Chat shorthand spelled out, except forms the articles use. Usage: spell_out("avg pay?", set())"""
    # A single letter ("u", "y") is spelled out even where the articles have it ("x and y"): alone in a
    # question it is chat shorthand.
    text = _SHORTHAND.sub(lambda m: m.group(0) if len(m.group(0)) > 1 and m.group(0).lower() in corpus_words
                          else SHORTHAND[m.group(0).lower()], text)
    # "watch out 4?", "good 4 me": a lone 4 or 2 after a particle or verb, at the end or before a pronoun, is
    # a word ("top 4", "4 years" stay numbers).
    return _DIGIT_WORD.sub(lambda m: m.group(1) + {"4": "for", "2": "to"}[m.group(2)], text)


def correct_typos(text: str, vocab: Vocabulary) -> str:
    """The text with chat shorthand spelled out ("avg" → "average", unless the articles use it) and words
    unknown to the corpus replaced by their closest corpus word, where close."""
    text = spell_out(text, vocab.words)
    return _WORD.sub(lambda m: _keep_case(m.group(0), vocab.correct(m.group(0))), text)


def _keep_case(original: str, fixed: str) -> str:
    return original if fixed.lower() == original.lower() else fixed


_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)", re.I | re.S)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")


def strip_markup(text: str) -> str:
    """A question without pasted HTML: script/style bodies and tags go, their words are not the question.
    Text that is nothing but markup is kept as it is (it then finds no evidence and abstains).

    Usage: strip_markup("pay? <img src=x onerror=y>") == "pay?"
    """
    stripped = re.sub(r"\s+", " ", _TAG.sub(" ", _SCRIPT.sub(" ", text))).strip()
    return stripped or text


def earlier_questions(history: list[dict], vocab: Vocabulary) -> list[str]:
    """The user's earlier turns, latest first, cleaned like a question."""
    return [correct_typos(strip_markup(m.get("content") or ""), vocab) for m in reversed(history or [])
            if isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str)]


def is_follow_up(query: str) -> bool:
    """Reads as continuing a conversation: starts with "and"/"ok"/"what about", has a pronoun, or is short."""
    return bool(FOLLOW_UP_START.match(query) or PRONOUN.search(query)) or len(query.split()) <= 4


def rewrite_query(question: str, history: list[dict], vocab: Vocabulary) -> str:
    """The retrieval query: typos repaired, and a follow-up resolved against the conversation.

    Usage: rewrite_query("what about the researchers?", [{"role": "user", "content": "ML engineer pay?"}, ...], v)
    """
    query = correct_typos(strip_markup(question), vocab)
    earlier = earlier_questions(history, vocab)
    if not earlier or not is_follow_up(query):
        return query
    lexicon = vocab.lexicon
    asked = lexicon.mentions(query)
    qualifier = _qualifier(query, lexicon)
    topic = [t for t in content_terms(_without_mentions(query, lexicon))
             if t not in FOLLOW_UP_FILLER and t not in (qualifier or ())]
    if asked and not topic:
        # "what about the researchers?": the previous question, asked about the new entity.
        previous = next((q for q in earlier if content_terms(_without_mentions(q, lexicon))), None)
        if previous is None:
            return query
        previous_mentions = lexicon.mentions(previous)
        if previous_mentions:
            return previous.replace(previous_mentions[0].text, asked[0].text, 1)
        return f"{previous.rstrip(' ?.')} for {asked[0].text}?"
    if not asked and qualifier and not topic:
        # "and the lead?": the entity under discussion, with that qualifier.
        previous = next((q for q in earlier if lexicon.mentions(q)), None)
        if previous is not None:
            mention = lexicon.mentions(previous)[0]
            words = [w for w in mention.text.split() if not set(terms(w)) & mention.qualifiers]
            return previous.replace(mention.text, f"{qualifier[1]} {' '.join(words)}", 1)
    if not asked:
        # "and what do they earn?": the entity under discussion stands in for the pronoun.
        source = next((r for q in earlier for r in [lexicon.mentions(q)] if r), None)
        if source is None:
            assistant = [m.get("content") or "" for m in reversed(history) if m.get("role") == "assistant"]
            source = next((r for a in assistant for r in [lexicon.mentions(a)] if r), None)
        if source is None:
            return query
        phrase = " and ".join(dict.fromkeys(r.text for r in source))
        if PRONOUN.search(query):
            return PRONOUN.sub(lambda m: phrase + ("'s" if m.group(0).lower() in ("their", "theirs", "his",
                                                                                   "her") else ""), query, 1)
        return f"{query.rstrip(' ?.')} for {phrase}?"
    return query


FOLLOW_UP_FILLER = frozenset(tokenize("and but also so then ok okay about what how same question regular "
                                      "normal plain the ones"))


def _qualifier(query: str, lexicon: Lexicon) -> tuple[str, str] | None:
    """A qualifier the query names on its own ("and the lead ones?"): (its stem, the word as written)."""
    for word in _WORD.findall(query):
        if entity_key(word) in lexicon.qualifiers:
            return terms(word)[0], word.lower()
    return None


def _without_mentions(text: str, lexicon: Lexicon) -> str:
    for mention in lexicon.mentions(text):
        text = text.replace(mention.text, " ", 1)
    return text
