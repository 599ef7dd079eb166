"""The intermediate form every format parser produces: a page of typed blocks plus its metadata.

Usage: page = Page(blocks=(Block("heading", "Skills", level=2), Block("list", items=("Python",))), title="T")
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

HEADING, PARA, LIST, IMAGE = "heading", "para", "list", "image"
GOOD, NEAR, SHORT, BAD = "good", "near-good", "short", "bad"
# jusText's defaults (Pomikálek 2011): lengths in characters, densities as shares of words.
LENGTH_LOW, LENGTH_HIGH = 70, 200
STOPWORDS_LOW, STOPWORDS_HIGH = 0.30, 0.32
MAX_LINK_DENSITY = 0.2


@dataclass(frozen=True)
class Block:
    """One block of a page: a heading (with its level), a paragraph, a list (or table rows), or an image.

    `link_chars` counts the characters of the text that sit inside links (per item for lists): navigation,
    related-links lists and cross-links are mostly link text, prose is not. `links` are the addresses the
    block links to. `quote` numbers the blockquote the block sits in (1, 2, … on the page; 0 outside any):
    a quotation or a callout box set apart from the text, which is where pages put their promotions.
    """

    kind: str
    text: str = ""
    items: tuple[str, ...] = ()
    level: int = 0  # heading level 1–6 as marked up; inferred for plain text
    link_chars: int = 0
    item_link_chars: tuple[int, ...] = ()
    links: tuple[str, ...] = ()
    quote: int = 0

    # Computed once per block: the title choice, the site-chrome fingerprints and the furniture rules all ask.
    @cached_property
    def plain(self) -> str:
        return self.text if self.kind != LIST else "\n".join(self.items)

    @cached_property
    def paragraph_class(self) -> str:
        """jusText's context-free class of the block: good, near-good, short or bad."""
        text = without_urls(self.plain).strip()
        if self.link_density > MAX_LINK_DENSITY or "©" in text or "&copy" in text:
            return BAD
        if len(text) < LENGTH_LOW:
            return SHORT
        density = stopword_density(text)
        if density >= STOPWORDS_HIGH:
            return GOOD if len(text) > LENGTH_HIGH else NEAR
        return NEAR if density >= STOPWORDS_LOW else BAD

    @property
    def link_density(self) -> float:
        chars = sum(self.item_link_chars) if self.kind == LIST else self.link_chars
        return chars / max(1, len(self.plain.replace("\n", "")))

    def words(self) -> list[str]:
        return self.plain.split()


@dataclass(frozen=True)
class Page:
    """A parsed file before furniture removal: blocks in reading order and what the page says of itself.

    `title_from` says where the title came from: "metadata" (front matter, <title>, og:title), "heading"
    (a heading or title-like line of the page), or "file name" when the page shows none. `url` is the
    page's own address where its metadata gives one (canonical link, og:url, front matter).
    """

    source: str
    blocks: tuple[Block, ...]
    title: str
    title_from: str
    date: str | None = None
    byline: str | None = None
    url: str | None = None


_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """jusText's English stoplist (a standard list; trafilatura ships jusText)."""
    import justext

    return frozenset(w.lower() for w in justext.get_stoplist("English"))


URL = re.compile(r"(?:\bhttps?://|\bwww\.)\S+")


def without_urls(text: str) -> str:
    """Text with bare web addresses removed: an address is not words."""
    return URL.sub(" ", text) if "http" in text or "www." in text else text


def stopword_density(text: str) -> float:
    """Share of words that are stopwords: high for running prose, low for menus, tags and names."""
    text = without_urls(text)
    if "’" in text:  # the stoplist spells "don't" with a straight apostrophe; words split the same either way
        text = text.replace("’", "'")
    words = _WORD.findall(text)
    if not words:
        return 0.0
    stop = stopwords()
    return sum(1 for w in words if w.lower() in stop) / len(words)
