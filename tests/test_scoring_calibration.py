"""Calibration (Platt, isotonic) and the figures a score is judged by: AUC, lift, Brier, ECE, reliability."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reactivate.scoring.calibration import (
    Calibrator,
    auc,
    ece,
    logit,
    reliability,
    score_figures,
    sigmoid,
    top_decile_lift,
)
from reactivate.scoring.learners import Learner, informative_columns


def test_platt_recovers_a_miscalibrated_score_and_keeps_its_ranking():
    rng = np.random.default_rng(0)
    z = rng.normal(size=20_000)
    y = rng.random(20_000) < sigmoid(0.5 * z - 2.0)  # the raw score is 2x too steep and 2 too high
    cal = Calibrator().fit(z, y, isotonic_ok=False)
    assert cal.kind == "platt"
    d = cal.describe()
    assert d["slope"] == pytest.approx(0.5, abs=0.05) and d["intercept"] == pytest.approx(-2.0, abs=0.1)
    p = cal(z)
    assert p.mean() == pytest.approx(y.mean(), rel=0.02)
    assert auc(y, p) == pytest.approx(auc(y, z))  # strictly increasing: the same ranking


def test_isotonic_only_with_many_returns_and_constant_without_both_outcomes():
    rng = np.random.default_rng(1)
    z = rng.normal(size=30_000)
    y = rng.random(30_000) < sigmoid(z)
    iso = Calibrator().fit(z, y)
    assert iso.kind == "isotonic"
    assert auc(y, iso(z)) == pytest.approx(auc(y, z))  # the steps keep the score's ranking
    assert iso(z).mean() == pytest.approx(y.mean(), abs=0.005)
    assert Calibrator().fit(z, y, isotonic_ok=False).kind == "platt"
    assert Calibrator().fit(z[:500], y[:500]).kind == "platt"
    c = Calibrator().fit(z[:10], np.zeros(10, bool))
    assert c.kind == "constant" and (c(z[:3]) > 0).all()


def test_auc_and_lift_by_hand_ties_shared():
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 0], bool)
    assert auc(y, np.arange(10)[::-1]) == pytest.approx(1 - 1 / 16)
    assert auc(y, np.zeros(10)) == 0.5 and auc(np.zeros(3, bool), [1, 2, 3]) is None
    assert top_decile_lift(y, np.arange(10)[::-1]) == pytest.approx(5.0)
    assert top_decile_lift(y, np.zeros(10)) == pytest.approx(1.0)  # a constant score lifts nothing


def test_reliability_brier_and_ece():
    rng = np.random.default_rng(2)
    p = rng.uniform(0, 0.5, 50_000)
    y = rng.random(50_000) < p
    table = reliability(y, p)
    assert len(table) == 10 and sum(r["rows"] for r in table) == 50_000
    assert all(abs(r["mean_predicted"] - r["observed"]) < 0.02 for r in table)
    assert ece(y, p) < 0.01 and ece(y, np.clip(2 * p, 0, 1)) > 0.1
    f = score_figures(y, p, True, table=True)
    assert f["brier"] == pytest.approx(np.mean((p - y) ** 2), abs=1e-5)
    assert f["predicted_over_observed"] == pytest.approx(1.0, abs=0.02) and len(f["reliability"]) == 10
    assert "brier" not in score_figures(y, p, False)


def test_learners_drop_all_missing_and_constant_columns_before_fitting():
    """scikit-learn 1.9's gradient boosting fails on an all-missing column: no learner ever sees one."""
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=500), "age": np.nan, "has_rm": 0.0,
                      "gappy": np.where(rng.random(500) < 0.5, np.nan, rng.normal(size=500))})
    y = rng.random(500) < sigmoid(X["a"].to_numpy())
    assert informative_columns(X) == ["a", "gappy"]
    for kind in ("gbm", "linear"):
        m = Learner(kind).fit(X, y)
        assert m.columns_ == ["a", "gappy"] and set(m.dropped_) == {"age", "has_rm"}
        z = m.z(X)
        assert np.isfinite(z).all() and auc(y, z) > 0.6
    # a training subset where a column is missing everywhere (a fold, an earlier snapshot)
    X2 = X.assign(gappy=np.nan)
    assert Learner("gbm").fit(X2, y).z(X).shape == (500,)
    # nothing to learn from
    assert np.allclose(Learner("linear").fit(X, np.zeros(500, bool)).z(X), logit(1e-4))


def test_the_linear_learner_learns_corrections_to_an_offset():
    rng = np.random.default_rng(4)
    n = 4000
    X = pd.DataFrame({"prior": rng.normal(size=n) - 2.0, "x": rng.normal(size=n)})
    y = rng.random(n) < sigmoid(X["prior"] + 0.3 * X["x"])
    m = Learner("linear", offset="prior").fit(X, y)
    assert m.columns_ == ["x"]  # the offset is not a learned feature
    z = m.z(X)
    assert np.corrcoef(z - X["prior"], X["x"])[0, 1] > 0.9
