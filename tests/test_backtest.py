"""Backtest examples: features only from before each snapshot, labels from after it."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest

from reactivate.scoring.backtest import (
    TransactionLog,
    build_examples,
    came_back,
    features_at,
    snapshot_dates,
    top_decile_lift,
    validate,
)
from tests.conftest import AS_OF


def log(rows):
    t = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "channel", "initiated_by"])
    t["timestamp"] = pd.to_datetime(t["timestamp"]).astype("datetime64[s]")
    t["customer_id"] = t["customer_id"].astype("category")
    return t


TXN = log([
    ("A", "2024-01-10", 100.0, "mobile", "customer"),
    ("A", "2025-01-10", -50.0, "branch", "customer"),
    ("A", "2025-06-01", 1.0, "auto", "bank"),  # interest: never activity
    ("A", "2025-08-01", 20.0, "mobile", "customer"),  # after the snapshot: the label, never a feature
    ("B", "2023-05-01", 10.0, "atm", "customer"),
])
INDEX = pd.Index(["A", "B"], dtype=object)
SNAP = pd.Timestamp("2025-07-14")


def test_features_by_hand():
    f = features_at(TransactionLog(TXN, INDEX), SNAP)
    assert f.loc[0, "recency_days"] == (SNAP - pd.Timestamp("2025-01-10")).days == 185
    assert f.loc[0, "n_txn"] == 2 and f.loc[0, "n_txn_365"] == 1
    assert f.loc[0, "tenure_days"] == (SNAP - pd.Timestamp("2024-01-10")).days
    assert f.loc[0, "amount_mean"] == 75.0 and f.loc[0, "digital_share"] == 0.5
    assert came_back(TransactionLog(TXN, INDEX), SNAP, 84).tolist() == [True, False]


def test_no_information_from_after_the_snapshot_leaks_into_features():
    before = TXN[TXN["timestamp"] < SNAP]
    # change everything after the snapshot: features must not move, labels must
    after = log([("A", "2025-12-01", 9e9, "online", "customer"), ("B", "2025-07-20", 5.0, "online", "customer")])
    changed = pd.concat([before, after], ignore_index=True)
    changed["customer_id"] = changed["customer_id"].astype(str).astype("category")
    pd.testing.assert_frame_equal(features_at(TransactionLog(TXN, INDEX), SNAP),
                                  features_at(TransactionLog(changed, INDEX), SNAP))
    assert came_back(TransactionLog(changed, INDEX), SNAP, 84).tolist() == [False, True]


def test_snapshots_keep_a_year_of_history_and_are_one_horizon_apart():
    s = snapshot_dates(pd.Timestamp("2024-01-01"), dt.date(2026, 11, 30), 84)
    assert s[-1] == pd.Timestamp("2026-09-07") and all((b - a).days == 84 for a, b in itertools.pairwise(s))
    assert s[0] - pd.Timedelta(days=365) >= pd.Timestamp("2024-01-01") and len(s) == 6


def test_lift():
    assert top_decile_lift(np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]), np.arange(10)[::-1]) == pytest.approx(10.0)


@pytest.fixture(scope="module")
def demo_customers(demo_book):
    """The demo book's transactions and customer table."""
    from reactivate.config.campaign import load_campaign
    from reactivate.data.load import load_book
    from reactivate.dormancy.customers import build_customers

    spec = load_campaign(None)
    b = load_book(accounts=demo_book / "accounts.csv", transactions=demo_book / "transactions.csv", spec=spec,
                  as_of=AS_OF)
    c = build_customers(b, spec, AS_OF)
    return b, c


def test_backtest_on_a_demo_book_beats_recency_alone(demo_customers):
    b, c = demo_customers
    ex = build_examples(b.transactions, c.index, AS_OF, 84, 365)
    assert ex.y.sum() > 0 and (ex.X["recency_days"] >= 365).all()
    v = validate(ex)
    assert v["usable"] and v["auc"] > v["baseline_auc"] and v["auc"] >= 0.7


def test_features_for_pairs_equal_the_snapshot_features(demo_customers):
    b, c = demo_customers
    lg = TransactionLog(b.transactions, c.index)
    for snap in (pd.Timestamp("2025-03-03"), pd.Timestamp(AS_OF)):
        day = np.full(len(c), int(np.datetime64(snap.date(), "D").astype(np.int64)))
        pd.testing.assert_frame_equal(lg.at(np.arange(len(c)), day), features_at(lg, snap))


def test_pair_features_ignore_everything_on_or_after_their_day():
    lg = TransactionLog(TXN, INDEX)
    day = int(np.datetime64(SNAP.date(), "D").astype(np.int64))
    f = lg.at(np.array([0, 0, 1]), np.array([day, day + 18, day]))
    assert f["n_txn"].tolist() == [2.0, 2.0, 1.0]  # the 2025-08-01 row is on or after both days
    later = lg.at(np.array([0]), np.array([day + 60]))
    assert later.loc[0, "n_txn"] == 3 and later.loc[0, "recency_days"] == 60 - (pd.Timestamp("2025-08-01") - SNAP).days


def test_the_fast_examples_match_the_full_ones(demo_customers):
    b, c = demo_customers
    full = build_examples(b.transactions, c.index, AS_OF, 84, 365)
    fast = build_examples(b.transactions, c.index, AS_OF, 84, 365, features=False)
    assert fast.dates == full.dates and len(full.y) > 1000
    for name in ("y", "snapshot", "customer"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(full, name))
    np.testing.assert_array_equal(fast.X["recency_days"].to_numpy(), full.X["recency_days"].to_numpy())
