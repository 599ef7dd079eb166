"""The answer-or-abstain decision, model-free: the fit, the folds, the operating points and the shipped file."""
from __future__ import annotations

import json

import numpy as np
import pytest

from careerbot.answer.decide import (
    DATA,
    FEATURES,
    Decision,
    balanced_threshold,
    fit_logistic,
    grouped_folds,
    threshold_for,
)


def test_logistic_fit_separates_a_separable_rule():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 0] - 0.5 * x[:, 2] > 0).astype(float)
    mean, scale, w, b = fit_logistic(x, y, l2=0.1, steps=4000, lr=0.5)
    p = 1 / (1 + np.exp(-(((x - mean) / scale) @ w + b)))
    assert np.mean((p >= 0.5) == (y == 1)) > 0.95
    assert w[0] > 0 > w[2] and abs(w[1]) < abs(w[0]) / 4


def test_folds_never_split_an_article():
    groups = ["a"] * 5 + ["b"] * 3 + ["c"] * 3 + ["d"] + ["e"] * 2
    folds = grouped_folds(groups, 3)
    assert sorted(i for f in folds for i in f) == list(range(len(groups)))
    for fold in folds:
        inside = {groups[i] for i in fold}
        outside = {groups[i] for f in folds if f is not fold for i in f}
        assert not inside & outside


def test_operating_points():
    p = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.8, 0.9, 0.95])
    y = np.array([0, 0, 1, 0, 1, 1, 1, 1])
    t = threshold_for(p, y, 0.0)  # refuse no answerable item
    assert t == 0.3 and np.all(p[y == 1] >= t)
    t = threshold_for(p, y, 0.2)  # one of five may be refused
    assert t == 0.7
    assert balanced_threshold(p, y) == 0.7  # answers 4/5, refuses 3/3: the best sum


def test_decision_probability_and_refusal_without_terms():
    names = ("a", "no_terms")
    decision = Decision(names, (0.0, 0.0), (1.0, 1.0), (4.0, 0.0), 0.0, 0.5)
    assert decision.probability({"a": 1.0, "no_terms": 0.0}) > 0.9
    assert decision.probability({"a": -1.0, "no_terms": 0.0}) < 0.1


def test_the_shipped_decision_matches_the_features():
    data = json.loads(DATA.read_text())
    assert tuple(data["names"]) == FEATURES
    assert len(data["weights"]) == len(data["mean"]) == len(data["scale"]) == len(FEATURES)
    assert 0.0 < data["threshold"] < 1.0
    # Fitted with article-grouped folds; the held-out figures are reported next to the in-sample ones.
    report = data["report"]
    assert report["held_out"]["all"]["false_refusals"] is not None and "in_sample" in report
    assert "questions-unseen" not in json.dumps(data["fitted_on"])


@pytest.mark.parametrize("name", FEATURES)
def test_every_feature_has_a_finite_weight(name):
    data = json.loads(DATA.read_text())
    assert np.isfinite(data["weights"][list(FEATURES).index(name)])
