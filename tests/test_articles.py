"""The engine parts behind the app's article management: removing an article (incremental and atomic,
like an upload), the whole cleaned article for the reader, and the feedback file of rated answers."""
from __future__ import annotations

import json
import threading

import pytest
from conftest import MLE_VS_LEAD, RS_VS_LEAD

from careerbot import KnowledgeBase
from careerbot.errors import EmptyCorpus, InvalidArgument
from careerbot.evaluation.questions import load_questions
from careerbot.feedback import eval_cases, read_feedback, record_feedback
from careerbot.fulltext import indexed_article


def test_remove_drops_the_article_incrementally_and_it_stops_being_answered(writable, settings):
    corpus, index = writable
    kb = KnowledgeBase.load(index, settings, corpus=corpus)
    question = "What is the average salary for a Lead Machine Learning Engineer according to Glassdoor?"
    assert "153,000" in kb.ask(question).text
    before = {a.source: a.chunks for a in kb.articles()}
    report = kb.remove(MLE_VS_LEAD, corpus)
    # Incremental: only articles whose shared site chrome moved are parsed and embedded again.
    assert report.removed == (MLE_VS_LEAD,) and report.unchanged and report.chunks_embedded < report.chunks_total
    assert report.chunks_total == sum(before.values()) - before[MLE_VS_LEAD]
    assert not (corpus / MLE_VS_LEAD).exists() and not list(corpus.glob(".*"))  # nothing left aside
    assert MLE_VS_LEAD not in {a.source for a in kb.articles()}
    assert all(h.source != MLE_VS_LEAD for h in kb.search(question, k=20))
    assert all(c.hit.source != MLE_VS_LEAD for c in kb.ask(question).citations)
    reloaded = KnowledgeBase.load(index, settings, corpus=corpus)  # on disk, current with the corpus
    assert MLE_VS_LEAD not in {a.source for a in reloaded.articles()}


def test_remove_refuses_unknown_names_and_keeps_the_file_when_the_update_fails(writable, settings):
    corpus, index = writable
    kb = KnowledgeBase.load(index, settings, corpus=corpus)
    for name in ("nope.md", "../" + MLE_VS_LEAD, ""):
        with pytest.raises(InvalidArgument, match="not an indexed article"):
            kb.remove(name, corpus)
    others = [a.source for a in kb.articles() if a.source != RS_VS_LEAD]
    for source in others:
        kb.remove(source, corpus)
    with pytest.raises(EmptyCorpus):  # the last article: the update refuses an empty index...
        kb.remove(RS_VS_LEAD, corpus)
    assert (corpus / RS_VS_LEAD).is_file() and [a.source for a in kb.articles()] == [RS_VS_LEAD]  # ...and it stays
    assert sorted(p.name for p in corpus.iterdir()) == [RS_VS_LEAD]


def test_indexed_article_is_the_cleaned_article_that_was_chunked(kb, session_corpus):
    article = indexed_article(kb, session_corpus, MLE_VS_LEAD)
    info = next(a for a in kb.articles() if a.source == MLE_VS_LEAD)
    assert article.title == info.title and article.date == info.date
    text = "\n".join(block for section in article.walk() for block in section.blocks)
    chunks = [r.chunk for r in kb.snapshot.records if r.chunk.source == MLE_VS_LEAD]
    for chunk in chunks:  # every indexed passage is in the article the reader shows
        first = " ".join(chunk.text.split()[:8])
        assert first in " ".join(text.split()), first
    with pytest.raises(InvalidArgument):
        indexed_article(kb, session_corpus, "../../etc/passwd")


def test_feedback_lines_hold_the_rated_answer_and_become_eval_cases(tmp_path, kb):
    from careerbot.ui import answer_payload

    path = tmp_path / "deep" / "feedback.jsonl"
    liked = kb.ask("What is the average salary for a Lead Machine Learning Engineer according to Glassdoor?")
    refused = kb.ask("What is the best pizza in Naples?")
    threads = [threading.Thread(target=record_feedback, args=(path, q, answer_payload(a), r))
               for q, a, r in [(liked.question, liked, "up"), (refused.question, refused, "down")] * 10]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 20 and {row["rating"] for row in lines} == {"up", "down"}  # whole lines, none mixed
    up = next(row for row in lines if row["rating"] == "up")
    assert up["question"] == liked.question and up["answer"] == liked.text and up["time"].endswith("+00:00")
    assert [c["source"] for c in up["citations"]] == [c.hit.source for c in liked.citations]
    assert up["citations"][0]["quote"] and "passage" not in up["citations"][0]
    with pytest.raises(InvalidArgument):
        record_feedback(path, "q", {}, "meh")
    cases = eval_cases(read_feedback(path))
    assert [c["question"] for c in cases] == [liked.question, refused.question]  # one case per question
    assert cases[0]["answerable"] is True and cases[0]["sources"] == sorted({c.hit.source for c in liked.citations})
    assert cases[1]["answerable"] is None and "review" in cases[1]
    out = tmp_path / "cases.jsonl"
    out.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    assert [r["id"] for r in load_questions(out)] == ["fb001", "fb002"]  # the format `careerbot eval` reads
