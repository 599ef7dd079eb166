"""Plain-text page dumps → blocks: blank lines separate blocks, bullet lines make lists, a short standalone
capitalised line is a heading (a sub-heading when it heads a list inside a section).

Usage: blocks = text_blocks(Path("page.txt").read_text().splitlines())
"""
from __future__ import annotations

import html
import re
from dataclasses import replace
from itertools import pairwise

from .blocks import HEADING, LIST, PARA, Block
from .title import find_date

BULLET = re.compile(r"^\s*(?:[•\-*+–·▪●◦]|\d{1,2}[.)])\s+")
_NUMBERED = re.compile(r"^\d+\.\s")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")  # markup left in a dump of a rendered page


def clean_lines(text: str) -> list[str]:
    """Lines with non-breaking and zero-width spaces normalised, entities decoded and stray tags removed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out = []
    for line in lines:
        line = line.replace("\u00a0", " ").replace("\u200b", "").rstrip()
        if "<" in line:
            line = _TAG.sub("", line)
        if "&" in line:
            line = html.unescape(line)
        out.append(line)
    return out


def is_heading_line(line: str, max_words: int = 12) -> bool:
    """A short line that does not end a sentence and starts with a capital (or a number)."""
    words = line.split()
    if not words or len(line) > 7.5 * max_words or len(words) > max_words or (
            BULLET.match(line) and not line[0].isdigit()):
        return False
    if line.endswith((".", ",", ";", ":", "!")) and not _NUMBERED.match(line):
        return False
    return line[0].isupper() or line[0].isdigit() or (line[0] in "(“\"'" and len(line) > 1 and line[1].isupper())


def is_line_stack(lines: list[str]) -> bool:
    """Lines that each stand alone (a byline over a date over "Table of contents", a menu, verse), not one
    paragraph wrapped at a width: no line break falls inside a sentence, i.e. every line ends a sentence
    or the next starts like a new one."""
    if len(lines) < 2:
        return False
    for line, following in pairwise(lines):
        ends = line.rstrip().endswith((".", "!", "?", ":", "”", '"', ")"))
        starts_new = not following[:1].islower()
        if not (ends or starts_new):
            return False
    return True


def stacked_blocks(lines: list[str]) -> list[Block]:
    """A stack of lines, one block each. A heading-like line right above a line of running prose ("What a
    plumber does" over its paragraph, with no blank line between), or a title above its dateline (as the
    stack's first line over "By … | March 3, 2024", or anywhere over "By …" and a date), is a heading: pages
    copied from a browser often lose the blank line after a heading."""
    blocks = []
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        prose = bool(following) and not is_heading_line(following) and len(following.split()) > 12
        # A title over its dateline: the stack's first line over a date, or any line over "By …" and a date.
        below = lines[i + 1:i + 3]
        dated = [find_date([b], 120) is not None for b in below]
        dateline = not line.lower().startswith("by ") and bool(dated) and (
            (i == 0 and dated[0]) or (len(below) == 2 and below[0].lower().startswith("by ") and dated[1]))
        # A title over its dateline may be as long as a title gets (choose_title's 16 words).
        heading = is_heading_line(line, 16 if dateline else 12) and not find_date([line], 120) and (prose or dateline)
        blocks.append(Block(HEADING, line, level=2) if heading else Block(PARA, line))
    return blocks


def _standalone(lines: list[str], i: int) -> bool:
    before = i == 0 or not lines[i - 1].strip()
    after = i + 1 >= len(lines) or not lines[i + 1].strip()
    return before and after


def text_blocks(lines: list[str]) -> list[Block]:
    """Group lines into headings, paragraphs and lists, then give headings their levels."""
    blocks: list[Block] = []
    items: list[str] = []
    para: list[str] = []

    def flush() -> None:
        if items:
            blocks.append(Block(LIST, items=tuple(items), item_link_chars=(0,) * len(items)))
            items.clear()
        if para:
            if is_line_stack(para):
                blocks.extend(stacked_blocks(para))
            else:
                blocks.append(Block(PARA, " ".join(para)))
            para.clear()

    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            flush()
            continue
        if BULLET.match(line) and not (_NUMBERED.match(line) and _standalone(lines, i) and is_heading_line(line)):
            # A heading typed right above its list ("How to get started" then "1. …", no blank line between).
            heading = para.pop() if para and is_heading_line(para[-1]) and (len(para) == 1 or is_line_stack(para)) \
                else None
            if para:
                flush()
            if heading:  # a paragraph line ended any list before it, so nothing is pending
                blocks.append(Block(HEADING, heading, level=2))
            items.append(BULLET.sub("", line).strip())
        elif items and raw.startswith((" ", "\t")):
            items[-1] += " " + line  # continuation of a wrapped list item
        elif _standalone(lines, i) and is_heading_line(line):
            flush()
            blocks.append(Block(HEADING, line, level=2))
        else:
            if items:
                flush()
            para.append(line)
    flush()
    return _levels(blocks)


def _levels(blocks: list[Block]) -> list[Block]:
    """A heading right before a list, after a heading, a list or a lead-in (':'), inside a section, is a
    sub-heading (level 3): 'Responsibilities' › 'Data Scientist'."""
    out = list(blocks)
    seen_top = False
    for i, block in enumerate(blocks):
        if block.kind != HEADING:
            continue
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        prev = blocks[i - 1] if i > 0 else None
        is_sub = (seen_top and nxt is not None and nxt.kind == LIST and prev is not None
                  and (prev.kind in (HEADING, LIST) or prev.text.endswith(":")))
        if is_sub:
            out[i] = replace(block, level=3)
        else:
            seen_top = True
    return out
