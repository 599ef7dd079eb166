"""The chat app: upload checks and safe rendering, then the real app (python app.py) on a loopback port,
driven with gradio_client: cited answers, an index brought up to date at start, uploads answerable at once."""
from __future__ import annotations

import json
import re
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import MLE_VS_LEAD, app_process

from careerbot.errors import UnsupportedFile
from careerbot.records import Answer, Article, Citation, Hit, Section
from careerbot.render import esc, highlight, plain_answer, render_answer, render_partial, render_sources, render_user
from careerbot.ui import ChatHandlers, is_loopback, parse_auth, safe_name, store_upload
from careerbot.ui.chat import answer_from_payload, answer_payload, chat_of, clean_turns, history_of
from careerbot.ui.views import HIT_ID, render_article, render_coverage, topics

# Made-up articles with facts found nowhere else, so an answer quoting them must come from them.
STARTUP_ARTICLE = """AI Ethicist vs. Machine Learning Engineer
Mar. 3, 2025

Salary
The fictional Quillmore Pay Report says the average salary for an AI Ethicist is $141,377 per year.

Responsibilities
An AI Ethicist reviews machine learning systems for fairness, privacy and accountability risks.
"""
UPLOAD_ARTICLE = """# Prompt Engineer vs. Machine Learning Engineer

Nov. 2, 2025

## Salary

According to the made-up Zorblax Salary Survey, the average salary for a Prompt Engineer is $187,654 per year.

## Responsibilities

- Designing and testing prompts for large language models.
- Building evaluation sets that catch regressions in model outputs.
"""


# ----- uploads and rendering, without a server ---------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\evil.md", "evil.md"),
    ("/abs/dir/Article Name (v2).HTML", "Article_Name_v2.html"),
    (".hidden.txt", "hidden.txt"),
    ("..txt", "article.txt"),
    ("na\x00me<script>.txt", "na_me_script.txt"),
])
def test_safe_name_keeps_uploads_to_a_plain_basename(name, expected):
    assert safe_name(name) == expected


@pytest.mark.parametrize("name", ["notes.pdf", "run.exe", "archive.txt.zip", "noextension", "../"])
def test_safe_name_refuses_unsupported_types(name):
    with pytest.raises(UnsupportedFile):
        safe_name(name)


def test_store_upload_validates_and_never_leaves_the_corpus(tmp_path):
    corpus, uploads = tmp_path / "corpus", tmp_path / "uploads" / "deep"
    corpus.mkdir()
    uploads.mkdir(parents=True)
    good = uploads / "..%2f..%2fescape.md"
    good.write_text(UPLOAD_ARTICLE, encoding="utf-8")
    saved = store_upload(good, corpus, 100_000)
    assert saved is not None and saved.parent == corpus.resolve() and saved.read_text() == UPLOAD_ARTICLE
    assert sorted(p.name for p in tmp_path.rglob("*escape*")) == sorted([good.name, saved.name])
    assert store_upload(good, corpus, 100_000) is None  # same content again: nothing new
    good.write_text(UPLOAD_ARTICLE + "\nMore text.\n", encoding="utf-8")
    again = store_upload(good, corpus, 100_000)
    assert again is not None and again != saved and saved.read_text() == UPLOAD_ARTICLE  # never overwrites
    for name, data, limit in (("binary.txt", b"ab\x00\x01\x02" * 50, 100_000), ("empty.md", b"", 100_000),
                              ("big.txt", UPLOAD_ARTICLE.encode() * 10, 500), ("doc.pdf", b"%PDF-1.4", 100_000)):
        bad = uploads / name
        bad.write_bytes(data)
        with pytest.raises(UnsupportedFile):
            store_upload(bad, corpus, limit)
    assert sorted(p.name for p in corpus.iterdir()) == sorted([saved.name, again.name])


def _hit(text: str, title: str = "T", source: str = "a.txt") -> Hit:
    return Hit(chunk_id=f"{source}#0", text=text, score=1.0, title=title, section=("Salary",), source=source,
               date="Dec. 6, 2023", position=0)


def test_rendering_escapes_untrusted_text_and_links_only_known_markers():
    evil = '<script>window.x=1</script><img src="http://evil.example/a.png"> ${1+1} {{value}}'
    assert "<" not in esc(evil) and "$" not in esc(evil) and "{" not in esc(evil)
    assert "<script" not in render_user(evil) and "<img" not in render_user(evil)
    hit = _hit(f"Intro. {evil} Pay is $153,000.", title=evil, source="<b>x</b>.txt")
    citation = Citation(1, hit, "Pay is $153,000.")
    answer = Answer(question=evil, text=f"Pay is $153,000. [1] {evil} [7]", citations=(citation,))
    html = render_answer(answer.text, answer.citations, turn=2)
    assert html.count('<a class="cb-cite" href="#cb-src-2-1"') == 1 and "[7]" in html  # [7] cites nothing
    sources = render_sources(answer, turn=2)
    for rendered in (html, sources):
        assert "<script" not in rendered and "<img" not in rendered and "<b>" not in rendered
        assert "&lt;script&gt;" in rendered
    assert 'id="cb-src-2-1"' in sources and '<mark class="cb-quote">Pay is &#36;153,000.</mark>' in sources


def test_highlight_finds_the_quote_despite_spacing_and_marks_nothing_else():
    assert highlight("A b.  Second\nsentence here. C.", "Second sentence here.") == \
        'A b.  <mark class="cb-quote">Second\nsentence here.</mark> C.'
    assert "<mark" not in highlight("<i>x</i>", "")


def test_copy_text_is_the_answer_with_markers_and_a_sources_list():
    hits = [Hit(chunk_id="a.txt#3", text="x", score=1.0, title="Nurse vs. Midwife", section=("Pay", "Hourly"),
                source="a.txt", date="May 1, 2024", position=3),
            Hit(chunk_id="b.txt#0", text="y", score=1.0, title="Night Shifts", section=(), source="b.txt",
                date=None, position=0)]
    citations = (Citation(1, hits[0], "x"), Citation(2, hits[1], "y"))
    text = "Pay is <b>$40</b> an hour. [1]\n\n- Nights pay more. [2]"
    assert plain_answer(text, citations) == (
        "Pay is <b>$40</b> an hour. [1]\n\n- Nights pay more. [2]\n\nSources:\n"
        "[1] Nurse vs. Midwife — Pay › Hourly — May 1, 2024\n[2] Night Shifts")
    html = render_answer(text, citations, turn=1)
    assert '<span class="cb-plain">' in html and "&lt;b&gt;" in html and "<b>" not in html
    assert plain_answer("No article covers that.", ()) == "No article covers that."


def test_streamed_answer_html_only_grows_at_the_end():
    pieces = ["Pay is $40 <an> hour. [1] ", "\n\n", "- Nights & weekends pay {more}. [2]"]
    shown = [render_partial("".join(pieces[:i])) for i in range(1, len(pieces) + 1)]
    for before, after in zip(shown, shown[1:], strict=False):
        assert after.startswith(before)
    assert "<an>" not in shown[-1] and "{" not in shown[-1]


class _ModelStandIn(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint streaming a fixed reply word by word (a model's streamed tokens)."""

    reply = ""

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for word in re.findall(r"\S+\s*", self.reply):
            self.wfile.write(f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': word}}]})}\n\n"
                             .encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args):
        pass


EARLIER = [{"role": "user", "content": "<p>Earlier question</p>"},
           {"role": "assistant", "content": '<div class="cb-answer"><p>Earlier answer</p></div>'}]
ASKED = "What are the main responsibilities of a data scientist and what skills do they need?"


def test_a_model_answer_streams_only_the_new_text_and_renders_sources_once(kb, session_index, settings):
    """What Gradio sends per streamed event is the diff of the outputs; every partial must be a pure append
    to the last reply, and the sources panel must be rendered only with the finished answer. The model is a
    stand-in endpoint that streams, token by token, the engine's own cited answer."""
    from gradio.utils import diff

    from careerbot import KnowledgeBase
    from careerbot.answer.llm import parse_backend

    handler = type("Handler", (_ModelStandIn,), {"reply": kb.ask(ASKED).text})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        spec = f"openai:http://127.0.0.1:{server.server_address[1]}/v1#stand-in"
        model_kb = KnowledgeBase.load(session_index, settings.with_overrides(llm=spec))
        chat = EARLIER + [{"role": "user", "content": render_user(ASKED)}]
        updates = list(ChatHandlers(model_kb, settings).respond(ASKED, chat, []))
    finally:
        server.shutdown()
    partials, final = updates[:-1], updates[-1]
    assert len(partials) >= 2
    for (before, *_), (after, *rest) in zip(partials, partials[1:], strict=False):
        edits = diff(before, after)
        assert len(edits) == 1 and edits[0][0] == "append" and edits[0][1] == [len(chat), "content"], edits
        assert all(type(x).__name__ == "dict" and x.get("__type__") == "update" for x in rest)  # panel skipped
    reply, turns, panel = final
    assert reply[: len(chat)] == chat and 'class="cb-cite"' in reply[-1]["content"]
    assert len(turns) == 1 and turns[0]["question"] == ASKED and "cb-source" in panel
    assert turns[0]["answer"]["mode"] == parse_backend(spec).label  # the model's answer, not a fallback


def test_an_extractive_answer_comes_whole_in_one_event(kb, settings):
    """The extractive engine's answer is complete at once: one event carries the reply, the turns and the
    sources panel, with nothing streamed piecewise before it."""
    chat = EARLIER + [{"role": "user", "content": render_user(ASKED)}]
    updates = list(ChatHandlers(kb, settings).respond(ASKED, chat, []))
    assert len(updates) == 1
    reply, turns, panel = updates[0]
    assert reply[: len(chat)] == chat and len(reply) == len(chat) + 1
    assert reply[-1]["content"] == render_answer(kb.ask(ASKED).text, kb.ask(ASKED).citations, 1)
    assert turns[0]["question"] == ASKED and "cb-source" in panel


def test_saved_turns_rebuild_the_same_chat_and_drop_what_is_malformed(kb):
    answer = kb.ask("What is the average salary for a Lead Machine Learning Engineer according to Glassdoor?")
    turns = [{"question": answer.question, "answer": answer_payload(answer), "rating": "up"},
             {"question": "too long?", "error": "Questions are limited to 2,000 characters."},
             {"question": 3}, "junk", {"question": "x", "answer": "not a dict"}]
    kept = clean_turns(turns)
    assert len(kept) == 2 and kept[0]["rating"] == "up"
    rebuilt = answer_from_payload(answer.question, kept[0]["answer"])
    assert rebuilt.text == answer.text and rebuilt.citations == tuple(
        type(c)(c.n, type(c.hit)(chunk_id=c.hit.chunk_id, text=c.hit.text, score=0.0, title=c.hit.title,
                                 section=c.hit.section, source=c.hit.source, date=c.hit.date, position=0), c.quote)
        for c in answer.citations)
    chat = chat_of(kept)
    assert [m["role"] for m in chat] == ["user", "assistant"] * 2
    assert chat[1]["content"] == render_answer(answer.text, answer.citations, 1)
    assert history_of(kept) == [{"role": "user", "content": answer.question},
                                {"role": "assistant", "content": answer.text}]
    hostile = {"answer": "<img src=x onerror=alert(1)>", "citations": [{"n": 1, "title": "<script>", "passage": 5}]}
    html = chat_of([{"question": "<b>q</b>", "answer": hostile}])
    assert "<img" not in str(html) and "<script" not in str(html) and "<b>" not in str(html)


def test_article_view_marks_the_cited_passage_and_escapes_the_text():
    article = Article(source="a.md", title="Nurse <vs> Midwife", date="May 1, 2024", byline=None, sections=(
        Section("", 0, (), ("Intro paragraph about both roles.",)),
        Section("Pay", 2, ("Pay",), ("Nurses earn $40 an hour. Midwives earn $45 an hour.",
                                     "- Night shifts pay more\n- Weekends <b>too</b>")),
        Section("Outlook", 2, ("Outlook",), ("Demand grows.",))))
    html = render_article(article, passage="Nurses earn $40 an hour. Midwives earn $45 an hour.",
                          quote="Midwives earn $45 an hour.")
    assert html.count(f'id="{HIT_ID}"') == 1
    assert f'<mark class="cb-quote" id="{HIT_ID}">Midwives earn &#36;45 an hour.</mark>' in html
    assert html.count("cb-in-passage") == 1 and "<h4>Pay</h4>" in html and "<li>Weekends &lt;b&gt;too" in html
    assert "Nurse &lt;vs&gt; Midwife" in html and "<vs>" not in html
    plain = render_article(article)
    assert HIT_ID not in plain and "cb-in-passage" not in plain and "cb-note" not in plain
    gone = render_article(article, passage="A passage since edited away.", quote="Edited away.")
    assert "no longer in this article" in gone


def test_first_screen_names_titles_or_the_topics_they_share():
    few = render_coverage(["Nurse vs. Midwife", "Teacher <Career> Change"])
    assert "2 articles" in few and "<li>Nurse vs. Midwife</li>" in few and "&lt;Career&gt;" in few
    titles = [f"Nurse vs. {x}" for x in ("Midwife", "Doctor", "Paramedic")] + \
        [f"Teacher vs. {x}: Pay and Hours" for x in ("Tutor", "Lecturer", "Principal")] + ["Night Shifts", "On Call"]
    assert topics(titles)[:4] == ["Hours", "Nurse", "Pay", "Teacher"]  # three each, then by name
    many = render_coverage(titles * 2)
    assert "16 articles" in many and "Hours, Nurse, Pay, Teacher" in many and "<li>" not in many


def test_serving_options():
    assert parse_auth("") is None and parse_auth("ann:s3:cret") == ("ann", "s3:cret")
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")


# ----- the real app ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory, session_corpus, session_index):
    """`python app.py` on a free loopback port, over a private corpus/index copy whose corpus has one
    article the index has not seen yet (so the app must update the index before serving)."""
    work = tmp_path_factory.mktemp("served")
    corpus, index = work / "corpus", work / "index"
    shutil.copytree(session_corpus, corpus)
    shutil.copytree(session_index, index)
    (corpus / "ai_ethicist.txt").write_text(STARTUP_ARTICLE, encoding="utf-8")
    from gradio_client import Client

    with app_process(work, corpus, index) as (url, port, log_path):
        yield {"client": Client(url, verbose=False), "url": url, "corpus": corpus, "log": log_path, "port": port}


def test_app_serves_on_loopback_and_brought_the_index_up_to_date_first(served):
    log = served["log"].read_text()
    assert "careerbot: [" in log and "embedding" in log  # visible progress of the start-up update
    assert f"Running on local URL:  http://127.0.0.1:{served['port']}" in log
    assert "share=True" not in log.replace("set `share=True`", "")  # never shared by itself
    result = served["client"].predict("What is the average salary of an AI Ethicist?", api_name="/chat")
    assert "141,377" in result["answer"]
    assert any(c["source"] == "ai_ethicist.txt" for c in result["citations"])


def test_chat_api_answers_with_citations_to_the_right_article(served):
    result = served["client"].predict("What is the average salary for a Lead Machine Learning Engineer "
                                      "according to Glassdoor?", api_name="/chat")
    assert not result["abstained"] and result["mode"] == "extractive"
    assert "153,000" in result["answer"]
    cited = {c["n"]: c for c in result["citations"]}
    assert cited and all(f"[{n}]" in result["answer"] for n in cited)
    quoting = [c for c in cited.values() if "153,000" in c["quote"]]
    assert quoting and all(c["source"] == MLE_VS_LEAD for c in quoting)


def test_chat_api_follow_up_uses_the_history(served):
    client = served["client"]
    first = client.predict("What does a Lead Machine Learning Engineer earn according to Glassdoor?",
                           api_name="/chat")
    history = [{"role": "user", "content": "What does a Lead Machine Learning Engineer earn according to "
                                           "Glassdoor?"},
               {"role": "assistant", "content": first["answer"]}]
    follow = client.predict("And what skills do they need?", history, api_name="/chat")
    alone = client.predict("And what skills do they need?", api_name="/chat")
    assert "lead" in follow["query"].lower() and follow["query"] != alone["query"]
    assert not follow["abstained"] and follow["citations"]


def test_uploaded_article_is_answerable_without_restart(served):
    from gradio_client import handle_file

    client, corpus = served["client"], served["corpus"]
    question = "What is the average salary of a Prompt Engineer?"
    before = client.predict(question, api_name="/chat")
    assert "187,654" not in before["answer"]
    upload = served["log"].parent / "uploads" / "prompt engineer (draft).md"
    upload.parent.mkdir(exist_ok=True)
    upload.write_text(UPLOAD_ARTICLE, encoding="utf-8")
    status, articles, _ = client.predict([handle_file(str(upload))], api_name="/add_articles")
    assert "Added" in status and "Prompt Engineer vs. Machine Learning Engineer" in articles
    assert (corpus / "prompt_engineer_draft.md").read_text(encoding="utf-8") == UPLOAD_ARTICLE
    after = client.predict(question, api_name="/chat")
    assert "187,654" in after["answer"]
    assert any(c["source"] == "prompt_engineer_draft.md" and "187,654" in c["quote"] for c in after["citations"])


def test_bad_uploads_are_refused_with_a_reason(served):
    from gradio_client import handle_file

    client, corpus = served["client"], served["corpus"]
    folder = served["log"].parent / "bad"
    folder.mkdir(exist_ok=True)
    before = sorted(p.name for p in corpus.iterdir())
    binary = folder / "binary.txt"
    binary.write_bytes(b"\x00\x01\x02 not text" * 100)
    status, _, _ = client.predict([handle_file(str(binary))], api_name="/add_articles")
    assert "cb-error" in status and "binary" in status
    pdf = folder / "paper.pdf"
    pdf.write_bytes(b"%PDF-1.4 ...")
    with pytest.raises(Exception, match="(?i)invalid file type"):  # refused by the server before our code
        client.predict([handle_file(str(pdf))], api_name="/add_articles")
    assert sorted(p.name for p in corpus.iterdir()) == before


def test_chat_api_reports_invalid_questions_as_errors(served):
    with pytest.raises(Exception, match="(?i)empty"):
        served["client"].predict("   ", api_name="/chat")


def test_off_topic_question_gets_a_helpful_abstention_not_an_error(served):
    result = served["client"].predict("What is the best pizza in Naples?", api_name="/chat")
    assert result["abstained"] and result["citations"] == []
    assert "articles" in result["answer"] and len(result["answer"]) > 40  # says what it can answer instead


def test_examples_are_drawn_from_the_articles(kb):
    from careerbot.ui import example_questions

    examples = example_questions(kb)
    assert 1 <= len(examples) <= 4 and all(q.endswith("?") for q in examples)
    assert "How do Research Scientist and Lead Machine Learning Engineer differ?" in examples  # a "vs." title
    assert "What’s the difference between machine learning researchers vs engineers?" in examples  # a question
    for question in examples[:2]:
        assert not kb.ask(question).abstained, question  # an example the articles answer
