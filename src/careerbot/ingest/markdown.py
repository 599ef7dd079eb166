"""Markdown → blocks with markdown-it-py: front matter read as metadata, headings with levels, paragraphs,
lists and table rows as plain text (emphasis markers, images and inline HTML reduced to their text).

Usage: meta, blocks = read_markdown("---\\ntitle: T\\n---\\n# Skills\\n\\n- Python\\n")
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from types import SimpleNamespace
from typing import NamedTuple

from .blocks import HEADING, IMAGE, LIST, PARA, Block
from .furniture import LINK_SHARE
from .htmlfrag import html_fragment_text

log = logging.getLogger("careerbot")

_FRONT_MATTER = re.compile(r"\A\ufeff?(?:(---)[ \t]*\n(.*?)\n(?:---|\.\.\.)|(\+\+\+)[ \t]*\n(.*?)\n\+\+\+)"
                           r"[ \t]*(?:\n|\Z)", re.DOTALL)
# Template and attribute syntax of static-site generators (Liquid/Jinja {% %}, Hugo shortcodes {{< >}},
# kramdown attribute lists {: .class}) is markup, never text.
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{:[^{}\n]*\}", re.DOTALL)
_SPACE_BEFORE_PUNCTUATION = re.compile(r" ([.,;:!?])(?= |$)")
_INLINE_TAG = re.compile(r"<(/?)\s*([A-Za-z][\w-]*)")
_HIDDEN = {"script", "style", "noscript", "template"}
TITLE_KEYS = ("title", "headline", "name")
# The page's own address (static-site generators and exporters write one of these).
URL_KEYS = ("canonical", "canonical_url", "canonicalurl", "url", "permalink", "link")
DATE_KEYS = ("date", "published", "pubdate", "publishdate", "created", "date_published")
AUTHOR_KEYS = ("author", "authors", "byline")


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """YAML (---) or TOML (+++) front matter as a flat dict of strings, and the body after it.
    Values keep the form printed in the file (dates are not reinterpreted)."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    body = text[match.end():]
    raw = match.group(2) if match.group(1) else match.group(4)
    import tomllib

    import yaml

    try:
        data = _load_yaml(raw) if match.group(1) else _load_toml(raw)
    except (yaml.YAMLError, tomllib.TOMLDecodeError, ValueError) as exc:  # still front matter: never body text
        log.warning("front matter could not be read (%s); its fields are ignored", exc.__class__.__name__)
        data = {}
    flat = {str(k).lower(): _flat(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return flat, body


def _load_yaml(raw: str):
    import yaml

    # BaseLoader: every scalar stays the string as written; libyaml's when PyYAML was built with it (the
    # same documents and errors, without the pure-Python scanner that otherwise costs as much as the body).
    return yaml.load(raw, Loader=getattr(yaml, "CBaseLoader", yaml.BaseLoader))


def _load_toml(raw: str):
    import tomllib

    return tomllib.loads(raw)


def _flat(value) -> str:
    if isinstance(value, dict):
        return _flat(value.get("name") or next(iter(value.values()), ""))
    if isinstance(value, (list, tuple)):
        return ", ".join(_flat(v) for v in value if _flat(v))
    return str(value).strip()


def first_of(meta: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if meta.get(key):
            return meta[key]
    return None


@lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": True}).enable("table")
    # Every link is parsed as a link: its address is dropped anyway, and a refused one (javascript:) would
    # otherwise stay in the text as literal markup.
    parser.validateLink = lambda url: True
    # Addresses are only read for their host (furniture.link_host parses them): markdown-it's percent-encoding
    # and punycode of each one is work without a reader, and the raw form compares with a front matter's url.
    parser.normalizeLink = lambda url: url
    return parser


def read_markdown(text: str) -> tuple[dict[str, str], list[Block]]:
    """Front matter and the body's blocks."""
    meta, body = split_front_matter(text)
    return meta, markdown_blocks(body)


def markdown_blocks(body: str) -> list[Block]:
    """The blocks of a Markdown body, in reading order; a block inside a blockquote carries its number."""
    tokens = _parser().parse(body)
    blocks: list[Block] = []
    depth = boxes = quoted = 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "blockquote_open":
            depth += 1
            if depth == 1:  # a nested blockquote belongs to the box around it
                boxes += 1
                quoted = boxes
        elif tok.type == "blockquote_close":
            depth = max(0, depth - 1)
            quoted = quoted if depth else 0
        elif tok.type == "heading_open":
            text = _inline(tokens[i + 1]).text
            if text:
                blocks.append(Block(HEADING, text, level=int(tok.tag[1]), quote=quoted))
            i += 3
            continue
        elif tok.type == "paragraph_open":
            inline = _inline(tokens[i + 1])
            if inline.text:
                blocks += [Block(PARA, part.text, link_chars=part.link_chars, links=part.links, quote=quoted)
                           for part in _link_lines_apart(tokens[i + 1], inline)]
            elif inline.images:
                blocks.append(Block(IMAGE))
            i += 3
            continue
        elif tok.type in ("bullet_list_open", "ordered_list_open"):
            end = _closing(tokens, i)
            items, item_links, links = _list_items(tokens[i + 1:end])
            if items:
                blocks.append(Block(LIST, items=tuple(items), item_link_chars=tuple(item_links), links=links,
                                    quote=quoted))
            i = end + 1
            continue
        elif tok.type == "table_open":
            end = _closing(tokens, i)
            rows = _table_rows(tokens[i + 1:end])
            if rows:
                blocks.append(Block(LIST, items=tuple(rows), item_link_chars=(0,) * len(rows), quote=quoted))
            i = end + 1
            continue
        elif tok.type == "html_block":
            text = clean_text(html_fragment_text(tok.content))
            if text:
                blocks.append(Block(PARA, text, quote=quoted))
        elif tok.type in ("fence", "code_block"):
            text = " ".join(tok.content.split())
            if text:
                blocks.append(Block(PARA, text, quote=quoted))
        i += 1
    return blocks


def _closing(tokens, start: int) -> int:
    """Index of the token closing the one at `start` (same nesting level)."""
    level = tokens[start].level
    close = tokens[start].type.replace("_open", "_close")
    for j in range(start + 1, len(tokens)):
        if tokens[j].type == close and tokens[j].level == level:
            return j
    return len(tokens) - 1


class _Inline(NamedTuple):
    text: str
    link_chars: int  # characters of the text inside links
    images: int
    links: tuple[str, ...]  # link addresses


def _inline(token) -> _Inline:
    """Plain text of an inline token, the characters of it inside links, its images and link addresses."""
    parts: list[str] = []
    hrefs: list[str] = []
    link_depth = link_chars = images = hidden = 0
    for child in token.children or ():
        kind = child.type
        if kind == "html_inline":
            tag = _INLINE_TAG.match(child.content)
            if tag and tag.group(2).lower() in _HIDDEN:  # inline <script>/<style>: neither tag nor content
                hidden = max(0, hidden + (-1 if tag.group(1) else 1))
            elif re.match(r"<br\b", child.content, re.IGNORECASE):
                parts.append(" ")
            continue
        if hidden:
            continue
        if kind == "link_open":
            link_depth += 1
            hrefs.append(str(child.attrs.get("href") or ""))
        elif kind == "link_close":
            link_depth = max(0, link_depth - 1)
        elif kind == "image":
            images += 1  # alt text is a caption for the picture, not article text
        elif kind in ("text", "code_inline"):
            parts.append(child.content)
            if link_depth:
                link_chars += len(child.content.strip())
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" ")
    return _Inline(clean_text("".join(parts)), link_chars, images, tuple(hrefs))


def _link_lines_apart(token, whole: _Inline) -> list[_Inline]:
    """A paragraph (`whole`: its inline text), with each of its lines that is mostly a link set apart
    ("Learn more: [other article]" written on the line before a sentence): the furniture rules judge such a
    line on its own, not diluted by the prose it was typed next to. A paragraph without such a line stays
    whole."""
    if not whole.link_chars:
        return [whole]
    lines: list[list] = [[]]
    depth = 0
    for child in token.children or ():
        depth += (child.type == "link_open") - (child.type == "link_close")
        if child.type in ("softbreak", "hardbreak") and depth <= 0:
            lines.append([])
        else:
            lines[-1].append(child)
    parsed = [line for line in (_inline(SimpleNamespace(children=line)) for line in lines) if line.text]
    linky = [line.link_chars >= LINK_SHARE * max(1, len(line.text)) for line in parsed]
    if len(parsed) < 2 or not any(linky):
        return [whole]
    parts: list[_Inline] = []
    apart: list[bool] = []  # parts[i] is a line set apart
    for line, mostly_link in zip(parsed, linky, strict=True):
        if parts and not mostly_link and not apart[-1]:
            last = parts[-1]
            parts[-1] = _Inline(f"{last.text} {line.text}", last.link_chars + line.link_chars,
                                last.images + line.images, last.links + line.links)
        else:
            parts.append(line)
            apart.append(mostly_link)
    return parts


def clean_text(text: str) -> str:
    """Text with template syntax removed and whitespace collapsed."""
    if "{" in text:  # every template form opens with a brace
        text = _TEMPLATE.sub(" ", text)
    # A removed tag or template leaves its spaces: "per year <img …>." reads "per year." (once collapsed,
    # the only whitespace left is single spaces).
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(text.split()))


def _list_items(tokens) -> tuple[list[str], list[int], tuple[str, ...]]:
    """Items of a (possibly nested) list, flattened in reading order (each item's own text only), the
    link characters of each, and the list's link addresses."""
    items: list[str] = []
    links: list[int] = []
    hrefs: list[str] = []
    for j, tok in enumerate(tokens):
        if tok.type == "inline" and j > 0 and tokens[j - 1].type in ("paragraph_open",):
            text, link_chars, _, item_hrefs = _inline(tok)
            if not text:
                continue
            hrefs.extend(item_hrefs)
            # The first paragraph of an item starts it; later paragraphs of the same item continue it.
            opener = tokens[j - 2].type if j >= 2 else ""
            if opener == "list_item_open" or not items:
                items.append(text)
                links.append(link_chars)
            else:
                items[-1] += " " + text
                links[-1] += link_chars
        elif tok.type == "html_block":
            text = clean_text(html_fragment_text(tok.content))
            if text:
                items.append(text)
                links.append(0)
    return items, links, tuple(hrefs)


def _table_rows(tokens) -> list[str]:
    """Table rows as readable text: 'Header: cell; Header: cell' when the table has a header row."""
    header: list[str] = []
    rows: list[str] = []
    row: list[str] = []
    in_head = False
    for tok in tokens:
        if tok.type == "thead_open":
            in_head = True
        elif tok.type == "thead_close":
            in_head = False
        elif tok.type == "tr_open":
            row = []
        elif tok.type == "inline":
            row.append(_inline(tok).text)
        elif tok.type == "tr_close":
            if in_head:
                header = row
            elif any(row):
                rows.append(table_row(header, row))
    return rows


def table_row(header: list[str], row: list[str]) -> str:
    """One table row in words, e.g. table_row(["Role", "Pay"], ["Nurse", "$80k"]) == "Role: Nurse; Pay: $80k"."""
    if header and len(header) == len(row) and any(header):
        return "; ".join(f"{h}: {c}" if h else c for h, c in zip(header, row, strict=False) if c)
    return "; ".join(c for c in row if c)
