"""The log's SQL shared by the engines (no Spark needed), the [engine] spec and ``--engine spark`` without pyspark."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from reactivate.cli import app
from reactivate.config.campaign import TableInput, load_campaign
from reactivate.data import spark_engine
from reactivate.data.engine import occasion_positions, scatter
from reactivate.data.io import open_log
from reactivate.data.log_sql import (
    DUCKDB,
    active_sql,
    activity_sql,
    codes_sql,
    credits_sql,
    day_rows_sql,
    log_columns,
    remap,
)
from reactivate.dormancy.ids import customer_index
from reactivate.errors import ConfigError
from reactivate.schema import TABLES
from tests.conftest import write

AS_OF = dt.date(2026, 11, 30)
TODAY = (AS_OF - dt.date(1970, 1, 1)).days


@pytest.fixture(scope="module")
def parquet_book(tmp_path_factory):
    from reactivate.demo.book import generate_book, write_book

    out = tmp_path_factory.mktemp("book")
    write_book(generate_book(1500, seed=5, as_of=AS_OF), out, fmt="parquet")
    return out


def test_the_shared_sql_in_duckdb_gives_what_the_duck_engine_gives(parquet_book):
    """log_sql's text, run by DuckDB, is the DuckEngine's rule: the same aggregates (sums up to their last
    bits: a compensated sum still depends a little on the order the threads add in)."""
    path = parquet_book / "transactions.parquet"
    engine, _ = open_log(path, TABLES["transactions"], TableInput())
    acc = pd.read_parquet(parquet_book / "accounts.parquet")
    index, _ = customer_index(acc["customer_id"].astype("category"))
    ids = pa.array(index.to_numpy(dtype=object)[: len(index) - 40], type=pa.string())  # some rows unknown
    engine.bind(ids)
    want = engine.customers(index, TODAY, 84, 30)
    want_cr = engine.credits(index)

    con = duckdb.connect()
    select = {c: c for c in engine.columns}
    con.execute(f"CREATE VIEW log AS SELECT {', '.join(log_columns(select, DUCKDB))} FROM read_parquet('{path}')")
    con.register("bound_ids", pa.table({"id": ids, "pos": pa.array(np.arange(len(ids), dtype=np.int32))}))
    con.execute(f"CREATE TABLE codes AS {codes_sql(engine.columns)}")
    rm = remap(ids, index)
    r = con.execute(activity_sql("codes", TODAY, DUCKDB)).fetchnumpy()
    got = scatter(r, rm[np.asarray(r["pos"], dtype=np.int64)], len(index))
    for key in got:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=0, err_msg=key)
        assert got[key].dtype == want[key].dtype
    occ = engine.occasions(index)
    r = con.execute(day_rows_sql("codes", DUCKDB) + " ORDER BY pos, day").fetchnumpy()
    pos = rm[np.asarray(r["pos"], dtype=np.int64)]
    keep = pos >= 0
    np.testing.assert_array_equal(pos[keep], occasion_positions(occ["start"]))
    for key in ("day", "rows", "amount", "digital"):
        np.testing.assert_allclose(np.asarray(r[key], dtype=float)[keep], occ[key], rtol=1e-12, err_msg=key)
    cr = con.execute(credits_sql("codes")).fetchnumpy()
    pos = rm[np.asarray(cr["pos"], dtype=np.int64)]
    assert sorted(zip(pos, cr["day"], strict=True)) == sorted(zip(want_cr["pos"], want_cr["day"], strict=True))
    # reactivated within a window (the uplift's rule): each bound customer's window from a day of the last year
    start = TODAY - 365 + (np.arange(len(index)) * 7) % 330
    bound = np.flatnonzero(rm >= 0)
    con.register("windows", pa.table({"pos": pa.array(bound.astype(np.int32)),
                                      "start": pa.array(start[rm[bound]].astype(np.int32))}))
    hit = np.zeros(len(index), dtype=bool)
    hit[rm[con.execute(active_sql("codes", "windows", 45)).fetchnumpy()["pos"].astype(np.int64)]] = True
    np.testing.assert_array_equal(engine.active_within(index, start, 45), hit)
    assert 0 < hit.sum() < len(index)


def test_reactivated_within_a_window_is_a_row_of_the_customers_own_inside_it():
    """The rule, from rows written by hand: the customer's own rows only (a bank-initiated one does not count, a
    missing initiator does), the window's first day in, the day after its last out; unbound ids ignored."""
    from reactivate.data.engine import DuckEngine

    ts = pd.to_datetime(["2026-01-10 23:59:59", "2026-01-05", "2026-02-01", "2026-01-20", "2026-01-31 12:00",
                         "2026-01-15"], format="ISO8601")
    t = pa.table({"customer_id": ["a", "b", "c", "d", "e", "zz"], "timestamp": ts,
                  "initiated_by": ["customer", "bank", None, "customer", "customer", "customer"]})
    engine = DuckEngine(t, {"customer_id": "customer_id", "timestamp": "timestamp", "initiated_by": "initiated_by"})
    index = pd.Index(["a", "b", "c", "d", "e", "f"])
    day = (pd.Timestamp("2026-01-10") - pd.Timestamp("1970-01-01")).days
    start = np.array([day, day, day + 22, day + 11, day, day])  # c's window starts on its row's day; d's after it
    hit = engine.active_within(index, start, 21)  # 2026-01-10 .. 2026-01-30 (c: 02-01 .. 02-21)
    assert hit.tolist() == [True, False, True, False, False, False]


def test_the_engine_section_of_a_campaign(tmp_path):
    spec = load_campaign(write(tmp_path / "c.toml", '[engine]\nname = "spark"\n[engine.spark]\nmaster = "yarn"\n'
                                                    'conf = { "spark.executor.memory" = "8g" }\n'))
    assert spec.engine.name == "spark" and spec.engine.spark.master == "yarn"
    assert spec.engine.spark.conf == {"spark.executor.memory": "8g"}
    assert load_campaign(None).engine.name == "duckdb"
    with pytest.raises(ConfigError, match=r"engine.name='hadoop' should be one of duckdb, spark"):
        load_campaign(write(tmp_path / "d.toml", '[engine]\nname = "hadoop"\n'))


def test_engine_spark_without_pyspark_exits_2_saying_what_to_install(monkeypatch, tiny_accounts, tmp_path):
    monkeypatch.setattr(spark_engine, "spark_available", lambda: False)
    for command in (["plan", "--out", tmp_path / "o"], ["rank", "--out", tmp_path / "o"],
                    ["segments", "fit", "--model", tmp_path / "m.json"]):
        r = CliRunner().invoke(app, list(map(str, [*command, "--as-of", "2026-11-30", "--accounts", tiny_accounts,
                                                   "--engine", "spark"])))
        assert r.exit_code == 2, r.output
        assert r.stderr == f"Error: {spark_engine.SPARK_MISSING}\n"
        assert "pip install 'reactivate[spark]'" in r.stderr
    with pytest.raises(ConfigError, match=r"reactivate\[spark\]"):
        spark_engine.require_spark()
    assert not (tmp_path / "o").exists()


def test_an_unknown_engine_exits_2(tiny_accounts, tmp_path):
    r = CliRunner().invoke(app, ["plan", "--as-of", "2026-11-30", "--accounts", str(tiny_accounts), "--out",
                                 str(tmp_path / "o"), "--engine", "hadoop"])
    assert r.exit_code == 2
    assert r.stderr == "Error: --engine='hadoop' should be one of duckdb, spark\n"


def test_aggregates_larger_than_the_driver_may_receive_say_which_setting_to_raise():
    """Spark's own error (a JVM stack) becomes one line naming spark.driver.maxResultSize (exit 2)."""
    import threading

    class TooLarge:
        def toArrow(self):
            raise RuntimeError("An error occurred while calling o83.getResult.\n: org.apache.spark.SparkException: "
                               "Job aborted due to stage failure: Total size of serialized results of 5 tasks "
                               "(1066.6 MiB) is bigger than spark.driver.maxResultSize (1024.0 MiB)")

    class Other:
        def toArrow(self):
            raise RuntimeError("Connection reset")

    eng = spark_engine.SparkEngine.__new__(spark_engine.SparkEngine)
    eng._lock, eng._days_df = threading.Lock(), object()  # the log as codes: already built
    eng._sql = lambda q: TooLarge()
    with pytest.raises(ConfigError) as err:
        eng._query("SELECT 1")
    assert "spark.driver.maxResultSize" in str(err.value) and "\n" not in str(err.value)
    assert err.value.exit_code == 2
    eng._sql = lambda q: Other()
    with pytest.raises(RuntimeError, match="Connection reset"):  # any other failure stays what it is
        eng._query("SELECT 1")
