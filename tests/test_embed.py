"""The embedder: one code path's numbers whether a call carries one query or a batch (real model)."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from careerbot.index.embed import SMALL_INPUT, Embedder, QueryBatcher, ThreadChooser

TEXTS = [
    "what does a lead ML engineer earn?",
    "PhD?",
    "how is a data scientist different from a machine learning engineer in day-to-day work " * 12,  # truncated
    "",
]


@pytest.fixture(scope="module")
def embedder(settings) -> Embedder:
    return Embedder.load(settings)


@pytest.mark.parametrize("count", range(1, SMALL_INPUT + 1))
def test_small_inputs_match_sentence_transformers_encode(embedder, count):
    """Queries skip model.encode's bookkeeping; the vectors must not change (padding, truncation, norm)."""
    texts = TEXTS[:count]
    ours = embedder.encode(texts)
    reference = embedder.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert ours.shape == (count, embedder.dimension) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, reference, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_a_query_embeds_the_same_alone_and_inside_a_batch(embedder):
    batch = embedder.encode(TEXTS + ["filler text"] * SMALL_INPUT)  # the batch path (model.encode)
    for i, text in enumerate(TEXTS):
        np.testing.assert_allclose(embedder.encode([text])[0], batch[i], atol=1e-5)


def test_nothing_to_embed_gives_an_empty_matrix(embedder):
    assert embedder.encode([]).shape == (0, embedder.dimension)


def test_a_standalone_build_embeds_each_distinct_sentence_once(tmp_path, settings, embedder):
    from careerbot import KnowledgeBase

    settings = settings.with_overrides(sentence_vectors="standalone")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shared = "Most employers ask for strong Python and SQL skills."
    for name, role in (("a.txt", "Data Analyst"), ("b.txt", "Data Engineer")):
        (corpus / name).write_text(f"{role} Careers\n\nSkills\n\n{shared} A {role} also writes reports.\n",
                                   encoding="utf-8")
    seen: list[str] = []
    real_encode = embedder.encode

    def spy(texts, **kwargs):  # the real encoder, watched
        seen.extend(texts)
        return real_encode(texts, **kwargs)

    embedder.encode = spy
    try:
        kb = KnowledgeBase.build(corpus, tmp_path / "index", settings)
    finally:
        del embedder.encode
    assert seen.count(shared) == 1 and len(seen) == len(set(seen))
    vectors = [v for record in kb.snapshot.records
               for unit, v in zip(*kb.chunk_units(record.chunk.chunk_id), strict=False) if unit == shared]
    assert len(vectors) == 2 and np.array_equal(vectors[0], vectors[1])


# ----- threads for a query: measured, not guessed (timings below are given, so the logic is exact) -------
def _run(chooser: ThreadChooser, cost: dict[int, float], calls: int) -> list[int]:
    picked = []
    for _ in range(calls):
        threads = chooser.pick()
        chooser.record(threads, cost[threads])
        picked.append(threads)
    return picked


def test_idle_cores_get_every_thread_and_one_thread_is_still_probed_now_and_then():
    chooser = ThreadChooser(2, explore_every=8)
    picked = _run(chooser, {1: 0.0145, 2: 0.013}, 64)
    assert picked[:2] == [1, 2]  # both timed first
    assert chooser.best() == 2
    # then only probes use one thread, at calls 8, 16, 32 and 64: each lost, so the next waits twice as long
    assert [i + 1 for i, n in enumerate(picked) if n == 1] == [1, 8, 16, 32, 64]


def test_a_busy_machine_settles_on_one_thread_and_probes_ever_more_rarely():
    chooser = ThreadChooser(2, explore_every=8)
    picked = _run(chooser, {1: 0.017, 2: 0.480}, 400)
    assert chooser.best() == 1
    probes = [i for i, n in enumerate(picked) if n == 2][1:]  # after the first trial
    assert len(probes) <= 6 and chooser.explore_every > 8  # 8, 16, 32, 64, 128, 256: back-off doubles
    assert all(later - earlier >= 8 for earlier, later in zip(probes, probes[1:], strict=False))


def test_the_choice_follows_the_machine_when_it_changes():
    chooser = ThreadChooser(2, explore_every=4)
    _run(chooser, {1: 0.017, 2: 0.480}, 40)  # busy
    assert chooser.best() == 1
    quiet = _run(chooser, {1: 0.0145, 2: 0.013}, 400)  # the other process is gone
    first_probe = quiet.index(2)
    assert first_probe < 400 - 100 and chooser.best() == 2
    assert quiet[first_probe + 1] == 2  # one winning probe was enough to switch back
    assert quiet[first_probe:].count(1) <= 7  # probes of one thread at 4, 8, 16, … calls apart


def test_one_configured_thread_means_one_thread():
    chooser = ThreadChooser(1)
    assert _run(chooser, {1: 0.02}, 10) == [1] * 10


# ----- "late" sentence vectors (the default): pooled from the chunk pass, settings.sentence_vectors ------
def test_spans_are_found_in_order_after_the_body_starts():
    from careerbot.index.embed import _spans

    text = "Skills — Data\nPython. SQL:\n- Python\n- SQL"
    assert _spans(text, "Python. SQL:\n- Python\n- SQL", ["Python.", "SQL:", "- Python", "- SQL"]) == [
        (14, 21), (22, 26), (27, 35), (36, 41)]  # the header's "Data"/"Skills" are never matched
    assert _spans(text, "Python.", ["Nowhere"]) == [(0, 0)]


def test_late_vectors_keep_the_passage_vectors_and_pool_each_unit(embedder):
    texts = ["Lead ML Engineer — Salary\nThe median pay is $153,000. Bonuses vary by company.",
             "Research Scientist — Education\n- A Ph.D. is common\n- Publications matter"]
    bodies = [t.split("\n", 1)[1] for t in texts]
    units = [["The median pay is $153,000.", "Bonuses vary by company."],
             ["- A Ph.D. is common", "- Publications matter"]]
    passages, pooled = embedder.encode_with_spans(texts, bodies, units)
    np.testing.assert_allclose(passages, embedder.encode(texts + ["pad"] * SMALL_INPUT)[:2], atol=1e-5)
    assert pooled.shape == (4, embedder.dimension)
    np.testing.assert_allclose(np.linalg.norm(pooled, axis=1), 1.0, atol=1e-5)
    alone = embedder.encode([u for group in units for u in group])
    similarity = (pooled * alone).sum(axis=1)
    assert (similarity > 0.3).all()  # each pooled vector still points at its own sentence …
    assert similarity[0] > float(pooled[0] @ alone[2])  # … more than at another passage's


def test_the_default_index_holds_late_vectors_and_a_standalone_one_is_refused_under_it(tmp_path, settings):
    import shutil
    from pathlib import Path

    from conftest import RS_VS_LEAD

    from careerbot import KnowledgeBase
    from careerbot.errors import StaleIndex

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy2(Path(__file__).resolve().parents[1] / "corpus" / RS_VS_LEAD, corpus)
    assert settings.sentence_vectors == "late"
    standalone = settings.with_overrides(sentence_vectors="standalone")
    kb = KnowledgeBase.build(corpus, tmp_path / "index", standalone)
    assert kb.snapshot.manifest["sentence_vectors"] == "standalone"
    answer = kb.ask("Do I need a PhD to be a research scientist?")
    assert answer.citations and "Ph.D" in answer.text
    with pytest.raises(StaleIndex, match="careerbot index build"):
        KnowledgeBase.load(tmp_path / "index", settings)


def test_contrast_removes_the_share_sentences_of_one_passage_have_in_common():
    from careerbot.answer.evidence import contrasted

    shared = np.array([1.0, 0.0, 0.0])
    own = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    vectors = 0.9 * shared + 0.3 * own
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = np.array([0.6, 0.8, 0.0])  # about the first sentence's own topic
    plain, sharper = vectors @ query, contrasted(vectors, 0.5) @ query
    assert sharper[0] - sharper[1] > 1.5 * (plain[0] - plain[1])  # the gap between them widens
    np.testing.assert_allclose(np.linalg.norm(contrasted(vectors, 0.5), axis=1), 1.0)
    assert contrasted(vectors, 0.0) is vectors and contrasted(vectors[:0], 0.5).shape == (0, 3)


def test_an_unknown_sentence_vector_setting_is_refused_by_name(monkeypatch):
    from careerbot import Settings
    from careerbot.errors import InvalidArgument

    monkeypatch.setenv("CAREERBOT_SENTENCE_VECTORS", "contextual")
    with pytest.raises(InvalidArgument, match="sentence_vectors must be standalone or late"):
        Settings.from_env()


def test_token_count_ignores_the_truncation_another_caller_left_on_the_tokenizer(embedder):
    text = "machine learning " * 200
    embedder.model.tokenizer(["x"], truncation=True, max_length=8)  # leaves truncation set on the backend
    assert embedder.token_count(text) == len(embedder.model.tokenizer(text, truncation=False)["input_ids"]) > 256
    assert not embedder.fits(text) and embedder.fits("machine learning")


# ----- concurrent queries share one encoder pass (QueryBatcher; a fake encoder first, then the model) -------
class FakeEncoder:
    """Vectors derived from each text's characters, every call recorded."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.threads: list[str] = []  # the thread each pass ran in

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        self.threads.append(threading.current_thread().name)
        return np.array([[len(t), sum(map(ord, t)), i] for i, t in enumerate(texts)], dtype=np.float32)


def _expected(texts: list[str]) -> np.ndarray:
    return np.array([[len(t), sum(map(ord, t))] for t in texts], dtype=np.float32)


def _while_busy(batcher: QueryBatcher, requests: list[list[str]]) -> list[np.ndarray]:
    """Each request from its own thread, all asked while the encoder is busy with a first query: that pass
    is held until every request is queued, so what happens next is exact."""
    real, entered, release = batcher.encode_batch, threading.Event(), threading.Event()

    def held(texts):
        if not entered.is_set():
            entered.set()
            release.wait(10)
        return real(texts)

    batcher.encode_batch = held
    results: list = [None] * len(requests)

    def ask(i: int) -> None:
        results[i] = batcher.encode(requests[i])

    first = threading.Thread(target=batcher.encode, args=(["the query that keeps the encoder busy"],))
    first.start()
    assert entered.wait(10)
    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(batcher._queue) < len(requests) and time.monotonic() < deadline:
        time.sleep(0.001)
    release.set()
    for thread in [first, *threads]:
        thread.join(timeout=30)
    batcher.encode_batch = real
    return results


def test_an_uncontended_query_is_encoded_at_once_alone():
    fake = FakeEncoder()
    batcher = QueryBatcher(fake)
    for text in ["first question", "second one", "third"]:
        np.testing.assert_array_equal(batcher.encode([text])[:, :2], _expected([text]))
    assert fake.calls == [["first question"], ["second one"], ["third"]]  # nothing waited to be joined
    assert fake.threads == [threading.current_thread().name] * 3  # nor was it handed to another thread


def test_queries_asked_while_the_encoder_is_busy_share_the_next_pass_and_each_gets_its_own_rows():
    fake = FakeEncoder()
    batcher = QueryBatcher(fake)
    requests = [[f"question {i}"] for i in range(7)] + [["two texts", "in one call"]]
    results = _while_busy(batcher, requests)
    assert len(fake.calls) == 2 and len(fake.calls[1]) == 9  # the busy pass, then everyone else in one
    assert fake.threads[1] == "careerbot-encoder"  # queued queries are encoded by the encoder thread
    assert sorted(fake.calls[1]) == sorted(t for r in requests for t in r)
    for request, result in zip(requests, results, strict=False):
        np.testing.assert_array_equal(result[:, :2], _expected(request))
    assert (batcher.passes, batcher.texts) == (2, 10)


def test_a_batch_stays_within_its_text_and_padded_length_limits():
    fake = FakeEncoder()
    batcher = QueryBatcher(fake, max_texts=3, max_chars=3 * 10)
    requests = [["a" * 10] for _ in range(5)] + [["b" * 40]] + [["a" * 10]]  # the long one fits no batch but its own
    results = _while_busy(batcher, requests)
    for request, result in zip(requests, results, strict=False):
        np.testing.assert_array_equal(result[:, :2], _expected(request))
    later = fake.calls[1:]
    assert all(len(call) <= 3 for call in later)
    assert all(len(call) * max(map(len, call)) <= 30 for call in later if len(call) > 1)
    assert ["b" * 40] in later and sum(map(len, later)) == len(requests)


def test_a_failed_pass_fails_its_callers_and_the_next_pass_still_runs():
    class Broken(FakeEncoder):
        def __call__(self, texts):
            if any("bad" in t for t in texts):
                raise RuntimeError("the model failed")
            return super().__call__(texts)

    fake = Broken()
    batcher = QueryBatcher(fake)
    with pytest.raises(RuntimeError, match="the model failed"):
        batcher.encode(["bad input"])
    np.testing.assert_array_equal(batcher.encode(["good input"])[:, :2], _expected(["good input"]))


def test_thread_counts_are_chosen_per_batch_size(embedder):
    assert embedder.chooser(1) is not embedder.chooser(2)
    assert embedder.chooser(2) is embedder.chooser(3) and embedder.chooser(8) is embedder.chooser(15)


def test_queries_encoded_concurrently_equal_the_same_queries_encoded_one_by_one(embedder):
    """The real model: 12 callers at once (asked while the encoder is busy, so they share passes: padded to
    the longest, ~1,000 characters, 5 fit one) get what each gets alone."""
    texts = [f"{t} ({i})" for i, t in enumerate(TEXTS[:3] * 4)]
    alone = [embedder.encode([t]) for t in texts]
    passes = embedder.batcher.passes
    together = _while_busy(embedder.batcher, [[t] for t in texts])
    assert embedder.batcher.passes - passes <= 4  # the busy pass, then shared ones (the long texts pad a lot)
    for mine, reference in zip(together, alone, strict=False):
        np.testing.assert_allclose(mine, reference, atol=1e-5)
