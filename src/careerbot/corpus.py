"""Corpus scan: find the article files under a corpus folder and fingerprint them, in one walk.

An update must cost what changed, not the corpus: files whose size and mtime match the manifest keep
their recorded sha256 unread. Usage: scan = scan_corpus(Path("corpus")); scan.hashes()
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from .files import format_of, sha256_file

# A file modified this close to the previous scan may have changed again within the same timestamp tick
# (the "racy git" problem), so for it an unchanged size and mtime prove nothing and it is read again.
RACY_NS = 2_000_000_000


@dataclass(frozen=True)
class CorpusFile:
    """An article file as found by a scan: its name relative to the corpus, where it is, and its state."""

    source: str
    path: Path
    sha256: str
    size: int
    mtime_ns: int

    def meta(self) -> dict:
        return {"sha256": self.sha256, "size": self.size, "mtime_ns": self.mtime_ns}


@dataclass(frozen=True)
class CorpusScan:
    files: tuple[CorpusFile, ...]
    links_out: tuple[str, ...]  # links under the corpus that point outside it: never followed
    scanned_ns: int  # wall clock when the scan started; store it so the next scan can trust stat()
    reread: int  # files whose bytes were read and hashed (the rest were known by size and mtime)

    def hashes(self) -> dict[str, str]:
        return {f.source: f.sha256 for f in self.files}


def scan_corpus(root: Path, known: dict[str, dict] | None = None, known_scanned_ns: int = 0) -> CorpusScan:
    """Every supported article under root with its sha256, in one walk.

    A file whose size and mtime equal those recorded in `known` (a manifest's file entries, written by a
    scan that started at `known_scanned_ns`) keeps its recorded hash unread, as make and git do; so an
    update reads only new and changed files. `index build` passes nothing and reads every file.
    Usage: scan = scan_corpus(Path("corpus")); scan.hashes()
    """
    scanned_ns = time.time_ns()
    known = known or {}
    paths, links_out = _articles(root)
    files, reread = [], 0
    for source, path in sorted(paths.items()):
        stat = path.stat()
        meta = known.get(source) or {}
        if (meta.get("size") == stat.st_size and meta.get("mtime_ns") == stat.st_mtime_ns
                and stat.st_mtime_ns < known_scanned_ns - RACY_NS and isinstance(meta.get("sha256"), str)):
            digest = meta["sha256"]
        else:
            digest, reread = sha256_file(path), reread + 1
        files.append(CorpusFile(source, path, digest, stat.st_size, stat.st_mtime_ns))
    return CorpusScan(tuple(files), tuple(sorted(links_out)), scanned_ns, reread)


def _articles(root: Path) -> tuple[dict[str, Path], list[str]]:
    """Supported files under root by source name (a link inside the corpus counts as the file it names),
    and the links that point out of root (never followed)."""
    root = root.resolve()
    found: dict[str, Path] = {}
    links_out = []
    for entry, relative in _walk(root):
        path = Path(entry.path)
        if entry.is_symlink():
            real = path.resolve()
            if not real.is_relative_to(root):
                links_out.append(relative)
                continue
            # a link inside the corpus names a file the walk meets under its own name (or a folder it walks)
            if not real.is_file():
                continue
            source = str(real.relative_to(root))
        else:
            real, source = path, relative
        if format_of(path.name):
            found.setdefault(source, real)
    return found, links_out


def _walk(root: Path):
    """(entry, path relative to root) for every file and link under root, without following links (a
    link out of the corpus is never entered, and a link loop cannot trap the walk), in no set order."""
    pending = [(str(root), "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            with os.scandir(folder) as entries:
                listing = list(entries)
        except OSError:  # unreadable folder: nothing in it can be indexed
            continue
        for entry in listing:
            relative = prefix + entry.name
            if entry.is_symlink():
                yield entry, relative
            elif entry.is_dir(follow_symlinks=False):
                pending.append((entry.path, relative + os.sep))
            elif entry.is_file(follow_symlinks=False):
                yield entry, relative


def list_corpus(root: Path) -> list[Path]:
    """Supported article files under root, sorted by name; never follows links out of root."""
    return [path for _, path in sorted(_articles(root)[0].items())] if root.is_dir() else []
