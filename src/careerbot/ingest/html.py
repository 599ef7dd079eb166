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

    # One parse with trafilatura's own loader (it copes with broken pages) serves the title lookups, the
    # metadata and the extraction; the extractor works on its own copy of the tree.
    tree = trafilatura.load_html(text)
    meta = page_metadata(tree) if tree is not None else None
    # One extraction pass: the main text as trafilatura's XML tree, read into blocks directly (its headings,
    # lists, table rows and blockquotes as elements: no Markdown rendered and parsed back). The page's
    # address goes in as the metadata pass would hand it over (links made absolute against it).
    doc = trafilatura.bare_extraction(tree, url=meta.url if meta else None, output_format="xml",
                                      include_tables=True, include_links=True, include_images=False,
                                      include_comments=False, include_formatting=True, favor_recall=True, fast=True,
                                      deduplicate=False, with_metadata=False) if tree is not None else None
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
    if meta is None:
        return {"title": None, "date": None, "author": None, "url": None}, blocks
    return {"title": _page_title(tree, meta.sitename) or meta.title or _fallback_title(tree),
            "date": printed_form(meta.date, texts()), "author": meta.author, "url": meta.url}, blocks


def page_metadata(tree):
    """trafilatura's metadata (trafilatura.metadata.extract_metadata, fast mode), for the fields used here:
    author, address, date, site name and the metadata title, in its order and with its rules; categories,
    tags and licence are not looked for, nor a title in the page's headings (_fallback_title, only when
    needed). Its author search runs its XPaths on a copy of the page with comments, sidebars and dates
    pruned (most of the metadata's time); where they match nothing on the page itself they cannot match on
    the pruned copy, and the search is skipped."""
    from trafilatura import metadata as tm
    from trafilatura.settings import set_date_params
    from trafilatura.xpaths import AUTHOR_XPATHS

    doc = tm.examine_meta(tree)
    if doc.author and " " not in doc.author:
        doc.author = None
    try:
        doc = tm.extract_meta_json(tree, doc)
    except Exception as exc:  # noqa: BLE001  (as trafilatura: its JSON-LD reader can fail on odd pages)
        log.debug("JSON-LD metadata not read: %s", exc)
    if not doc.author and any(len(xpath(tree)) for xpath in AUTHOR_XPATHS):
        doc.author = tm.extract_author(tree)
    if not doc.url:
        doc.url = tm.extract_url(tree, None)
    doc.date = tm.find_date(tree, **{**set_date_params(True), "url": doc.url})
    if not doc.sitename:
        doc.sitename = tm.extract_sitename(tree)
    if doc.sitename:
        doc.sitename = doc.sitename.lstrip("@")
        if doc.sitename and "." not in doc.sitename and not doc.sitename[0].isupper():
            doc.sitename = doc.sitename.title()
    elif doc.url and (match := tm.META_URL.match(doc.url)):
        doc.sitename = match[1]
    doc.clean_and_trim()
    return doc


def _fallback_title(tree) -> str | None:
    """trafilatura's title from the page's headings, as its metadata cleans it."""
    from html import unescape

    from trafilatura import metadata as tm
    from trafilatura.utils import line_processing

    title = tm.extract_title(tree)
    return line_processing(unescape(title)) if title else None


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
