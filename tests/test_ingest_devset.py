"""Ingestion on real third-party pages: the development set in ../shared/devset (12 articles from 11 sites,
Markdown, HTML and plain-text dumps, with annotated body lines to keep and furniture to drop).

The pages have no licence for this repository, so they are read from ../shared and the tests skip where it is
absent. Thresholds are aggregates over the set (docs/ingest.md has the per-article figures).
"""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT

from careerbot.chunk import Chunker, chunk_article
from careerbot.ingest import fingerprints, read_page, site_chrome, to_article

DEVSET = ROOT.parent / "shared" / "devset"
pytestmark = pytest.mark.skipif(not (DEVSET / "furniture.jsonl").is_file(),
                                reason=f"the development set is not at {DEVSET} (it lives beside the checkout)")
# Tags, emphasis markers, template syntax, spaced table pipes: markup, never text.
MARKUP = re.compile(r"</?(?:a|b|i|u|p|br|em|strong|span|div|img|image|h[1-6]|ul|ol|li|table|tr|td|th|style|script)"
                    r"\b[^>]*>|\*\*|__|\{\{|\{%|\{:|\s\|\s", re.IGNORECASE)


@pytest.fixture(scope="module")
def scorer():
    spec = importlib.util.spec_from_file_location("devset_score", DEVSET / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def annotations():
    return [json.loads(line) for line in (DEVSET / "furniture.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]


@pytest.fixture(scope="module")
def indexed():
    """Every devset article as the index would hold it: parsed beside the bundled corpus (so site chrome is
    judged across all of them), chunked, by file name."""
    articles = DEVSET / "articles"
    pages = [read_page(p, articles) for p in sorted(articles.iterdir())]
    pages += [read_page(p, CORPUS) for p in sorted(CORPUS.glob("*.txt"))]
    chrome = site_chrome(fingerprints(p.blocks) for p in pages)
    chunker = Chunker()
    out = {}
    for page in pages:
        article = to_article(page, chrome)
        out[Path(page.source).name] = (article, [c.text for c in chunk_article(article, chunker)])
    return out


def test_body_is_kept_and_furniture_dropped(scorer, annotations, indexed):
    kept = total_keep = leaked = total_drop = 0
    for record in annotations:
        texts = [scorer.visible(t) for t in indexed[record["file"]][1]]
        joined = " ".join(texts)

        def found(s: str, texts=texts, joined=joined) -> bool:
            v = scorer.visible(s)
            return any(scorer.contains(t, v) for t in texts) or scorer.contains(joined, v)

        kept += sum(found(s) for s in record["keep"])
        total_keep += len(record["keep"])
        leaked += sum(found(s) for s in record["drop"])
        total_drop += len(record["drop"])
    assert kept / total_keep >= 0.97, f"kept {kept}/{total_keep} body lines"
    # Measured 2/94 (2.1%) since promotion boxes go (7/94 before); the target is 3%. docs/ingest.md lists
    # the two that still leak and why.
    assert leaked / total_drop <= 0.03, f"{leaked}/{total_drop} furniture lines indexed"


def test_titles_and_dates(scorer, annotations, indexed):
    right = 0
    for record in annotations:
        article = indexed[record["file"]][0]
        right += scorer.title_matches(record["title"], [article.title], record["file"])
        if record["date"]:
            assert article.date == record["date"], (record["file"], article.date)
    assert right >= 11, f"{right}/12 titles right"


def test_no_markup_in_any_chunk(indexed):
    for name, (article, chunks) in indexed.items():
        for text in chunks:
            assert not MARKUP.search(text), (name, MARKUP.search(text).group(0), text[:200])
        assert not MARKUP.search(article.title), (name, article.title)


def test_explicit_headings_become_nested_sections(indexed):
    article = indexed["d04_ml_engineer_job_hunting.html"][0]
    paths = [s.path for s in article.walk()]
    assert ("How to Prepare", "Coding", "ML Coding") in paths  # h1 › h2 › h3 of the page
    assert all(s.level > 0 for s in article.walk() if s.path)


def test_the_first_paragraph_of_every_page_is_indexed(scorer, annotations, indexed):
    # The first keep line of each record is the article's first body paragraph (furniture.jsonl's schema).
    for record in annotations:
        first = scorer.visible(record["keep"][0])
        assert scorer.contains(" ".join(scorer.visible(t) for t in indexed[record["file"]][1]), first), record["file"]
