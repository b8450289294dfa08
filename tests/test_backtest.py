"""Purchase occasions and backtest snapshots: features only from on or before each snapshot, labels after."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reactivate.scoring.backtest import (
    baselines,
    decay_bands,
    estimate_decay,
    fit_bgnbd_at,
    snapshot_days,
    stacked_examples,
)
from reactivate.scoring.occasions import LOG_FEATURES, Occasions


def day(s: str) -> int:
    return int(np.datetime64(s, "D").astype(np.int64))


def log(rows, columns=("customer_id", "timestamp", "amount", "channel", "initiated_by")):
    t = pd.DataFrame(rows, columns=list(columns))
    t["timestamp"] = pd.to_datetime(t["timestamp"], format="mixed").astype("datetime64[s]")
    t["customer_id"] = t["customer_id"].astype("category")
    return t


TXN = log([
    ("A", "2024-01-10 09:00", 100.0, "mobile", "customer"),
    ("A", "2024-01-10 17:00", 20.0, "branch", "customer"),  # same day: the same occasion
    ("A", "2024-07-10", -50.0, "branch", "customer"),
    ("A", "2025-01-10", 30.0, "atm", "customer"),
    ("A", "2025-06-01", 1.0, "auto", "bank"),  # interest: never activity
    ("A", "2025-08-01", 20.0, "mobile", "customer"),  # after the snapshot: the label, never a feature
    ("B", "2023-05-01", 10.0, "atm", "customer"),
])
INDEX = pd.Index(["A", "B"], dtype=object)
SNAP = day("2025-07-14")  # the end of this day


def test_occasions_are_distinct_customer_initiated_days():
    occ = Occasions(TXN, INDEX)
    assert len(occ.day) == 5  # A: 4 days of their own (interest left out), B: 1
    n, first, last = occ.span([0, 1], [SNAP, SNAP])
    assert n.tolist() == [3, 1] and first[0] == day("2024-01-10") and last[0] == day("2025-01-10")
    assert occ.came_back([0, 1], [SNAP, SNAP], 30).tolist() == [True, False]
    assert occ.came_back([0, 1], [SNAP, SNAP], 17).tolist() == [False, False]
    assert occ.came_back([0, 1], [SNAP, SNAP], 18).tolist() == [True, False]  # 2025-08-01 is the 18th day after


def test_features_by_hand():
    f = Occasions(TXN, INDEX).features(np.array([0, 1]), np.array([SNAP, SNAP]), 84)
    a = f.loc[0]
    assert a["recency_days"] == SNAP - day("2025-01-10") == 185
    assert a["n_occasions"] == 3 and a["rows_per_occasion"] == 4 / 3
    assert a["tenure_days"] == SNAP - day("2024-01-10")
    gaps = [day("2024-07-10") - day("2024-01-10"), day("2025-01-10") - day("2024-07-10")]
    assert a["gap_mean"] == pytest.approx(np.mean(gaps)) and a["gap_last"] == gaps[-1]
    assert a["gap_spread"] == pytest.approx(np.std(gaps) / np.mean(gaps))
    assert a["recency_over_gap"] == pytest.approx(185 / np.mean(gaps))
    assert a["n_last_year"] == 1  # 2025-01-10 only
    assert a["amount_mean"] == pytest.approx((120 + 50 + 30) / 3) and a["amount_last"] == 30
    assert a["digital_share"] == pytest.approx(1 / 3)  # the first day had a mobile row
    # the log starts 2023-05-01, so a year before the snapshot is inside it: no occasion in the 84 days after
    # 2024-07-14, but one (2024-07-10) in those after 2024-07-05
    assert a["same_time_last_year"] == 0.0
    f2 = Occasions(TXN, INDEX).features(np.array([0]), np.array([day("2025-07-05")]), 84)
    assert f2.loc[0, "same_time_last_year"] == 1.0
    assert f.loc[1, "n_occasions"] == 1 and np.isnan(f.loc[1, "gap_mean"])
    assert list(f.columns) == [k for k in LOG_FEATURES if k in f.columns]


def test_same_time_last_year_is_missing_when_the_log_is_shorter():
    occ = Occasions(TXN[TXN["timestamp"] >= "2024-01-01"], INDEX)
    f = occ.features(np.array([0]), np.array([day("2024-12-01")]), 84)
    assert np.isnan(f.loc[0, "same_time_last_year"])
    assert f.loc[0, "history_days"] == day("2024-12-01") - day("2024-01-10")


def test_a_log_without_amounts_or_channels_has_no_such_features():
    occ = Occasions(TXN[["customer_id", "timestamp"]], INDEX)
    f = occ.features(np.array([0, 1]), np.array([SNAP, SNAP]), 84)
    assert not {"amount_mean", "amount_last", "digital_share"} & set(f.columns)
    assert f.loc[0, "n_occasions"] == 4  # without initiated_by every row counts (the interest day too)


@st.composite
def logs_and_snapshots(draw):
    n = draw(st.integers(1, 6))
    rows = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 900), st.floats(-500, 500),
                                   st.sampled_from(["mobile", "branch", "online"]),
                                   st.sampled_from(["customer", "customer", "bank"])), min_size=1, max_size=60))
    snap = draw(st.integers(0, 900))
    later = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(1, 400), st.floats(-500, 500),
                                    st.sampled_from(["mobile", "branch", "online"]),
                                    st.sampled_from(["customer", "bank"])), max_size=30))
    return n, rows, snap, later


BASE = day("2022-01-01")


def _table(rows, base=BASE):
    return log([(f"C{c}", np.datetime64(base + d, "D"), a, ch, who) for c, d, a, ch, who in rows])


@settings(max_examples=60, deadline=None)
@given(logs_and_snapshots())
def test_leakage_no_snapshot_feature_reads_a_transaction_after_the_snapshot(case):
    """Features, BG/NBD inputs and dormancy at the end of a day are the same whatever happens after it:
    rows after the snapshot are dropped, replaced by others, or added; only the label may change."""
    n, rows, snap, later = case
    index = pd.Index([f"C{i}" for i in range(n)], dtype=object)
    before = [r for r in rows if r[1] <= snap]
    changed = before + [(c, snap + k, a, ch, who) for c, k, a, ch, who in later]
    base = day("2022-01-01")
    d = base + snap
    pos = np.arange(n)
    days = np.full(n, d)
    views = []
    for rr in (rows, changed, before):
        if not rr:
            continue
        occ = Occasions(_table(rr), index)
        f = occ.features(pos, days, 84).drop(columns=["history_days"])  # the log's start may be after
        views.append((f, occ.rfm(pos, days), occ.recency(pos, days)))
    for f, rfm, rec in views[1:]:
        pd.testing.assert_frame_equal(f[views[0][0].columns], views[0][0], check_dtype=False)
        for a, b in zip(rfm, views[0][1], strict=True):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(rec, views[0][2])


def test_leakage_stacked_examples_read_nothing_after_their_snapshot(demo_book):
    """Every backtest example's features equal those computed on the log cut at its snapshot."""
    from reactivate.config.campaign import load_campaign
    from reactivate.data.load import load_book
    from reactivate.dormancy.customers import build_customers
    from reactivate.scoring.sources import Context
    from tests.conftest import AS_OF

    spec = load_campaign(None)
    b = load_book(accounts=None, transactions=demo_book / "transactions.csv", spec=spec, as_of=AS_OF)
    customers = build_customers(b, spec, AS_OF)
    ctx = Context(customers, b, spec, AS_OF, customers.index)
    ex = ctx.examples()
    assert len(ex) > 1000 and len(np.unique(ex.day)) >= 3
    for snap in np.unique(ex.day)[[0, -1]]:  # the first and the latest snapshot
        rows = np.flatnonzero(ex.day == snap)[:300]
        full = ctx.features(ex.pos[rows], ex.day[rows]).drop(columns=["history_days"])
        end = pd.Timestamp(np.datetime64(int(snap) + 1, "D"))
        cut = Occasions(b.transactions[b.transactions["timestamp"] < end], customers.index)
        own = cut.features(ex.pos[rows], ex.day[rows], ctx.horizon).drop(columns=["history_days"])
        pd.testing.assert_frame_equal(full[own.columns], own)
        assert (ex.recency[rows] >= spec.dormancy.dormant_days).all()


def test_snapshots_run_back_to_the_log_start_a_step_apart():
    s = snapshot_days(day("2024-01-01"), day("2026-11-30"), 84, 365)
    assert s[-1] == day("2026-11-30") - 84 and all(b - a == 84 for a, b in itertools.pairwise(s))
    assert s[0] - day("2024-01-01") >= 365 and s[0] - 84 - day("2024-01-01") < 365
    # a short log: 9 months, 90-day dormancy, 91-day horizon, half-horizon steps
    s = snapshot_days(day("2010-12-01"), day("2011-09-08"), 91, 90, 46)
    assert s[-1] == day("2011-09-08") - 91 and s[0] - day("2010-12-01") >= 90 and len(s) == 3
    assert snapshot_days(day("2011-01-01"), day("2011-03-01"), 91, 90) == []


def test_stacked_examples_are_the_dormant_at_each_snapshot():
    occ = Occasions(TXN, INDEX)
    ex = stacked_examples(occ, occ.recency, [np.arange(2)] * 2, [day("2025-01-08"), day("2025-02-01")], 30, 180)
    # A is dormant (>= 180 days) on 2025-01-08 (since 2024-07-10), not on 2025-02-01; B on both
    assert list(zip(ex.pos.tolist(), ex.day.tolist(), strict=True)) == [
        (0, day("2025-01-08")), (1, day("2025-01-08")), (1, day("2025-02-01"))]
    assert ex.y.tolist() == [True, False, False]  # A bought on 2025-01-10


def test_decay_bands_follow_the_campaign_thresholds():
    assert decay_bands(365, 730) == [365, 547, 730, 1095, 1460, 2190, 3650]
    assert decay_bands(90, 180) == [90, 135, 180, 270, 360, 540, 900]
    rng = np.random.default_rng(0)
    rec = rng.uniform(90, 900, 20_000)
    y = rng.random(20_000) < 0.4 * np.exp(-(rec - 90) / 200)
    d = estimate_decay(rec, y, 90, 180, 0.017)
    assert d["source"] == "backtest" and d["by_days_dormant"][0]["days_dormant"] == "90-135"
    assert d["per_week"] == pytest.approx(1 - np.exp(-7 / 200), abs=0.01)
    assert estimate_decay(rec[:10], y[:10], 90, 180, 0.017)["source"] == "prior"


def test_baselines_rank_the_recent_and_frequent_first():
    occ = Occasions(TXN, INDEX)
    b = baselines(occ, np.array([0, 1]), SNAP, 84)
    assert b["recency"][0][0] > b["recency"][0][1] and b["freq/recency"][0][0] > b["freq/recency"][0][1]
    assert "bgnbd" not in b


def test_the_baseline_bgnbd_is_fitted_on_occasions_at_the_cutoff(demo_book):
    txn = pd.read_csv(demo_book / "transactions.csv", parse_dates=["timestamp"])
    txn["customer_id"] = txn["customer_id"].astype("category")
    index = pd.Index(sorted(txn["customer_id"].cat.categories), dtype=object)
    occ = Occasions(txn, index)
    cutoff = day(dt.date(2026, 6, 1).isoformat())
    model = fit_bgnbd_at(occ, cutoff)
    p = baselines(occ, np.arange(len(index)), cutoff, 84, model)["bgnbd"][0]
    assert ((p >= 0) & (p <= 1)).all() and p.std() > 0


def test_bgnbd_can_count_occasions_per_week():
    t = log([("A", d, 1.0, "mobile", "customer") for d in ("2024-01-01", "2024-01-03", "2024-01-09", "2024-01-20",
                                                           "2024-02-01")]
            + [("B", d, 1.0, "mobile", "customer") for d in ("2024-01-01", "2024-01-02")])
    occ = Occasions(t, INDEX)
    d = np.full(2, day("2024-03-01"))
    x, t_x, T, seen = occ.rfm(np.arange(2), d)
    assert x.tolist() == [4, 1] and seen.all() and T[0] == (day("2024-03-01") - day("2024-01-01")) / 7
    x, t_x, _, _ = occ.rfm(np.arange(2), d, period_days=7)  # weeks from the first purchase: 0, 0, 1, 2, 4
    assert x.tolist() == [3, 0] and t_x[1] == 0 and t_x[0] == pytest.approx(31 / 7)


def test_a_log_cut_at_a_day_is_the_log_folded_up_to_it(demo_book):
    """``reactivate backtest`` sorts the log once and cuts it at each cutoff: the same as folding the cut log."""
    from reactivate.dormancy.ids import customer_index

    txn = pd.read_csv(demo_book / "transactions.csv", parse_dates=["timestamp"])
    txn["customer_id"] = txn["customer_id"].astype("category")
    ids, _ = customer_index(txn["customer_id"])
    whole = Occasions(txn, ids)
    cut_day = day("2025-10-01")
    cut = txn[txn["timestamp"] < pd.Timestamp("2025-10-02")]
    index = pd.Index(sorted(set(cut["customer_id"].astype(str)))[::2], dtype=object)  # a subset, as a cutoff's
    a, b = whole.until(cut_day, ids, index), Occasions(cut, index)
    np.testing.assert_array_equal(a.key, b.key)
    assert a.first_day <= b.first_day and set(a.cum) == set(b.cum)
    for k in a.cum:
        np.testing.assert_allclose(a.cum[k], b.cum[k])
    pos = np.arange(len(index))
    d = np.full(len(index), cut_day)
    pd.testing.assert_frame_equal(a.features(pos, d, 84).drop(columns="history_days"),
                                  b.features(pos, d, 84).drop(columns="history_days"))
