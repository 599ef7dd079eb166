"""Page furniture: what belongs to the site around an article, found by general evidence, not wording.

Evidence, each checked on the development set (docs/ingest.md):
- site chrome: a block that repeats verbatim across several articles of the corpus;
- link lists and cross-links: lists whose every item is mostly link text (menus, tables of contents,
  related posts), short paragraphs that are mostly a link ("Learn more: …");
- captions: a short non-sentence line right after an image; legal lines (©);
- the publisher's promotions: a callout box (blockquote) whose every link leads to the page's own site,
  and a paragraph whose every link leads to a page such a box promotes;
- the page around the body: before the first and after the last paragraph of running prose, blocks that
  jusText would call short or bad (little text, few stopwords: menus, tags, reading times, share and
  comment boxes, bylines, job-ad teasers).
Inside the body nothing is dropped for being short: list items and short sentences are article text.

Usage: kept = drop_furniture(blocks, chrome=frozenset())
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from urllib.parse import urlsplit

from .blocks import (  # noqa: F401  (jusText's thresholds are documented with the furniture rules)
    BAD,
    GOOD,
    HEADING,
    IMAGE,
    LENGTH_HIGH,
    LENGTH_LOW,
    LIST,
    MAX_LINK_DENSITY,
    NEAR,
    PARA,
    SHORT,
    STOPWORDS_HIGH,
    STOPWORDS_LOW,
    Block,
)
from .title import find_date

# A list item or paragraph that is at least half link text is a link, not text about something.
LINK_SHARE = 0.5
CROSS_LINK_WORDS = 30
CAPTION_WORDS = 15
# Site chrome: repeated in this many articles (a short or link-like block: in two).
CHROME_ARTICLES, CHROME_ARTICLES_WEAK = 3, 2
FINGERPRINT_WORDS = 60
DATELINE_WORDS = 25
LIST_ITEM_WORDS = 3


def classify(block: Block) -> str:
    """jusText's context-free class of a block: good, near-good, short or bad (Block.paragraph_class)."""
    return block.paragraph_class


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def _digest(block: Block) -> str:
    return hashlib.sha1(_norm(block.plain).encode("utf-8")).hexdigest()[:12]


def fingerprints(blocks: Iterable[Block]) -> tuple[str, ...]:
    """Fingerprints of a page's short blocks, for finding site chrome across the corpus. A trailing '~'
    marks a weak block (short or bad), which counts as chrome sooner."""
    out = set()
    for block in blocks:
        if block.kind in (HEADING, IMAGE) or len(block.words()) > FINGERPRINT_WORDS or not block.plain.strip():
            continue
        out.add(_digest(block) + ("~" if classify(block) in (SHORT, BAD) else ""))
    return tuple(sorted(out))


def site_chrome(per_article: Iterable[Iterable[str]]) -> frozenset[str]:
    """The fingerprints that repeat across articles: in CHROME_ARTICLES of them, or in
    CHROME_ARTICLES_WEAK when the block is short or bad."""
    counts: Counter[str] = Counter()
    weak: set[str] = set()
    for prints in per_article:
        seen = set()
        for fp in prints:
            digest = fp.rstrip("~")
            if fp.endswith("~"):
                weak.add(digest)
            seen.add(digest)
        counts.update(seen)
    return frozenset(d for d, n in counts.items()
                     if n >= CHROME_ARTICLES or (n >= CHROME_ARTICLES_WEAK and d in weak))


def _is_chrome(block: Block, chrome: frozenset[str]) -> bool:
    if not chrome or block.kind in (HEADING, IMAGE):
        return False
    return _digest(block) in chrome


def is_link_list(block: Block) -> bool:
    """A list whose every item is mostly link text: a menu, table of contents or related-links list."""
    if block.kind != LIST or not block.items:
        return False
    pairs = zip(block.items, block.item_link_chars, strict=True)  # one link count per item
    return all(links >= LINK_SHARE * max(1, len(item)) for item, links in pairs)


def is_cross_link(block: Block) -> bool:
    """A short paragraph that is mostly a link ("Learn more: <link>", a photo credit with its links)."""
    return block.kind == PARA and len(block.words()) <= CROSS_LINK_WORDS and block.link_density >= LINK_SHARE


def _is_sentence(text: str) -> bool:
    return text.rstrip().endswith((".", "!", "?", ":", "”", '"'))


def _is_lead_in(block: Block) -> bool:
    return block.kind == PARA and block.text.rstrip().endswith(":")


def link_host(href: str) -> str | None:
    """The site a link leads to, without 'www.'; '' for a relative address (a page of the same site); None
    for an in-page anchor ('#…') or a non-web link (mailto:, tel:, javascript:)."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    parts = urlsplit(href)
    if parts.scheme and parts.scheme.lower() not in ("http", "https"):
        return None
    host = (parts.hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def own_site(blocks: Iterable[Block], url: str | None = None) -> str | None:
    """The page's own site: the host of its address where the metadata gives one, else the host that at
    least half of its links to other sites lead to (two links at least; one link is no evidence)."""
    if url and (host := link_host(url)):
        return host
    hosts = Counter(h for block in blocks for h in map(link_host, block.links) if h)
    if not hosts:
        return None
    host, n = hosts.most_common(1)[0]
    return host if n >= 2 and 2 * n >= sum(hosts.values()) else None


def _is_own(href: str, site: str | None) -> bool:
    host = link_host(href)
    return host == "" or (bool(site) and host is not None and (host == site or host.endswith("." + str(site))))


def promotions(blocks: list[Block], url: str | None = None) -> set[int]:
    """Indexes of the blocks that promote the publisher: every block of a callout box (a blockquote) whose
    links all lead to the page's own site, and each paragraph outside a box whose links all lead to pages
    such a box promotes. A quotation links to its source elsewhere, an advice box to the tool it names;
    the publisher's own offer links home."""
    site = own_site(blocks, url)
    boxes: dict[int, list[int]] = {}
    for i, block in enumerate(blocks):
        if block.quote:
            boxes.setdefault(block.quote, []).append(i)
    dropped: set[int] = set()
    promoted: set[str] = set()
    for members in boxes.values():
        links = [h for i in members for h in blocks[i].links if link_host(h) is not None]
        if links and all(_is_own(h, site) for h in links):
            dropped.update(members)
            promoted.update(links)
    for i, block in enumerate(blocks):
        links = [h for h in block.links if link_host(h) is not None]
        if not block.quote and block.kind == PARA and links and all(h in promoted for h in links):
            dropped.add(i)
    return dropped


def drop_furniture(blocks: list[Block], chrome: frozenset[str] = frozenset(),
                   author: str | None = None, url: str | None = None) -> list[Block]:
    """The article's own blocks, in order. `author`: the byline's name, whose bio closes many pages; `url`:
    the page's own address, where known (for its promotions)."""
    kept: list[Block] = []
    previous: Block | None = None
    promoted = promotions(blocks, url)
    for i, block in enumerate(blocks):
        drop = False
        if i in promoted or block.kind == IMAGE:
            drop = True
        elif block.kind != HEADING:
            drop = (_is_chrome(block, chrome) or is_link_list(block) or is_cross_link(block)
                    or "©" in block.plain
                    or (previous is not None and previous.kind == IMAGE and block.kind == PARA
                        and len(block.words()) <= CAPTION_WORDS and not _is_sentence(block.text)))
            if is_link_list(block) and kept and _is_lead_in(kept[-1]) and len(kept[-1].words()) <= 12:
                kept.pop()  # "Explore other careers:" goes with its links
        previous = block
        if not drop:
            kept.append(block)
    return _drop_author_bio(_trim_page(_drop_repeats(kept)), author)


def _drop_author_bio(blocks: list[Block], author: str | None) -> list[Block]:
    """A paragraph in the last part of the page that opens with the author's name ("Dana Whitfield is a
    nurse educator who …") is the author's bio, not the article."""
    name = " ".join((author or "").split(",")[0].split()[:3])
    if len(name.split()) < 2:  # a single word (a site name) is too weak to go by
        return blocks
    start = len(blocks) - max(2, len(blocks) // 4)
    pattern = re.compile(rf"^(?:about\s+)?{re.escape(name)}\b", re.IGNORECASE)
    kept = [b for i, b in enumerate(blocks) if not (i >= start and b.kind == PARA and pattern.match(b.text))]
    while kept and kept[-1].kind == HEADING:
        kept.pop()
    return kept


def _prose_follows(blocks: list[Block], classes: list[str], i: int) -> bool:
    """The next paragraph after block i, past headings and lists, is prose (good or near-good): a lead-in,
    its list and the paragraph after them ("The modules cover:", the modules, "After that, apply …") are
    the article going on, not its end."""
    for j in range(i + 1, len(blocks)):
        if blocks[j].kind not in (HEADING, LIST):
            return blocks[j].kind == PARA and classes[j] in (GOOD, NEAR)
    return False


def _mean_words(block: Block) -> float:
    return sum(len(item.split()) for item in block.items) / max(1, len(block.items))


def _drop_repeats(blocks: list[Block]) -> list[Block]:
    """A paragraph printed twice (a standfirst above the body that the body repeats, whole or as its start)
    is kept once, in the later, fuller place."""
    paras = [(i, _norm(b.text)) for i, b in enumerate(blocks) if b.kind == PARA]
    # One search over all paragraphs at once ("\0" cannot occur in text, so no match spans two): a text
    # found more often than it is printed whole lies inside a longer paragraph.
    joined = "\0".join(text for _, text in paras)
    whole = Counter(text for _, text in paras)
    last = {text: i for i, text in paras}
    repeated = {i for i, text in paras if len(text.split()) >= 5
                and (joined.count(text) > whole[text] or last[text] > i)}
    return [b for i, b in enumerate(blocks) if i not in repeated]


def _trim_page(blocks: list[Block]) -> list[Block]:
    """Drop the page around the article: before its first block of running prose, the short and bad
    blocks (menus, datelines, tags); after its last, everything from the first short or bad block on
    (share and comment boxes, footers, teasers), which is where the article ends."""
    classes = [classify(b) if b.kind != HEADING else "" for b in blocks]
    # Only paragraphs mark the body: a long list above the first one is as likely a table of contents.
    body = [i for i, c in enumerate(classes) if c == GOOD and blocks[i].kind == PARA]
    if not body:  # no running prose to tell the article from the page (a short note): keep it all
        return blocks
    first, last = body[0], body[-1]
    kept: list[Block] = []
    for i, block in enumerate(blocks):
        # Outside the body a line with a date on it is a dateline or byline ("Written on … by …"); the
        # date itself is kept as the article's metadata.
        weak = classes[i] in (SHORT, BAD) or (
            (i < first or i > last) and block.kind == PARA and len(block.words()) <= DATELINE_WORDS
            and find_date([block.text], 10_000) is not None)
        if i < first and weak:
            continue
        if i > last and weak and _prose_follows(blocks, classes, i):
            kept.append(block)  # a short line between paragraphs of prose is the article's own
            continue
        if i > last and weak:
            # A list of real items (a table, steps, skills) or the list a closing paragraph announces is
            # still the article; a list of one- and two-word entries is a menu.
            if block.kind == LIST and (_is_lead_in(kept[-1]) or _mean_words(block) >= LIST_ITEM_WORDS):
                kept.append(block)
                continue
            break
        kept.append(block)
    # A heading with nothing of its own after it, at the end, was the title of dropped furniture.
    while kept and kept[-1].kind == HEADING:
        kept.pop()
    return kept
