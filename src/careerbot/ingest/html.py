"""HTML pages → blocks with trafilatura: the main text (navigation, scripts, share boxes and footers left
out), with heading levels, lists, tables and blockquotes kept, plus the page's title, date, author and own
address.

Usage: page = read_html(Path("post.html").read_text(), source="post.html")
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from .blocks import IMAGE, Block
from .markdown import markdown_blocks
from .title import printed_form
from .xmlblocks import xml_blocks

log = logging.getLogger("careerbot")


def read_html(text: str, source: str) -> tuple[dict[str, str | None], list[Block]]:
    """The page's metadata (title, date, author, url) and the blocks of its main text."""
    import trafilatura
    from trafilatura.settings import Document

    # One parse with trafilatura's own loader (it copes with broken pages) serves both the title lookups
    # and the extraction; the extractor works on its own copy of the tree.
    tree = trafilatura.load_html(text)
    # One extraction pass: the main text as trafilatura's XML tree, read into blocks directly (its headings,
    # lists, table rows and blockquotes as elements: no Markdown rendered and parsed back), and the
    # metadata as Python values.
    doc = trafilatura.bare_extraction(tree, output_format="xml",
                                      include_tables=True, include_links=True, include_images=False,
                                      include_comments=False, include_formatting=True, favor_recall=True, fast=True,
                                      deduplicate=False, with_metadata=True) if tree is not None else None
    if not isinstance(doc, Document):  # None: nothing the extractor could call text
        doc = None
    blocks = xml_blocks(doc.body) if doc is not None and doc.body is not None else []
    body = "\n".join(b.plain for b in blocks if b.kind != IMAGE)

    def visible() -> str:
        return " ".join(tree.text_content().split()) if tree is not None else ""

    def texts() -> Iterator[str]:  # the whole page's text only when the article's does not print the date
        yield body
        yield visible()

    if not body.strip():  # too little for the extractor to call it an article: take the whole page's text
        body = visible()
        blocks = markdown_blocks(body)
    meta = {"title": _page_title(tree, doc.sitename if doc else None) or (doc.title if doc else None),
            "date": printed_form(doc.date if doc else None, texts()),
            "author": doc.author if doc else None, "url": doc.url if doc else None}
    return meta, blocks


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
