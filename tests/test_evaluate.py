"""`careerbot eval`: metric code on hand-computed cases, a tiny BEIR folder end to end through the CLI,
and the question-set report over the real index."""
from __future__ import annotations

import json
import math

import pytest

from careerbot.cli import main
from careerbot.errors import InvalidArgument
from careerbot.evaluation.beir import load_beir
from careerbot.evaluation.questions import fact_covered, markers_valid, mrr_at, ndcg_at, recall_at, score_run
from careerbot.records import Answer, Citation, Hit

L2 = math.log2


# ----- metrics -----------------------------------------------------------------------------------
def test_ndcg_binary_relevance_by_hand():
    # relevant at ranks 2 and 3: DCG = 1/log2(3) + 1/log2(4); ideal puts them at ranks 1 and 2.
    expected = (1 / L2(3) + 1 / L2(4)) / (1 + 1 / L2(3))
    assert ndcg_at(["a", "b", "c"], {"b": 1, "c": 1}) == pytest.approx(expected)
    assert ndcg_at(["b", "c", "a"], {"b": 1, "c": 1}) == pytest.approx(1.0)


def test_ndcg_graded_relevance_uses_linear_gain():
    # pytrec_eval's gain is the grade itself: DCG = 1 + 2/log2(3), ideal = 2 + 1/log2(3).
    expected = (1 + 2 / L2(3)) / (2 + 1 / L2(3))
    assert ndcg_at(["b", "a"], {"a": 2, "b": 1}) == pytest.approx(expected)


def test_ndcg_cutoff_and_edge_cases():
    ranking = [f"d{i}" for i in range(1, 12)]
    assert ndcg_at(ranking, {"d11": 1}, k=10) == 0.0  # found only at rank 11
    assert ndcg_at(ranking, {"d11": 1}, k=11) == pytest.approx(1 / L2(12))
    assert ndcg_at([], {"a": 1}) == 0.0
    assert ndcg_at(["a"], {"a": 0}) == 0.0  # a judged-irrelevant document gains nothing
    # More relevant documents than the cutoff: the ideal DCG is cut at k too.
    assert ndcg_at(["a", "b"], {"a": 1, "b": 1, "c": 1}, k=2) == pytest.approx(1.0)


def test_mrr_by_hand():
    assert mrr_at(["x", "y", "a"], {"a": 1}) == pytest.approx(1 / 3)
    assert mrr_at(["a", "b"], {"a": 1, "b": 1}) == 1.0
    assert mrr_at([f"x{i}" for i in range(10)] + ["a"], {"a": 1}) == 0.0  # rank 11 is outside MRR@10
    assert mrr_at(["a"], {"a": 0}) == 0.0


def test_recall_by_hand():
    assert recall_at(["a", "x"], {"a": 1, "b": 1}) == 0.5
    assert recall_at(["a", "b"], {"a": 1, "b": 1, "z": 0}) == 1.0  # grade 0 is not relevant
    assert recall_at(["x", "a"], {"a": 1}, k=1) == 0.0
    assert recall_at(["a"], {}) == 0.0


def test_score_run_means_over_judged_queries():
    qrels = {"q1": {"a": 1}, "q2": {"b": 1, "c": 1}, "q3": {"z": 1}}
    run = {"q1": ["a"], "q2": ["x", "c"]}  # q3 retrieved nothing and still counts
    scores = score_run(run, qrels)
    assert scores["mrr@10"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert scores["recall@100"] == pytest.approx((1 + 0.5 + 0) / 3)
    q2 = (1 / L2(3)) / (1 + 1 / L2(3))
    assert scores["ndcg@10"] == pytest.approx((1 + q2 + 0) / 3)


def test_fact_coverage_and_marker_checks():
    assert fact_covered("A Lead earns $153,000 per year [1].", [["153,000"], ["lead"]])
    assert fact_covered("It’s a Ph.D.", [["it's"], ["phd", "ph.d"]])  # curly quote and alternatives
    assert not fact_covered("A Lead earns a lot.", [["153,000"]])
    hit = Hit("x#0", "text", 1.0, "T", ("S",), "x.txt", None, 0)
    answer = Answer("q", "One [1]. Two [2].", (Citation(1, hit), Citation(2, hit)))
    assert markers_valid(answer)
    assert not markers_valid(Answer("q", "One [1]. Three [3].", (Citation(1, hit),)))


# ----- a tiny BEIR folder, end to end through the CLI --------------------------------------------
DOCS = [
    ("d1", "Salaries of lead engineers", "A lead machine learning engineer earns about 153,000 dollars a year."),
    ("d2", "Tools", "Engineers deploy models with Docker, Kubernetes and CircleCI pipelines."),
    ("d3", "Education", "Most research scientists hold a PhD in computer science or statistics."),
    ("d4", "Baking", "Banana bread needs ripe bananas, flour, butter and sugar."),
    ("d5", "Weather", "Tomorrow will be sunny in Paris with light winds."),
]
QUERIES = [("q1", "How much does a lead ML engineer make?"), ("q2", "Which CI service runs the pipelines?"),
           ("q3", "Do research scientists need a doctorate?"), ("q4", "How do I bake banana bread?")]
QRELS = {"test": [("q1", "d1"), ("q2", "d2"), ("q3", "d3")], "train": [("q4", "d4")]}


@pytest.fixture
def tiny_beir(tmp_path, monkeypatch):
    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("".join(
        json.dumps({"_id": i, "title": t, "text": x, "metadata": {}}) + "\n" for i, t, x in DOCS))
    (folder / "queries.jsonl").write_text("".join(
        json.dumps({"_id": i, "text": q, "metadata": {}}) + "\n" for i, q in QUERIES))
    for split, rows in QRELS.items():
        (folder / "qrels" / f"{split}.tsv").write_text(
            "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, d in rows))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # keep the embedding cache private
    return folder


def test_load_beir_reads_only_the_split(tiny_beir):
    data = load_beir(tiny_beir, "test")
    assert data.doc_ids == ["d1", "d2", "d3", "d4", "d5"]
    assert list(data.queries) == ["q1", "q2", "q3"]
    assert data.documents()[0] == "Salaries of lead engineers A lead machine learning engineer earns about " \
                                  "153,000 dollars a year."
    assert list(load_beir(tiny_beir, "train").queries) == ["q4"]
    with pytest.raises(InvalidArgument, match="qrels/dev.tsv"):
        load_beir(tiny_beir, "dev")


def test_eval_cli_on_tiny_beir_folder_json(tiny_beir, tmp_path, capsys):
    assert main(["eval", str(tiny_beir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["queries"] == 3 and report["documents"] == 5 and report["split"] == "test"
    assert set(report["modes"]) == {"dense", "bm25", "hybrid"}
    for figures in report["modes"].values():
        assert {"ndcg@10", "recall@100", "mrr@10", "build_s", "query_ms"} <= set(figures)
        assert figures["recall@100"] == 1.0  # 5 documents: every relevant one is in the top 100
    # Each query has one clearly matching document; dense and hybrid rank all three first.
    assert report["modes"]["dense"]["mrr@10"] == 1.0
    assert report["modes"]["hybrid"]["ndcg@10"] == 1.0
    assert report["corpus_embeddings"]["cached"] is False
    assert list((tmp_path / "cache" / "careerbot" / "eval").glob("*.npy"))

    # A second run reads the cached corpus embeddings and gives the same figures.
    assert main(["eval", str(tiny_beir), "--json", "--modes", "dense"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["corpus_embeddings"]["cached"] is True
    assert again["modes"]["dense"]["ndcg@10"] == report["modes"]["dense"]["ndcg@10"]
    assert set(again["modes"]) == {"dense"}


def test_eval_cli_table_and_train_split(tiny_beir, capsys):
    assert main(["eval", str(tiny_beir), "--split", "train", "--modes", "bm25"]) == 0
    out = capsys.readouterr().out
    assert "nDCG@10" in out and "Recall@100" in out and "MRR@10" in out
    assert "train: 1 queries" in out
    row = next(line for line in out.splitlines() if line.startswith("bm25"))
    assert float(row.split()[1]) == 1.0  # "banana bread" matches d4 only


def test_eval_cli_rejects_unknown_mode(tiny_beir, capsys):
    assert main(["eval", str(tiny_beir), "--modes", "dense,magic"]) == 2
    assert "magic" in capsys.readouterr().err


# ----- careerbot's own question set ---------------------------------------------------------------
TINY_QUESTIONS = [
    {"id": "a1", "question": "How much does a Lead Machine Learning Engineer earn?", "history": [],
     "answerable": True, "facts": [["153,000"]], "sources": ["003_5938be9f1a266103.txt"], "kind": "single"},
    {"id": "a2", "question": "and which CI/CD tools do they use?",
     "history": [{"role": "user", "content": "What does a lead machine learning engineer do?"},
                 {"role": "assistant", "content": "A lead ML engineer designs and deploys ML systems [1]."}],
     "answerable": True, "facts": [["circleci"]], "sources": ["000_f511443fd0edb9e9.txt"], "kind": "followup"},
    {"id": "u1", "question": "Give me a recipe for banana bread.", "history": [], "answerable": False,
     "facts": [], "sources": [], "kind": "unanswerable"},
]


def test_eval_cli_on_a_question_file_matches_kb_ask(kb, session_index, tmp_path, capsys):
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in TINY_QUESTIONS), encoding="utf-8")
    assert main(["eval", str(path), "--json", "--index", str(session_index), "--modes", "hybrid,bm25"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["questions"], report["answerable"], report["unanswerable"]) == (3, 2, 1)
    assert set(report["retrieval"]) == {"hybrid", "bm25"}
    assert report["hit@5"] == report["retrieval"]["hybrid"]["hit@5"] == 1.0
    assert report["hit@1"] == report["retrieval"]["hybrid"]["hit@1"]
    # The answer figures are exactly what kb.ask gives for each question.
    answers = {q["id"]: kb.ask(q["question"], q["history"]) for q in TINY_QUESTIONS}
    assert report["abstention_unanswerable"] == float(answers["u1"].abstained)
    assert report["false_abstention"] == (answers["a1"].abstained + answers["a2"].abstained) / 2
    answered = [(answers[q["id"]], q) for q in TINY_QUESTIONS if q["answerable"] and not answers[q["id"]].abstained]
    if answered:
        assert report["fact_coverage"] == pytest.approx(
            sum(fact_covered(a.text, q["facts"]) for a, q in answered) / len(answered), abs=1e-4)
        assert report["markers_valid"] == pytest.approx(
            sum(markers_valid(a) for a, _ in answered) / len(answered), abs=1e-4)
        assert report["citation_correct"] == pytest.approx(sum(
            any(c.hit.source in q["sources"] for c in a.citations) for a, q in answered) / len(answered), abs=1e-4)


def test_eval_cli_question_table(session_index, tmp_path, capsys):
    path = tmp_path / "questions.jsonl"
    path.write_text(json.dumps(TINY_QUESTIONS[0]) + "\n", encoding="utf-8")
    assert main(["eval", str(path), "--index", str(session_index), "--modes", "dense"]) == 0
    out = capsys.readouterr().out
    assert "hit@1" in out and "hit@5" in out and "fact coverage" in out
    assert next(line for line in out.splitlines() if line.startswith("dense")).split()[1:3] == ["100.0%", "100.0%"]


def test_refused_input_counts_as_abstention(session_index, tmp_path, capsys):
    path = tmp_path / "questions.jsonl"
    rows = [TINY_QUESTIONS[0], {"id": "e1", "question": " \t ", "history": [], "answerable": False,
                                "facts": [], "sources": [], "kind": "invalid"}]
    path.write_text("".join(json.dumps(q) + "\n" for q in rows), encoding="utf-8")
    assert main(["eval", str(path), "--json", "--index", str(session_index), "--modes", "hybrid"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["failures"]["refused"] == ["e1"] and report["abstention_unanswerable"] == 1.0
    assert report["hit@5"] == 1.0


def test_eval_cli_without_an_index_says_how_to_build(tmp_path, capsys):
    path = tmp_path / "questions.jsonl"
    path.write_text(json.dumps(TINY_QUESTIONS[0]) + "\n", encoding="utf-8")
    assert main(["eval", str(path), "--index", str(tmp_path / "none")]) == 3
    assert "careerbot index build" in capsys.readouterr().err
