"""Evaluate: ranking metrics, careerbot's own question set through kb.ask, and the `careerbot eval` command
(BEIR folders are handled in beir.py).

Usage: careerbot eval ../shared/benchmarks/scifact --json    |    careerbot eval --index index
"""
from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

import numpy as np

from ..errors import InvalidArgument, InvalidQuery
from ..records import Answer


# ----- metrics (linear gain, log2 discount, as pytrec_eval computes them) ---------------------------
def ndcg_at(ranking: list[str], relevance: dict[str, int], k: int = 10) -> float:
    """nDCG@k. Usage: ndcg_at(["a", "b"], {"b": 1}) == 1 / log2(3)"""
    dcg = sum(relevance.get(doc, 0) / math.log2(rank + 1) for rank, doc in enumerate(ranking[:k], start=1))
    ideal = sorted((g for g in relevance.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))
    return dcg / idcg if idcg > 0 else 0.0


def mrr_at(ranking: list[str], relevance: dict[str, int], k: int = 10) -> float:
    """Reciprocal rank of the first relevant document within the top k (0 if none)."""
    for rank, doc in enumerate(ranking[:k], start=1):
        if relevance.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def recall_at(ranking: list[str], relevance: dict[str, int], k: int = 100) -> float:
    """Share of the relevant documents found in the top k."""
    relevant = {doc for doc, g in relevance.items() if g > 0}
    return len(relevant & set(ranking[:k])) / len(relevant) if relevant else 0.0


def score_run(run: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """Mean nDCG@10, Recall@100 and MRR@10 over the judged queries (a query with no run scores 0)."""
    judged = [q for q, rel in qrels.items() if any(g > 0 for g in rel.values())]
    if not judged:
        return {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    return {name: float(np.mean([fn(run.get(q, []), qrels[q], k) for q in judged]))
            for name, fn, k in (("ndcg@10", ndcg_at, 10), ("recall@100", recall_at, 100), ("mrr@10", mrr_at, 10))}


def lines(path: Path) -> list[str]:
    """The non-blank lines of a UTF-8 text file."""
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def show(items, desc: str, progress: bool):
    """items, with a tqdm bar on stderr when progress is on."""
    from tqdm import tqdm

    return tqdm(items, desc=desc, disable=not progress, leave=False)


# ----- careerbot's own question set --------------------------------------------------------------
MARKER = re.compile(r"\[(\d+)\]")


def default_questions() -> Path:
    """tests/questions.jsonl of the working directory, else of the source checkout."""
    here = Path("tests/questions.jsonl")
    return here if here.is_file() else Path(__file__).resolve().parents[3] / "tests" / "questions.jsonl"


def load_questions(path: str | Path) -> list[dict]:
    """Question records: id, question, history, answerable, facts (alternatives per fact), sources, kind."""
    path = Path(path)
    if not path.is_file():
        raise InvalidArgument(f"no question set at {path}; pass a BEIR folder or a questions .jsonl file")
    rows = [json.loads(line) for line in lines(path)]
    for row in rows:
        if not isinstance(row, dict) or not {"id", "question", "answerable"} <= set(row):
            raise InvalidArgument(f"{path}: every line needs id, question and answerable ({row!r:.80})")
    return rows


def _norm(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).casefold()


def fact_covered(text: str, facts: list[list[str]]) -> bool:
    """Every fact (a list of acceptable spellings) appears in text, case-insensitively."""
    text = _norm(text)
    return all(any(_norm(alt) in text for alt in alternatives) for alternatives in facts)


def markers_valid(answer) -> bool:
    """Every [n] in the answer text names one of its citations."""
    numbers = {c.n for c in answer.citations}
    return all(int(n) in numbers for n in MARKER.findall(answer.text))


def evaluate_questions(kb, path: str | Path, modes: list[str], progress: bool = False) -> dict:
    """Retrieval hit@1/hit@5 per mode (on kb.ask's rewritten query), then answer quality via kb.ask."""
    rows = load_questions(path)
    per_mode: dict[str, dict[str, list[float]]] = {m: {"hit@1": [], "hit@5": [], "all@5": []} for m in modes}
    answered: dict[str, list[float]] = {"facts": [], "citation": [], "markers": [], "abstain_no": [],
                                        "abstain_yes": []}
    failures: dict[str, list[str]] = {"hit@1": [], "hit@5": [], "facts": [], "citation": [], "markers": [],
                                      "false_abstention": [], "missed_abstention": [], "refused": []}
    started = time.perf_counter()
    for row in show(rows, "questions", progress):
        try:
            answer, refused = kb.ask(row["question"], row.get("history") or []), False
        except InvalidQuery as exc:  # empty or over-long input: the product refuses, which counts as abstaining
            answer, refused = Answer(row["question"], str(exc), abstained=True), True
            failures["refused"].append(row["id"])
        sources = set(row.get("sources") or [])
        if row["answerable"]:
            for mode in modes:
                hits = [] if refused else kb.search(answer.query or row["question"], k=5, mode=mode)
                top = [h.source for h in hits]
                per_mode[mode]["hit@1"].append(bool(top) and top[0] in sources)
                per_mode[mode]["hit@5"].append(bool(sources & set(top)))
                per_mode[mode]["all@5"].append(sources <= set(top))
                if mode == kb.settings.retrieval:
                    for name, k in (("hit@1", 1), ("hit@5", 5)):
                        if not sources & set(top[:k]):
                            failures[name].append(row["id"])
            answered["abstain_no"].append(answer.abstained)
            if answer.abstained:
                failures["false_abstention"].append(row["id"])
                continue
            checks = {"facts": fact_covered(answer.text, row.get("facts") or []),
                      "citation": any(c.hit.source in sources for c in answer.citations),
                      "markers": markers_valid(answer)}
            for name, ok in checks.items():
                answered[name].append(ok)
                if not ok:
                    failures[name].append(row["id"])
        else:
            answered["abstain_yes"].append(answer.abstained)
            if not answer.abstained:
                failures["missed_abstention"].append(row["id"])
    rate = lambda values: round(float(np.mean(values)), 4) if values else None  # noqa: E731
    retrieval = {m: {k: rate(v) for k, v in r.items()} for m, r in per_mode.items()}
    main = retrieval.get(kb.settings.retrieval) or next(iter(retrieval.values()), {})
    answerable = sum(1 for r in rows if r["answerable"])
    return {"questions": len(rows), "answerable": answerable, "unanswerable": len(rows) - answerable,
            "index": str(kb.index_dir), "retrieval_mode": kb.settings.retrieval,
            "answer_mode": kb.settings.llm or "extractive",
            "hit@1": main.get("hit@1"), "hit@5": main.get("hit@5"), "retrieval": retrieval,
            "fact_coverage": rate(answered["facts"]), "citation_correct": rate(answered["citation"]),
            "markers_valid": rate(answered["markers"]), "abstention_unanswerable": rate(answered["abstain_yes"]),
            "false_abstention": rate(answered["abstain_no"]),
            "seconds": round(time.perf_counter() - started, 1), "failures": failures}


def format_questions(report: dict) -> str:
    """The summary printed by `careerbot eval` on careerbot's own questions."""
    def pct(value) -> str:
        return "   n/a" if value is None else f"{100 * value:5.1f}%"

    out = [f"careerbot questions: {report['questions']} ({report['answerable']} answerable, "
             f"{report['unanswerable']} not), index {report['index']}, answers {report['answer_mode']}", "",
             f"{'retrieval':<10}{'hit@1':>8}{'hit@5':>8}{'all sources@5':>15}"]
    for mode, r in report["retrieval"].items():
        out.append(f"{mode:<10}{pct(r['hit@1']):>8}{pct(r['hit@5']):>8}{pct(r['all@5']):>15}")
    out += ["", f"answers ({report['retrieval_mode']} retrieval)",
              f"  fact coverage (all facts present)      {pct(report['fact_coverage'])}",
              f"  cites a right source                   {pct(report['citation_correct'])}",
              f"  every [n] marker valid                 {pct(report['markers_valid'])}",
              f"  abstained on unanswerable              {pct(report['abstention_unanswerable'])}",
              f"  abstained on answerable (false)        {pct(report['false_abstention'])}"]
    misses = {k: v for k, v in report["failures"].items() if v}
    if misses:
        out += ["", "failures: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in misses.items())]
    return "\n".join(out)

