"""HTML pages → blocks with trafilatura: the main text (navigation, scripts, share boxes and footers left
out), with heading levels, lists and tables kept, plus the page's title, date and author.

Usage: page = read_html(Path("post.html").read_text(), source="post.html")
"""
from __future__ import annotations

import logging
import re

from .blocks import Block
from .markdown import markdown_blocks, split_front_matter
from .title import printed_form

log = logging.getLogger("careerbot")


def read_html(text: str, source: str) -> tuple[dict[str, str | None], list[Block]]:
    """The page's metadata (title, date, author) and the blocks of its main text."""
    import trafilatura
    from lxml import etree
    from lxml import html as lxml_html

    try:
        tree = lxml_html.document_fromstring(text.encode("utf-8", "replace"))
    except (etree.ParserError, ValueError, AssertionError):  # lxml asserts on some broken documents
        tree = None
    # One extraction pass gives the main text as Markdown with the page's metadata as front matter.
    extracted = trafilatura.extract(text, output_format="markdown", include_tables=True, include_links=True,
                                    include_images=False, include_comments=False, include_formatting=True,
                                    favor_recall=True, deduplicate=False, with_metadata=True) or ""
    meta, body = split_front_matter(extracted)
    visible = " ".join(tree.text_content().split()) if tree is not None else ""
    if not body.strip():  # too little for the extractor to call it an article: take the whole page's text
        body = visible
    title = _page_title(tree, meta.get("sitename")) or meta.get("title")
    date = printed_form(meta.get("date"), [body, visible])
    return {"title": title, "date": date, "author": meta.get("author")}, \
        markdown_blocks(body)


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
