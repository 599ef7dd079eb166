"""Fit careerbot's answer-or-abstain decision (src/careerbot/data/decision.json) on labelled questions.

Each labelled set is a corpus plus a question file; every question is answered once to gather its evidence,
whose generic features (careerbot.answer.decide.FEATURES) and label (answerable or not) make one training row. The
rows are split into folds grouped by article, so no fold is scored by a model that saw its articles. The
threshold is chosen on the held-out folds' predictions: by default the balanced point (answered share of the
answerable plus refused share of the rest, at its highest), or with --max-false-refusals F the highest that
refuses at most F of the answerable. The final model is fitted on all rows and keeps that threshold.

Usage:
    python scripts/fit_decision.py                       # tests/questions.jsonl + ../shared/devset when present
    python scripts/fit_decision.py --set CORPUS QUESTIONS  # your own articles and questions (repeatable)
    python scripts/fit_decision.py --dry-run             # report the cross-validated figures, write nothing

Question files: JSON lines with "question", "answerable" (or devset-style "gold"/"kind") and optionally
"history" (a list of {"role", "content"} messages or [user, assistant] pairs) and "sources" / "gold" / "about"
naming the article files they concern (the groups). tests/questions-unseen.jsonl is never used here.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(ROOT / "src"))

from careerbot import KnowledgeBase, Settings  # noqa: E402
from careerbot.answer.decide import (  # noqa: E402
    DATA,
    FEATURES,
    balanced_threshold,
    features,
    fit_logistic,
    grouped_folds,
    threshold_for,
    vector,
)
from careerbot.answer.evidence import gather  # noqa: E402


def rows_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def history_of(row: dict) -> list[dict]:
    history = row.get("history") or []
    if history and isinstance(history[0], (list, tuple)):
        return [m for u, a in history for m in ({"role": "user", "content": u}, {"role": "assistant", "content": a})]
    return list(history)


def label_of(row: dict) -> int:
    if "answerable" in row:
        return int(bool(row["answerable"]))
    return int(bool(row.get("gold")) and row.get("kind") not in ("absent", "boilerplate"))


def group_of(row: dict, name: str) -> str:
    files = row.get("sources") or [g["file"] for g in row.get("gold", [])] or row.get("about") or []
    return f"{name}:{Path(files[0]).name}" if files else f"{name}:none:{row.get('id', id(row))}"


def gather_set(corpus: Path, questions: Path, name: str, settings: Settings) -> tuple[list, list, list]:
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase.build(corpus, Path(tmp) / "index", settings)
        x, y, groups = [], [], []
        for row in rows_of(questions):
            ev = gather(kb, row["question"], history_of(row))
            x.append(vector(features(ev)))
            y.append(label_of(row))
            groups.append(group_of(row, name))
    print(f"{name}: {len(y)} questions ({sum(y)} answerable) over {corpus}", file=sys.stderr)
    return x, y, groups


def default_sets(work: Path) -> list[tuple[Path, Path, str]]:
    sets = [(ROOT / "corpus", ROOT / "tests" / "questions.jsonl", "tuned")]
    devset = ROOT.parent / "shared" / "devset"
    if (devset / "questions.jsonl").is_file():
        corpus = work / "devset-corpus"
        corpus.mkdir()
        for path in [*(ROOT / "corpus").iterdir(), *(devset / "articles").iterdir()]:
            if path.is_file():
                shutil.copy2(path, corpus / path.name)
        sets.append((corpus, devset / "questions.jsonl", "devset"))
    return sets


def rates(p: np.ndarray, y: np.ndarray, t: float) -> dict:
    answered = p >= t
    return {"false_refusals": round(float(np.mean(~answered[y == 1])), 3) if (y == 1).any() else None,
            "abstain_when_due": round(float(np.mean(~answered[y == 0])), 3) if (y == 0).any() else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", nargs=2, action="append", metavar=("CORPUS", "QUESTIONS"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--max-false-refusals", type=float, default=None,
                        help="pick the threshold that refuses at most this share of the answerable held-out "
                             "questions (default: the balanced point, Youden's J)")
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--out", default=str(DATA))
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    settings = Settings(progress="off")
    with tempfile.TemporaryDirectory() as tmp:
        sets = ([(Path(c), Path(q), Path(q).stem) for c, q in args.set] if args.set else default_sets(Path(tmp)))
        x, y, groups, names = [], [], [], []
        for corpus, questions, name in sets:
            xs, ys, gs = gather_set(corpus, questions, name, settings)
            x += xs
            y += ys
            groups += gs
            names += [name] * len(ys)
    x, y, names = np.array(x), np.array(y, dtype=float), np.array(names)
    held_out = np.zeros(len(y))
    for fold in grouped_folds(groups, args.folds):
        train = np.setdiff1d(np.arange(len(y)), fold)
        mean, scale, w, b = fit_logistic(x[train], y[train], args.l2)
        held_out[fold] = 1 / (1 + np.exp(-(((x[fold] - mean) / scale) @ w + b)))
    threshold = (threshold_for(held_out, y, args.max_false_refusals) if args.max_false_refusals is not None
                 else balanced_threshold(held_out, y))
    at_three = threshold_for(held_out, y, 0.03)
    mean, scale, w, b = fit_logistic(x, y, args.l2)
    in_sample = 1 / (1 + np.exp(-(((x - mean) / scale) @ w + b)))
    report = {"threshold": round(threshold, 4), "rows": int(len(y)), "folds": args.folds,
              "operating_point": "balanced" if args.max_false_refusals is None else
              f"false refusals <= {args.max_false_refusals}",
              "held_out_at_3pct_false_refusals": {"threshold": round(at_three, 4), **rates(held_out, y, at_three)},
              "held_out": {"all": rates(held_out, y, threshold),
                           **{n: rates(held_out[names == n], y[names == n], threshold) for n in sorted(set(names))}},
              "in_sample": {"all": rates(in_sample, y, threshold),
                            **{n: rates(in_sample[names == n], y[names == n], threshold) for n in sorted(set(names))}},
              "weights": {n: round(float(v), 3) for n, v in zip(FEATURES, w, strict=False)}}
    print(json.dumps(report, indent=2))
    if not args.dry_run:
        Path(args.out).write_text(json.dumps({
            "names": list(FEATURES), "mean": mean.tolist(), "scale": scale.tolist(), "weights": w.tolist(),
            "bias": b, "threshold": threshold, "fitted_on": sorted(set(names.tolist())), "report": report},
            indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
