"""Related terms: which of the corpus's words a question's word may stand for ("pay" → "salary",
"doctorate" → "PhD"), told by the bundled embedding model, not by a word list.

The corpus side is every word the articles use (titles, headings and text), each embedded once per
index version. A question's words are embedded when asked
(a handful of words, cached). A corpus word is related when its cosine with the question's word reaches
RELATED_MIN, chosen on the labelled question sets (docs/answers.md).

Usage:
    related = RelatedTerms.of(kb.snapshot, kb.embedder())
    related.alternatives("doctorate")   # frozenset({"doctor", "phd", ...}) as stems
"""
from __future__ import annotations

import re
import threading
from collections import Counter

import numpy as np

from ..retrieve.lexical import STOPWORDS, tokenize

RELATED_MIN = 0.8  # cosine of two words' vectors (each read as "the <word>") for one to stand for the other
# A word the articles never use that begins words they do ("physio", "grad") is most likely clipped from
# them: the model then needs to agree less.
CLIPPED_MIN = 0.5
TEMPLATE = "the {}"  # a word alone is read as a name or a verb as often as a noun; "the pay" is a noun
_WORD = re.compile(r"[A-Za-z][A-Za-z+#]{2,}")


class RelatedTerms:
    """Corpus words with their vectors; `alternatives(word)` are the stems a question's word may stand for."""

    def __init__(self, embedder, words: list[str], threshold: float = RELATED_MIN) -> None:
        self._embedder = embedder
        self.words = words
        self.stems = [(tokenize(w) or [w])[0] for w in words]
        self._known = frozenset(self.stems)
        self.vectors = embedder.encode([TEMPLATE.format(w) for w in words], batch_size=256) if words \
            else np.zeros((0, embedder.dimension))
        self.threshold = threshold
        self._lock = threading.Lock()
        self._asked: dict[str, frozenset[str]] = {}

    @classmethod
    def of(cls, snapshot, embedder) -> RelatedTerms:
        """The related terms of an index snapshot, built once per index version."""
        key = (str(snapshot.path), embedder.name)
        with _LOCK:
            if key not in _CACHE:
                _CACHE.clear()  # one index version at a time is the common case; keep memory flat
                _CACHE[key] = cls(embedder, corpus_words([r.chunk for r in snapshot.records]))
            return _CACHE[key]

    def alternatives(self, word: str) -> frozenset[str]:
        """Stems of the corpus words the word may stand for, its own stem included."""
        low = word.lower()
        with self._lock:
            cached = self._asked.get(low)
        if cached is None:
            self.learn([low], self._embedder.encode([TEMPLATE.format(low)]) if len(self.words) else np.zeros((1, 0)))
            with self._lock:
                cached = self._asked.get(low, frozenset(tokenize(low)))
        return cached

    def unseen(self, question: str) -> list[str]:
        """The question's content words whose related terms are not known yet, to embed in one batch (each
        as TEMPLATE.format(word))."""
        if not len(self.words):
            return []
        with self._lock:
            return [w for w in _question_words(question).values() if w not in self._asked]

    def learn(self, words: list[str], vectors: np.ndarray) -> None:
        """Record the related terms of words, given their vectors."""
        similarity = vectors @ self.vectors.T if len(self.words) else np.zeros((len(words), 0))
        with self._lock:
            if len(self._asked) > 4096:
                self._asked.clear()
            for word, row in zip(words, similarity, strict=False):
                own = frozenset(tokenize(word))
                clipped = [i for i, w in enumerate(self.words) if w.startswith(word) and row[i] >= CLIPPED_MIN] \
                    if len(word) >= 4 and not own & self._known else []
                self._asked[word] = own | {self.stems[i] for i in np.flatnonzero(row >= self.threshold)} \
                    | {self.stems[i] for i in clipped}

    def alternatives_of(self, question: str) -> dict[str, frozenset[str]]:
        """Each content stem of a question → its alternatives."""
        return {stem: self.alternatives(word) for stem, word in _question_words(question).items()}


def _question_words(question: str) -> dict[str, str]:
    """Content stem → the (lower-case) word of the question that has it, first spelling kept."""
    by_stem: dict[str, str] = {}
    for word in _WORD.findall(question):
        stems = tokenize(word)
        if stems and stems[0] not in by_stem:
            by_stem[stems[0]] = word.lower()
    return by_stem


def corpus_words(chunks) -> list[str]:
    """The words worth relating to: every word of the articles' titles, headings and text, one spelling
    per stem (body words too: *"start right away"* is answered by *"begin teaching immediately"*, and
    "begin" is in no heading; about a second per 500 words, once per index version, docs/answers.md)."""
    spelling: dict[str, Counter[str]] = {}
    for chunk in chunks:
        for text in {chunk.title, *chunk.section, chunk.text}:
            for word in _WORD.findall(text):
                low = word.lower()
                stem = (tokenize(low) or [""])[0]
                if stem and low not in STOPWORDS:
                    spelling.setdefault(stem, Counter())[low] += 1
    return sorted(c.most_common(1)[0][0] for c in spelling.values())


_CACHE: dict[tuple[str, str], RelatedTerms] = {}
_LOCK = threading.Lock()
