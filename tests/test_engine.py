"""The transaction log's engine (DuckDB): its aggregates are those of the log's rows, whatever the source."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reactivate.config.campaign import TableInput
from reactivate.data.engine import engine_for_frame, sorted_ids
from reactivate.data.io import open_log
from reactivate.schema import TABLES
from reactivate.scoring.occasions import LogOccasions, Occasions

TODAY = int(np.datetime64("2026-11-30", "D").astype(np.int64))


def _log(seed: int = 0, n_customers: int = 60, n_rows: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = np.array([f"C{i:03d}" for i in range(n_customers)], dtype=object)
    days = TODAY - rng.integers(0, 1500, n_rows)
    seconds = rng.integers(0, 86400, n_rows)
    amount = np.round(rng.normal(0, 500, n_rows), 2)
    amount[rng.random(n_rows) < 0.05] = np.nan
    channel = rng.choice(["branch", "online", "mobile", "auto", "wechat", "atm"], n_rows).astype(object)
    channel[rng.random(n_rows) < 0.05] = None
    return pd.DataFrame({
        "customer_id": pd.Categorical(rng.choice(ids, n_rows)),
        "timestamp": (days * 86400 + seconds).astype("datetime64[s]"),
        "amount": amount,
        "channel": pd.Categorical(channel, categories=["branch", "online", "mobile", "auto", "wechat", "atm"]),
        "initiated_by": pd.Categorical(rng.choice(["customer", "bank"], n_rows, p=[0.7, 0.3])),
    })


def _index(frame: pd.DataFrame, extra: int = 3) -> pd.Index:
    ids = sorted(set(frame["customer_id"].astype(str)) | {f"Z{i}" for i in range(extra)})  # some without rows
    return pd.Index(np.array(ids, dtype=object), name="customer_id")


def test_the_customers_aggregates_are_those_of_the_rows():
    txn = _log()
    index = _index(txn)
    eng = engine_for_frame(txn)
    eng.bind(pa.array(index.to_numpy(), type=pa.string()))
    a = eng.customers(index, TODAY, 84, 1)
    day = txn["timestamp"].to_numpy().astype("datetime64[D]").astype(np.int64)
    pos = index.get_indexer(txn["customer_id"].astype(str))
    cust = (txn["initiated_by"] != "bank").to_numpy()
    amt = np.nan_to_num(txn["amount"].to_numpy())
    n = len(index)
    assert np.array_equal(a["n_txn"], np.bincount(pos[cust], minlength=n))
    assert np.array_equal(a["n_txn_24m"], np.bincount(pos[cust & (day >= TODAY - 730)], minlength=n))
    assert np.allclose(a["abs_amount"], np.bincount(pos[cust], np.abs(amt[cust]), n), rtol=1e-12)
    year = day >= TODAY - 365
    assert np.allclose(a["net_12m"], np.bincount(pos[year], amt[year], n), rtol=1e-12, atol=1e-9)
    first = np.full(n, -1)
    for p, d in zip(pos, day, strict=True):
        first[p] = d if first[p] < 0 else min(first[p], d)
    assert np.array_equal(a["txn_first"], first)
    assert (a["txn_last"][-3:] == -1).all() and (a["n_txn"][-3:] == 0).all()  # customers without rows


def test_today_and_earlier_days_read_as_the_whole_log_folded_in_memory():
    txn = _log(1)
    index = _index(txn)
    eng = engine_for_frame(txn)
    eng.bind(pa.array(index.to_numpy(), type=pa.string()))
    whole = Occasions(txn, index)
    log = LogOccasions(eng, index, TODAY, 84, 1)
    pos = np.arange(len(index))
    today = np.full(len(pos), TODAY)
    pd.testing.assert_frame_equal(log.features(pos, today, 84), whole.features(pos, today, 84), check_exact=True)
    for got, want in zip(log.rfm(pos, today), whole.rfm(pos, today), strict=True):
        assert np.allclose(got, want)
    earlier = TODAY - np.arange(len(pos)) * 7
    some = pos[::2]
    pd.testing.assert_frame_equal(log.features(some, earlier[::2], 84), whole.features(some, earlier[::2], 84),
                                  check_exact=True)
    assert np.array_equal(log.came_back(some, earlier[::2], 84), whole.came_back(some, earlier[::2], 84))
    assert np.array_equal(log.recency(pos, today), whole.recency(pos, today), equal_nan=True)


@pytest.mark.parametrize("period", [7, 30])
def test_periods_of_occasions_today_match_the_whole_log(period):
    txn = _log(2)
    index = _index(txn)
    eng = engine_for_frame(txn)
    eng.bind(pa.array(index.to_numpy(), type=pa.string()))
    whole = Occasions(txn, index)
    log = LogOccasions(eng, index, TODAY, 84, period)
    pos = np.arange(len(index))
    today = np.full(len(pos), TODAY)
    for got, want in zip(log.rfm(pos, today, period_days=period), whole.rfm(pos, today, period_days=period),
                         strict=True):
        assert np.allclose(got, want)


def test_a_parquet_log_scanned_in_place_gives_what_its_frame_gives(tmp_path):
    txn = _log(3)
    index = _index(txn)
    path = tmp_path / "transactions.parquet"
    pq.write_table(pa.Table.from_pandas(txn.assign(customer_id=txn["customer_id"].astype(str)), preserve_index=False),
                   path, row_group_size=700)
    eng, absent = open_log(path, TABLES["transactions"], TableInput())
    assert absent == ["account_id"]
    frame_eng = engine_for_frame(txn)
    stats = eng.check()
    scanned = frame_eng.check()
    assert (stats.rows, stats.id_missing, stats.ts_missing, stats.first_second, stats.last_second) == \
        (scanned.rows, scanned.id_missing, scanned.ts_missing, scanned.first_second, scanned.last_second)
    assert sorted(stats.values["channel"], key=str) == sorted(scanned.values["channel"], key=str)
    ids = sorted_ids(pa.array(index.to_numpy(), type=pa.string()))
    for e in (eng, frame_eng):
        e.bind(ids)
    a, b = eng.customers(index, TODAY, 84, 1), frame_eng.customers(index, TODAY, 84, 1)
    for k in a:
        assert np.allclose(a[k], b[k], rtol=1e-12, atol=1e-9), k
    c1, c2 = eng.credits(index), frame_eng.credits(index)
    assert sorted(zip(c1["pos"], c1["day"], strict=True)) == sorted(zip(c2["pos"], c2["day"], strict=True))


def test_rows_of_customers_not_bound_are_counted_with_their_first_row_numbers(tmp_path):
    txn = _log(4)
    index = _index(txn)
    kept = index[index != "C007"]
    path = tmp_path / "transactions.parquet"
    pq.write_table(pa.Table.from_pandas(txn.assign(customer_id=txn["customer_id"].astype(str)), preserve_index=False),
                   path)
    eng, _ = open_log(path, TABLES["transactions"], TableInput())
    eng.bind(sorted_ids(pa.array(kept.to_numpy(), type=pa.string())))
    rows, customers, first = eng.unknown()
    mask = (txn["customer_id"] == "C007").to_numpy()
    assert (rows, customers) == (int(mask.sum()), 1)
    assert first.tolist() == (np.flatnonzero(mask)[:5] + 1).tolist()
    assert eng.unknown_ids().to_pylist() == ["C007"]


def test_the_figures_of_customers_without_occasions_keep_their_types():
    """A book where no row is the customer's own (every one bank-initiated): no occasion anywhere, and each
    figure still has its type (numpy sums nothing to an integer array; the amounts stay floats)."""
    txn = _log(4)
    txn["initiated_by"] = pd.Categorical(["bank"] * len(txn))
    index = _index(txn)
    eng = engine_for_frame(txn)
    eng.bind(pa.array(index.to_numpy(), type=pa.string()))
    a = eng.customers(index, TODAY, 84, 7)
    assert a["amount"].dtype == np.float64 and a["amount_last"].dtype == np.float64
    assert (a["n_occ"] == 0).all() and (a["amount"] == 0).all() and (a["occ_last"] == -1).all()
