"""HTML pages → blocks with trafilatura: the main text (navigation, scripts, share boxes and footers left
out), with heading levels, lists, tables and blockquotes kept, plus the page's title, date, author and own
address.

Usage: page = read_html(Path("post.html").read_text(), source="post.html")
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import replace

from .blocks import HEADING, IMAGE, Block
from .markdown import markdown_blocks
from .title import printed_form

log = logging.getLogger("careerbot")

# A blockquote's text is matched to the Markdown blocks rendered from it; shorter text could match anywhere.
QUOTE_MATCH_CHARS = 20


def read_html(text: str, source: str) -> tuple[dict[str, str | None], list[Block]]:
    """The page's metadata (title, date, author, url) and the blocks of its main text."""
    import trafilatura
    from trafilatura.settings import Document

    # One parse with trafilatura's own loader (it copes with broken pages) serves both the title lookups
    # and the extraction; the extractor works on its own copy of the tree.
    tree = trafilatura.load_html(text)
    # One extraction pass: the main text as Markdown, its XML tree (for blockquotes) and the metadata, all
    # as Python values (no serialised front matter to read back, no content fingerprint).
    doc = trafilatura.bare_extraction(tree, output_format="python",
                                      include_tables=True, include_links=True, include_images=False,
                                      include_comments=False, include_formatting=True, favor_recall=True, fast=True,
                                      deduplicate=False, with_metadata=True) if tree is not None else None
    if not isinstance(doc, Document):  # None: nothing the extractor could call text
        doc = None
    body = (doc.text or "") if doc is not None else ""
    visible = " ".join(tree.text_content().split()) if tree is not None else ""
    if not body.strip():  # too little for the extractor to call it an article: take the whole page's text
        body = visible
    blocks = markdown_blocks(body)
    if doc is not None and doc.body is not None:
        blocks = _mark_quotes(blocks, doc.body)
    meta = {"title": _page_title(tree, doc.sitename if doc else None) or (doc.title if doc else None),
            "date": printed_form(doc.date if doc else None, [body, visible]),
            "author": doc.author if doc else None, "url": doc.url if doc else None}
    return meta, blocks


def _squash(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split()).lower()


def _mark_quotes(blocks: list[Block], body) -> list[Block]:
    """Number the blocks that come from the extracted text's blockquotes (trafilatura's Markdown drops the
    '>' marks; its XML keeps them as <quote>)."""
    quotes = [_squash("".join(q.itertext())) for q in body.iter("quote")]
    if not quotes:
        return blocks
    texts = [_squash(b.plain) if b.kind not in (HEADING, IMAGE) else "" for b in blocks]
    numbers = [next((k + 1 for k, quote in enumerate(quotes) if text in quote), 0)
               if text and (len(text) >= QUOTE_MATCH_CHARS or text in quotes) else 0 for text in texts]
    # A short line between two lines of the same quotation (verse) is part of it.
    for i in range(1, len(blocks) - 1):
        if not numbers[i] and texts[i] and numbers[i - 1] and numbers[i - 1] == numbers[i + 1] \
                and texts[i] in quotes[numbers[i - 1] - 1]:
            numbers[i] = numbers[i - 1]
    return [replace(b, quote=n) if n else b for b, n in zip(blocks, numbers, strict=False)]


def _page_title(root, site: str | None) -> str | None:
    """og:title, else <title> without a trailing site name ("Post | Site"). The extractor's own guess is
    the fallback: on malformed pages it can pick a heading from a modal or sidebar."""
    if root is None:
        return None
    for xpath in ('//meta[@property="og:title"]/@content', '//meta[@name="twitter:title"]/@content'):
        values = [v.strip() for v in root.xpath(xpath) if v.strip()]
        if values:
            return " ".join(values[0].split())
    titles = [" ".join(t.text_content().split()) for t in root.xpath("//title")]
    titles = [t for t in titles if t]
    if not titles:
        return None
    return strip_site_name(titles[0], site)


def strip_site_name(title: str, site: str | None) -> str:
    """'(Opinionated) Guide | Yuan Meng' → '(Opinionated) Guide': drop a part that names the site, or the
    last '|'-separated part."""
    parts = [p.strip() for p in re.split(r"\s+[|·•]\s+", title) if p.strip()]
    if len(parts) > 1:
        return max(parts[:-1], key=len) if len(parts) > 2 else parts[0]
    if site:
        for sep in (" - ", " – ", " — "):
            head, _, tail = title.rpartition(sep)
            if head and tail.strip().lower() == site.strip().lower():
                return head.strip()
    return title
