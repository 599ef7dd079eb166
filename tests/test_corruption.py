"""A damaged or lying index is refused at load with a "rebuild with careerbot index build" message.

Every case tampers with a private copy of the real index (built once per session with the real model):
truncated, zeroed or swapped files, a manifest that lies about them, a CURRENT pointer that leads nowhere,
garbage JSON. Loading must raise a CareerbotError naming the command that fixes it; the CLI must print
that message and exit non-zero without a traceback; open_or_build must rebuild.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import MLE_VS_LEAD, RESEARCHER_VS_ENGINEER

from careerbot import KnowledgeBase, Settings
from careerbot.cli import main as cli_main
from careerbot.errors import CorruptIndex, IndexNotFound, StaleIndex
from careerbot.index.versions import current_version

ARTIFACTS = ("vectors.faiss", "chunks.jsonl", "units.npy")


# ----- helpers ----------------------------------------------------------------------------------------
def live(index: Path) -> Path:
    return current_version(index)


def manifest_of(version: Path) -> dict:
    return json.loads((version / "manifest.json").read_text(encoding="utf-8"))


def write_manifest(version: Path, manifest) -> None:
    (version / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def reseal(version: Path) -> None:
    """Make the manifest lie: re-record every file's size and checksum after tampering with it."""
    manifest = manifest_of(version)
    files = sorted(p.relative_to(version).as_posix() for p in version.rglob("*")
                   if p.is_file() and p.name != "manifest.json")
    manifest["sizes"] = {f: (version / f).stat().st_size for f in files}
    manifest["checksums"] = {f: hashlib.sha256((version / f).read_bytes()).hexdigest() for f in files}
    write_manifest(version, manifest)


KEYWORD_FILES = {"keyword": "data.csc.index.npy",  # bm25s's score matrix
                 "keyword vocabulary": "vocab.index.json"}  # its term → column map


def keyword_file(version: Path, name: str = "keyword") -> Path:
    return version / "keyword" / KEYWORD_FILES[name]


@pytest.fixture(scope="module")
def other_index(tmp_path_factory, settings) -> Path:
    """A second real index over a different corpus (one article): the source of swapped-in files."""
    corpus = tmp_path_factory.mktemp("other-corpus")
    shutil.copy2(Path(__file__).resolve().parents[1] / "corpus" / RESEARCHER_VS_ENGINEER, corpus)
    index = tmp_path_factory.mktemp("other-index")
    KnowledgeBase.build(corpus, index, settings)
    return index


def swap_in(name: str):
    def tamper(version: Path, other: Path) -> None:
        source = live(other) / name
        target = version / name
        if source.is_dir():
            shutil.rmtree(target)
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
        reseal(version)
    return tamper


def truncate(name: str):
    def tamper(version: Path, other: Path) -> None:
        path = keyword_file(version, name) if name in KEYWORD_FILES else version / name
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    return tamper


def zero(name: str, lie: bool = False):
    def tamper(version: Path, other: Path) -> None:
        path = keyword_file(version, name) if name in KEYWORD_FILES else version / name
        path.write_bytes(b"\x00" * path.stat().st_size)
        if lie:
            reseal(version)
    return tamper


def edit_manifest(change):
    def tamper(version: Path, other: Path) -> None:
        manifest = manifest_of(version)
        change(manifest)
        write_manifest(version, manifest)
    return tamper


def raw_manifest(text: bytes):
    def tamper(version: Path, other: Path) -> None:
        (version / "manifest.json").write_bytes(text)
    return tamper


def lie_about_chunks(version: Path, other: Path) -> None:
    """Reorder the chunk store (vectors no longer match their chunks) and reseal the manifest."""
    lines = (version / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    lines[0], lines[1] = lines[1], lines[0]
    (version / "chunks.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    reseal(version)


def drop_a_chunk(version: Path, other: Path) -> None:
    """One chunk line fewer, with counts and checksums rewritten to match the chunk store."""
    lines = (version / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    (version / "chunks.jsonl").write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    manifest = manifest_of(version)
    manifest["counts"]["chunks"] -= 1
    write_manifest(version, manifest)
    reseal(version)


def garbage_chunk_line(line: str):
    def tamper(version: Path, other: Path) -> None:
        with open(version / "chunks.jsonl", "a", encoding="utf-8") as out:
            out.write(line + "\n")
        reseal(version)
    return tamper


def other_dimension_units(version: Path, other: Path) -> None:
    """units.npy from a model with another dimension: same number of rows, manifest resealed."""
    units = np.load(version / "units.npy")
    np.save(version / "units.npy", np.ones((len(units), 16), dtype=np.float32))
    reseal(version)


def point_current(target: str):
    def tamper(version: Path, other: Path) -> None:
        (version.parent / "CURRENT").write_text(target, encoding="utf-8")
    return tamper


def half_written(version: Path, other: Path) -> None:
    """What a crash mid-write leaves: a temporary copy missing a file. CURRENT must never load it."""
    tmp = version.parent / f".tmp-{version.name}x"
    shutil.copytree(version, tmp)
    (tmp / "units.npy").unlink()
    (version.parent / "CURRENT").write_text(tmp.name + "\n", encoding="utf-8")


CORRUPT_CASES = {
    **{f"truncated {n}": truncate(n) for n in (*ARTIFACTS, *KEYWORD_FILES)},
    **{f"zeroed {n}": zero(n) for n in (*ARTIFACTS, *KEYWORD_FILES, "manifest.json")},
    **{f"zeroed {n}, manifest resealed": zero(n, lie=True) for n in (*ARTIFACTS, *KEYWORD_FILES)},
    **{f"{n} swapped from another index, manifest resealed": swap_in(n) for n in (*ARTIFACTS, "keyword")},
    "chunks.jsonl and units.npy swapped": lambda v, o: (
        os.rename(v / "units.npy", v / "tmp"), os.rename(v / "chunks.jsonl", v / "units.npy"),
        os.rename(v / "tmp", v / "chunks.jsonl")),
    "chunk store reordered, manifest resealed": lie_about_chunks,
    "chunk dropped, manifest counts rewritten": drop_a_chunk,
    "chunk line not JSON, manifest resealed": garbage_chunk_line("{not json"),
    "chunk line a JSON list, manifest resealed": garbage_chunk_line("[1, 2, 3]"),
    "chunk line missing fields, manifest resealed": garbage_chunk_line('{"id": "x"}'),
    "units of another dimension, manifest resealed": other_dimension_units,
    "manifest: more chunks": edit_manifest(lambda m: m["counts"].update(chunks=m["counts"]["chunks"] + 1)),
    "manifest: fewer units": edit_manifest(lambda m: m["counts"].update(units=m["counts"]["units"] - 1)),
    "manifest: wrong size": edit_manifest(lambda m: m["sizes"].update({"units.npy": 12})),
    "manifest: wrong checksum": edit_manifest(lambda m: m["checksums"].update({"vectors.faiss": "0" * 64})),
    "manifest: wrong dimension": edit_manifest(lambda m: m.update(dimension=768)),
    "manifest: file list missing": edit_manifest(lambda m: m.pop("sizes")),
    "manifest: sizes is a list": edit_manifest(lambda m: m.update(sizes=list(m["sizes"]))),
    "manifest: counts is a string": edit_manifest(lambda m: m.update(counts="many")),
    "manifest: checksums is null": edit_manifest(lambda m: m.update(checksums=None)),
    "manifest: files is a list": edit_manifest(lambda m: m.update(files=["a.txt"])),
    "manifest: garbage": raw_manifest(b"{\"model\": \"all-MiniLM"),
    "manifest: JSON array": raw_manifest(b"[1, 2, 3]"),
    "manifest: empty": raw_manifest(b""),
    "manifest: invalid UTF-8": raw_manifest(b"\xff\xfe{\x00}"),
    "manifest: missing": lambda v, o: (v / "manifest.json").unlink(),
    "CURRENT names a missing version": point_current("v-19700101-000000-000000\n"),
    "CURRENT names a path outside the index": point_current("../../etc\n"),
    "CURRENT is empty": point_current(""),
    "CURRENT is binary": lambda v, o: (v.parent / "CURRENT").write_bytes(b"\xff\x00\xfe\n"),
    "CURRENT names a half-written version": half_written,
}


@pytest.mark.parametrize("case", sorted(CORRUPT_CASES))
def test_corrupt_index_is_refused_with_a_rebuild_message(case, writable, other_index, settings, capsys):
    corpus, index = writable
    CORRUPT_CASES[case](live(index), other_index)
    with pytest.raises(CorruptIndex, match="careerbot index build") as caught:
        KnowledgeBase.load(index, settings)
    assert "Traceback" not in str(caught.value)
    # The CLI turns it into one message and the CorruptIndex exit code.
    capsys.readouterr()
    code = cli_main(["search", "salary", "--index", str(index)])
    err = capsys.readouterr().err
    assert code == CorruptIndex.exit_code
    assert err.startswith("careerbot: error:") and "careerbot index build" in err


def test_a_lying_format_version_is_stale(writable, settings):
    _, index = writable
    edit_manifest(lambda m: m.update(format_version=99))(live(index), None)
    with pytest.raises(StaleIndex, match="careerbot index build"):
        KnowledgeBase.load(index, settings)


def test_missing_current_pointer_is_index_not_found(writable, settings):
    _, index = writable
    (index / "CURRENT").unlink()
    with pytest.raises(IndexNotFound, match="careerbot index build"):
        KnowledgeBase.load(index, settings)


@pytest.mark.parametrize("overrides", [{"model": "sentence-transformers/all-mpnet-base-v2"},
                                       {"chunk_tokens": 96}, {"chunk_overlap": 0},
                                       {"encoding": "o200k_base"}])
def test_other_model_or_chunker_settings_are_stale(session_index, overrides):
    with pytest.raises(StaleIndex, match="careerbot index build"):
        KnowledgeBase.load(session_index, Settings(progress="off", **overrides))


def test_changed_corpus_is_stale_with_an_update_message(writable, settings):
    corpus, index = writable
    KnowledgeBase.load(index, settings, corpus=corpus)  # current to begin with
    with open(corpus / MLE_VS_LEAD, "a", encoding="utf-8") as out:
        out.write("\nOne more paragraph about lead engineers mentoring teams.\n")
    with pytest.raises(StaleIndex, match="careerbot index update"):
        KnowledgeBase.load(index, settings, corpus=corpus)
    (corpus / MLE_VS_LEAD).unlink()
    with pytest.raises(StaleIndex, match="careerbot index update"):
        KnowledgeBase.load(index, settings, corpus=corpus)


def test_cli_reports_corruption_without_a_traceback(writable):
    """The real console entry point, as a user runs it: one line, exit code 5, no traceback."""
    _, index = writable
    zero("vectors.faiss", lie=True)(live(index), None)
    env = dict(os.environ, HF_HUB_OFFLINE="1", CAREERBOT_PROGRESS="off")
    for argv in (["search", "what do lead ML engineers earn?"], ["index", "info"], ["index", "update"]):
        run = subprocess.run([sys.executable, "-m", "careerbot.cli", *argv, "--index", str(index)],
                             capture_output=True, text=True, env=env, timeout=300)
        assert run.returncode == CorruptIndex.exit_code, (argv, run.stderr)
        assert "careerbot index build" in run.stderr and "Traceback" not in run.stderr, run.stderr
        assert run.stdout == ""


def test_open_or_build_rebuilds_a_corrupt_index(writable, settings):
    corpus, index = writable
    broken = live(index)
    truncate("units.npy")(broken, None)
    kb = KnowledgeBase.open_or_build(corpus, index, settings)
    assert live(index) != broken and not broken.exists()  # rebuilt, and the broken version pruned
    hit = kb.search("What is the average salary of a lead machine learning engineer on Glassdoor?", k=1)[0]
    assert hit.source == MLE_VS_LEAD and "153,000" in hit.text
    assert len(KnowledgeBase.load(index, settings, corpus=corpus).snapshot.records) == len(kb.snapshot.records)

