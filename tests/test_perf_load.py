"""The fast paths of loading and dormancy give what the general paths give: ids already in order, a log
already sorted by customer and day, a CSV log read with its ids as codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from reactivate.config.campaign import TableInput
from reactivate.data.engine import sorted_ids
from reactivate.data.io import open_log, read_table
from reactivate.dormancy.ids import customer_index
from reactivate.schema import TABLES

TODAY = int(np.datetime64("2026-11-30", "D").astype(np.int64))


def _log(seed: int, n_rows: int = 4000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = np.array([f"C{i:03d}" for i in range(80)], dtype=object)
    days = TODAY - rng.integers(0, 1500, n_rows)
    amount = np.round(rng.normal(0, 500, n_rows), 2)
    amount[rng.random(n_rows) < 0.05] = np.nan
    channel = rng.choice(["branch", "online", "mobile", "auto", "wechat", "atm"], n_rows).astype(object)
    channel[rng.random(n_rows) < 0.05] = None
    return pd.DataFrame({
        "customer_id": rng.choice(ids, n_rows),
        "timestamp": (days * 86400 + rng.integers(0, 86400, n_rows)).astype("datetime64[s]"),
        "amount": amount,
        "channel": channel,
        "initiated_by": rng.choice(["customer", "bank"], n_rows, p=[0.7, 0.3]).astype(object),
    })


def _answers(path):
    eng, _ = open_log(path, TABLES["transactions"], TableInput())
    ids = sorted_ids(pa.array(sorted({f"C{i:03d}" for i in range(80)} - {"C005"}), pa.string()))
    eng.bind(ids)
    index = pd.Index(ids.to_numpy(zero_copy_only=False).astype(object), name="customer_id")
    out = eng.customers(index, TODAY, 84, 30)
    credits = eng.credits(index)
    unknown = eng.unknown()
    return eng.check(), out, sorted(zip(credits["pos"], credits["day"], strict=True)), unknown


def test_a_log_sorted_by_customer_and_day_reads_as_the_same_log_in_any_order(tmp_path):
    txn = _log(0)
    ordered = txn.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)
    pq.write_table(pa.Table.from_pandas(txn, preserve_index=False), tmp_path / "a.parquet", row_group_size=900)
    pq.write_table(pa.Table.from_pandas(ordered, preserve_index=False), tmp_path / "b.parquet", row_group_size=900)
    pacsv.write_csv(pa.Table.from_pandas(txn, preserve_index=False), tmp_path / "c.csv")
    a, b, c = (_answers(tmp_path / f) for f in ("a.parquet", "b.parquet", "c.csv"))
    for other in (b, c):
        assert sorted(a[0].values["channel"], key=str) == sorted(other[0].values["channel"], key=str)
        for k in a[1]:
            # counts and days exactly; sums up to the order of their additions (the rows are in another order)
            np.testing.assert_allclose(a[1][k], other[1][k], rtol=1e-12, atol=1e-9, err_msg=k)
        assert a[2] == other[2]
        assert a[3][:2] == other[3][:2]
    assert a[3][2].tolist() == (np.flatnonzero((txn["customer_id"] == "C005").to_numpy())[:5] + 1).tolist()
    assert a[1]["n_txn"].sum() == ((txn["customer_id"] != "C005") & (txn["initiated_by"] != "bank")).sum()


def test_ids_in_order_are_encoded_as_ids_in_any_order(tmp_path):
    rng = np.random.default_rng(1)
    cust = np.sort(rng.choice([f"C{i:04d}" for i in range(300)], 1000))
    frame = pd.DataFrame({"customer_id": cust, "account_id": [f"A{i:05d}" for i in range(1000)],
                          "product": "current", "open_date": pd.Timestamp("2020-01-01"),
                          "last_activity_date": pd.Timestamp("2024-01-01"), "balance": 1.0})
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "sorted.parquet")
    shuffled = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    pq.write_table(pa.Table.from_pandas(shuffled, preserve_index=False), tmp_path / "shuffled.parquet")
    a = read_table(tmp_path / "sorted.parquet", TABLES["accounts"], TableInput())
    b = read_table(tmp_path / "shuffled.parquet", TABLES["accounts"], TableInput())
    assert list(a.frame["customer_id"].cat.categories) == sorted(set(cust))
    ia, ca = customer_index(a.frame["customer_id"])
    ib, cb = customer_index(b.frame["customer_id"])
    assert ia.equals(ib) and ia.name == ib.name == "customer_id" and ia.dtype == object
    assert (ia[ca] == a.frame["customer_id"].astype(str).to_numpy()).all()
    assert (ib[cb] == b.frame["customer_id"].astype(str).to_numpy()).all()
    assert a.frame["account_id"].astype(str).tolist() == frame["account_id"].tolist()
