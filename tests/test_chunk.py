"""Chunking: token bounds, the model's own limit, lead-ins kept with lists, overlap, metadata."""
from __future__ import annotations

import pytest
from conftest import CORPUS, MLE_VS_LEAD

from careerbot.chunk import Chunker, chunk_article, count_tokens, split_sentences, split_units
from careerbot.ingest import parse_file, parse_text


@pytest.fixture(scope="module")
def embedder(settings):
    from careerbot.index.embed import Embedder

    return Embedder.load(settings)


@pytest.fixture(scope="module")
def bundled_chunks(embedder, settings):
    chunker = Chunker.from_settings(settings, fits=embedder.fits)
    return [c for path in sorted(CORPUS.glob("*.txt")) for c in chunk_article(parse_file(path, CORPUS), chunker)]


def test_chunks_fit_the_token_budget_and_the_model(bundled_chunks, embedder, settings):
    assert len(bundled_chunks) > 40
    for chunk in bundled_chunks:
        assert count_tokens(chunk.text) <= settings.chunk_tokens
        assert embedder.token_count(chunk.embed_text) <= embedder.max_tokens


def test_chunks_carry_metadata(bundled_chunks):
    by_source = {}
    for chunk in bundled_chunks:
        assert chunk.title and isinstance(chunk.section, tuple) and chunk.source and chunk.date
        assert chunk.chunk_id == f"{chunk.source}#{chunk.position}"
        assert chunk.embed_text.startswith(chunk.title)
        assert not chunk.text.startswith(chunk.title)  # what users see is the passage itself
        by_source.setdefault(chunk.source, []).append(chunk.position)
    for positions in by_source.values():
        assert positions == list(range(len(positions)))


def test_lead_in_stays_with_its_list(bundled_chunks):
    lead_in = "The skills required for a Lead Machine Learning Engineer include:"
    holders = [c for c in bundled_chunks if lead_in in c.text]
    assert len(holders) == 1
    assert "- Strong leadership skills" in holders[0].text
    assert holders[0].source == MLE_VS_LEAD


def test_long_list_is_split_with_lead_in_and_overlap():
    items = "\n".join(f"- Skill number {i} is about distributed training of very large models" for i in range(40))
    article = parse_text(f"Big Role\n\nSkills\n\nThe skills required for a big role include:\n\n{items}\n",
                         source="big.txt")
    chunker = Chunker(max_tokens=80, overlap=16)
    chunks = chunk_article(article, chunker)
    assert len(chunks) > 3
    seen = []
    for chunk in chunks:
        assert chunk.text.startswith("The skills required for a big role include:")
        assert count_tokens(chunk.text) <= 80
        seen.extend(line for line in chunk.text.split("\n")[1:])
    for i in range(40):  # nothing is lost
        assert any(f"number {i} " in line for line in seen)
    first, second = chunks[0].text.split("\n"), chunks[1].text.split("\n")
    assert set(first[1:]) & set(second[1:]), "consecutive windows should overlap"


def test_long_prose_is_split_with_overlap_and_nothing_dropped():
    sentences = [f"Sentence {i} explains one more detail about research careers in industry." for i in range(30)]
    article = parse_text("Essay\n\nBody\n\n" + " ".join(sentences) + "\n", source="e.txt")
    chunks = chunk_article(article, Chunker(max_tokens=64, overlap=20))
    joined = " ".join(c.text for c in chunks)
    assert all(s in joined for s in sentences)
    assert sum(c.text.count("Sentence ") for c in chunks) > len(sentences)  # overlap repeats some


def test_sentence_and_unit_splitting():
    assert split_sentences("She holds a Ph.D. in CS. It took Dec. 6 days! Next?") == [
        "She holds a Ph.D. in CS.", "It took Dec. 6 days!", "Next?"]
    assert split_units("Skills include:\n- Python\n- SQL\nThat is all. Really.") == [
        "Skills include:", "- Python", "- SQL", "That is all.", "Really."]


@pytest.mark.parametrize("chunker", [Chunker(max_tokens=24, overlap=4),
                                     Chunker(max_tokens=160, overlap=8, fits=lambda text: len(text) <= 180)])
def test_an_oversized_sentence_is_cut_into_the_longest_word_runs_that_fit(chunker):
    from careerbot.chunk import _fits, _hard_split

    words = [f"{word}{i}" for i in range(400) for word in ("résumé", "ok", "de-risking", "$120,000")][:700]
    prefix = "Title › Section\n\n"
    pieces = _hard_split(" ".join(words), chunker, prefix)
    assert " ".join(pieces).split() == words  # nothing dropped, nothing reordered
    cut = 0
    for piece in pieces:
        assert _fits(piece, chunker, prefix)
        cut += len(piece.split())
        if cut < len(words):  # one more word would not have fitted: each piece is as long as it can be
            assert not _fits(f"{piece} {words[cut]}", chunker, prefix)
