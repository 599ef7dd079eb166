"""Bytes → text: decoding with a reliable fallback, and repair of mojibake (UTF-8 read as a code page).

Usage: text = repair_mojibake(decode_bytes(path.read_bytes(), path.name))
"""
from __future__ import annotations

import logging
import re

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
    return "".join(line if _NOTHING_TO_REPAIR.fullmatch(line) else
                   ftfy.fix_text(line, uncurl_quotes=False, unescape_html=False)
                   for line in text.splitlines(keepends=True))


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
