"""trafilatura's extracted tree (its XML: head, p, list/item, table/row/cell, quote, code, hi, ref, lb) →
blocks, read directly instead of rendering it as Markdown and parsing that back.

Usage: blocks = xml_blocks(trafilatura.bare_extraction(tree, output_format="xml", ...).body)
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

from .blocks import HEADING, IMAGE, LIST, PARA, Block
from .markdown import clean_text, table_row

# Elements that start blocks of their own; everything else (hi, ref, del, inline code, …) is inline text.
_BLOCKS = frozenset(("head", "p", "list", "table", "quote", "graphic", "div", "item", "row", "cell"))


@dataclass
class _Text:
    """Inline text being collected: its pieces, the characters of it inside links, link addresses."""

    parts: list[str] = field(default_factory=list)
    link_chars: int = 0
    links: list[str] = field(default_factory=list)
    images: int = 0

    def add(self, text: str | None, in_link: bool) -> None:
        if text:
            self.parts.append(text)
            if in_link:
                self.link_chars += len(text.strip())

    def text(self) -> str:
        joined = "".join(self.parts)
        return "" if joined.isspace() or not joined else _plain(joined)  # the layout between blocks

    def take(self) -> tuple[str, int, tuple[str, ...], int]:
        out = self.text(), self.link_chars, tuple(self.links), self.images
        self.parts, self.link_chars, self.links, self.images = [], 0, [], 0
        return out


def _plain(text: str) -> str:
    # As trafilatura's text output: entities left in the text decoded, control characters dropped.
    if "&" in text:
        text = html.unescape(text)
    text = clean_text(text)
    if not text.isprintable():
        text = "".join(c for c in text if c.isprintable() or c.isspace())
    return text


def _is_block(element) -> bool:
    if element.tag == "code":  # a code block (several lines) stands alone; inline code is text
        return element.find("lb") is not None or "\n" in "".join(element.itertext())
    return element.tag in _BLOCKS


def _inline(element, into: _Text, in_link: bool = False) -> None:
    """Add an inline element's text (not its tail) and its descendants' to `into`."""
    tag = element.tag
    if tag == "lb":
        into.parts.append(" ")
        return
    if tag == "graphic":
        into.images += 1  # alt text captions the picture; it is not article text
        return
    if tag == "ref":
        if "".join(element.itertext()).strip():  # an empty link is no link
            into.links.append(element.get("target") or "")
        in_link = True
    into.add(element.text, in_link)
    for child in element:
        _inline(child, into, in_link)
        into.add(child.tail, in_link)


class _Reader:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.boxes = 0

    def container(self, element, quote: int) -> None:
        """The blocks of a container (body, quote, paragraph, div): runs of inline text become paragraphs;
        a line break at this level ends one, as trafilatura's own text output makes it."""
        text = _Text()
        text.add(element.text, False)
        for child in element:
            if _is_block(child) or child.tag == "lb":
                self.paragraph(text, quote)
                if child.tag != "lb":
                    self.block(child, quote)
            else:
                _inline(child, text)
            text.add(child.tail, False)
        self.paragraph(text, quote)

    def paragraph(self, text: _Text, quote: int) -> None:
        plain, link_chars, links, images = text.take()
        if plain:
            self.blocks.append(Block(PARA, plain, link_chars=link_chars, links=links, quote=quote))
        elif images:
            self.blocks.append(Block(IMAGE))

    def block(self, element, quote: int) -> None:
        tag = element.tag
        if tag == "quote":
            if not quote:  # a nested quotation belongs to the box around it
                self.boxes += 1
            self.container(element, quote or self.boxes)
        elif tag == "head":
            text = _Text()
            _inline(element, text)
            heading = text.text()
            if heading:
                rend = element.get("rend") or ""  # h1 … h6; trafilatura's default level is 2
                level = int(rend[1]) if len(rend) == 2 and rend[1] in "123456" else 2
                self.blocks.append(Block(HEADING, heading, level=level, quote=quote))
        elif tag == "list":
            items: list[str] = []
            item_links: list[int] = []
            links: list[str] = []
            _list_items(element, items, item_links, links)
            if items:
                self.blocks.append(Block(LIST, items=tuple(items), item_link_chars=tuple(item_links),
                                         links=tuple(links), quote=quote))
        elif tag == "table":
            rows = _table_rows(element)
            if rows:
                self.blocks.append(Block(LIST, items=tuple(rows), item_link_chars=(0,) * len(rows), quote=quote))
        elif tag == "code":
            code = " ".join(" ".join(element.itertext()).split())
            if code:
                self.blocks.append(Block(PARA, code, quote=quote))
        elif tag == "graphic":
            self.blocks.append(Block(IMAGE))
        else:  # p, div, or a stray item, row or cell outside its parent
            self.container(element, quote)


def _list_items(element, items: list[str], item_links: list[int], links: list[str]) -> None:
    """Items of a (possibly nested) list, flattened in reading order: each item's own text, then its
    sub-items; text of an item after its sub-list continues the item before it (as its Markdown read)."""
    for item in element.iterchildren("item"):
        text = _Text()
        text.add(item.text, False)
        started = False
        for child in item:
            if child.tag in ("list", "table"):
                started = _add_item(text, started, items, item_links, links)
                if child.tag == "list":
                    _list_items(child, items, item_links, links)
                else:
                    rows = _table_rows(child)
                    items.extend(rows)
                    item_links.extend([0] * len(rows))
                started = True
            elif child.tag in ("p", "head", "quote", "div"):
                _inline_apart(child, text)  # a paragraph inside an item continues the item's text
            else:
                _inline(child, text)
            text.add(child.tail, False)
        _add_item(text, started, items, item_links, links)


def _inline_apart(element, text: _Text) -> None:
    """An element's text, kept apart from the words around it by spaces."""
    text.parts.append(" ")
    _inline(element, text)
    text.parts.append(" ")


def _add_item(text: _Text, started: bool, items: list[str], item_links: list[int], links: list[str]) -> bool:
    """Add the collected text as a new item, or to the last item once this one has started; whether it has."""
    plain, link_chars, hrefs, _ = text.take()
    if not plain:
        return started
    links.extend(hrefs)
    if started and items:
        items[-1] += " " + plain
        item_links[-1] += link_chars
    else:
        items.append(plain)
        item_links.append(link_chars)
    return True


def _cell_text(cell) -> str:
    """A cell's text; a list in a cell reads as its items separated by commas."""
    text = _Text()
    text.add(cell.text, False)
    parts: list[str] = []
    for child in cell:
        if child.tag == "list":
            parts.append(text.take()[0])
            items: list[str] = []
            _list_items(child, items, [], [])
            parts.append(", ".join(items))
        elif _is_block(child) or child.tag == "lb":
            _inline_apart(child, text)
        else:
            _inline(child, text)
        text.add(child.tail, False)
    parts.append(text.text())
    return ", ".join(p for p in parts if p)


def _table_rows(table) -> list[str]:
    """Rows as 'Header: cell; Header: cell' when the table opens with a header row, else 'cell; cell'."""
    header: list[str] = []
    rows: list[str] = []
    for row in table.iter("row"):
        cells = [_cell_text(cell) for cell in row.iterchildren("cell")]
        if not rows and not header and any(cell.get("role") == "head" for cell in row.iterchildren("cell")):
            header = cells
        elif any(cells):
            rows.append(table_row(header, cells))
    return rows


def xml_blocks(body) -> list[Block]:
    """The blocks of trafilatura's extracted body, in reading order; blocks in a blockquote are numbered."""
    reader = _Reader()
    reader.container(body, 0)
    return reader.blocks
