"""The answer-or-abstain decision: a logistic regression over a few generic features of the evidence, fitted
on labelled questions with cross-validation grouped by article (scripts/fit_decision.py) and shipped as
data/decision.json. Nothing here knows the corpus: the features are similarities, coverages and whether the
kind of answer asked for (a figure, the question's own numbers and names) is present.

Usage:
    decision = Decision.load()
    decision.answerable(evidence)   # True → compose an answer, False → abstain
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from .evidence import holds_number

DATA = Path(__file__).parents[1] / "data" / "decision.json"
FEATURES = ("strength", "best_similarity", "best_aspect", "best_coverage", "best_fit", "top_hit_similarity",
            "top_hit_score", "article_margin", "eligible", "figure_asked", "figure_found", "numbers_missing",
            "names_missing", "no_terms", "constraints_met")


def features(ev) -> dict[str, float]:
    """Generic features of gathered evidence (an evidence.Evidence)."""
    units, hits, verdict = ev.units, ev.hits, ev.verdict
    best = max(units, key=lambda u: u.aspect + u.similarity) if units else None
    top = hits[0] if hits else None
    other = next((h for h in hits if top is not None and h.source != top.source), None)
    eligible = verdict.eligible or ((verdict.support,) if verdict.support is not None else ())
    return {
        "strength": float(verdict.strength),
        "best_similarity": max((u.similarity for u in units), default=0.0),
        "best_aspect": max((u.aspect for u in units), default=0.0),
        "best_coverage": max((u.coverage for u in units), default=0.0),
        "best_fit": best.fit if best else 0.0,
        "top_hit_similarity": top.similarity if top else 0.0,
        "top_hit_score": top.score if top else 0.0,
        "article_margin": (top.score - other.score) if top and other else (top.score if top else 0.0),
        "eligible": float(bool(eligible)),
        "figure_asked": float(ev.figure),
        "figure_found": float(ev.figure and any(holds_number(u.text) for u in eligible)),
        "numbers_missing": float(verdict.reason == "numbers"),
        "names_missing": float(verdict.reason == "names"),
        "no_terms": float(verdict.reason == "no-terms"),
        # The evidence stage's own check: one unit meets every constraint and covers the question.
        "constraints_met": float(verdict.answerable),
    }


def vector(feats: dict[str, float], names: tuple[str, ...] = FEATURES) -> np.ndarray:
    return np.array([feats[n] for n in names], dtype=np.float64)


@dataclass(frozen=True)
class Decision:
    """Standardised logistic regression: P(answerable) = σ(w · (x − mean) / scale + b), answer at ≥ threshold."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float

    @classmethod
    def load(cls, path: Path = DATA) -> Decision:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(tuple(data["names"]), tuple(data["mean"]), tuple(data["scale"]), tuple(data["weights"]),
                   float(data["bias"]), float(data["threshold"]))

    def probability(self, feats: dict[str, float]) -> float:
        x = (vector(feats, self.names) - np.array(self.mean)) / np.array(self.scale)
        z = float(x @ np.array(self.weights) + self.bias)
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def answerable(self, ev) -> bool:
        """No terms to look up (a greeting, "tell me more" alone) is never answerable."""
        feats = features(ev)
        return not feats["no_terms"] and self.probability(feats) >= self.threshold


@cache
def shipped_decision() -> Decision:
    """The decision shipped with careerbot (data/decision.json), loaded once."""
    return Decision.load()


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 3000,
                 lr: float = 0.1) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Mean, scale, weights and bias of an L2-regularised logistic regression (batch gradient descent on
    standardised features). Usage: mean, scale, w, b = fit_logistic(X, y)"""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    w, b = np.zeros(z.shape[1]), 0.0
    n = len(y)
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        w -= lr * (z.T @ (p - y) / n + l2 * w / n)
        b -= lr * float(np.mean(p - y))
    return mean, scale, w, b


def grouped_folds(groups: list[str], k: int) -> list[list[int]]:
    """Indices split into k folds so that no group (article) is in two folds; groups dealt largest first."""
    by_group: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        by_group.setdefault(g, []).append(i)
    folds: list[list[int]] = [[] for _ in range(min(k, len(by_group)))]
    for members in sorted(by_group.values(), key=len, reverse=True):
        min(folds, key=len).extend(members)
    return folds


def balanced_threshold(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The threshold that maximises the answered share of answerable items plus the refused share of the
    others (Youden's J), ties broken towards answering."""
    best, best_score = 0.5, -1.0
    for t in sorted(set(np.round(probabilities, 4).tolist())):
        answered = probabilities >= t
        score = float(np.mean(answered[labels == 1])) + float(np.mean(~answered[labels == 0]))
        if score > best_score + 1e-9:
            best, best_score = t, score
    return best


def threshold_for(probabilities: np.ndarray, labels: np.ndarray, max_false_refusals: float) -> float:
    """The highest threshold at which at most `max_false_refusals` of the answerable items are refused."""
    answerable = np.sort(probabilities[labels == 1])
    if len(answerable) == 0:
        return 0.5
    allowed = int(math.floor(max_false_refusals * len(answerable)))
    return float(answerable[allowed]) if allowed < len(answerable) else float(answerable[-1])
