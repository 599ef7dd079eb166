"""Ingest: decoding, mojibake repair, formats, furniture and sections, on the bundled articles and on pages
written for these tests in other domains (nursing, teaching, design). Real third-party pages: test_ingest_devset.py."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import CORPUS, DS_VS_LEAD, MLE_VS_LEAD, RESEARCHER_VS_ENGINEER, RS_VS_LEAD

from careerbot.corpus import list_corpus
from careerbot.errors import UnsupportedFile
from careerbot.ingest import decode_bytes, fingerprints, parse_file, parse_text, read_page, repair_mojibake, site_chrome
from careerbot.ingest.blocks import LIST, PARA, Block
from careerbot.ingest.furniture import drop_furniture, link_host, own_site, promotions
from careerbot.ingest.htmlfrag import html_fragment_text
from careerbot.ingest.markdown import split_front_matter, table_row

PAGES = Path(__file__).parent / "fixtures" / "pages"
BOILERPLATE = ("Featured Job", "Salary Insights", "Related articles", "View salary info", "@ murmuration",
               "Full Time", "Table of contents", "min read", "say goodbe", "ยท", "πŸ")
MARKUP = re.compile(r"</?[A-Za-z][^>]*>|\*\*|(?<!\w)_\w|\w_(?!\w)|\|\s|\{\{|\{%|\{:|^[\w-]+: \S", re.MULTILINE)


def all_text(article) -> str:
    return "\n".join([article.title] + [s.heading + "\n" + "\n".join(s.blocks) for s in article.walk()])


def body(article) -> str:
    return "\n".join(b for s in article.walk() for b in s.blocks)


# ----- the bundled articles keep parsing as they did ---------------------------------------------------------
@pytest.mark.parametrize("name", [RS_VS_LEAD, DS_VS_LEAD, RESEARCHER_VS_ENGINEER, MLE_VS_LEAD])
def test_bundled_articles_lose_their_page_boilerplate(name):
    text = all_text(parse_file(CORPUS / name, CORPUS))
    for marker in BOILERPLATE:
        assert marker not in text, f"{marker!r} survived in {name}"


def test_bundled_article_metadata_and_section_paths():
    rs = parse_file(CORPUS / RS_VS_LEAD, CORPUS)
    assert rs.title == "Research Scientist vs. Lead Machine Learning Engineer"
    assert rs.date == "Oct. 30, 2024"
    assert rs.byline is None  # a role name in the body is not an author
    qwak = parse_file(CORPUS / RESEARCHER_VS_ENGINEER, CORPUS)
    assert qwak.date == "June 9, 2022"
    assert qwak.byline == "Pavel Klushin, Head of Solution Architecture at Qwak"
    paths = [s.path for s in rs.walk() if s.blocks]
    assert paths[2:4] == [("Responsibilities", "Research Scientist"),
                          ("Responsibilities", "Lead Machine Learning Engineer")]
    ds = [s.path for s in parse_file(CORPUS / DS_VS_LEAD, CORPUS).walk()]
    assert ("Responsibilities", "Data Scientist") in ds and ("Required Skills", "Lead Machine Learning Engineer") in ds
    assert ("3. Pay and salaries",) in [s.path for s in qwak.walk()]
    # The tree nests: a sub-section is a child of its section, with a deeper level.
    top = next(s for s in rs.sections if s.heading == "Responsibilities")
    assert [c.heading for c in top.children] == ["Research Scientist", "Lead Machine Learning Engineer"]
    assert top.level < top.children[0].level


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
    for text in ("Master’s degree", "café résumé", "Βήτα", "数据科学家"):
        assert repair_mojibake(text) == text


# ----- plain-text page dumps --------------------------------------------------------------------------------
def test_a_long_opening_paragraph_is_body_and_the_title_comes_from_the_file_name():
    article = parse_file(PAGES / "long_opening_paragraph.txt", PAGES)
    assert article.title == "Long opening paragraph" and article.title_from == "file name"
    assert "starting salary of $58,000 would rise to $92,000" in body(article)
    assert article.walk().__next__().path == ()  # the lead section, before any heading


def test_menus_and_ads_above_the_title_are_not_the_title():
    article = parse_file(PAGES / "teacher_career_change.txt", PAGES)
    assert article.title == "Switching to a Career in Teaching" and article.title_from == "heading"
    assert article.date == "March 3rd, 2023"
    text = all_text(article)
    for furniture in ("Home > Careers", "Find the Best", "Menu", "min read", "Share this", "Tweet",
                      "Leave a comment", "Name Email", "Copyright"):
        assert furniture not in text, furniture
    assert "Thousands of adults leave office jobs" in text  # the first paragraph
    assert "publish their salary scales online" in text  # the last
    assert "- Residency programs pair you with a mentor teacher for a full school year." in text


def test_a_short_note_without_prose_is_kept_whole():
    article = parse_text("Nurse practitioner\n\nSkills\n\n- Diagnosis\n- Prescribing\n\nPay\n\nAbout $126,000.\n",
                         source="np.txt")
    assert "- Prescribing" in body(article) and "$126,000" in body(article)


# ----- Markdown -----------------------------------------------------------------------------------------------
def test_markdown_front_matter_is_metadata_and_never_text():
    article = parse_file(PAGES / "nurse_salary_guide.md", PAGES)
    assert (article.title, article.date, article.byline) == ("Registered Nurse Salary Guide", "2024-05-02",
                                                             "Dana Whitfield")
    text = all_text(article)
    for field in ("layout", "cover-img", "seo_description", "images.example.org", "---", "tags"):
        assert field not in text, field


def test_markdown_markup_never_reaches_the_text():
    article = parse_file(PAGES / "nurse_salary_guide.md", PAGES)
    text = body(article)
    assert not MARKUP.search(text), MARKUP.search(text)
    for junk in ("color", "font-weight", "newsletter", "MORE:", "Photo:", "Quick links", "Related articles",
                 "A nurse at work", "night shifts: a survival", "writes about nursing careers", "About the author"):
        assert junk.lower() not in text.lower(), junk
    assert "$86,070" in text and "graduate degree" in text  # text of <b> and _…_ is kept, the markers are not
    assert "- State: California; Mean wage: $137,690" in text  # a table as readable rows


def test_markdown_headings_become_a_tree_with_levels():
    article = parse_file(PAGES / "nurse_salary_guide.md", PAGES)
    assert [(s.level, s.path) for s in article.walk()] == [
        (0, ()), (2, ("Pay by state",)), (3, ("Pay by state", "Specialties")), (2, ("How to raise your pay",))]


def test_front_matter_forms():
    assert split_front_matter("---\ntitle: A\ndate: 2020-01-02\n---\nBody")[0] == {"title": "A", "date": "2020-01-02"}
    assert split_front_matter('+++\ntitle = "B"\n+++\nBody') == ({"title": "B"}, "Body")
    meta, rest = split_front_matter("---\ntitle: [unclosed\n---\nBody")  # malformed: dropped, not indexed
    assert meta == {} and rest == "Body"
    assert split_front_matter("No front matter\n---\n") == ({}, "No front matter\n---\n")


# ----- HTML ---------------------------------------------------------------------------------------------------
def test_html_keeps_main_text_and_drops_chrome():
    article = parse_file(PAGES / "ux_designer_vs_ui_designer.html", PAGES)
    assert article.title == "UX Designer vs. UI Designer: What's the Difference?"  # no site name, no badge
    assert article.date == "February 14, 2024" and article.byline == "Sam Ortega"
    text = all_text(article)
    for junk in ("Gold Blog", "Home", "Bootcamps", "dataLayer", "font-family", "Share this", "rights reserved",
                 "Subscribe"):
        assert junk not in text, junk
    assert [s.path for s in article.walk() if s.blocks] == [
        (), ("Responsibilities", "UX designer"), ("Responsibilities", "UI designer"), ("Salaries",)]
    assert "- Role: UX designer; Median salary: $105,000" in text
    assert "Whichever role you choose" in text  # the last paragraph, after a table


def test_html_fragments_are_reduced_to_text():
    assert html_fragment_text('<p align="center">A <b>bold</b> claim</p>') == "A bold claim"
    assert html_fragment_text("<style>p{color:red}</style><!-- note -->") == ""
    assert html_fragment_text("<div><script>x()</script>kept</div>") == "kept"
    assert table_row(["Role", "Pay"], ["Nurse", "$80k"]) == "Role: Nurse; Pay: $80k"


# ----- furniture by general evidence ------------------------------------------------------------------------------
PROSE = ("Nurses who work night shifts in intensive care units are paid a premium in most hospitals, and the "
         "premium grows with the number of years they have worked on the same unit.")


def test_link_lists_and_cross_links_go_but_real_lists_stay():
    blocks = [Block(PARA, PROSE),
              Block(PARA, "Explore related careers:"),
              Block(LIST, items=("Midwife", "Paramedic"), item_link_chars=(7, 9)),
              Block(PARA, "Learn more: How to become a midwife", link_chars=24),
              Block(LIST, items=("Charting", "Medication"), item_link_chars=(0, 0)),
              Block(PARA, PROSE.replace("Nurses", "Paramedics"))]
    kept = [b.plain for b in drop_furniture(blocks)]
    assert kept == [PROSE, "Charting\nMedication", PROSE.replace("Nurses", "Paramedics")]


def test_a_link_line_typed_next_to_prose_goes_but_the_prose_and_wrapped_lines_stay():
    from careerbot.ingest.markdown import markdown_blocks

    text = ("Nurses earn a night premium in most hospitals.\n"
            "Learn more: [How to become a midwife](https://example.org/midwife)\n"
            "The premium grows with the years worked on the same unit.\n\n"
            "A paragraph hard-wrapped at eighty columns, with [one link](https://example.org) inside it,\n"
            "stays one paragraph.")
    kept = [b.plain for b in drop_furniture(markdown_blocks(text))]
    assert kept == ["Nurses earn a night premium in most hospitals.",
                    "The premium grows with the years worked on the same unit.",
                    "A paragraph hard-wrapped at eighty columns, with one link inside it, stays one paragraph."]


def test_promotion_boxes_go_but_quotations_and_advice_boxes_stay():
    """A callout whose links all lead to the page's own site (front matter url) is the publisher's offer, and
    so is a paragraph linking only to what it offers; a quotation, an advice box linking elsewhere and a body
    paragraph with an own-site link are the article."""
    text = body(parse_file(PAGES / "nurse_night_shift_guide.md", PAGES))
    assert "Join the CarePath New Nurse Residency" not in text
    assert "is open to nurses in their first year" not in text  # links only to the promoted page
    for kept in ("Our salary guide breaks the differential down", "Tip: Keep a small notebook",
                 "I slept through my alarm twice", "Most new graduate nurses start on night shifts",
                 "After one or two years most nurses can bid for day shifts"):
        assert kept in text, kept


def test_html_promotion_boxes_go_by_the_canonical_site():
    article = parse_file(PAGES / "teacher_certification_paths.html", PAGES)
    text = body(article)
    assert "Alternative Certification Bootcamp" not in text  # blockquote linking to the canonical host
    assert "The semester of student teaching was the hardest" in text  # a quotation linking elsewhere
    assert "Alternative programs let career changers teach" in text
    assert "Whichever path you take" in text


def test_own_site_from_metadata_else_from_where_most_links_lead():
    def para(*links: str) -> Block:
        return Block(PARA, PROSE, links=links)

    assert link_host("https://www.school.example/a") == "school.example" and link_host("../b.html") == ""
    assert link_host("#fn1") is None and link_host("mailto:head@school.example") is None
    assert own_site([para("https://a.example/x")], "https://www.school.example/p") == "school.example"
    # Without metadata: the host of at least half of the links to other sites, two links at least.
    assert own_site([para("https://school.example/1", "https://b.example/"), para("https://school.example/2")]) \
        == "school.example"
    assert own_site([para("https://school.example/1", "https://b.example/", "https://c.example/")]) is None
    assert own_site([para("https://school.example/1")]) is None
    # Relative links are the page's own site whatever the host; in-page anchors are no links to a page.
    boxes = [Block(PARA, PROSE, quote=1, links=("/courses/",)), Block(PARA, PROSE, quote=2, links=("#fn1",)),
             Block(PARA, PROSE, quote=3)]
    assert promotions(boxes) == {0}


def test_site_chrome_is_what_repeats_across_articles():
    raw = [read_page_from_text(f"Article {i}\n\n{PROSE} Case {i}.\n\nSign up for our weekly jobs email today.\n\n"
                               f"{PROSE} More {i}.\n", f"a{i}.txt") for i in range(3)]
    chrome = site_chrome(fingerprints(p.blocks) for p in raw)
    assert len(chrome) == 1  # the sign-up line, in all three; the prose differs
    from careerbot.ingest import to_article

    assert "Sign up" not in body(to_article(raw[0], chrome))
    assert "Sign up" in body(to_article(raw[0]))  # without the corpus, one page proves nothing


def read_page_from_text(text, source):
    from careerbot.ingest import page_from_text

    return page_from_text(text, source)


# ----- bad input -----------------------------------------------------------------------------------------------------
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
    only_markup = tmp_path / "only.md"
    only_markup.write_text("---\ntitle: Nothing here\n---\n<style>p{}</style>\n", encoding="utf-8")
    with pytest.raises(UnsupportedFile, match="no readable article text"):
        parse_file(only_markup, tmp_path)


def test_read_page_reports_where_the_title_came_from():
    assert read_page(PAGES / "nurse_salary_guide.md", PAGES).title_from == "metadata"
    assert read_page(PAGES / "teacher_career_change.txt", PAGES).title_from == "heading"


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
    assert repair_mojibake(text) == ftfy.fix_text(text, uncurl_quotes=False, unescape_html=False)


def test_the_ftfy_shortcut_skips_only_lines_ftfy_leaves_alone():
    import random

    import ftfy
    from ftfy.badness import is_bad

    from careerbot.ingest.repair import ftfy_would_change

    def fix(line: str) -> str:
        return ftfy.fix_text(line, uncurl_quotes=False, unescape_html=False)

    # Mojibake, a ligature, a width form, a decomposed accent, a line separator, a BOM: ftfy changes each.
    for line in ("sÃ³lo", "The â€œbestâ€\x9d job", "ﬁnance", "\uff21I", "cafe\u0301", "a\u2028b", "\ufeffTitle"):
        assert ftfy_would_change(line) and fix(line) != line
    for line in ("Pay: €90k — “senior” roles’ 20% raise…", "Zürich · 中文 · 😀"):
        assert not ftfy_would_change(line) and fix(line) == line
    # Random strings over the characters ftfy's patterns are made of, letters and punctuation: where the
    # shortcut skips ftfy, ftfy finds no mojibake and changes nothing.
    pool = list("ÃÂÎÐØÙàáé’“”‘—–…€™•·¢£¥§¶©®°±²³µ¼½¾×÷ÀÑñüŒœŠšŸžвЂВГРСΒΓΞΟβā√≈‚ÄßøΩω│═█ªº¤¦¨¬¯¸ƒˆ˜†‡‰")
    pool += list("abcxyzAZ .,?!'\"&-\t") + ["\xa0", "\xad", "e\u0301", "中", "\U0001f600"]
    rng = random.Random(12)
    skipped = 0
    for _ in range(20_000):
        line = "".join(rng.choice(pool) for _ in range(rng.randint(1, 24)))
        if not ftfy_would_change(line):
            skipped += 1
            assert not is_bad(line) and fix(line) == line, line
    assert skipped > 1_000



def test_html_blocks_come_from_trafilaturas_tree():
    from careerbot.ingest.html import read_html

    page = (PAGES.parent / "html" / "interview_prep_for_engineers.html").read_text(encoding="utf-8")
    meta, blocks = read_html(page, "interview_prep.html")
    assert meta["title"] == "Interview Prep for Engineers" and meta["url"] == "https://example.org/prep"
    lists = [b.items for b in blocks if b.kind == LIST]
    # One list, sub-items after their item (a two-space Markdown indent under "1." used to split it in three).
    assert lists[0] == ("Coding: the first round is about data structures and algorithms, and it is where most "
                        "candidates spend the bulk of their preparation time.",
                        "LeetCode style problems, medium or hard", "Object-oriented design of a small system",
                        "System design: a vague business problem turned into an end-to-end system in under an hour.")
    # A list in a table cell reads as its items; a table without a header row reads as rows, not pipes.
    assert lists[1] == ("Structures: Arrays, Trees; Algorithms: Binary search, Sorting",)
    assert lists[2] == ("Junior; $120k", "Senior; $190k")
    text = "\n".join(b.plain for b in blocks)
    assert "|" not in text and "~~" not in text and "and luck steady work" in text
    quoted = {b.text[:20]: b.quote for b in blocks if b.kind == PARA}
    assert quoted["You need to be motiv"] == 1 and quoted["Join our newsletter "] == 2
    assert quoted["The foreword of that"] == 0
    # The box that links only the page's own site is a promotion; the quotation citing a book is kept.
    article = parse_text(page, "interview_prep.html")
    assert "You need to be motivated" in body(article) and "newsletter" not in body(article)


NIGHTS = "<p>Working nights changes your sleep, your meals and your social life in ways that take months to settle.</p>"
METADATA_PAGES = [
    # an author element, a sidebar author (pruned by trafilatura before its author search), a dated <time>
    '<html><head><title>How I became a nurse - Care Blog</title></head><body><div class="sidebar"><span '
    'class="author">Side Bar</span></div><h1>How I became a nurse</h1><p class="byline">By <a rel="author" '
    f'href="/u/jane">Jane Doe</a></p><time datetime="2021-04-05">April 5, 2021</time>{NIGHTS}</body></html>',
    # site name from og:site_name, canonical address, an author class
    '<html><head><meta property="og:site_name" content="@carepost"><link rel="canonical" '
    'href="https://carepost.example/x"></head><body><article><h2>Night shifts</h2><div class="author-name">Sam '
    f'Lee</div>{NIGHTS}</article></body></html>',
    # only a commenter's name, and an author line too long to be one
    '<html><body><div class="post"><span class="author">' + "on and " * 20 + '</span><h1>Apprenticeship</h1>'
    f'{NIGHTS}<div class="comments"><a class="author">Bob Smith</a></div></div></body></html>',
    '<html><head><title>Just a title</title></head><body><span itemprop="author">Lee Chang</span>'
    f"{NIGHTS}</body></html>",
    f"<html><body>{NIGHTS}</body></html>",
]


def test_page_metadata_is_trafilaturas():
    import trafilatura
    from trafilatura.metadata import extract_metadata

    from careerbot.ingest.html import _fallback_title, page_metadata

    pages = METADATA_PAGES + [p.read_text(encoding="utf-8") for p in sorted(PAGES.parent.rglob("*.html"))]
    devset = Path(__file__).resolve().parents[2] / "shared" / "devset" / "articles"
    pages += [p.read_text(encoding="utf-8") for p in sorted(devset.glob("*.html"))]
    authors = set()
    for page in pages:
        tree = trafilatura.load_html(page)
        theirs, ours = extract_metadata(tree, None, None, True), page_metadata(tree)
        assert (ours.author, ours.url, ours.date, ours.sitename, ours.title or _fallback_title(tree)) == \
            (theirs.author, theirs.url, theirs.date, theirs.sitename, theirs.title)
        authors.add(ours.author)
    assert {"Jane Doe", "Sam Lee", "Lee Chang", None} <= authors


def test_a_page_dump_keeps_headings_that_lost_their_blank_line_and_a_title_over_its_dateline():
    from careerbot.ingest import parse_text

    page = ("Home  Careers  Trades  Login\nSearch\n\n"
            "The Veterinary Nursing Diploma in Scotland: Fees, Placements and the Final Exam Explained\n"
            "By Morag Dunn | March 3, 2024 | 5 min read\n\n"
            "Vet nursing is one of the few animal careers with a clear, regulated route in, and it pays while you "
            "train if you choose the apprenticeship. Most students split their week between a college and a "
            "training practice, and the profession is short of qualified nurses in every region of the country, "
            "so there is steady demand for people who finish the course.\n\n"
            "What a vet nurse does\n"
            "Vet nurses monitor anaesthesia, run lab tests and nurse animals after surgery in a busy practice.\n\n"
            "How long it takes\n"
            "The diploma takes three years, with at least 1,800 hours of supervised placement in a practice.\n\n"
            "How to apply, step by step\n1. Find a training practice.\n2. Enrol at a college.\n")
    article = parse_text(page, "vet_nursing.txt")
    assert article.title.startswith("The Veterinary Nursing Diploma in Scotland")
    assert [s.heading for s in article.sections if s.heading] == ["What a vet nurse does", "How long it takes",
                                                                   "How to apply, step by step"]
    assert article.sections[-1].blocks == ("- Find a training practice.\n- Enrol at a college.",)
    body = [b for s in article.sections for b in s.blocks]
    assert body[0].startswith("Vet nursing is one of") and not any("Veterinary Nursing Diploma" in b for b in body)
    # No blank line anywhere up top: menu, contents, title, byline, date and the first paragraph in one stack.
    stacked = parse_text("Home\nCareers\nTable of contents\nWhat vet nurses do\nHow to Become a Vet Nurse\n"
                         "By Morag Dunn\nUpdated March 4, 2024 · 9 min read\nVet nursing is one of the few animal "
                         "careers with a clear, regulated route in, and it pays while you train if you choose the "
                         "apprenticeship route through a practice.\n", "vet_nurse_path.txt")
    assert stacked.title == "How to Become a Vet Nurse"
    # A stack of lines that each stand alone and head no prose stays paragraphs (a byline over a date).
    stack = parse_text("Teaching in Wales\n\nBy Ann Jones\nMarch 3, 2024\n\nTeachers in Wales plan lessons, mark "
                       "work and meet parents across a long and busy school year.\n", "wales.txt")
    assert not any(s.heading.startswith("By ") for s in stack.sections)


def test_a_title_with_a_dashed_site_name_is_the_pages_own_heading():
    from careerbot.ingest import parse_text

    page = ("<html><head><title>Becoming a Paramedic: What It Takes - Rescue Careers Weekly</title></head><body>"
            "<article><h1>Becoming a Paramedic: What It Takes</h1><h2>Training</h2>"
            f"{NIGHTS}</article></body></html>")
    article = parse_text(page, "paramedic.html")
    assert article.title == "Becoming a Paramedic: What It Takes"
    assert [s.path for s in article.sections if s.path] == [("Training",)]  # the title is no section above all


def test_a_short_lead_in_and_its_list_after_the_last_long_paragraph_are_not_the_pages_end():
    from careerbot.ingest import parse_text

    page = ("---\ntitle: How to Become an Electrician\n---\n"
            "Start with a pre-apprenticeship course at a trade school, which covers safety, basic wiring and the "
            "electrical code. Each module lasts two weeks and ends with a short practical test, and many schools "
            "offer evening classes for people who work during the day.\n\n"
            "The modules cover:\n\n- Workplace safety\n- Reading blueprints\n- Residential circuits\n\n"
            "After that, apply to a union apprenticeship or to a contractor who will sponsor your training.\n\n"
            "## Getting licensed\n\nOnce the hours are done, you sit the journeyman exam, a test of the code and of "
            "electrical theory.\n")
    text = body(parse_text(page, "electrician.md"))
    assert "- Reading blueprints" in text and "After that, apply to a union" in text and "journeyman exam" in text
