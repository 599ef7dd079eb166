"""Hypothesis fuzzing of the app's handlers (called directly, no server): upload names, upload bytes and
questions. Every case gets a clear error or a sensible result; nothing escapes corpus/ or is lost."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from careerbot.errors import CareerbotError, UnsupportedFile
from careerbot.ui import ChatHandlers, safe_name, store_upload

FUZZ = hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FUZZ_ANSWERS = hsettings(max_examples=20, deadline=None)  # each example runs the real model
NAMES = st.one_of(
    st.text(max_size=60),
    st.builds(lambda a, b, ext: f"{a}/../{b}{ext}", st.text(max_size=10), st.text(max_size=10),
              st.sampled_from([".txt", ".md", ".html", ".TXT", ".exe", ""])),
    st.sampled_from(["../../etc/passwd.txt", "..\\..\\x.md", "/abs/path.html", "....txt", ".hidden.md",
                     "a\x00b.txt", "\u202enoitpircs.txt", "CON.txt", " .md"]))


@FUZZ
@given(name=NAMES)
def test_upload_names_never_escape_the_corpus(name):
    try:
        safe = safe_name(name)
    except UnsupportedFile:
        return
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".") and safe != ".."
    assert Path(safe).suffix.lower() in (".txt", ".md", ".markdown", ".html", ".htm")


@FUZZ
@given(name=NAMES, data=st.binary(max_size=3000))
def test_any_upload_is_stored_inside_the_corpus_or_refused(tmp_path_factory, name, data):
    root = tmp_path_factory.mktemp("upload")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "keep.txt").write_text("Keep Me\n\nThis article must survive every upload.\n", encoding="utf-8")
    incoming = root / "incoming"
    incoming.mkdir()
    upload = incoming / (Path(name.replace("\x00", "")).name or "x")
    try:
        upload.write_bytes(data)
    except (OSError, ValueError):
        return  # the name is not a file name this OS can create; nothing to upload
    try:
        target = store_upload(upload, corpus, 2000)
    except UnsupportedFile as exc:
        assert str(exc)
        target = None
    if target is not None:
        assert target.resolve().parent == corpus.resolve() and target.read_bytes() == data
    assert (corpus / "keep.txt").read_text(encoding="utf-8").startswith("Keep Me")
    assert not any(p.name.endswith(".part") for p in corpus.iterdir())
    assert not any(p for p in root.iterdir() if p.name not in ("corpus", "incoming"))
    shutil.rmtree(root)


@pytest.fixture(scope="module")
def handlers(kb, settings):
    return ChatHandlers(kb, settings)


QUESTIONS = st.one_of(st.text(max_size=200),
                      st.text(alphabet=st.sampled_from("\x00\u200f\u202e\ufeff\t\n <>&\"'x"), max_size=50),
                      st.just("salary " * 200_000))


@FUZZ_ANSWERS
@given(question=QUESTIONS, history=st.lists(st.dictionaries(st.sampled_from(["role", "content", "x"]),
                                                            st.one_of(st.text(max_size=30), st.none(),
                                                                      st.integers())), max_size=3))
def test_chat_api_answers_or_reports_a_clear_error(handlers, question, history):
    import gradio as gr

    try:
        payload = handlers.api_chat(question, history)
    except gr.Error as exc:
        assert str(exc.message if hasattr(exc, "message") else exc)
        return
    assert isinstance(payload["answer"], str) and payload["answer"].strip()
    for citation in payload["citations"]:
        assert f"[{citation['n']}]" in payload["answer"]


@FUZZ_ANSWERS
@given(question=QUESTIONS)
def test_streaming_handler_never_raises(handlers, question):
    chat: list[dict] = []
    try:
        updates = list(handlers.respond(question, chat, []))
    except CareerbotError as exc:  # pragma: no cover - respond turns these into a chat notice
        pytest.fail(f"respond leaked {exc!r}")
    assert updates  # a reply or a skip, always something
