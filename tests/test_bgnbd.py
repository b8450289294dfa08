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
