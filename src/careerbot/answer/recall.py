"""Recall: the passages an answer is built from. Retrieval (careerbot.retrieve.search) with a deeper per-article
cap, each hit followed by its neighbours under the same heading, per-role retrieval for comparisons, and
the articles a question names (references.py).

Usage: hits = recall(kb, embedder, "data scientist vs lead ML engineer tools", mentions, vocab)
"""
from __future__ import annotations

import re

import numpy as np

from ..errors import CareerbotError
from ..records import Hit
from ..retrieve.search import checked_query, search, search_within
from .entities import Mention
from .library import Library
from .references import References, find_references
from .rewrite import Vocabulary, content_terms, terms

ANSWER_K = 10  # passages retrieved for an answer: both roles of a comparison and every article that answers


def recall(kb: Library, embedder, query: str, asked: list[Mention], vocab: Vocabulary, k: int = ANSWER_K) -> list[Hit]:
    """Hits for an answer (raises EmptyQuery / QueryTooLong like kb.search)."""
    # An answer often lives in one article: let up to 5 of its passages through (retrieval's default
    # diversity cap is tuned for result lists).
    settings = kb.settings.with_overrides(per_article_cap=max(kb.settings.per_article_cap, 5)) \
        if kb.settings.per_article_cap else kb.settings
    hits = search(kb.snapshot, embedder, query, settings, k=max(k, kb.settings.k))
    return hits + _per_role_hits(kb, embedder, query, asked, {h.chunk_id for h in hits}, vocab)


def references_of(kb: Library, query: str, vocab: Vocabulary) -> References:
    """The articles the question names: by title or description (answer from those) or by publisher or
    author ("the Qwak article", from the bylines; favour those). See references.py."""
    files = kb.snapshot.manifest.get("files", {})
    titles = {source: meta.get("title") or "" for source, meta in files.items()}
    bylines = {source: meta.get("byline") or "" for source, meta in files.items()}
    return find_references(query, titles, bylines, vocab.words, terms)


PREVIOUS_MARGIN = 0.8  # an earlier turn's articles: those whose best passage scores this share of the best


def previous_articles(kb: Library, embedder, earlier: str, vocab: Vocabulary) -> frozenset[str]:
    """The articles an earlier question was about: the ones it names, else those retrieval ranks at the
    top for it. Usage: previous_articles(kb, embedder, "What does a nurse earn?", vocab)"""
    named = references_of(kb, earlier, vocab)
    if named.scoped or named.favoured:
        return named.scoped | named.favoured
    try:
        hits = search(kb.snapshot, embedder, earlier, kb.settings, k=5)
    except CareerbotError:
        return frozenset()  # an earlier turn that was no question names no article
    top = max((h.score for h in hits), default=0.0)
    return frozenset(h.source for h in hits if top > 0 and h.score >= PREVIOUS_MARGIN * top)


def recall_within(kb: Library, embedder, query: str, sources: frozenset[str], k: int = ANSWER_K,
                  each: bool = False) -> list[Hit]:
    """Hits for an answer from the given articles only (validates the query like kb.search). With `each`
    (articles the question names), every article brings its share, so one that ranks lower is still heard
    from."""
    query = checked_query(query, embedder, kb.settings)
    vector = embedder.encode([query])[0]
    k = max(k, kb.settings.k)
    if len(sources) < 2 or not each:
        return search_within(kb.snapshot, vector, query, kb.settings, sources, k)
    share = max(2, k // len(sources))
    hits = [h for source in sorted(sources)
            for h in search_within(kb.snapshot, vector, query, kb.settings, {source}, share)]
    return sorted(hits, key=lambda h: -h.score)


def _per_role_hits(kb: Library, embedder, query: str, asked: list[Mention], have: set[str],
                   vocab: Vocabulary) -> list[Hit]:
    """For a comparison, passages retrieved for each role on its own ("tools of a data scientist"), since
    passages about both roles at once tend to be introductions rather than answers."""
    distinct = list({(r.terms, r.qualifiers): r for r in asked}.values())
    if len(distinct) < 2:
        return []
    role_terms = {t for r in asked for t in r.terms | r.qualifiers}
    wanted = set(content_terms(query, vocab.lexicon))
    asking = [w for w in re.findall(r"[\w’'+#-]+", query) if set(terms(w)) - role_terms and set(terms(w)) <= wanted]
    extra: list[Hit] = []
    for role in distinct[:3]:
        sub = f"{role.text} {' '.join(asking)}".strip()
        found = search(kb.snapshot, embedder, sub, kb.settings, k=4)
        for hit in found:
            if hit.chunk_id not in have:
                have.add(hit.chunk_id)
                extra.append(hit)
        extra += _headed_by(kb, role, {h.source for h in found}, have, embedder.encode([sub])[0],
                            min((h.score for h in found), default=0.0), vocab)
    return extra


HEADED_CHUNKS = 2  # chunks of a section headed by a compared role that join its passages


def _headed_by(kb: Library, role: Mention, sources: set[str], have: set[str], vector: np.ndarray, score: float,
               vocab: Vocabulary) -> list[Hit]:
    """The chunks of a section whose heading is the role itself ("## Product Designers"), in the articles
    retrieved for it, closest to the question first: a section named for one side describes that side, in
    words the question may not share ("responsible for" where it asks "accountable for")."""
    snapshot = kb.snapshot
    ids = [i for i, source in enumerate(snapshot.sources) if source in sources
           and (chunk := snapshot.records[i].chunk).section and chunk.chunk_id not in have
           and _names_role(vocab.lexicon.mentions(chunk.section[-1]), role)]
    if not ids:
        return []
    similarities = snapshot.faiss_index.reconstruct_batch(np.array(ids, dtype=np.int64)) @ vector
    closest = sorted(zip(similarities.tolist(), ids, strict=True), key=lambda pair: -pair[0])[:HEADED_CHUNKS]
    out = []
    for similarity, i in closest:
        chunk = snapshot.records[i].chunk
        have.add(chunk.chunk_id)
        out.append(Hit(chunk.chunk_id, chunk.text, score * 0.9, chunk.title, chunk.section, chunk.source,
                       chunk.date, chunk.position, 0, similarity))
    return out


def _names_role(named: tuple[Mention, ...], role: Mention) -> bool:
    return len(named) == 1 and named[0].terms == role.terms and named[0].qualifiers == role.qualifiers


def with_neighbours(kb: Library, hits: list[Hit], query_vector: np.ndarray) -> list[Hit]:
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
                same_heading = chunk.section[:1] == hit.section[:1]
                if chunk.source == hit.source and same_heading and chunk.chunk_id not in have:
                    have.add(chunk.chunk_id)
                    similarity = float(snapshot.faiss_index.reconstruct(j) @ query_vector)
                    out.append(Hit(chunk.chunk_id, chunk.text, hit.score * 0.9, chunk.title, chunk.section,
                                   chunk.source, chunk.date, chunk.position, 0, similarity))
    return out


class Remembering:
    """The embedder, remembering what it encoded: retrieval and unit scoring share one query embedding."""

    def __init__(self, embedder) -> None:
        self._embedder = embedder
        self._memo: dict[tuple[str, ...], np.ndarray] = {}

    def __getattr__(self, name):
        return getattr(self._embedder, name)

    def remember(self, texts: list[str], vectors: np.ndarray) -> None:
        """Vectors encoded elsewhere (in one batch with other texts) for these texts."""
        self._memo[tuple(texts)] = vectors

    def encode(self, texts: list[str], **kwargs) -> np.ndarray:
        key = tuple(texts)
        if key not in self._memo:
            self._memo[key] = self._embedder.encode(texts, **kwargs)
        return self._memo[key]
