"""Files careerbot reads: the one table of supported article formats (and the message for any other file),
and the one file hash (article fingerprints, index artifact checksums, evaluation corpora).

Usage: fmt = supported_format("a.htm", "a.htm")  # "html"; digest = sha256_file(Path("corpus/a.md"))
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from .errors import UnsupportedFile, alternatives

# Each format's file suffixes; the first is the one messages and the app's upload picker name.
FORMATS: dict[str, tuple[str, ...]] = {"txt": (".txt",), "md": (".md", ".markdown"), "html": (".html", ".htm")}
FORMAT_OF_SUFFIX = {suffix: fmt for fmt, suffixes in FORMATS.items() for suffix in suffixes}
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(FORMAT_OF_SUFFIX)
NAMED_SUFFIXES: tuple[str, ...] = tuple(suffixes[0] for suffixes in FORMATS.values())


def format_of(name: str) -> str | None:
    """'txt', 'md' or 'html' from a file name's suffix (any case); None for another. Usage: format_of("a.MD")"""
    return FORMAT_OF_SUFFIX.get(Path(name).suffix.lower())


def supported_format(name: str, shown: str) -> str:
    """The format of file `name`, or UnsupportedFile saying, about `shown` (the name a user knows it by), which
    types there are. Usage: supported_format("x.pdf", "x.pdf") raises "x.pdf: unsupported type .pdf; use ..."
    """
    fmt = format_of(name)
    if fmt is None:
        suffix = Path(name).suffix.lower()
        raise UnsupportedFile(f"{shown}: unsupported type {suffix or '(none)'}; use {alternatives(NAMED_SUFFIXES)}")
    return fmt


def sha256_file(path: Path) -> str:
    """sha256 of a file's bytes, hex, read in blocks (hashlib.file_digest): article files are fingerprinted
    with it, and index artifacts and evaluation corpora, which can be large, checked. Usage: sha256_file(p)"""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
