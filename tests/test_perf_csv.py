"""A CSV book reads as the same book as its Parquet copy: the CSV path's typed columns go through the Parquet
path's conversion (one conversion for both formats), the log is opened and read while the accounts are, and a
log in memory is checked by Arrow as the SQL checks it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from reactivate.config.campaign import CampaignSpec, TableInput
from reactivate.data.engine import DuckEngine
from reactivate.data.io import read_table
from reactivate.data.load import load_book
from reactivate.demo.book import generate_book, write_book
from reactivate.errors import InputDataError
from reactivate.schema import TABLES

AS_OF = dt.date(2026, 11, 30)
EXT = {"csv": "csv", "parquet": "parquet"}


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """The same demo book written as CSV and as Parquet."""
    book = generate_book(400, seed=3, as_of=AS_OF)
    out = {}
    for fmt in EXT:
        out[fmt] = tmp_path_factory.mktemp(fmt)
        write_book(book, out[fmt], fmt=fmt)
    return out


def _files(folder, fmt):
    return {name: folder / f"{name}.{EXT[fmt]}" for name in ("accounts", "transactions", "contacts")}


def _same_frames(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert a.index.equals(b.index)
    for col in a.columns:
        if isinstance(a[col].dtype, pd.ArrowDtype):  # a key only checked (account_id): Arrow's dictionary, whose
            # values are ``string`` from a CSV file and ``large_string`` from Parquet: the same ids
            assert pa.types.is_dictionary(a[col].dtype.pyarrow_dtype), col
            assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), col
            continue
        assert a[col].dtype == b[col].dtype, col
        if isinstance(a[col].dtype, pd.CategoricalDtype):
            # the categories in the same order, of the same dtype (object ids, text enums): the same codes
            assert a[col].cat.categories.dtype == b[col].cat.categories.dtype, col
            assert a[col].cat.categories.equals(b[col].cat.categories), col
            assert np.array_equal(a[col].cat.codes.to_numpy(), b[col].cat.codes.to_numpy()), col
        pd.testing.assert_series_equal(a[col], b[col], check_exact=True, obj=col)


@pytest.mark.parametrize("name", ["accounts", "transactions", "contacts"])
def test_each_csv_table_reads_as_its_parquet_copy(books, name):
    raws = {fmt: read_table(_files(books[fmt], fmt)[name], TABLES[name], TableInput()) for fmt in EXT}
    assert raws["csv"].problems == raws["parquet"].problems == []
    assert raws["csv"].absent_optional == raws["parquet"].absent_optional
    assert raws["csv"].row_numbers is None and raws["parquet"].row_numbers is None
    assert len(raws["csv"].frame) > 0
    _same_frames(raws["csv"].frame, raws["parquet"].frame)


def test_a_csv_book_loads_as_its_parquet_copy(books):
    spec = CampaignSpec()
    loaded = {fmt: load_book(**_files(books[fmt], fmt), spec=spec, as_of=AS_OF) for fmt in EXT}
    csv, pq = loaded["csv"], loaded["parquet"]
    _same_frames(csv.accounts, pq.accounts)
    _same_frames(csv.contacts, pq.contacts)
    assert csv.notes == pq.notes and csv.absent == pq.absent
    assert {k: v["rows"] for k, v in csv.inputs.items()} == {k: v["rows"] for k, v in pq.inputs.items()}
    a, b = csv.engine.check(), pq.engine.check()
    assert (a.rows, a.id_missing, a.ts_missing, a.first_second, a.last_second, a.amount_given) == \
        (b.rows, b.id_missing, b.ts_missing, b.first_second, b.last_second, b.amount_given)
    assert {k: set(v) for k, v in a.values.items()} == {k: set(v) for k, v in b.values.items()}
    assert csv.engine.bound().equals(pq.engine.bound())
    index = pd.Index(csv.engine.bound().to_numpy(zero_copy_only=False).astype(object), name="customer_id")
    today = int(np.datetime64(AS_OF, "D").astype(np.int64))
    x, y = csv.engine.customers(index, today, 84, 30), pq.engine.customers(index, today, 84, 30)
    assert x.keys() == y.keys()
    for k in x:
        np.testing.assert_array_equal(x[k], y[k], err_msg=k)


def test_a_csv_log_that_is_not_clean_is_still_read_and_reported(books, tmp_path):
    """A log with a missing timestamp and an unknown channel: opened and read ahead as the accounts are read,
    found not clean by its checks, then read as a frame that reports both (as before it was read ahead)."""
    files = _files(books["csv"], "csv")
    lines = files["transactions"].read_text().splitlines()
    header = lines[0].split(",")
    first = lines[1].split(",")
    first[header.index("timestamp")] = ""
    second = lines[2].split(",")
    second[header.index("channel")] = "teleport"
    (tmp_path / "transactions.csv").write_text("\n".join([lines[0], ",".join(first), ",".join(second),
                                                          *lines[3:]]) + "\n")
    with pytest.raises(InputDataError) as err:
        load_book(accounts=files["accounts"], transactions=tmp_path / "transactions.csv",
                  contacts=files["contacts"], spec=CampaignSpec(), as_of=AS_OF)
    text = str(err.value)
    assert "timestamp" in text and "row 1" in text
    assert "teleport" in text


def test_an_unreadable_accounts_file_is_named_before_the_log_and_the_contacts(books, tmp_path):
    files = _files(books["csv"], "csv")
    (tmp_path / "accounts.csv").write_bytes(b"")
    bad_contacts = tmp_path / "contacts.csv"
    bad_contacts.write_bytes(b"\xff\xfe\x00broken")
    with pytest.raises(InputDataError, match=r"accounts\.csv: empty file"):
        load_book(accounts=tmp_path / "accounts.csv", transactions=files["transactions"], contacts=bad_contacts,
                  spec=CampaignSpec(), as_of=AS_OF)
    with pytest.raises(InputDataError, match=r"contacts\.csv: not valid UTF-8"):
        load_book(accounts=files["accounts"], transactions=files["transactions"], contacts=bad_contacts,
                  spec=CampaignSpec(), as_of=AS_OF)


def _log_table(seed: int, n: int = 3000) -> pa.Table:
    rng = np.random.default_rng(seed)
    sec = rng.integers(-10**9, 2 * 10**9, n)
    ts = pa.array(np.where(rng.random(n) < 0.05, None, sec).tolist(), pa.int64()).cast(pa.timestamp("s"))
    amount = rng.normal(size=n)
    amount[rng.random(n) < 0.03] = np.inf
    amount[rng.random(n) < 0.03] = -np.inf
    amount[rng.random(n) < 0.03] = np.nan
    ids = pa.array([None if rng.random() < 0.02 else f"C{i}" for i in rng.integers(0, 100, n)])
    half = n // 2
    channel = pa.chunked_array([  # blocks with dictionaries of their own, as Arrow's CSV reader gives them
        pa.array([None if rng.random() < 0.02 else c for c in rng.choice(["branch", "atm"], half)]).dictionary_encode(),
        pa.array(rng.choice(["online", "atm"], n - half)).dictionary_encode()])
    return pa.table({"customer_id": ids.dictionary_encode(), "timestamp": ts,
                     "amount": pa.array(amount, mask=rng.random(n) < 0.05), "channel": channel,
                     "initiated_by": pa.array(rng.choice(["bank", "customer"], n))})


@pytest.mark.parametrize("seed", [0, 1])
def test_a_log_in_memory_is_checked_by_arrow_as_by_sql(seed):
    table = _log_table(seed)
    select = {"customer_id": "CAST(customer_id AS VARCHAR)", "timestamp": "timestamp", "amount": "amount",
              "channel": "CAST(channel AS VARCHAR)", "initiated_by": "initiated_by"}
    by_arrow = DuckEngine(table, select).check()
    # timestamps in microseconds (whole seconds all the same) are counted by DuckDB's SQL
    micro = table.set_column(1, "timestamp", table.column("timestamp").cast(pa.timestamp("us")))
    by_sql = DuckEngine(micro, select).check()
    fields = ("rows", "id_missing", "ts_missing", "first_second", "last_second", "amount_infinite", "amount_given")
    assert [getattr(by_arrow, f) for f in fields] == [getattr(by_sql, f) for f in fields]
    assert by_arrow.id_missing > 0 and by_arrow.ts_missing > 0 and by_arrow.amount_infinite > 0
    assert {k: sorted(v, key=str) for k, v in by_arrow.values.items()} == \
        {k: sorted(v, key=str) for k, v in by_sql.values.items()}
    assert None in by_arrow.values["channel"]


def test_an_empty_log_in_memory_is_checked_as_by_sql():
    table = pa.table({"customer_id": pa.array([], pa.string()), "timestamp": pa.array([], pa.timestamp("s")),
                      "amount": pa.array([], pa.float64())})
    select = {c: c for c in table.column_names}
    micro = table.set_column(1, "timestamp", table.column("timestamp").cast(pa.timestamp("us")))
    assert DuckEngine(table, select).check() == DuckEngine(micro, select).check()


def test_a_log_in_memory_read_in_parts_gives_the_answers_of_one_part(monkeypatch):
    """A CSV log's blocks (record batches, each with its own dictionaries) read as codes a few at a time (as a
    Parquet file's row groups are) give the codes, counts and sums of the whole log read at once."""
    rng = np.random.default_rng(7)
    today = int(np.datetime64(AS_OF, "D").astype(np.int64))
    batches = []
    for _ in range(9):
        n = int(rng.integers(150, 400))
        ids = rng.choice([f"C{i:03d}" for i in range(120)], n).astype(object)
        ids[rng.random(n) < 0.01] = None
        batches.append(pa.RecordBatch.from_pydict({
            "customer_id": pa.array(ids).dictionary_encode(),
            "timestamp": pa.array((today - rng.integers(0, 1200, n)) * 86400 + rng.integers(0, 86400, n),
                                  pa.int64()).cast(pa.timestamp("s")),
            "amount": pa.array(np.round(rng.normal(0, 300, n), 2)),
            "channel": pa.array(rng.choice(["branch", "online", "auto", "atm"], n)).dictionary_encode(),
            "initiated_by": pa.array(rng.choice(["customer", "bank"], n)).dictionary_encode(),
        }))
    table = pa.Table.from_batches(batches)
    select = {c: (f"CAST({c} AS VARCHAR)" if c not in ("timestamp", "amount") else c) for c in table.column_names}
    bound = pa.array(sorted(f"C{i:03d}" for i in range(120) if i % 7), pa.string())
    index = pd.Index(bound.to_numpy(zero_copy_only=False).astype(object), name="customer_id")

    def answers():
        eng = DuckEngine(table, select)
        eng.bind(bound)
        return eng.customers(index, today, 84, 30), eng.unknown(), eng.credits(index)

    whole = answers()
    monkeypatch.setattr("reactivate.data.engine.PART_ROWS", 700)  # three or four batches a part
    parts = answers()
    for k in whole[0]:
        np.testing.assert_array_equal(whole[0][k], parts[0][k], err_msg=k)
    assert whole[1][:2] == parts[1][:2] and whole[1][0] > 0
    np.testing.assert_array_equal(whole[1][2], parts[1][2])
    for k in whole[2]:
        np.testing.assert_array_equal(whole[2][k], parts[2][k], err_msg=k)
