"""Bytes → text: decoding with a reliable fallback, and repair of mojibake (UTF-8 read as a code page).

Usage: text = repair_mojibake(decode_bytes(path.read_bytes(), path.name))
"""
from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

import ftfy

from ..errors import UnsupportedFile

log = logging.getLogger("careerbot")

MOJIBAKE_RUN = re.compile(r"[^\x00-\x7f]+(?:['’‘\"][^\x00-\x7f]+)*")
MOJIBAKE_CODECS = ("cp1252", "cp1253", "cp874", "cp1251", "mac_roman")
# Text made only of these characters has nothing for the repair or ftfy to change (no non-ASCII, no "&"
# entity, no control or terminal-escape character, no "\r"), so it skips ftfy's pure-Python pass.
_NOTHING_TO_REPAIR = re.compile(r"[\t\n\x20-\x25\x27-\x7e]*")


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
        if len(run) < 2:  # one byte of 0x80 or more is never UTF-8: a lone character is no mojibake
            return run
        for codec in MOJIBAKE_CODECS:
            try:
                fixed = _sloppy_encode(run, codec).decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if len(fixed) < len(run):
                return fixed
        return run

    # Entities are left for the format parsers (Markdown and HTML decode them where they are text). ftfy
    # works line by line, so lines with nothing for it to change skip its pure-Python pass.
    text = MOJIBAKE_RUN.sub(fix_run, text)
    return "".join(line if _NOTHING_TO_REPAIR.fullmatch(line) or not ftfy_would_change(line) else
                   ftfy.fix_text(line, uncurl_quotes=False, unescape_html=False)
                   for line in text.splitlines(keepends=True))


def ftfy_would_change(line: str) -> bool:
    """False only where ftfy.fix_text (as called above) provably returns the line unchanged: no character
    any of its fixers rewrites (controls, C1, ligatures, width forms, line separators, surrogates), NFC
    already, and no mojibake by ftfy's own test (`is_bad`), run only around the characters its patterns
    need instead of over the whole line (that scan was most of the repair's time)."""
    touched, needed, badness = _ftfy_tables()
    if touched.search(line) or not unicodedata.is_normalized("NFC", line):
        return True
    # Every badness pattern contains one of the `needed` characters and spans at most 7 characters, so a
    # match lies inside a window of 8 characters either side of one; '^' never matches at a window's start.
    windows: list[list[int]] = []
    for run in needed.finditer(line):
        start, stop = max(0, run.start() - 8), run.end() + 8
        if windows and start <= windows[-1][1]:
            windows[-1][1] = stop
        else:
            windows.append([start, stop])
    return any(badness.search(line, start, stop) for start, stop in windows)


@lru_cache(maxsize=1)
def _ftfy_tables() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """From ftfy's own tables: the characters its fixers other than the encoding fix touch, the
    characters its mojibake patterns are made of, and those patterns."""
    from ftfy import chardata
    from ftfy.badness import BADNESS_RE

    touched = {chr(c) for table in (chardata.CONTROL_CHARS, chardata.LIGATURES, chardata.WIDTH_MAP) for c in table}
    touched |= {chr(c) for c in range(0x80, 0xA0)} | {"\r", "\u2028", "\u2029", "\x1b"}
    pattern = BADNESS_RE.pattern
    needed = {c for c in pattern if ord(c) > 0x7F}
    for low, high in re.findall(r"([^\x00-\x7f])-([^\x00-\x7f])", pattern):  # character ranges
        needed |= {chr(c) for c in range(ord(low), ord(high) + 1)}

    def char_class(chars: set[str]) -> str:
        return "[" + "".join(sorted(re.escape(c) for c in chars)) + "]"

    return (re.compile(char_class(touched)[:-1] + r"\ud800-\udfff]"), re.compile(char_class(needed) + "+"),
            BADNESS_RE)


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
