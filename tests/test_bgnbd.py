"""BG/NBD checked against the published CDNOW parameters (Fader, Hardie & Lee 2005)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reactivate.errors import InputDataError, NotFittedError
from reactivate.scoring.bgnbd import BGNBD, log_likelihood, rfm_from_events
from tests.conftest import TEST_DATA

CDNOW = TEST_DATA / "cdnow-sample" / "CDNOW_sample.txt"
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def cdnow():
    raw = pd.read_csv(CDNOW, sep=r"\s+", header=None, names=["id", "id_full", "date", "cds", "dollars"],
                      dtype={"date": str})
    return rfm_from_events(raw["id"], pd.to_datetime(raw["date"], format="%Y%m%d"), "1997-09-30")


def test_reproduces_the_published_cdnow_parameters(cdnow):
    ids, x, t_x, T = cdnow
    assert len(ids) == 2357
    model = BGNBD().fit(x, t_x, T)
    for name, value in PUBLISHED.items():
        assert model.params_[name] == pytest.approx(value, rel=0.01), name
    assert model.log_likelihood_ == pytest.approx(-9582.4, abs=1.0)


def test_p_alive_and_expected_counts_behave(cdnow):
    _, x, t_x, T = cdnow
    model = BGNBD().fit(x, t_x, T)
    # the paper's example customer: x=2, t_x=30.43, T=38.86 expects about 1.226 purchases in 39 weeks
    assert model.expected_count(39, [2], [30.43], [38.86])[0] == pytest.approx(1.226, abs=0.01)
    p = model.p_alive([0, 3, 3], [0, 30, 5], [38, 38, 38])
    assert p[0] == 1.0 and p[1] > p[2]  # a recent repeat buyer is likelier alive than a lapsed one
    assert (model.expected_count(10, x, t_x, T) >= 0).all()


def test_likelihood_matches_a_hand_computed_value():
    # x = 0: L = B(a, b)/B(a, b) * (alpha/(alpha+T))^r = (1/2)^1 with r=1, alpha=1, a=b=1, T=1
    assert np.exp(log_likelihood((1.0, 1.0, 1.0, 1.0), np.array([0.0]), np.array([0.0]), np.array([1.0])))[0] \
        == pytest.approx(0.5)


def test_bad_inputs_and_not_fitted():
    with pytest.raises(InputDataError, match=r"1 customers with impossible \(frequency, recency, T\)"):
        BGNBD().fit([1, 2], [3, 1], [2, 4])
    with pytest.raises(NotFittedError):
        BGNBD().p_alive([1], [1], [2])


def test_p_active_is_exact():
    """P(a purchase within t) against a Monte Carlo over the model's posterior (importance weights)."""
    model = BGNBD()
    model.params_ = dict(PUBLISHED)
    r, alpha, a, b = PUBLISHED.values()
    rng = np.random.default_rng(0)
    lam = rng.gamma(r, 1 / alpha, 400_000)
    p = rng.beta(a, b, 400_000)
    t = 13.0
    for x, t_x, T in ((0, 0.0, 30.0), (2, 20.0, 38.0), (5, 10.0, 40.0)):
        alive = (1 - p) ** x * lam**x * np.exp(-lam * T)  # alive at T, x repeat purchases
        dead = p * (1 - p) ** (x - 1) * lam**x * np.exp(-lam * t_x) if x > 0 else 0.0  # dropped after the last
        mc = (alive * (1 - np.exp(-lam * t))).sum() / (alive + dead).sum()
        assert model.p_active(t, [x], [t_x], [T])[0] == pytest.approx(mc, rel=0.03, abs=0.002)
    # never more than the Poisson approximation of the expected count allows, and no dropout before a repeat
    x, t_x, T = np.array([0.0, 3, 3]), np.array([0.0, 30, 5]), np.array([38.0, 38, 38])
    exact = model.p_active(t, x, t_x, T)
    assert exact[0] == pytest.approx(1 - ((alpha + T[0]) / (alpha + T[0] + t)) ** r)
    assert exact[1] > exact[2] and ((exact > 0) & (exact < 1)).all()


def test_a_book_where_nobody_drops_out_still_fits():
    """The dropout probability goes to 0 (a -> 0): a bounded fit reaches the limit instead of failing."""
    rng = np.random.default_rng(1)
    n = 3000
    T = rng.uniform(20, 50, n)
    lam = rng.gamma(2.0, 0.1, n)
    times = [np.sort(rng.uniform(0, T[i], rng.poisson(lam[i] * T[i]))) for i in range(n)]
    x = np.array([max(len(s) - 1, 0) for s in times], dtype=float)
    t_x = np.array([s[-1] - s[0] if len(s) > 1 else 0.0 for s in times])
    T2 = np.array([T[i] - s[0] if len(s) else T[i] for i, s in enumerate(times)])
    model = BGNBD().fit(x, t_x, T2)
    assert np.isfinite(model.log_likelihood_) and model.params_["a"] / (model.params_["a"] + model.params_["b"]) < 0.01
    assert (model.p_active(13, x, t_x, T2) > 0).all()
