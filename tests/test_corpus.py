"""The corpus scan: which files an update must read again, and which it may trust by size and mtime."""
from __future__ import annotations

import os
import time

from careerbot import KnowledgeBase
from careerbot.corpus import RACY_NS, scan_corpus
from careerbot.files import sha256_file


def _corpus(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "a.txt").write_text("Alpha\n\nFirst article.\n", encoding="utf-8")
    (corpus / "sub" / "b.md").write_text("# Beta\n\nSecond article.\n", encoding="utf-8")
    (corpus / "notes.pdf").write_bytes(b"%PDF not an article")
    old = time.time_ns() - 10 * RACY_NS  # written well before any scan
    for path in (corpus / "a.txt", corpus / "sub" / "b.md"):
        os.utime(path, ns=(old, old))
    return corpus


def test_a_first_scan_hashes_every_supported_file(tmp_path):
    corpus = _corpus(tmp_path)
    scan = scan_corpus(corpus)
    assert [f.source for f in scan.files] == ["a.txt", os.path.join("sub", "b.md")]
    assert scan.reread == 2 and scan.hashes()["a.txt"] == sha256_file(corpus / "a.txt")


def test_unchanged_size_and_mtime_are_trusted_without_reading(tmp_path):
    corpus = _corpus(tmp_path)
    first = scan_corpus(corpus)
    known = {f.source: dict(f.meta(), sha256="recorded-" + f.source) for f in first.files}
    again = scan_corpus(corpus, known, first.scanned_ns)
    # the recorded hash comes back: proof that the bytes were not read
    assert again.reread == 0 and again.hashes()["a.txt"] == "recorded-a.txt"


def test_a_changed_mtime_or_size_is_read_again(tmp_path):
    corpus = _corpus(tmp_path)
    first = scan_corpus(corpus)
    known = {f.source: dict(f.meta(), sha256="recorded") for f in first.files}
    path = corpus / "a.txt"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # touched: same bytes
    (corpus / "sub" / "b.md").write_text("# Beta\n\nSecond article, longer now.\n", encoding="utf-8")
    again = scan_corpus(corpus, known, first.scanned_ns)
    assert again.reread == 2
    assert again.hashes() == {f: sha256_file(corpus / f) for f in again.hashes()}


def test_a_file_written_just_before_the_last_scan_is_not_trusted(tmp_path):
    """The racy case: edited within the same timestamp tick after the scan, size and mtime can match."""
    corpus = _corpus(tmp_path)
    first = scan_corpus(corpus)
    known = {f.source: dict(f.meta(), sha256="recorded") for f in first.files}
    recent = first.scanned_ns - RACY_NS // 2
    for path in (corpus / "a.txt",):
        os.utime(path, ns=(recent, recent))
        known["a.txt"]["mtime_ns"] = recent
    again = scan_corpus(corpus, known, first.scanned_ns)
    assert again.reread == 1 and again.hashes()["a.txt"] == sha256_file(corpus / "a.txt")


def test_update_finds_a_same_size_edit_made_right_after_the_build(writable, settings):
    """End to end: an index built seconds after its files were written re-reads them, so an in-place edit
    that keeps the size and (on a coarse clock) the mtime is still found."""
    corpus, index = writable
    article = sorted(corpus.glob("*.txt"))[0]
    stat = article.stat()
    os.utime(article, ns=(stat.st_atime_ns, time.time_ns()))  # as if just written
    kb = KnowledgeBase.build(corpus, index, settings)
    text = article.read_text(encoding="utf-8")
    edited = text.replace("a", "e", 1)
    assert len(edited.encode()) == len(text.encode()) and edited != text
    mtime = article.stat().st_mtime_ns
    article.write_text(edited, encoding="utf-8")
    os.utime(article, ns=(mtime, mtime))  # same size, same mtime
    assert kb.diff(corpus).changed == (article.name,)
    assert kb.update(corpus).changed == (article.name,)
