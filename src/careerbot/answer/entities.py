"""Entities: what the articles are about (roles, occupations, programmes), learned from the corpus itself.

Nothing here names a domain. Candidate phrases are the runs of content words in titles and headings, and
acronyms defined in the text ("Registered Nurse (RN)", or an all-caps word whose letters start a phrase the
corpus uses). A phrase is an entity when its last word is used of a person or a thing one becomes: "as a
…", "become a …", "… who …" (plain English grammar, counted over the whole corpus). A word that starts an
entity whose remainder is an entity too ("lead" in "lead nurse" beside "nurse") is a qualifier: a passage
about the plain entity answers a question about the qualified one only in part.

Usage:
    lexicon = Lexicon.build(titles_and_headings, bodies)
    lexicon.mentions("what do registered nurses (RN) earn?")   # (Mention('registered nurses', …),)
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from ..ingest.blocks import stopwords
from ..retrieve.lexical import STOPWORDS, tokenize

# Plain English that surrounds a person's role: "work as a", "become an", "hire a", "… who".
_ROLE_BEFORE = re.compile(r"\b(?:as|become|becoming|became|be|being|am|hire|hiring|hired|aspiring)\s+an?\s+"
                          r"([A-Za-z][^.,;:!?()\n]{0,60})", re.I)
# "What a plumber actually does", "What does a midwife do?": the person a heading or sentence asks about.
_ROLE_DOES = re.compile(r"\bwhat (?:does |do )?an? ([A-Za-z][^.,;:!?()\n]{0,40}?)\s+(?:\w+ly\s+)?(?:does|do)\b",
                        re.I)
_ROLE_AFTER = re.compile(r"([^.,;:!?()\n]{0,60}?[A-Za-z]s)\s+who\b", re.I)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9’'+#.-]*[A-Za-z0-9+#]|[A-Za-z]")
_SPLIT = re.compile(r"[:;,.!?()\[\]{}|/\"“”‘’–—]+|\s-\s|\b(?:vs|versus|or|and|&)\b\.?", re.I)
_ACRONYM = re.compile(r"[A-Z]{2,5}")
_ACRONYM_DEFINED = re.compile(r"\b((?:[A-Za-z][\w-]*\s+){1,4}?)\(([A-Z]{2,5})s?\)")
# Words that start a question or a request, never an entity ("How to Become a …", "Why I Quit …"), and the
# plain words for any occupation ("a second career", "a data job"): they name no particular one.
_NOT_ENTITY = frozenset("""how why what when where which who whose guide become becoming tip way step thing reason
choose choosing quit quitting get getting start starting make making new best top differ difference between
compare comparison v vs versus
career job role position occupation profession""".split())
MIN_USES = 2  # a head or modifier is seen at least this often, so one odd sentence makes no entity


@dataclass(frozen=True)
class Mention:
    """An entity named in a text: its words as written, its stems (without qualifiers) and its qualifiers."""

    text: str
    terms: frozenset[str]
    qualifiers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Lexicon:
    """The corpus's entities (as `entity_key` words): their heads, modifiers, qualifiers and acronyms."""

    heads: frozenset[str] = frozenset()  # words that end an entity ("nurse", "engineer")
    modifiers: frozenset[str] = frozenset()  # words seen before a head in an entity ("registered", "lead", "ml")
    qualifiers: frozenset[str] = frozenset()  # modifiers that qualify an entity that also stands alone ("lead")
    aliases: tuple[tuple[tuple[str, ...], str], ...] = ()  # (words of the expansion, acronym), as entity keys
    known: frozenset[str] = frozenset()  # every word of the corpus, as entity keys

    @classmethod
    def build(cls, titles: Iterable[str], headings: Iterable[str], bodies: Iterable[str]) -> Lexicon:
        """Entities from titles and headings confirmed by how the text (`bodies`) speaks of them."""
        titles, bodies = list(titles), list(bodies)
        aliases = _aliases(bodies)
        used: list[tuple[str, ...]] = []  # runs of words the text uses of a person: "as a registered nurse"
        for body in bodies:
            used += [r for m in _ROLE_BEFORE.finditer(body) for r in _key_runs(m.group(1))[:1]]
            used += [r for m in _ROLE_AFTER.finditer(body) for r in _key_runs(m.group(1))[-1:]]
        defined = [" ".join(expansion) for expansion, _ in aliases]
        named = [r for text in [*titles, *headings, *defined] for r in _key_runs(text)]
        in_titles = {r[-1] for text in [*titles, *defined] for r in _key_runs(text)}
        asked_about = [r for text in [*titles, *headings, *bodies] for m in _ROLE_DOES.finditer(text)
                       for r in _key_runs(m.group(1))[-1:]]
        used += asked_about
        named += [r for r in asked_about if r not in named]
        role_uses, named_uses = Counter(r[-1] for r in used), Counter(r[-1] for r in named)
        # A title that says "How I Became an Airline Pilot" names a role, whatever its ending.
        titled = {r[-1] for t in titles for m in _ROLE_BEFORE.finditer(t) for r in _key_runs(m.group(1))[:1]}
        agents = _agent_nouns([*titles, *bodies])
        heads = {h for h in named_uses if h not in _NOT_ENTITY and (
            role_uses[h] >= MIN_USES or h in titled
            or h in agents and (h in in_titles or role_uses[h] or named_uses[h] >= MIN_USES))}
        runs = [r for r in named + used if r[-1] in heads]
        before = Counter(w for r in runs for w in set(r[:-1]))
        modifiers = {w for w, n in before.items() if n >= MIN_USES and w not in _NOT_ENTITY}
        phrases = set()
        for run in runs:
            start = len(run) - 1
            while start > 0 and run[start - 1] in modifiers:
                start -= 1
            phrases.add(run[start:])
        qualifiers = {p[0] for p in phrases if len(p) > 1 and p[1:] in phrases}
        # An acronym stands for its phrase: "PM" is an entity when "product manager" is.
        for expansion, acronym in aliases:
            if expansion[-1] in heads:
                heads.add(acronym)
            elif all(w in modifiers for w in expansion):
                modifiers.add(acronym)
        known = frozenset(entity_key(w) for text in [*titles, *headings, *bodies] for w in _WORD.findall(text))
        return cls(frozenset(heads), frozenset(modifiers), frozenset(qualifiers), aliases, known)

    def terms(self, text: str) -> tuple[str, ...]:
        """Stemmed content terms with the corpus's acronyms folded ('machine learning' → its acronym)."""
        return _terms(self, text)

    def mentions(self, text: str) -> tuple[Mention, ...]:
        """The entities a text names, in order: a head word with the modifiers right before it."""
        return _mentions(self, text)

    @property
    def _stem_aliases(self) -> dict[tuple[str, ...], str]:
        return _stem_aliases(self.aliases)


@lru_cache(maxsize=64)
def _nested(aliases: tuple[tuple[tuple[str, ...], str], ...]) -> dict[str, tuple[str, ...]]:
    """Acronyms whose expansion holds another's ("MLE": machine learning engineer, with "ML" for machine
    learning) → that expansion written with the shorter acronym (("ml", "engineer")), so "MLE", "ML
    engineer" and "machine learning engineer" are one entity."""
    out = {}
    for expansion, acronym in aliases:
        folded = _fold(expansion, {e: a for e, a in aliases if len(e) < len(expansion)})
        if folded != expansion:
            out[acronym] = folded
    return out


@lru_cache(maxsize=64)
def _stem_aliases(aliases: tuple[tuple[tuple[str, ...], str], ...]) -> dict[tuple[str, ...], str]:
    out = {}
    nested = _nested(aliases)
    for expansion, acronym in aliases:
        if acronym in nested:
            continue
        stems = tuple(s for w in expansion for s in _stems(w))
        if len(stems) == len(expansion) and _stems(acronym):
            out[stems] = _stems(acronym)[0]
    return out


@lru_cache(maxsize=16384)  # the same passages are read on every question
def _terms(lexicon: Lexicon, text: str) -> tuple[str, ...]:
    stems = tuple(tokenize(_no_possessive(text)))
    nested = _nested(lexicon.aliases)
    if nested:
        stems = tuple(s for stem in stems for s in (
            [x for k in nested[stem] for x in _stems(k)] if stem in nested else [stem]))
    return _fold(stems, lexicon._stem_aliases)


def _in_ampersand(text: str, match: re.Match) -> bool:
    return text[match.end():match.end() + 1] == "&" or text[max(0, match.start() - 1):match.start()] == "&"


@lru_cache(maxsize=16384)
def _mentions(lexicon: Lexicon, text: str) -> tuple[Mention, ...]:
    nested = _nested(lexicon.aliases)
    # A word joined to another by "&" ("DS&A", "R&D", "Q&A") is part of that abbreviation, never an entity
    # of its own ("DS" in "Classic DS&A" is data structures): it ends an entity like a stopword.
    words = [(m.start(), m.end(), "" if _in_ampersand(text, m) else k) for m in _WORD.finditer(text)
             for k in nested.get(entity_key(m.group(0)), (entity_key(m.group(0)),))]
    aliases = {e: a for e, a in lexicon.aliases if a not in nested}
    longest = max((len(k) for k in aliases), default=1)
    # Fold acronym expansions first, so "product manager" and "PM" are one entity.
    tokens: list[tuple[int, int, str]] = []  # (start, end, key); key "" for a stopword, which ends an entity
    i = 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 1, -1):
            window = words[i:i + n]
            if all(k for _, _, k in window) and tuple(k for _, _, k in window) in aliases:
                tokens.append((window[0][0], window[-1][1], aliases[tuple(k for _, _, k in window)]))
                i += n
                break
        else:
            tokens.append(words[i])
            i += 1
    found = []
    for j, (_, end, key) in enumerate(tokens):
        following = tokens[j + 1] if j + 1 < len(tokens) else None
        if key not in lexicon.heads or (following and following[2] in lexicon.heads and following[0] - end <= 1):
            continue  # the entity goes on: "product" in "product manager" is part of it
        k = j
        # Modifiers extend it to the left, and so does an unknown acronym ("UX designer") or, right before the
        # head, a word the corpus never uses ("robotics engineer"): that is another entity than the
        # articles discuss.
        while k > 0 and tokens[k][0] - tokens[k - 1][1] <= 1 and tokens[k - 1][2] and (
                tokens[k - 1][2] in lexicon.modifiers | lexicon.heads
                or _ACRONYM.fullmatch(text[tokens[k - 1][0]:tokens[k - 1][1]])
                or (k == j and lexicon.known and tokens[k - 1][2] not in lexicon.known
                    and tokens[k - 1][2] not in stopwords())):
            k -= 1
        span = text[tokens[k][0]:end]
        keys = [t[2] for t in tokens[k:j + 1]]
        # The head is never its own qualifier ("grad" qualifies "grad student" but is the entity in "grads").
        qualifiers = {s for w in keys[:-1] if w in lexicon.qualifiers for s in _stems(w)}
        spelled = " ".join(keys) if any(entity_key(w) in nested for w in _WORD.findall(span)) else span
        stems = set(_terms(lexicon, spelled)) - qualifiers
        found.append(Mention(span, frozenset(stems), frozenset(qualifiers)))
    return tuple(found)


GENERIC_FORM = 0.8  # the fit of a shorter name of the asked entity in an article that uses its other words


def fit(asked: Mention, context: Iterable[Mention], article: frozenset[str] = frozenset(),
        distinctive: frozenset[str] = frozenset()) -> float:
    """How well entities named in a passage match an asked one: 1 exact, less for a missing qualifier
    ('lead' asked, plain given; a little for an extra one) or a partial name, 0 when none shares a word.
    `article`: the stems of the passage's article; `distinctive`: stems few articles use. A shorter name
    ("teacher" for "charter school teacher") in an article that uses the missing words, one of them
    distinctive, is the asked entity named briefly ("data" alone, used everywhere, does not count)."""
    best = 0.0
    for mention in context:
        shared = asked.terms & mention.terms
        if not shared:
            continue
        recall = len(shared) / len(asked.terms)
        missing_terms = asked.terms - mention.terms
        if recall < 1 and mention.terms <= asked.terms and missing_terms <= article and missing_terms & distinctive:
            recall = GENERIC_FORM
        extra = len(mention.terms - asked.terms) / max(len(mention.terms), 1)
        # A passage about plain "nurses" answers for "lead nurses" only in part; one about "lead nurses"
        # still speaks of nurses.
        missing = bool(asked.qualifiers - mention.qualifiers)
        # A different qualifier ("lead" given, "senior" asked) is both missing and extra.
        score = recall - 0.25 * extra - 0.4 * missing - 0.1 * bool(mention.qualifiers - asked.qualifiers)
        best = max(best, score)
    return best


_AGENT = re.compile(r"(?:er|or|ist|ian|ant|ent)s?$", re.I)


def _agent_nouns(texts: list[str]) -> frozenset[str]:
    """Nouns with an agent-noun ending ('-er', '-or', '-ist', '-ian', '-ant', '-ent') that the text also uses
    in the plural: 'engineer', 'electrician', 'analyst' (English morphology, no word list)."""
    plural: Counter[str] = Counter()
    for text in texts:
        for word in _WORD.findall(text):
            key = entity_key(word)
            if key and _AGENT.search(key) and len(key) > 4 and key != _no_possessive(word).lower():
                plural[key] += 1  # seen in the plural: a noun, not a verb ("consider")
    return frozenset(plural)


def _no_possessive(text: str) -> str:
    return re.sub(r"(?<=\w)['’]s\b", "", text)


@lru_cache(maxsize=65536)
def _stems(word: str) -> tuple[str, ...]:
    return tuple(tokenize(word))


@lru_cache(maxsize=65536)
def entity_key(word: str) -> str:
    """A word as an entity word: lower case, singular ('nurses' → 'nurse'), '' for a stopword. Lighter
    than the stemmer, which makes 'designer' and 'design' one word."""
    low = _no_possessive(word).lower()
    if low in STOPWORDS or not _stems(low):
        return ""
    if low.endswith("ies") and len(low) > 4:
        return low[:-3] + "y"
    if low.endswith(("sses", "xes", "ches", "shes")):
        return low[:-2]
    if low.endswith("s") and not low.endswith(("ss", "us", "is")) and len(low) > 3:
        return low[:-1]
    return low


def _key_runs(text: str) -> list[tuple[str, ...]]:
    """The runs of a text as entity words (`entity_key`)."""
    runs = [tuple(k for w in run if (k := entity_key(w))) for run in _runs(text)]
    return [r for r in runs if r]


def _runs(text: str) -> list[list[str]]:
    """Runs of content words between punctuation and stopwords: 'Salary of a Registered Nurse' →
    [['Salary'], ['Registered', 'Nurse']]."""
    runs = []
    for part in _SPLIT.split(text):
        run: list[str] = []
        for word in _WORD.findall(part):
            if word.lower() in STOPWORDS or word[:1].isdigit():
                if run:
                    runs.append(run)
                run = []
            else:
                run.append(word)
        if run:
            runs.append(run)
    return runs


def _aliases(bodies: list[str]) -> tuple[tuple[tuple[str, ...], str], ...]:
    """(expansion, acronym) as `entity_key` words, for acronyms defined in the text ('Registered Nurse (RN)': the
    words whose initials spell it) or, failing a definition, spelled by the initials of a run of words
    the corpus uses at least three times."""
    aliases: dict[tuple[str, ...], str] = {}
    for body in bodies:
        for match in _ACRONYM_DEFINED.finditer(body):
            words, acronym = match.group(1).split(), match.group(2)
            tail = words[-len(acronym):]
            keys = tuple(entity_key(w) for w in tail)
            if len(tail) == len(acronym) and "".join(w[0] for w in tail).upper() == acronym and all(keys):
                aliases[keys] = acronym.lower()
    defined = set(aliases.values())
    acronyms = Counter(w for body in bodies for w in re.findall(r"\b[A-Z]{2,4}\b", body))
    phrases: Counter[tuple[str, ...]] = Counter()
    if acronyms:
        for words in (run for body in bodies for run in _runs(body)):
            for n in range(2, 5):
                for i in range(len(words) - n + 1):
                    window = words[i:i + n]
                    phrases["".join(w[0] for w in window).upper(), *(entity_key(w) for w in window)] += 1
    for acronym, count in acronyms.items():
        if count < 3 or acronym.lower() in defined or not entity_key(acronym):
            continue
        best = max(((c, p) for p, c in phrases.items() if p[0] == acronym), default=None)
        if best and best[0] >= 3 and all(best[1][1:]):
            aliases.setdefault(best[1][1:], acronym.lower())
    return tuple(sorted(aliases.items()))


def _fold(stems: tuple[str, ...], aliases: dict[tuple[str, ...], str]) -> tuple[str, ...]:
    if not aliases:
        return stems
    out, i = [], 0
    longest = max(len(k) for k in aliases)
    while i < len(stems):
        for n in range(min(longest, len(stems) - i), 1, -1):
            if stems[i:i + n] in aliases:
                out.append(aliases[stems[i:i + n]])
                i += n
                break
        else:
            out.append(stems[i])
            i += 1
    return tuple(out)
