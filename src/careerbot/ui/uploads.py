"""Uploaded article files: a safe name, the same checks as indexing, and a copy into the corpus folder that
never overwrites and is never seen half-written.

Usage: target = store_upload(Path(upload), Path("corpus"), settings.max_file_bytes)
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from ..errors import UnsupportedFile
from ..files import NAMED_SUFFIXES, supported_format
from ..ingest import parse_file

UPLOAD_TYPES = list(NAMED_SUFFIXES)


def safe_name(name: str) -> str:
    """A plain file name for an upload: no folders, no dot files, only letters, digits, '.', '_' and '-'.

    Usage: safe_name("../../etc/x.txt") == "x.txt"
    """
    base = re.split(r"[\\/]", name)[-1]
    suffix = Path(base).suffix.lower()
    supported_format(base, base or name)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", base[: -len(suffix)]).strip("_-")[:80] or "article"
    return stem + suffix


def store_upload(path: Path, corpus: Path, max_bytes: int) -> Path | None:
    """Check an uploaded file (type, size, readable article text) and copy it into corpus/.

    Returns the new file, or None when the same content is already there. Never overwrites.
    Raises UnsupportedFile with a reason to show the user.
    """
    name = safe_name(path.name)
    size = path.stat().st_size
    if size > max_bytes:
        raise UnsupportedFile(f"{name}: {size:,} bytes is over the {max_bytes:,}-byte limit")
    data = path.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:  # parse a copy under its final name: same checks as indexing
        probe = Path(tmp) / name
        probe.write_bytes(data)
        parse_file(probe, Path(tmp), max_bytes)
    corpus = corpus.resolve()
    stem, suffix = name[: -len(Path(name).suffix)], Path(name).suffix
    for i in range(1, 1000):
        target = corpus / (name if i == 1 else f"{stem}-{i}{suffix}")
        if not target.exists():
            break
        if target.is_file() and target.read_bytes() == data:
            return None
    else:
        raise UnsupportedFile(f"{name}: too many files with this name")
    if target.resolve().parent != corpus:
        raise UnsupportedFile(f"{name}: refused, it would be saved outside the corpus folder")
    partial = corpus / f".{target.name}.part"  # not an article suffix, so never indexed half-written
    partial.write_bytes(data)
    os.replace(partial, target)
    return target
