"""Ingest: article files (.txt page dumps, Markdown, HTML) → clean Articles with a section tree.

Each format has its parser (plaintext, markdown, html) producing a Page of typed blocks; furniture
(site chrome, menus, link lists, captions, the page around the body) is then dropped by general
evidence, and the blocks become a tree of sections. docs/ingest.md has the rules and their measurements.

Usage:
    article = parse_file(Path("corpus/a.md"), root=Path("corpus"))
    page = read_page(path, root); chrome = site_chrome([fingerprints(p.blocks) for p in pages])
    article = to_article(page, chrome)
"""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from ..errors import UnsupportedFile
from ..files import format_of, supported_format
from ..records import Article
from ..settings import DEFAULTS
from .blocks import HEADING, PARA, Block, Page
from .furniture import GOOD, NEAR, classify, drop_furniture, fingerprints, site_chrome
from .repair import decode_bytes, repair_mojibake
from .sections import build_sections
from .title import choose_title, find_byline, find_date, is_title_line, same_heading

__all__ = ["Article", "Page", "decode_bytes", "fingerprints", "parse_file", "parse_text",
           "read_page", "repair_mojibake", "site_chrome", "to_article"]

def read_page(path: Path, root: Path | None = None, max_bytes: int = DEFAULTS.max_file_bytes) -> Page:
    """Read, decode, repair and parse one file into a Page. Raises UnsupportedFile with a reason a user
    can act on."""
    name = str(path.relative_to(root)) if root else path.name
    supported_format(path.name, name)
    size = path.stat().st_size
    if size == 0:
        raise UnsupportedFile(f"{name}: empty file; skipped")
    if size > max_bytes:
        raise UnsupportedFile(f"{name}: {size:,} bytes is over the {max_bytes:,}-byte limit; skipped")
    text = repair_mojibake(decode_bytes(path.read_bytes(), name))
    return page_from_text(text, name)


def page_from_text(text: str, source: str, fmt: str | None = None) -> Page:
    """Parse decoded text of the given format ('txt', 'md', 'html'; by default from the file name)."""
    fmt = fmt or format_of(source) or "txt"
    if fmt == "html":
        from .html import read_html

        meta, blocks = read_html(text, source)
        return _page(source, blocks, meta.get("title"), meta.get("date"), meta.get("author"), meta.get("url"))
    if fmt == "md":
        from .markdown import AUTHOR_KEYS, DATE_KEYS, TITLE_KEYS, URL_KEYS, first_of, read_markdown

        front, blocks = read_markdown(text)
        return _page(source, blocks, first_of(front, TITLE_KEYS), first_of(front, DATE_KEYS),
                     first_of(front, AUTHOR_KEYS), first_of(front, URL_KEYS))
    from .plaintext import clean_lines, text_blocks

    lines = clean_lines(text)
    head = [line.strip() for line in lines if line.strip()][:40]
    page = _page(source, text_blocks(lines), None, find_date(head[:15], 80), None)
    return replace(page, byline=find_byline(head[:15], page.title))


def _page(source: str, blocks: list[Block], title: str | None, date: str | None, author: str | None,
          url: str | None = None) -> Page:
    """Settle title and date from metadata or the page itself; the title line and what precedes it on a
    page without metadata (site name, menus) are not article blocks."""
    # The first paragraph of running prose: the title is above it, the body starts there.
    first_body = next((i for wanted in (GOOD, NEAR) for i, b in enumerate(blocks)
                       if b.kind == PARA and classify(b) == wanted), len(blocks))
    if title:
        title_from = "metadata"
        for i, block in enumerate(blocks[:first_body + 1]):
            # "<title>Post - Site</title>" over "<h1>Post</h1>": the page's own heading is the title.
            suffixed = block.kind == HEADING and same_heading(title, block.text) and not same_heading(block.text, title)
            if block.kind == HEADING and (is_title_line(block.text, title) or suffixed):
                title = block.text if suffixed else title
                blocks = blocks[:i] + blocks[i + 1:]  # the page repeats its title as the first heading
                break
    else:
        choice = choose_title(blocks, source, first_body)
        title, title_from = choice.title, choice.source
        if choice.index is not None:
            # The title line opens the article: blocks above it are page header, except running prose.
            blocks = [b for b in blocks[:choice.index] if b.kind == PARA and classify(b) == GOOD] \
                + blocks[choice.index + 1:]
    texts = [b.plain for b in blocks if b.kind != HEADING]
    printed = find_date(texts[:8], 100) or find_date(texts, 160)
    # Extractors return "Name · Date" or "Name | Site" for an author; the name is the first part.
    author = re.split(r"\s+[·|•]\s+|\s+-\s+", author)[0].strip() if author else None
    return Page(source, tuple(blocks), " ".join(title.split()), title_from,
                date or printed, author or None, url or None)


def to_article(page: Page, chrome: frozenset[str] = frozenset()) -> Article:
    """Drop the page's furniture and build the article's section tree. Raises UnsupportedFile when no
    article text is left."""
    blocks = drop_furniture(list(page.blocks), chrome, page.byline, page.url)
    if blocks and blocks[0].kind == HEADING and same_heading(blocks[0].text, page.title):
        blocks = blocks[1:]  # the title line, once what stood above it is gone
    sections = build_sections(blocks)
    article = Article(source=page.source, title=page.title, date=page.date, byline=page.byline,
                      sections=sections, title_from=page.title_from)
    if not any(s.blocks for s in article.walk()):
        raise UnsupportedFile(f"{page.source}: no readable article text; skipped")
    return article


def parse_file(path: Path, root: Path | None = None, max_bytes: int = DEFAULTS.max_file_bytes,
               chrome: frozenset[str] = frozenset()) -> Article:
    """Read and clean one article file. Raises UnsupportedFile with a reason a user can act on."""
    return to_article(read_page(path, root, max_bytes), chrome)


def parse_text(text: str, source: str, fmt: str | None = None) -> Article:
    """An Article from text already decoded. Usage: parse_text("Title\\n\\nBody.", source="a.txt")"""
    return to_article(page_from_text(text, source, fmt))
