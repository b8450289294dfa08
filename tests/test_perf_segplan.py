"""The faster segment and plan steps give what the plain ones gave: the same choices, counts, distances and
optimum (issue 15)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import pairwise_distances_chunked, silhouette_score

from reactivate.planning import optimizer
from reactivate.planning.optimizer import allocate, counts2d

NEG = -np.inf


class _InOrder:
    """A stand-in for the thread pool: the slices one after the other."""

    def map(self, f, items):
        return [f(x) for x in items]


def _instance(n, C=4, R=6, H=8, seed=0, tight=0.6):
    rng = np.random.default_rng(seed)
    util = rng.lognormal(3, 1, (n, C)) - rng.uniform(0, 10, C)
    util[rng.random((n, C)) < 0.3] = NEG
    lo = np.sort(rng.integers(0, H + 1, n))
    rm = rng.integers(0, R, n)
    per = max(1, int(tight * n / C / H))
    ch_cap = rng.integers(per // 2, per + 2, (C, H))
    rm_cap = rng.integers(0, max(2, int(tight * n / R / H)), (R, H))
    return util, lo, rm, ch_cap, rm_cap


@pytest.mark.parametrize("n", [0, 1, 7, 9000, 70_001])
def test_choose_in_slices_is_one_pass(monkeypatch, n):
    """Slices (on threads) and one pass choose the same score, channel and week for everyone."""
    util, lo, rm, ch_cap, rm_cap = _instance(max(n, 1), seed=n)
    util, lo, rm = util[:n], lo[:n], rm[:n]
    ua = optimizer.shifted_values(util, lo, 0.5, np.float32)
    rng = np.random.default_rng(1)
    pc, pr = rng.uniform(0, 20, ch_cap.shape), rng.uniform(0, 20, rm_cap.shape)
    pc[1, 3] = np.inf
    whole = optimizer._choose(ua, lo, rm, pc, pr, 0, 0.5)
    monkeypatch.setattr(optimizer, "CHOOSE_SLICE", 5)
    monkeypatch.setattr(optimizer, "_threads", lambda: _InOrder())
    sliced = optimizer._choose(ua, lo, rm, pc, pr, 0, 0.5)
    for a, b in zip(whole, sliced, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_shifted_transpose_matches_column_by_column():
    util, lo, *_ = _instance(150_000, C=5, seed=3)
    for dtype in (np.float32, np.float64):
        want = np.stack([(util[:, j] + 0.5 * lo).astype(dtype) for j in range(util.shape[1])])
        got = optimizer.shifted_values(util, lo, 0.5, dtype)
        assert got.flags.c_contiguous and np.array_equal(got, want)


def test_counts2d_is_add_at():
    rng = np.random.default_rng(0)
    r, c = rng.integers(0, 5, 1000), rng.integers(0, 7, 1000)
    want = np.zeros((5, 7), dtype=np.int64)
    np.add.at(want, (r, c), 1)
    assert np.array_equal(counts2d(r, c, (5, 7)), want)
    assert np.array_equal(counts2d(r[:0], c[:0], (5, 7)), np.zeros((5, 7), dtype=np.int64))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("tight", [3.0, 0.6, 0.05])
def test_settled_keeps_the_optimum(seed, tight):
    """Settling the uncontested customers first gives the exact optimum; with room for all, the same plan."""
    util, lo, rm, ch_cap, rm_cap = _instance(3000, seed=seed, tight=tight)
    full = allocate(util, lo, rm, ch_cap, rm_cap, 0, delay_cost=0.5, method="exact")
    fast = allocate(util, lo, rm, ch_cap, rm_cap, 0, delay_cost=0.5, method="exact", settle=True)
    assert fast.objective == pytest.approx(full.objective, rel=1e-12)
    on = fast.week >= 0
    used = np.zeros_like(ch_cap)
    np.add.at(used, (fast.channel[on], fast.week[on]), 1)
    assert (used <= ch_cap).all() and (fast.week[on] >= lo[on]).all()
    if tight == 3.0:  # everyone's best fits: the only optimum
        assert np.array_equal(fast.channel, full.channel) and np.array_equal(fast.week, full.week)


def test_care_first_stage_uses_the_settled_split(monkeypatch):
    util, lo, rm, ch_cap, rm_cap = _instance(40_000, seed=5)
    first = np.zeros(len(util), dtype=bool)
    first[::50] = True
    calls = []
    real = optimizer._settled
    monkeypatch.setattr(optimizer, "_settled", lambda *a: calls.append(len(a[0])) or real(*a))
    a = allocate(util, lo, rm, ch_cap, rm_cap, 0, delay_cost=0.5, first=first)
    assert len(calls) == 1 and calls[0] <= first.sum()  # the care stage only, not everyone's
    assert a.objective > 0


def test_silhouette_on_precomputed_distances_is_the_same():
    """The k choice computes the probe's distances once: the silhouettes stay the same to the last bit."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 5)) * rng.uniform(0.2, 3, 5)
    dist = np.vstack(list(pairwise_distances_chunked(X)))
    for k in (2, 3, 5):
        lab = rng.integers(0, k, len(X))
        assert silhouette_score(dist, lab, metric="precomputed") == silhouette_score(X, lab)
