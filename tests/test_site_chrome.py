"""Site chrome is judged across the corpus, so it follows the corpus through updates: adding an article that
shares a footer with an indexed one re-parses the indexed one (the footer goes), removing it brings it back."""
from __future__ import annotations

from careerbot import KnowledgeBase

PROSE = ("Electricians who finish an apprenticeship can sit the journeyman exam, and most states then allow them "
         "to work without supervision on residential and commercial jobs of any size.")
FOOTER = "Get our weekly trade-school picks."


def page(title: str, topic: str) -> str:
    return (f"{title}\n\n{PROSE} This page is about {topic}.\n\nPay\n\n{PROSE.replace('Electricians', topic)}"
            f"\n\n{FOOTER}\n\nMore\n\n{PROSE.replace('journeyman', topic)} The end of {topic}.\n")


def texts(kb: KnowledgeBase, source: str) -> str:
    return "\n".join(r.chunk.text for r in kb.snapshot.records if r.chunk.source == source)


def test_chrome_follows_the_corpus_through_updates(tmp_path, settings):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "plumbers.txt").write_text(page("Plumber Careers", "plumbers"), encoding="utf-8")
    kb = KnowledgeBase.build(corpus, index, settings)
    assert FOOTER in texts(kb, "plumbers.txt")  # one page alone proves nothing about its site

    (corpus / "welders.txt").write_text(page("Welder Careers", "welders"), encoding="utf-8")
    report = kb.update(corpus)
    assert report.added == ("welders.txt",) and report.changed == ("plumbers.txt",)
    assert FOOTER not in texts(kb, "plumbers.txt") and FOOTER not in texts(kb, "welders.txt")
    assert "plumbers" in texts(kb, "plumbers.txt")

    (corpus / "welders.txt").unlink()
    report = kb.update(corpus)
    assert report.removed == ("welders.txt",) and report.changed == ("plumbers.txt",)
    assert FOOTER in texts(kb, "plumbers.txt")
    assert KnowledgeBase.load(index, settings, corpus=corpus).snapshot.path == kb.snapshot.path
