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
from dataclasses import dataclass
from functools import lru_cache

from .lexical import STOPWORDS, tokenize

# Words a question can carry without asking for anything the passages must contain.
SOFT_WORDS = frozenset("""need needs needed require requires required requirement necessary must typical typically
usually normally generally common commonly good best better main key important tell know like get gets getting
become becoming want someone somebody person people job jobs role roles career careers position kind sort type
thing things really actually exactly just some any info information explain describe list give show please hey
hi hello thanks thank ok okay roughly approximately average article articles say says said mention mentioned
according doing day mostly whats what's hows how's wat u ur im i'm pls plz lol guys folks regular normal plain
me my mine one ones anything something way ways look looks expect expected use used using anyone person's
more most less least much many day daily involve involves all term terms regard regards respect
aspect aspects kinda sorta gonna wanna gotta lemme ya yall y'all tho pretty stuff after before during while
happen happens happened""".split())

# Domain synonyms: a query word in a group is satisfied by any word of its group in a passage.
SYNONYM_TEXT = (
    "salary salaries earn earns earning earnings pay pays paid paying make makes income wage wages compensation "
    "compensated remuneration money bucks paycheck",
    "degree degrees phd doctorate master masters bachelor bachelors education educational educated qualification "
    "qualifications coursework",
    "certification certifications certificate certificates cert certs credential credentials",
    "tools tool frameworks framework libraries library stack tech",
    "industry industries sector sectors hire hires hiring field fields company companies",
    "outlook growth grow growing demand future prospects projected market opportunities trends",
    "responsibilities responsibility duties duty tasks task",
    "skill skills abilities competencies proficiency expertise knowledge capabilities",
    "tips advice start started begin beginner steps",
    "team teams group",
    "deliverable deliverables product output",
)
SYNONYMS = tuple(frozenset(tokenize(group)) for group in SYNONYM_TEXT)
HEADS = tuple(group.split()[0] for group in SYNONYM_TEXT)
SYNONYM_STEMS = tuple(tokenize(head)[0] for head in HEADS)
# Words that make a question a comparison; the comparison itself is not something to look up.
COMPARISON_WORDS = frozenset("differ differs difference differences different compare compared comparison versus "
                             "vs contrast between".split())
# Idioms whose words mean nothing apart: "take home" is pay, not a home.
PHRASES = tuple((re.compile(p, re.I), plain) for p, plain in (
    (r"\btake[- ]home(?: pay)?\b", "earn"), (r"\bget(?:s|ting)? paid\b", "earn"),
    (r"\bbring(?:s)? home\b", "earn"), (r"\bpay ?check\b", "salary")))
_NUMBER = re.compile(r"\d[\d,.]*%?")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’.+#-]*[A-Za-z+#]|[A-Za-z]")
# Other occupations people ask a careers assistant about: named so that "what does a nurse earn?" is
# recognized as a question about a role, and one the articles never discuss.
OCCUPATIONS = ("nurse|doctor|physician|surgeon|dentist|pharmacist|teacher|professor|lawyer|attorney|accountant|"
               "designer|pilot|chef|cook|plumber|electrician|mechanic|carpenter|firefighter|police officer|"
               "journalist|writer|artist|musician|actor|salesperson|consultant|banker|trader|economist|"
               "psychologist|therapist|veterinarian|farmer|driver|cashier|recruiter|marketer|technician|"
               "administrator|tester|programmer|statistician|mathematician|physicist|biologist|chemist")
SENIORITY = frozenset({"lead", "senior", "princip", "staff", "junior", "chief", "head"})
ROLE = re.compile(
    r"\b(?:(?:lead|senior|principal|staff|junior|chief|head)\s+)?"
    r"(?:(?:machine[\s-]+learning|ml|ai|artificial\s+intelligence|data|research|software|computer\s+vision|"
    r"natural\s+language\s+processing|nlp|devops|mlops|cloud|deep\s+learning|product)\s+)*"
    r"(?:engineer|scientist|researcher|analyst|developer|architect|manager|practitioner|" + OCCUPATIONS + r")s?\b",
    re.I)
PRONOUN = re.compile(r"\b(they|them|their|theirs|those|these|he|she|his|her)\b", re.I)
FOLLOW_UP_START = re.compile(r"^\s*(and|but|also|so|then|ok|okay|what about|how about|and what about|"
                             r"what of|same for|same question for)\b", re.I)


def terms(text: str) -> list[str]:
    """Content terms of a text: stemmed keyword tokens with 'machine learning' folded into 'ml'."""
    return list(_terms(text))


@lru_cache(maxsize=8192)  # the same passages are scored on every question; tokenizing them is pure
def _terms(text: str) -> tuple[str, ...]:
    text = re.sub(r"(?<=\w)['’]s\b", "", text)  # possessives: "engineer’s" is "engineer"
    return tuple(tokenize(re.sub(r"machine[\s-]+learning", "ML", text, flags=re.I)))


def content_terms(question: str) -> list[str]:
    """The question's terms that a supporting passage should contain (soft words dropped, order kept)."""
    soft = set(tokenize(" ".join(SOFT_WORDS | COMPARISON_WORDS)))
    seen: set[str] = set()
    out: list[str] = []
    for term in terms(question):
        if term not in soft and term not in seen:
            seen |= synonyms(term)  # "earn … (salary)" asks one thing, not two
            out.append(term)
    return out


def expand(query: str) -> str:
    """The query with 'ML' spelled out, plus the head word of each synonym group it touches ('make' →
    'salary'), so retrieval finds passages that use the articles' words for what the question asks."""
    # The encoder knows "machine learning" far better than "ML" (and the articles use both).
    query = re.sub(r"\bML\b", "machine learning", query, flags=re.I)
    have = set(terms(query))
    extra = [HEADS[i] for i, group in enumerate(SYNONYMS) if have & group and not have & {SYNONYM_STEMS[i]}]
    return f"{query} ({' '.join(extra)})" if extra else query


def synonyms(term: str) -> frozenset[str]:
    """The term and its domain synonyms (stems)."""
    found = {term}
    for group in SYNONYMS:
        if term in group:
            found |= group
    return frozenset(found)


def numbers(text: str) -> list[str]:
    """Numbers in a text, normalized ('153,000' → '153000', '22 %' → '22')."""
    return [n.replace(",", "").rstrip("%.") for n in _NUMBER.findall(text) if n.strip(",.%")]


@dataclass(frozen=True)
class RoleMention:
    text: str  # as written, e.g. "lead ML engineers"
    terms: frozenset[str]  # stems without seniority, e.g. {"ml", "engin"}
    seniority: frozenset[str]  # e.g. {"lead"}


def roles(text: str) -> list[RoleMention]:
    """Job-title mentions ('data scientist', 'lead ML engineers', 'researchers'), in order of appearance."""
    return list(_roles(text))


@lru_cache(maxsize=8192)
def _roles(text: str) -> tuple[RoleMention, ...]:
    found = []
    for match in ROLE.finditer(text):
        stems = set(terms(match.group(0)))
        found.append(RoleMention(match.group(0), frozenset(stems - SENIORITY), frozenset(stems & SENIORITY)))
    return tuple(found)


def role_fit(asked: RoleMention, context: list[RoleMention]) -> float:
    """How well roles mentioned in a passage match an asked role: 1 exact, less for a different
    seniority ('lead' asked, plain given) or a partial title, 0 when no mention shares its head noun."""
    best = 0.0
    for role in context:
        if not asked.terms & role.terms:
            continue
        recall = len(asked.terms & role.terms) / len(asked.terms)
        extra = len(role.terms - asked.terms) / max(len(role.terms), 1)
        score = recall - 0.25 * extra - (0.4 if asked.seniority != role.seniority else 0.0)
        best = max(best, score)
    return best


@dataclass(frozen=True)
class Vocabulary:
    """Corpus words (for typo repair) and chunk frequencies of stems (for term weights)."""

    words: Counter
    df: Counter
    chunks: int
    deletes: dict
    english: frozenset  # known words that are never "corrected" (the embedder's whole-word pieces)

    @classmethod
    def of(cls, snapshot, english: frozenset = frozenset()) -> "Vocabulary":
        """The vocabulary of an index snapshot, built once per index version."""
        key = str(snapshot.path)
        with _LOCK:
            if key not in _CACHE:
                _CACHE.clear()  # one index version at a time is the common case; keep memory flat
                _CACHE[key] = cls.build([f"{r.chunk.title}\n{r.chunk.section_name}\n{r.chunk.text}"
                                         for r in snapshot.records], english)
            return _CACHE[key]

    @classmethod
    def build(cls, texts: list[str], english: frozenset = frozenset()) -> "Vocabulary":
        words: Counter[str] = Counter()
        df: Counter[str] = Counter()
        for text in texts:
            words.update(w.lower() for w in re.findall(r"[A-Za-z]+", text))
            df.update(set(terms(text)))
        deletes: dict[str, set[str]] = {}
        for word in words:
            if len(word) >= 4:
                for variant in _deletes(word, 2 if len(word) >= 8 else 1):
                    deletes.setdefault(variant, set()).add(word)
        return cls(words, df, len(texts), deletes, frozenset(english))

    def known(self, term: str) -> bool:
        return any(self.df.get(t, 0) > 0 for t in synonyms(term))

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


def correct_typos(text: str, vocab: Vocabulary) -> str:
    """The text with words unknown to the corpus replaced by their closest corpus word, where close."""
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


def rewrite_query(question: str, history: list[dict], vocab: Vocabulary) -> str:
    """The retrieval query: typos repaired, and a follow-up resolved against the conversation.

    Usage: rewrite_query("what about the researchers?", [{"role": "user", "content": "ML engineer pay?"}, ...], v)
    """
    query = correct_typos(strip_markup(question), vocab)
    for idiom, plain in PHRASES:
        query = idiom.sub(plain, query)
    earlier = [correct_typos(strip_markup(m.get("content") or ""), vocab) for m in reversed(history or [])
               if isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str)]
    if not earlier:
        return query
    asked = roles(query)
    topic = [t for t in content_terms(_strip_roles(query)) if t not in FOLLOW_UP_FILLER | SENIORITY]
    follow_up = bool(FOLLOW_UP_START.match(query) or PRONOUN.search(query)) or len(query.split()) <= 4
    if not follow_up:
        return query
    if asked and not topic:
        # "what about the researchers?": the previous question, asked about the new role.
        previous = next((q for q in earlier if content_terms(_strip_roles(q))), None)
        if previous is None:
            return query
        previous_roles = roles(previous)
        if previous_roles:
            return previous.replace(previous_roles[0].text, asked[0].text, 1)
        return f"{previous.rstrip(' ?.')} for {asked[0].text}?"
    rank = re.search(r"\b(lead|senior|principal|staff|junior|chief|head)s?\b", query, re.I)
    if not asked and rank and not topic:
        # "and the lead?": the role under discussion, at that seniority.
        previous = next((q for q in earlier if roles(q)), None)
        if previous is not None:
            role = roles(previous)[0]
            plain = re.sub(r"^(?:lead|senior|principal|staff|junior|chief|head)\s+", "", role.text, flags=re.I)
            return previous.replace(role.text, f"{rank.group(1).lower()} {plain}", 1)
    if not asked:
        # "and what do they earn?": the role under discussion stands in for the pronoun.
        source = next((r for q in earlier for r in [roles(q)] if r), None)
        if source is None:
            assistant = [m.get("content") or "" for m in reversed(history) if m.get("role") == "assistant"]
            source = next((r for a in assistant for r in [roles(a)] if r), None)
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


def _strip_roles(text: str) -> str:
    return ROLE.sub(" ", text)
