"""Ingest: read .txt/.md/.html article files, repair mojibake, drop page boilerplate, find sections.

Usage: article = parse_file(Path("corpus/a.txt"), root=Path("corpus"))
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import ftfy

from .corpus import SUPPORTED_SUFFIXES
from .errors import UnsupportedFile
from .html_text import html_to_markdown
from .types import Article, Section

log = logging.getLogger("careerbot")

BULLET = re.compile(r"^\s*(?:[•\-*–·▪●]|\d{1,2}[.)])\s+")
DATE = re.compile(
    r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},\s+\d{4}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b")
# Lines that belong to the page around an article, never to the article itself.
BOILERPLATE_LINE = re.compile(
    r"^(?:table of contents|related (?:articles|posts|reading)|salary insights|featured jobs?\b.*"
    r"|view salary info\b.*|\d+\s+min(?:ute)?s? read\b.*|share (?:this|on)\b.*|tweet\b.*"
    r"|(?:subscribe|sign up)\b.*(?:newsletter|updates|free).*|advertisement|sponsored|cookie.*)$",
    re.IGNORECASE)
JOB_AD_META = re.compile(r"^@\s.+|^(?:full[- ]time|part[- ]time|internship|contract|freelance)\b.*",
                         re.IGNORECASE)
CALL_TO_ACTION = re.compile(
    r"\b(?:chat with us|contact us|book a demo|request a demo|sign up|subscribe to|check out (?:the|our)"
    r"|start (?:your )?free trial|get started (?:today|for free|with \w+)|see the platform)\b", re.IGNORECASE)
MOJIBAKE_RUN = re.compile(r"[^\x00-\x7f]+(?:['’‘\"][^\x00-\x7f]+)*")
MOJIBAKE_CODECS = ("cp1252", "cp1253", "cp874", "cp1251", "mac_roman")
# Text made only of these characters has nothing for the repair or ftfy to change (no non-ASCII, no "&"
# entity, no control or terminal-escape character, no "\r"), so it skips ftfy's pure-Python pass.
_NOTHING_TO_REPAIR = re.compile(r"[\t\n\x20-\x25\x27-\x7e]*")


@dataclass(frozen=True)
class Block:
    kind: str  # "heading" | "para" | "list"
    text: str = ""
    items: tuple[str, ...] = ()
    explicit: bool = False  # heading marked up in the source (markdown #, html <h2>)


def decode_bytes(data: bytes, name: str = "file") -> str:
    """UTF-8, else a reliably detected encoding; raises UnsupportedFile for binary or undecodable data."""
    if b"\x00" in data[:8192]:
        raise UnsupportedFile(f"{name}: looks binary (NUL bytes); skipped")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.chaos > 0.2:
        raise UnsupportedFile(f"{name}: not valid UTF-8 and the encoding cannot be detected reliably; "
                              "save it as UTF-8")
    log.warning("%s: not valid UTF-8; decoded as %s", name, best.encoding)
    return str(best)


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as a legacy code page (e.g. 'ยท' → '·'), then let ftfy fix the rest."""
    if _NOTHING_TO_REPAIR.fullmatch(text):
        return text

    def fix_run(match: re.Match) -> str:
        run = match.group(0)
        for codec in MOJIBAKE_CODECS:
            try:
                fixed = _sloppy_encode(run, codec).decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if len(fixed) < len(run):
                return fixed
        return run

    return ftfy.fix_text(MOJIBAKE_RUN.sub(fix_run, text), uncurl_quotes=False)


def _sloppy_encode(run: str, codec: str) -> bytes:
    # Browsers decode undefined code-page bytes as cp1252/latin-1, so mojibake mixes them.
    out = bytearray()
    for ch in run:
        for candidate in (codec, "cp1252", "latin-1"):
            try:
                out += ch.encode(candidate)
                break
            except UnicodeEncodeError:
                continue
        else:
            raise UnicodeEncodeError(codec, ch, 0, 1, "unmappable")
    return bytes(out)


def parse_file(path: Path, root: Path | None = None, max_bytes: int = 5_000_000) -> Article:
    """Read and clean one article file. Raises UnsupportedFile with a reason a user can act on."""
    name = str(path.relative_to(root)) if root else path.name
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFile(f"{name}: unsupported type {suffix or '(none)'}; use .txt, .md or .html")
    size = path.stat().st_size
    if size == 0:
        raise UnsupportedFile(f"{name}: empty file; skipped")
    if size > max_bytes:
        raise UnsupportedFile(f"{name}: {size:,} bytes is over the {max_bytes:,}-byte limit; skipped")
    text = repair_mojibake(decode_bytes(path.read_bytes(), name))
    if suffix in (".html", ".htm"):
        text = html_to_markdown(text)
    article = parse_text(text, source=name, markdown=suffix != ".txt")
    if not any(s.blocks for s in article.sections):
        raise UnsupportedFile(f"{name}: no readable article text; skipped")
    return article


def parse_text(text: str, source: str, markdown: bool = False) -> Article:
    """Turn cleaned text into an Article: title, date, byline and headed sections."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line.replace("\u00a0", " ").replace("\u200b", "") for line in lines]
    title, date, byline = _header(lines)
    lines = _strip_header_lines(lines, title, byline)
    blocks = _drop_boilerplate(_blocks(lines, markdown))
    return Article(source=source, title=title, date=date, byline=byline, sections=_sections(blocks, title))


def _same(a: str, b: str) -> bool:
    """Same heading, or b followed by a subtitle ("Title: A Comprehensive Comparison")."""
    norm = lambda s: re.sub(r"\W+", " ", s).strip().lower()  # noqa: E731
    if norm(a) == norm(b):
        return True
    return bool(b) and a.lower().startswith(b.lower()) and bool(re.match(r"\s*[:|–—-]\s", a[len(b):]))


def _header(lines: list[str]) -> tuple[str, str | None, str | None]:
    content = [line.strip().lstrip("#").strip() for line in lines if line.strip()]
    title = content[0] if content else "Untitled"
    date = byline = None
    head = content[1:15]
    for line in head:
        match = DATE.search(line)
        if match and len(line) < 80:
            date = match.group(0)
            break
    # A byline is a short name-like line in the header, often followed by the author's role.
    # It counts only when marked ("By …") or confirmed by the next line (the name again, or "Role at Org").
    for i, line in enumerate(head):
        name = re.fullmatch(r"(By\s+)?([A-Z][a-z]+(?:\s+[A-Z][a-z.'-]+){1,2})", line)
        if not name or _same(line, title):
            continue
        nxt = head[i + 1] if i + 1 < len(head) else ""
        if nxt == line:
            nxt = head[i + 2] if i + 2 < len(head) else ""
        role = bool(re.search(r"\s(?:at|@)\s", nxt)) and len(nxt) < 80 and not nxt.endswith(".")
        if name.group(1) or role:
            byline = f"{name.group(2)}, {nxt}" if role else name.group(2)
            break
    return title, date, byline


def _strip_header_lines(lines: list[str], title: str, byline: str | None) -> list[str]:
    """Blank out page-header lines: title repeats, date and read-time lines, byline, and a subtitle
    that the body repeats word for word. Blanking (not deleting) keeps block boundaries."""
    later = {line.strip() for line in lines[40:]} | {line.strip() for line in lines}
    seen_first = False
    out = list(lines)
    body_start = 0
    for i, line in enumerate(lines[:40]):
        text = line.strip().lstrip("#").strip()
        if not text:
            continue
        if not seen_first:
            seen_first, out[i] = True, ""  # the title line itself
            continue
        header_like = (_same(text, title) or (DATE.search(text) and len(text) < 80)
                       or BOILERPLATE_LINE.match(text)
                       or (byline and any(text == part.strip() for part in byline.split(","))))
        # Only a sentence-long line above the body (a subtitle) counts; short repeats are sub-headings.
        repeated = not body_start and len(text) > 40 and text in later and lines.count(line) > 1
        if header_like or repeated:
            out[i] = ""
            if repeated and not header_like:
                later.discard(text)
        elif len(text) > 100 and not body_start:
            body_start = i
    return out


def _is_heading_candidate(line: str) -> bool:
    words = line.split()
    if not words or len(line) > 90 or len(words) > 12 or (BULLET.match(line) and not line[0].isdigit()):
        return False
    if line.endswith((".", ",", ";", ":", "!")) and not re.match(r"^\d+\.\s", line):
        return False
    return line[0].isupper() or line[0].isdigit()


def _blocks(lines: list[str], markdown: bool) -> list[Block]:
    """Group lines into headings, paragraphs and lists (blank lines separate blocks)."""
    blocks: list[Block] = []
    items: list[str] = []
    para: list[str] = []

    def flush() -> None:
        if items:
            blocks.append(Block("list", items=tuple(items)))
            items.clear()
        if para:
            blocks.append(Block("para", text=" ".join(para)))
            para.clear()

    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            flush()
            continue
        md_heading = re.match(r"^(#{1,6})\s+(.*)", line) if markdown else None
        if md_heading:
            flush()
            blocks.append(Block("heading", text=md_heading.group(2).strip(), explicit=True))
        elif BULLET.match(line) and not (re.match(r"^\d+\.\s", line) and _standalone(lines, i)
                                           and _is_heading_candidate(line)):
            if para:
                flush()
            items.append(BULLET.sub("", line).strip())
        elif items and raw.startswith((" ", "\t")):
            items[-1] += " " + line  # continuation of a wrapped list item
        elif not markdown and _standalone(lines, i) and _is_heading_candidate(line):
            flush()
            blocks.append(Block("heading", text=line))
        else:
            if items:
                flush()
            para.append(line)
    flush()
    return blocks


def _standalone(lines: list[str], i: int) -> bool:
    before = i == 0 or not lines[i - 1].strip()
    after = i + 1 >= len(lines) or not lines[i + 1].strip()
    return before and after


def _drop_boilerplate(blocks: list[Block]) -> list[Block]:
    """Remove job ads, salary widgets, share lines and calls to action, by shape rather than by page."""
    kept: list[Block] = []
    in_job_ad = False
    for block in blocks:
        text = block.text or " ".join(block.items)
        first_line = text.split("\n")[0]
        if BOILERPLATE_LINE.match(first_line.strip()):
            in_job_ad = first_line.lower().startswith("featured job")
            continue
        if in_job_ad:
            # A job ad is title, "@ Company | Place", "Full Time … USD 100K - 130K"; it ends at real prose.
            if block.kind != "list" and (len(text) < 120 or JOB_AD_META.match(text)):
                continue
            in_job_ad = False
        if block.kind == "para" and (JOB_AD_META.match(text) and "|" in text):
            continue
        if block.kind == "para" and CALL_TO_ACTION.search(text) and len(_sentences(text)) <= 2:
            continue
        kept.append(block)
    # Trailing fragments (a tagline or slogan with no sentence punctuation) are page furniture.
    while kept and kept[-1].kind != "list" and len(kept[-1].text.split()) <= 12 \
            and not kept[-1].text.rstrip().endswith((".", "?", "!", ":")):
        kept.pop()
    return kept


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def _sections(blocks: list[Block], title: str) -> tuple[Section, ...]:
    """Attach blocks to headings. A heading right before a list, after a heading, list or lead-in,
    is a sub-heading (e.g. 'Responsibilities' › 'Data Scientist')."""
    sections: list[Section] = []
    top, sub = "", ""
    current: list[str] = []

    def close() -> None:
        if current:
            name = f"{top} › {sub}" if top and sub else (sub or top or "Introduction")
            sections.append(Section(heading=name, blocks=tuple(current)))
            current.clear()

    for i, block in enumerate(blocks):
        if block.kind == "heading":
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
            prev = blocks[i - 1] if i > 0 else None
            is_sub = (not block.explicit and nxt is not None and nxt.kind == "list" and prev is not None
                      and top and (prev.kind in ("heading", "list") or prev.text.endswith(":")))
            close()
            if is_sub:
                sub = block.text
            else:
                top, sub = block.text, ""
            continue
        current.append("\n".join(f"- {item}" for item in block.items) if block.kind == "list" else block.text)
    close()
    return tuple(sections)
