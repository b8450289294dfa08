"""Occasions read in place from the engine's store answer exactly as those of the whole log folded in memory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from reactivate.data.engine import engine_for_frame
from reactivate.scoring.occasions import LogOccasions, Occasions

TODAY = int(np.datetime64("2026-11-30", "D").astype(np.int64))


def _log(seed: int, n_customers: int = 80, n_rows: int = 6000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = np.array([f"C{i:03d}" for i in range(n_customers)], dtype=object)
    weights = rng.pareto(1.2, n_customers) + 0.01  # a few customers with long histories, many with short ones
    days = TODAY - rng.integers(0, 2000, n_rows)
    amount = np.round(rng.normal(0, 500, n_rows), 2)
    amount[rng.random(n_rows) < 0.05] = np.nan
    channels = ["branch", "online", "mobile", "auto", "wechat", "atm"]
    return pd.DataFrame({
        "customer_id": pd.Categorical(rng.choice(ids, n_rows, p=weights / weights.sum())),
        "timestamp": (days * 86400 + rng.integers(0, 86400, n_rows)).astype("datetime64[s]"),
        "amount": amount,
        "channel": pd.Categorical(rng.choice(channels, n_rows), categories=channels),
        "initiated_by": pd.Categorical(rng.choice(["customer", "bank"], n_rows, p=[0.8, 0.2])),
    })


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_any_day_reads_as_the_whole_log(seed):
    txn = _log(seed)
    ids = sorted(set(txn["customer_id"].astype(str)) | {"Z0", "Z1"})  # two without rows
    index = pd.Index(np.array(ids, dtype=object), name="customer_id")
    eng = engine_for_frame(txn)
    eng.bind(pa.array(index.to_numpy(), type=pa.string()))
    whole, log = Occasions(txn, index), LogOccasions(eng, index, TODAY, 84, 7)
    rng = np.random.default_rng(seed + 10)
    pos = rng.integers(0, len(index), 3000)  # unsorted, repeated
    day = TODAY - rng.integers(-30, 2600, len(pos))  # before the log, within it, after it
    pd.testing.assert_frame_equal(log.features(pos, day, 84), whole.features(pos, day, 84), check_exact=True)
    pd.testing.assert_frame_equal(log.features(pos, day, 30), whole.features(pos, day, 30), check_exact=True)
    for a, b in zip(log.span(pos, day), whole.span(pos, day), strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(log.came_back(pos, day, 84), whole.came_back(pos, day, 84))
    assert np.array_equal(log.recency(pos, day), whole.recency(pos, day), equal_nan=True)
    for period in (1, 7, 30):
        for a, b in zip(log.rfm(pos, day, period_days=period), whole.rfm(pos, day, period_days=period), strict=True):
            assert np.array_equal(a, b)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_customers_figures_are_the_same_bits_whatever_the_chunk(seed, monkeypatch):
    """The per-customer figures of the occasions (and the occasions themselves) are computed a chunk of customers
    at a time; any chunk size gives the same bits as one chunk of every customer."""
    from reactivate.data import engine as eng

    log = _log(seed)
    index = pd.Index([*sorted(set(log["customer_id"].astype(str))), "C999"], name="customer_id")  # one with none

    def figures():
        e = engine_for_frame(log)
        e.bind(pa.array(index.to_numpy(dtype=object), type=pa.string()))
        return e.customers(index, TODAY, 84, 30), e.occasions(index)

    monkeypatch.setattr(eng, "CHUNK_CUSTOMERS", 10 ** 9)
    want, want_occ = figures()
    for size in (1, 7, 50):
        monkeypatch.setattr(eng, "CHUNK_CUSTOMERS", size)
        got, got_occ = figures()
        assert set(got) == set(want) and set(got_occ) == set(want_occ)
        for k in want:
            assert got[k].dtype == want[k].dtype and got[k].tobytes() == want[k].tobytes(), (size, k)
        for k in want_occ:
            assert got_occ[k].tobytes() == want_occ[k].tobytes(), (size, k)
    assert "pos" not in want_occ  # whose each occasion is: the offsets say
    pos = eng.occasion_positions(want_occ["start"])
    assert len(pos) == len(want_occ["day"]) and (np.diff(pos) >= 0).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_sample_of_customers_reads_as_the_whole_log(seed):
    """With ``among`` (the customers whose occasions a Spark run fetches), any day of those customers reads as
    the whole log (the amounts' running total is the sample's: within 1e-12), today's of everyone still comes
    from the aggregates, and an earlier day of a customer outside the sample is an error, not a wrong answer."""
    txn = _log(seed)
    index = pd.Index(np.array(sorted(set(txn["customer_id"].astype(str))), dtype=object), name="customer_id")
    eng = engine_for_frame(txn)
    eng.bind(pa.array(index.to_numpy(), type=pa.string()))
    rng = np.random.default_rng(seed + 20)
    among = np.sort(rng.choice(len(index), len(index) // 3, replace=False))
    whole, log = Occasions(txn, index), LogOccasions(eng, index, TODAY, 84, 7, among)
    assert log.all.n == len(among)
    pos = rng.choice(among, 2000)
    day = TODAY - rng.integers(-30, 2600, len(pos))
    for horizon in (84, 30):
        pd.testing.assert_frame_equal(log.features(pos, day, horizon), whole.features(pos, day, horizon),
                                      check_exact=False, rtol=1e-12, atol=1e-9)
    for a, b in zip(log.span(pos, day), whole.span(pos, day), strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(log.came_back(pos, day, 84), whole.came_back(pos, day, 84))
    for period in (1, 7, 30):
        for a, b in zip(log.rfm(pos, day, period_days=period), whole.rfm(pos, day, period_days=period), strict=True):
            assert np.array_equal(a, b)
    everyone = np.arange(len(index))
    today = np.full(len(index), TODAY)
    pd.testing.assert_frame_equal(log.features(everyone, today, 84), whole.features(everyone, today, 84),
                                  check_exact=True)
    outside = np.setdiff1d(everyone, among)[:5]
    with pytest.raises(ValueError, match="outside the sample"):
        log.features(outside, np.full(len(outside), TODAY - 100), 84)
    with pytest.raises(ValueError, match="outside the sample"):
        log.came_back(outside, np.full(len(outside), TODAY - 100), 84)
