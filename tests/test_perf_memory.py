"""A large book's columns are held once: the targets are cut column by column (each column the rest of the plan
no longer reads dropped from the customers as the targets get their copy), and the paydays of a large log are
found a range of customers at a time. Neither changes a value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reactivate.config.campaign import load_campaign
from reactivate.data.load import load_book
from reactivate.dormancy import customers as cust
from reactivate.dormancy.customers import build_customers, paydays
from reactivate.jobs.pipeline import CUSTOMER_COLUMNS_KEPT, cut_targets
from tests.conftest import AS_OF, ROOT


@pytest.fixture(scope="module")
def customers(demo_book):
    spec = load_campaign(ROOT / "campaigns" / "default.toml")
    book = load_book(accounts=demo_book / "accounts.csv", transactions=demo_book / "transactions.csv",
                     contacts=demo_book / "contacts.csv", spec=spec, as_of=AS_OF)
    return build_customers(book, spec, AS_OF), spec


def test_the_targets_cut_column_by_column_are_the_targets(customers):
    full, spec = customers
    rows = full["stage"].isin(spec.dormancy.target_stages).to_numpy()
    assert 0 < rows.sum() < len(full)
    mine = full.copy()
    targets, rest = cut_targets(mine, rows)
    pd.testing.assert_frame_equal(targets, full[rows], check_exact=True)
    assert rest is mine and rest.index.equals(full.index)  # every customer, fewer columns
    kept = [c for c in full.columns if c in CUSTOMER_COLUMNS_KEPT or full[c].dtype == bool
            or isinstance(full[c].dtype, pd.CategoricalDtype)]
    assert list(rest.columns) == kept and set(CUSTOMER_COLUMNS_KEPT) <= set(kept)
    pd.testing.assert_frame_equal(rest, full[kept], check_exact=True)
    # what is read from every customer after the cut: stage, recency, the static attributes, reach and consent
    assert {"stage", "last_activity", "days_dormant", "total_balance", "rm_id", "hardship", "do_not_contact"} <= set(kept)
    assert not {"deadline", "n_txn_total", "first_seen"} & set(kept)


@pytest.mark.parametrize("rows_at_once", [1, 50, 997])
def test_paydays_a_range_of_customers_at_a_time_are_the_same(monkeypatch, rows_at_once):
    rng = np.random.default_rng(rows_at_once)
    n = 400
    c = np.sort(rng.integers(0, n, 20_000))
    dom = rng.integers(0, 27, n)  # each customer's payday, then monthly credits near it, and noise
    month = np.datetime64("2024-01", "M") + rng.integers(0, 24, len(c))
    day = (month.astype("datetime64[D]").astype(np.int64) + dom[c] + rng.choice([0, 0, 0, 1, -1, 9], len(c)))
    order = np.lexsort((day, c))
    c, day = c[order], day[order]
    want = paydays(c, day, n)
    assert np.isfinite(want[0]).sum() > n // 4  # most have a payday
    monkeypatch.setattr(cust, "PAYDAY_ROWS", rows_at_once)
    got = paydays(c, day, n)
    for w, g in zip(want, got, strict=True):
        np.testing.assert_array_equal(g, w)
