"""Ingest: decoding, mojibake repair, boilerplate removal, metadata and sections, on real and made-up pages."""
from __future__ import annotations

from pathlib import Path

import pytest

from careerbot.errors import UnsupportedFile
from careerbot.corpus import list_corpus
from careerbot.ingest import decode_bytes, html_to_markdown, parse_file, parse_text, repair_mojibake

from conftest import CORPUS, DS_VS_LEAD, MLE_VS_LEAD, RESEARCHER_VS_ENGINEER, RS_VS_LEAD

BOILERPLATE = ("Featured Job", "Salary Insights", "Related articles", "View salary info", "@ murmuration",
               "Full Time", "Table of contents", "min read", "Chat with us", "say goodbe", "ยท", "πŸ")


def all_text(article) -> str:
    return "\n".join([article.title] + [s.heading + "\n" + "\n".join(s.blocks) for s in article.sections])


@pytest.mark.parametrize("name", [RS_VS_LEAD, DS_VS_LEAD, RESEARCHER_VS_ENGINEER, MLE_VS_LEAD])
def test_bundled_articles_lose_their_page_boilerplate(name):
    text = all_text(parse_file(CORPUS / name, CORPUS))
    for marker in BOILERPLATE:
        assert marker not in text, f"{marker!r} survived in {name}"


def test_bundled_article_metadata():
    rs = parse_file(CORPUS / RS_VS_LEAD, CORPUS)
    assert rs.title == "Research Scientist vs. Lead Machine Learning Engineer"
    assert rs.date == "Oct. 30, 2024"
    assert rs.byline is None  # a role name in the body is not an author
    qwak = parse_file(CORPUS / RESEARCHER_VS_ENGINEER, CORPUS)
    assert qwak.date == "June 9, 2022"
    assert qwak.byline == "Pavel Klushin, Head of Solution Architecture at Qwak"
    rs_headings = [s.heading for s in rs.sections]
    assert rs_headings[2:4] == ["Responsibilities › Research Scientist",
                                "Responsibilities › Lead Machine Learning Engineer"]
    headings = [s.heading for s in parse_file(CORPUS / DS_VS_LEAD, CORPUS).sections]
    assert "Responsibilities › Data Scientist" in headings
    assert "Required Skills › Lead Machine Learning Engineer" in headings
    assert "3. Pay and salaries" in [s.heading for s in qwak.sections]


def test_article_body_keeps_real_content():
    text = all_text(parse_file(CORPUS / MLE_VS_LEAD, CORPUS))
    assert "$153,000 per year" in text
    assert "- Strong leadership skills" in text
    # The intro repeated under the title (a page subtitle) is kept once, not twice.
    qwak = all_text(parse_file(CORPUS / RESEARCHER_VS_ENGINEER, CORPUS))
    assert qwak.count("Today’s ML teams are highly specialized") == 1


def test_mojibake_is_repaired():
    assert repair_mojibake("4 min read ยท Dec. 6, 2023") == "4 min read · Dec. 6, 2023"
    assert repair_mojibake("Featured Job πŸ‘€") == "Featured Job 👀"
    assert repair_mojibake("AI โ€“ Bio") == "AI – Bio"
    # Real non-ASCII text is left alone.
    for text in ("Master’s degree", "café résumé", "Βήτα", "数据科学家"):
        assert repair_mojibake(text) == text


def test_boilerplate_rules_generalize_to_other_pages():
    page = """Prompt Engineer vs. ML Engineer

3 min read · Jan. 5, 2025
Table of contents

Introduction

Prompt engineers design prompts for language models. They test outputs and refine instructions.

Salary

A prompt engineer earns about $120,000 according to the survey.

Share on LinkedIn

Featured Job 🔥
Staff Machine Learning Engineer

@ Acme Robotics | Berlin, Germany

Contract Senior-level / Expert EUR 90K - 120K

Salary Insights

View salary info for Prompt Engineer (global) Details

Related articles

Book a demo to see how our platform helps your team.

try acme today"""
    article = parse_text(page, source="p.txt")
    text = all_text(article)
    assert article.title == "Prompt Engineer vs. ML Engineer" and article.date == "Jan. 5, 2025"
    assert "$120,000" in text and "design prompts" in text
    for marker in ("Staff Machine Learning Engineer", "Acme Robotics", "EUR 90K", "Salary Insights",
                   "Share on", "Book a demo", "try acme", "min read"):
        assert marker not in text


def test_html_keeps_main_text_and_drops_chrome(tmp_path):
    html = """<html><head><title>Data Engineer vs. Analyst</title><style>p{color:red}</style></head>
<body><nav><a href="/">Home</a> Careers menu</nav>
<article><h1>Data Engineer vs. Analyst</h1><p>Published Mar. 3, 2024</p>
<h2>Responsibilities</h2><p>The responsibilities of a data engineer include:</p>
<ul><li>Building pipelines</li><li>Maintaining warehouses</li></ul>
<script>alert('x')</script></article><footer>© Example Corp. Subscribe to our newsletter for free.</footer>
</body></html>"""
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    article = parse_file(path, tmp_path)
    text = all_text(article)
    assert article.title == "Data Engineer vs. Analyst" and article.date == "Mar. 3, 2024"
    assert [s.heading for s in article.sections] == ["Responsibilities"]
    assert "- Building pipelines" in text and "include:" in text
    for marker in ("Home", "menu", "alert", "color:red", "Example Corp", "newsletter"):
        assert marker not in text
    assert html_to_markdown("<p>a &amp; b</p>") == "a & b"


def test_markdown_headings_are_sections(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("# MLOps Engineer\n\n## Skills\n\nThe skills of an MLOps engineer include:\n\n"
                    "- Kubernetes\n- Monitoring\n\n## Salary\n\nThey earn well.\n", encoding="utf-8")
    article = parse_file(path, tmp_path)
    assert article.title == "MLOps Engineer"
    assert [s.heading for s in article.sections] == ["Skills", "Salary"]


def test_decoding_legacy_and_rejecting_binary(tmp_path, caplog):
    latin = "Le salaire moyen d’un ingénieur en apprentissage automatique est élevé. " * 5
    assert "ingénieur" in decode_bytes(latin.encode("cp1252"), "fr.txt")
    assert "fr.txt: not valid UTF-8; decoded as" in caplog.text
    with pytest.raises(UnsupportedFile, match="binary"):
        decode_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "x.txt")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(UnsupportedFile, match="empty"):
        parse_file(empty, tmp_path)
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(UnsupportedFile, match="unsupported type"):
        parse_file(pdf, tmp_path)
    big = tmp_path / "big.txt"
    big.write_text("word " * 1000, encoding="utf-8")
    with pytest.raises(UnsupportedFile, match="limit"):
        parse_file(big, tmp_path, max_bytes=100)


def test_list_corpus_ignores_links_out_of_the_corpus(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("Secret\n\nDo not index me.\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    (corpus / "nested").mkdir(parents=True)
    (corpus / "nested" / "a.md").write_text("# A\n\nText.\n", encoding="utf-8")
    (corpus / "link.txt").symlink_to(outside)
    (corpus / "skip.pdf").write_bytes(b"%PDF")
    assert [p.name for p in list_corpus(corpus)] == ["a.md"]


@pytest.mark.parametrize("text", ["Plain ASCII: skills, pay ($150k) and tips.\n- Python\tSQL",
                                  "a &amp; b", "line\r\nbreak", "bell\x07", "esc\x1b[31mred", "form\x0cfeed"])
def test_the_plain_ascii_shortcut_changes_nothing_ftfy_would_not(text):
    import ftfy

    # ASCII text has no mojibake runs; the shortcut skips ftfy only where ftfy would change nothing.
    assert repair_mojibake(text) == ftfy.fix_text(text, uncurl_quotes=False)
