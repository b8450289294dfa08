"""The Spark engine (local mode) against the default DuckDB engine: the same aggregates, the same plan.

Run as their own group (``pytest -m spark``; ``tasks.py test`` does): one Spark session for the file, local[2].
Skipped without pyspark (``pip install 'reactivate[spark]'``) or without Java.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from reactivate.config.campaign import TableInput
from reactivate.data import load as load_module
from reactivate.data import spark_engine as spark_engine_module
from reactivate.data.io import open_log
from reactivate.data.spark_engine import open_spark_log
from reactivate.dormancy.customers import paydays
from reactivate.dormancy.ids import customer_index
from reactivate.errors import InputDataError
from reactivate.schema import TABLES
from tests.spark_local import SPARK_MARKS  # skips the module without pyspark or Java

pytestmark = SPARK_MARKS
AS_OF = dt.date(2026, 11, 30)
TODAY = (AS_OF - dt.date(1970, 1, 1)).days


def _book(tmp_path_factory, n: int, seed: int):
    from reactivate.demo.book import generate_book, write_book

    out = tmp_path_factory.mktemp(f"book{n}")
    write_book(generate_book(n, seed=seed, as_of=AS_OF), out, fmt="parquet")
    return out


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    return _book(tmp_path_factory, 2500, 11)


def _index(book):
    acc = pd.read_parquet(book / "accounts.parquet")
    return customer_index(acc["customer_id"].astype("category"))[0]


def assert_same_aggregates(duck, spark_engine, index) -> None:
    """Every answer of the two engines: equal counts and days, sums within 1e-9 (relative)."""
    c1, c2 = duck.check(), spark_engine.check()
    assert (c1.rows, c1.id_missing, c1.ts_missing, c1.first_second, c1.last_second, c1.amount_infinite,
            c1.amount_given) == (c2.rows, c2.id_missing, c2.ts_missing, c2.first_second, c2.last_second,
                                 c2.amount_infinite, c2.amount_given)
    assert {k: set(v) for k, v in c1.values.items()} == {k: set(v) for k, v in c2.values.items()}
    ids = pa.array(index.to_numpy(dtype=object)[: len(index) - len(index) // 20], type=pa.string())
    for e in (duck, spark_engine):
        e.bind(ids)
    n1, k1, _ = duck.unknown()
    n2, k2, _ = spark_engine.unknown()
    assert (n1, k1) == (n2, k2) and n1 > 0
    a, b = duck.customers(index, TODAY, 84, 30), spark_engine.customers(index, TODAY, 84, 30)
    assert set(a) == set(b)
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        np.testing.assert_allclose(b[key], a[key], rtol=1e-9, atol=1e-9, err_msg=key)
    o1, o2 = duck.occasions(index), spark_engine.occasions(index)
    assert set(o1) == set(o2)
    for key in o1:
        np.testing.assert_allclose(o2[key], o1[key], rtol=1e-9, atol=1e-9, err_msg=f"occasions {key}")
    # the occasions of a sample of customers only (what scoring looks back on, on Spark): theirs, in their order
    among = np.sort(np.random.default_rng(5).choice(len(index), len(index) // 4, replace=False))
    o1, o2 = duck.occasions(index, among), spark_engine.occasions(index, among)
    assert set(o1) == set(o2) and len(o2["start"]) == len(among) + 1
    for key in o1:
        np.testing.assert_allclose(o2[key], o1[key], rtol=1e-9, atol=1e-9, err_msg=f"occasions among {key}")
    r1, r2 = duck.credits(index), spark_engine.credits(index)
    assert sorted(zip(r1["pos"], r1["day"], strict=True)) == sorted(zip(r2["pos"], r2["day"], strict=True))
    # the payday rule run on the executors, a group of customers at a time, against the driver's over every credit
    want = paydays(r1["pos"], r1["day"], len(index))
    got = spark_engine.credits_by_customer(index, paydays, ("payday", "payday_last"))
    for a, b in zip(want, got, strict=True):
        np.testing.assert_array_equal(b, a)
    assert np.isfinite(want[0]).sum() > 0
    # the uplift's "reactivated within the window", asked of a subset of customers, after the log was released
    sub = index[::3]
    start = TODAY - 400 + (np.arange(len(sub)) % 300)
    for e in (duck, spark_engine):
        e.release()
    h1, h2 = duck.active_within(sub, start, 60), spark_engine.active_within(sub, start, 60)
    np.testing.assert_array_equal(h1, h2)
    assert 0 < h1.sum() < len(sub)


@pytest.mark.parametrize("history", [None, 100], ids=["days fetched", "days folded on the executors"])
def test_the_spark_engine_gives_the_duck_engines_aggregates(spark, book, monkeypatch, history):
    """Up to FETCH_DAYS_UP_TO customers Spark fetches every customer-day (the models read them all) and folds
    them on the driver; beyond, it folds them on the executors and fetches none: both give the default's."""
    from reactivate.data import engine as log_engine

    if history:
        monkeypatch.setattr(log_engine, "HISTORY_CUSTOMERS", history)
        monkeypatch.setattr(spark_engine_module, "FETCH_DAYS_UP_TO", history)
    duck, absent = open_log(book / "transactions.parquet", TABLES["transactions"], TableInput())
    sp, spark_absent = open_spark_log(book / "transactions.parquet", TableInput(), spark=spark)
    assert spark_absent == absent and set(sp.columns) == set(duck.columns)
    assert_same_aggregates(duck, sp, _index(book))


def test_a_folder_of_partitioned_parquet_and_mapped_columns(spark, book, tmp_path):
    """A warehouse's layout: a folder partitioned by month, the bank's own column names mapped."""
    t = pa.parquet.read_table(book / "transactions.parquet")
    t = t.rename_columns(["cust_no" if c == "customer_id" else c for c in t.column_names])
    month = pa.compute.strftime(t.column("timestamp"), format="%Y-%m")
    ds.write_dataset(t.append_column("month", month), tmp_path / "txn", format="parquet",
                     partitioning=ds.partitioning(pa.schema([("month", pa.string())]), flavor="hive"))
    mapping = TableInput(columns={"cust_no": "customer_id"})
    sp, _ = open_spark_log(f"file://{tmp_path / 'txn'}", mapping, spark=spark)
    duck, _ = open_log(book / "transactions.parquet", TABLES["transactions"], TableInput())
    assert sp.check().rows == duck.check().rows
    assert_same_aggregates(duck, sp, _index(book))


def test_a_log_spark_cannot_use_is_one_error_naming_every_problem(spark, book, tmp_path):
    t = pa.parquet.read_table(book / "transactions.parquet").drop_columns(["customer_id"])
    t = t.set_column(t.column_names.index("amount"), "amount", t.column("amount").cast(pa.string()))
    pa.parquet.write_table(t, tmp_path / "bad.parquet")
    with pytest.raises(InputDataError) as err:
        open_spark_log(tmp_path / "bad.parquet", TableInput(), spark=spark)
    msg = str(err.value)
    assert "column amount (amount): of type string" in msg and "column customer_id: missing required column" in msg
    with pytest.raises(InputDataError, match=r"cannot be read by Spark .*Path does not exist"):
        open_spark_log(tmp_path / "nothing-here", TableInput(), spark=spark)
    # not Parquet: Spark's innermost reason, not the gateway's "An error occurred while calling o33.parquet"
    (tmp_path / "log.dat").write_bytes((book / "transactions.parquet").read_bytes()[:-8] + b"not tail")
    with pytest.raises(InputDataError, match=r"log.dat: cannot be read by Spark \(.*is not a Parquet file"):
        open_spark_log(tmp_path / "log.dat", TableInput(), spark=spark)


@pytest.mark.parametrize("name", ["transactions.csv", "transactions.CSV.GZ", "log.json"])
def test_a_text_file_is_refused_before_spark_is_asked(name, tmp_path):
    """The Spark engine reads Parquet or catalog tables: a file named as text is one line saying so, before a
    session is started (``spark=None`` would start one)."""
    (tmp_path / name).write_text("customer_id,timestamp\nC1,2026-01-01\n")
    with pytest.raises(InputDataError, match=r"reads the transactions from Parquet .* not \.(csv|json)"):
        open_spark_log(tmp_path / name, TableInput(), spark=None)


@pytest.mark.parametrize("kind", ["not parquet", "no such path", "an empty folder"])
def test_bad_spark_input_on_the_command_line_is_one_line_and_no_java_stack(book, tmp_path, kind):
    """``reactivate plan --engine spark`` with a log Spark cannot read: exit 2, one ``Error:`` line naming the
    source, and none of Spark's own log (its stack traces are kept off the console: LOG4J_CONFIG)."""
    import subprocess
    import sys

    log = {"not parquet": tmp_path / "log.dat", "no such path": tmp_path / "absent",
           "an empty folder": tmp_path / "empty"}[kind]
    if kind == "not parquet":
        log.write_bytes(b"customer_id,timestamp\n" * 100)
    elif kind == "an empty folder":
        log.mkdir()
    r = subprocess.run([sys.executable, "-m", "reactivate", "plan", "--as-of", AS_OF.isoformat(), "--accounts",
                        str(book / "accounts.parquet"), "--transactions", str(log), "--engine", "spark",
                        "--out", str(tmp_path / "out"), "--quiet"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if not ln.startswith("WARNING: Using incubator modules")]
    assert len(lines) == 1 and lines[0].startswith(f"Error: {log}: cannot be read by Spark ("), r.stderr
    assert "\tat " not in r.stderr and "Traceback" not in r.stderr and not (tmp_path / "out").exists()


def _run(monkeypatch, spark, book, engine: str):
    """The plan job on ``book`` with the given engine over the transaction log."""
    from reactivate.jobs.pipeline import run_plan

    if engine == "spark":  # the log opened by Spark where the default engine opens it
        monkeypatch.setattr(load_module, "open_log",
                            lambda path, table, spec, *a, **k: open_spark_log(path, spec, spark=spark))
    else:
        monkeypatch.setattr(load_module, "open_log", open_log)
    return run_plan(as_of=AS_OF, accounts=book / "accounts.parquet", transactions=book / "transactions.parquet",
                    contacts=book / "contacts.parquet")


def assert_same_plan(a, b) -> dict:
    """Same dormancy and features (1e-9), segments, scores (1e-6), hard rules; plan objective within 0.5%."""
    ca, cb = a.customers, b.customers
    assert list(ca.columns) == list(cb.columns)
    for col in ca.columns:
        x, y = ca[col], cb[col]
        if pd.api.types.is_float_dtype(x):
            np.testing.assert_allclose(y.to_numpy(), x.to_numpy(), rtol=1e-9, atol=1e-9, err_msg=col)
        else:
            pd.testing.assert_series_equal(y, x, check_names=False, obj=col)
    sa, sb = a.scores, b.scores
    assert list(sa.index) == list(sb.index)
    assert (sa["segment_id"].astype(str) == sb["segment_id"].astype(str)).all()
    for col in ("p_reactivate", "expected_value"):
        if col in sa.columns:
            np.testing.assert_allclose(sb[col].to_numpy(float), sa[col].to_numpy(float), rtol=1e-6, atol=1e-6,
                                       err_msg=col)
    ra, rb = a.result, b.result
    for name in ("suppressed", "holdout"):  # the hard rules: exactly the same customers
        ta, tb = getattr(ra, name), getattr(rb, name)
        assert sorted(map(str, ta["customer_id"])) == sorted(map(str, tb["customer_id"])), name
    oa, ob = (r.summary["plan"]["optimizer"]["objective"] for r in (a, b))
    assert abs(ob - oa) <= 0.005 * abs(oa)
    return {"objective": (oa, ob), "scores": float(np.max(np.abs(sb["p_reactivate"].to_numpy(float)
                                                                 - sa["p_reactivate"].to_numpy(float))))}


def test_the_plan_on_spark_is_the_plan_on_duckdb(monkeypatch, spark, book):
    duck = _run(monkeypatch, spark, book, "duckdb")
    on_spark = _run(monkeypatch, spark, book, "spark")
    assert on_spark.book.engine.__class__.__name__ == "SparkEngine"
    assert_same_plan(duck, on_spark)


def test_with_a_history_sample_the_plan_on_spark_is_the_plan_on_duckdb(monkeypatch, spark, book):
    """Beyond ``FETCH_DAYS_UP_TO`` customers Spark fetches the occasions of a sample of them only (the models'
    samples are drawn from it). Made to hold on this small book for both engines, the two plans agree as
    without the sample, and Spark fetched the occasions of the sample only."""
    from reactivate.data import engine as log_engine
    from reactivate.data.engine import DuckEngine
    from reactivate.data.spark_engine import SparkEngine

    monkeypatch.setattr(log_engine, "HISTORY_CUSTOMERS", 800)
    monkeypatch.setattr(spark_engine_module, "FETCH_DAYS_UP_TO", 800)
    monkeypatch.setattr(DuckEngine, "samples_history", lambda self, n: n > log_engine.HISTORY_CUSTOMERS)
    asked = []
    real = SparkEngine.occasions

    def spy(self, index, among=None):
        asked.append(None if among is None else len(among))
        return real(self, index, among)

    monkeypatch.setattr(SparkEngine, "occasions", spy)
    duck = _run(monkeypatch, spark, book, "duckdb")
    on_spark = _run(monkeypatch, spark, book, "spark")
    assert asked and all(k is not None and 800 <= k < 2500 for k in asked)
    assert_same_plan(duck, on_spark)


@pytest.mark.slow
def test_a_200k_customer_book_on_spark(monkeypatch, spark, tmp_path_factory):
    """The issue's bar: a 200,000-customer demo book, local[2], against the default engine."""
    book = _book(tmp_path_factory, 200_000, 16)
    duck, _ = open_log(book / "transactions.parquet", TABLES["transactions"], TableInput())
    sp, _ = open_spark_log(book / "transactions.parquet", TableInput(), spark=spark)
    assert_same_aggregates(duck, sp, _index(book))
    sp.close()
    assert_same_plan(_run(monkeypatch, spark, book, "duckdb"), _run(monkeypatch, spark, book, "spark"))


def test_the_contract_problems_of_a_log_on_spark_are_listed_together(spark, tmp_path):
    from reactivate.data.spark_engine import log_problems

    ts = pa.array([dt.datetime(2026, 1, 5, 9), dt.datetime(2026, 12, 25, 9), None], type=pa.timestamp("s"))
    t = pa.table({"customer_id": ["C1", None, "C2"], "timestamp": ts, "amount": [1.0, float("inf"), 2.0],
                  "channel": ["online", "telepathy", "atm"]})
    pa.parquet.write_table(t, tmp_path / "txn.parquet")
    sp, _ = open_spark_log(tmp_path / "txn.parquet", TableInput(), spark=spark)
    problems = log_problems(sp, tmp_path / "txn.parquet", AS_OF)
    assert problems[:3] == ["txn.parquet: column customer_id: 1 missing values",
                            "txn.parquet: column timestamp: 1 missing values",
                            "txn.parquet: column timestamp: values after the as-of date 2026-11-30"]
    assert "txn.parquet: column amount: 1 infinite values" in problems
    assert any(p.startswith("txn.parquet: column channel: values not allowed: 'telepathy'") for p in problems)
    clean = pa.parquet.read_table(tmp_path / "txn.parquet").slice(0, 1)
    pa.parquet.write_table(clean, tmp_path / "ok.parquet")
    assert log_problems(open_spark_log(tmp_path / "ok.parquet", TableInput(), spark=spark)[0], "ok.parquet",
                        AS_OF) == []


def test_reactivate_plan_engine_spark_writes_the_plan_of_the_default_engine(book, tmp_path):
    """The command line: ``--engine spark`` is recorded in run.json and gives the default engine's plan."""
    import json

    from typer.testing import CliRunner

    from reactivate.cli import app

    args = ["plan", "--as-of", AS_OF.isoformat(), "--accounts", str(book / "accounts.parquet"), "--transactions",
            str(book / "transactions.parquet"), "--contacts", str(book / "contacts.parquet"), "--no-report",
            "--quiet"]
    outs = {}
    for engine in ("duckdb", "spark"):
        outs[engine] = tmp_path / engine
        r = CliRunner().invoke(app, [*args, "--out", str(outs[engine]), "--engine", engine])
        assert r.exit_code == 0, r.output
    run = json.loads((outs["spark"] / "run.json").read_text())
    assert run["campaign"]["engine"]["name"] == "spark"
    summaries = [json.loads((outs[e] / "summary.json").read_text()) for e in ("duckdb", "spark")]
    assert summaries[0]["plan"] == summaries[1]["plan"]
    for name in ("scores.csv", "plan.csv", "suppressed.csv", "holdout.csv"):
        assert (outs["duckdb"] / name).read_bytes() == (outs["spark"] / name).read_bytes(), name


def test_scores_and_plan_as_partitioned_parquet_for_the_warehouse(monkeypatch, spark, book, tmp_path):
    from reactivate.outputs.warehouse import write_warehouse
    from reactivate.outputs.writer import write_run

    run = _run(monkeypatch, spark, book, "duckdb")
    write_run(run, tmp_path / "out")
    written = write_warehouse(run, f"file://{tmp_path / 'wh'}", spark)
    assert sorted(written) == ["lists", "plan", "scores"]
    assert any(p.name.startswith("segment_id=") for p in (tmp_path / "wh" / "scores").iterdir())
    assert any(p.name.startswith("week_start=") for p in (tmp_path / "wh" / "plan").iterdir())
    # the due week's RM lists: a folder per week, one per RM in it, every row of the lists' CSV files
    weeks = [p for p in (tmp_path / "wh" / "lists").iterdir() if p.name.startswith("week_start=")]
    assert len(weeks) == run.spec.targets.list_weeks
    assert any(p.name.startswith("rm_id=") for p in weeks[0].iterdir())
    rows = sum(len(pd.read_csv(f)) for f in (tmp_path / "out" / "targets").glob("*/*.csv"))
    got = spark.read.parquet(written["lists"])
    assert got.count() == rows > 0 and got.select("customer_id").distinct().count() > 1
    for name, key in (("scores", ["customer_id"]), ("plan", ["customer_id", "week_start", "step"])):
        csv = pd.read_csv(tmp_path / "out" / f"{name}.csv", dtype={"customer_id": str})
        got = spark.read.parquet(written[name]).toPandas()[list(csv.columns)]
        csv, got = (f.sort_values(key).reset_index(drop=True) for f in (csv, got))
        assert len(got) == len(csv)
        for col in csv.columns:
            if pd.api.types.is_numeric_dtype(got[col]):
                np.testing.assert_allclose(got[col].to_numpy(float), csv[col].to_numpy(float), err_msg=col)
            else:
                text = [f.astype(object).where(f.notna(), "").astype(str) for f in (got[col], csv[col])]
                assert (text[0] == text[1]).all(), col


def test_plan_on_spark_with_a_warehouse_writes_it_there_too(book, tmp_path):
    """``[engine.spark] warehouse``: ``reactivate plan`` also writes scores, plan and RM lists as partitioned
    Parquet, one folder per as-of date, beside the usual outputs."""
    from typer.testing import CliRunner

    from reactivate.cli import app

    wh = tmp_path / "wh"
    (tmp_path / "c.toml").write_text(f'[engine]\nname = "spark"\n\n[engine.spark]\nmaster = "local[2]"\n'
                                     f'warehouse = "file://{wh}"\n')
    r = CliRunner().invoke(app, ["plan", "--as-of", AS_OF.isoformat(), "--accounts", str(book / "accounts.parquet"),
                                 "--transactions", str(book / "transactions.parquet"), "--campaign",
                                 str(tmp_path / "c.toml"), "--no-report", "--quiet", "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    day = wh / AS_OF.isoformat()
    assert any(p.name.startswith("segment_id=") for p in (day / "scores").iterdir())
    assert any(p.name.startswith("week_start=") for p in (day / "plan").iterdir())
    assert any(p.name.startswith("week_start=") for p in (day / "lists").iterdir())
    assert (tmp_path / "out" / "plan.csv").is_file()
