"""The accounts and the contact history read by Spark (a folder of partitioned Parquet, a catalog table) are the
frames, and give the problems, that the same rows give as a file on this machine; a plan from them is the plan
from the files, byte for byte.

Run in the Spark group (``pytest -m spark``); skipped without pyspark or Java.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from reactivate.config.campaign import TableInput
from reactivate.data.io import read_table
from reactivate.data.spark_tables import read_spark_table
from reactivate.data.validate import check_table
from reactivate.errors import InputDataError
from reactivate.schema import TABLES
from tests.spark_local import SPARK_MARKS  # skips the module without pyspark or Java

pytestmark = SPARK_MARKS
AS_OF = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """A demo book as Parquet files, and its accounts and contacts again as folders of partitioned Parquet
    (several files, the partition column kept only in the folders' names)."""
    from reactivate.demo.book import generate_book, write_book

    out = tmp_path_factory.mktemp("book")
    write_book(generate_book(1500, seed=21, as_of=AS_OF), out, fmt="parquet")
    for name, by in (("accounts", "product"), ("contacts", "channel")):
        ds.write_dataset(pq.read_table(out / f"{name}.parquet"), out / f"{name}_parts", format="parquet",
                         partitioning=[by], partitioning_flavor="hive", max_rows_per_file=400,
                         max_rows_per_group=400)
    return out


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame's values, text as text (categories and Arrow dictionaries alike), rows in one order."""
    text = {c: frame[c].astype(object).where(frame[c].notna(), None).astype(str)
            for c in frame.columns if frame[c].dtype.kind not in "bfiuM"}
    out = frame.assign(**text)
    return out.sort_values(list(out.columns)).reset_index(drop=True)


@pytest.mark.parametrize("name", ["accounts", "contacts"])
@pytest.mark.parametrize("kind", ["folder", "table"])
def test_a_table_spark_reads_is_the_files_frame(spark, book, name, kind):
    source = str(book / f"{name}_parts")
    if kind == "table":
        spark.read.parquet(source).createOrReplaceTempView(f"bank_{name}")
        source = f"table:bank_{name}"
    local = read_table(book / f"{name}.parquet", TABLES[name], TableInput())
    remote = read_spark_table(source, TABLES[name], TableInput(), spark=spark)
    assert remote.problems == local.problems == [] and remote.absent_optional == local.absent_optional
    # the same columns (a partition column comes last from Spark), of the contract's types, with the same rows
    assert sorted(remote.frame.columns) == sorted(local.frame.columns)
    got = remote.frame[local.frame.columns]
    for col in local.frame.columns:
        assert got[col].dtype.kind == local.frame[col].dtype.kind, col
    pd.testing.assert_frame_equal(_comparable(got), _comparable(local.frame))


def _spoiled(book) -> pa.Table:
    """Accounts breaking the contract in many ways at once (one Parquet file, so that Spark reads its rows in
    the file's order): the corpus of the problems a table read by Spark must report as a file does."""
    acc = pd.read_parquet(book / "accounts.parquet").head(300).copy()
    acc["balance"] = acc["balance"].astype(float)
    acc.loc[[4, 9], "customer_id"] = None
    acc.loc[[7, 8, 20], "product"] = "lottery"
    acc.loc[acc.index[acc["product"].isin(["current", "savings"])][:2], "balance"] = -50.0
    acc.loc[11, "account_id"] = acc.loc[12, "account_id"]
    acc["open_date"] = acc["open_date"].astype(str)
    acc.loc[[3, 30], "open_date"] = "2026-13-45"
    acc.loc[40, "open_date"] = "2031-01-01"
    acc["has_phone"] = acc["has_phone"].astype(str)
    acc.loc[5, "has_phone"] = "perhaps"
    return pa.Table.from_pandas(acc.rename(columns={"rm_id": "advisor"}), preserve_index=False)


def _rendered(raw, name: str) -> list[str]:
    return [p.render() for p in check_table(raw, TABLES[name], AS_OF)]  # the reading's problems, then the checks'


def test_spark_reports_a_tables_problems_as_a_file_does_without_row_numbers(spark, book, tmp_path):
    pq.write_table(_spoiled(book), tmp_path / "accounts.parquet")
    spec = TableInput(columns={"advisor": "rm_id"})
    local = _rendered(read_table(tmp_path / "accounts.parquet", TABLES["accounts"], spec), "accounts")
    remote = _rendered(read_spark_table(tmp_path / "accounts.parquet", TABLES["accounts"], spec, spark=spark),
                       "accounts")
    assert len(local) == 7  # dates, a boolean, missing ids, products, a date too late, a doubled id, a balance
    # the same problems, counts and first values; a table Spark reads has no row numbers to give
    assert remote == [re.sub(r"\(rows? [\d, .]+; ", "(", re.sub(r" \(rows? [\d, .]+\)", "", p)) for p in local]
    assert not any(re.search(r"\brows? \d", p) for p in remote)


def test_a_missing_or_doubled_column_in_a_table_spark_reads(spark, book, tmp_path):
    acc = pq.read_table(book / "accounts.parquet")
    pq.write_table(acc.drop_columns(["customer_id"]).append_column("RM", acc.column("rm_id")),
                   tmp_path / "accounts.parquet")
    spec = TableInput(columns={"RM": "rm_id"})
    local = _rendered(read_table(tmp_path / "accounts.parquet", TABLES["accounts"], spec), "accounts")
    remote = _rendered(read_spark_table(tmp_path / "accounts.parquet", TABLES["accounts"], spec, spark=spark),
                       "accounts")
    assert remote == local and any("customer_id" in p and "missing" in p for p in local)
    assert any("rm_id" in p and "twice" in p for p in local)


def test_a_text_file_or_an_unreadable_source_is_one_error(spark, tmp_path):
    (tmp_path / "accounts.csv.gz").write_bytes(b"")
    with pytest.raises(InputDataError, match=r"accounts\.csv\.gz: the Spark engine reads the accounts from "
                                             r"Parquet .* not \.csv\.gz: write the accounts as Parquet"):
        read_spark_table(tmp_path / "accounts.csv.gz", TABLES["accounts"], TableInput(), spark=None)
    with pytest.raises(InputDataError, match=r"^table:bank\.no_such_table: cannot be read by Spark \("):
        read_spark_table("table:bank.no_such_table", TABLES["contacts"], TableInput(), spark=spark)


def test_plan_on_spark_from_warehouse_tables_is_the_plan_from_files(spark, book, tmp_path):
    """``reactivate plan --engine spark`` with the accounts a catalog table and the contacts a folder of
    partitioned Parquet: the default engine's outputs from the files, byte for byte."""
    from typer.testing import CliRunner

    from reactivate.cli import app

    spark.read.parquet(str(book / "accounts_parts")).createOrReplaceTempView("wh_accounts")
    common = ["plan", "--as-of", AS_OF.isoformat(), "--transactions", str(book / "transactions.parquet"),
              "--no-report", "--quiet"]
    runs = {
        "files": ["--accounts", str(book / "accounts.parquet"), "--contacts", str(book / "contacts.parquet")],
        "warehouse": ["--accounts", "table:wh_accounts", "--contacts", str(book / "contacts_parts"),
                      "--engine", "spark"],
    }
    for kind, args in runs.items():
        r = CliRunner().invoke(app, [*common, *args, "--out", str(tmp_path / kind)])
        assert r.exit_code == 0, r.output
    for fname in ("scores.csv", "plan.csv", "suppressed.csv", "holdout.csv", "summary.json"):
        assert (tmp_path / "files" / fname).read_bytes() == (tmp_path / "warehouse" / fname).read_bytes(), fname
    inputs = {kind: json.loads((tmp_path / kind / "run.json").read_text())["inputs"] for kind in runs}
    assert inputs["warehouse"]["accounts"]["path"] == "table:wh_accounts"
    for table in ("accounts", "contacts"):
        assert inputs["warehouse"][table]["rows"] == inputs["files"][table]["rows"] > 0, table


def test_bad_accounts_spark_reads_stop_the_plan_with_every_problem_and_nothing_written(spark, book, tmp_path):
    from typer.testing import CliRunner

    from reactivate.cli import app

    (tmp_path / "accounts").mkdir()
    pq.write_table(_spoiled(book).drop_columns(["advisor"]), tmp_path / "accounts" / "part-0.parquet")
    r = CliRunner().invoke(app, ["plan", "--engine", "spark", "--as-of", AS_OF.isoformat(), "--accounts",
                                 str(tmp_path / "accounts"), "--transactions", str(book / "transactions.parquet"),
                                 "--out", str(tmp_path / "out"), "--quiet"])
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("Error:")]
    assert errors == ["Error: 7 problems in the input data"], r.stderr
    assert "accounts: column 'product': unknown value" in r.stderr and "in 3 rows (first value 'lottery')" in r.stderr
    assert not (tmp_path / "out").exists()


def test_backtest_on_the_spark_engine_reads_the_log_through_spark(spark, book, tmp_path):
    """``backtest`` cuts the book back to earlier days, so it reads the log as a frame: on the Spark engine
    Spark reads it (here a folder of Parquet files, which this machine's reader refuses) into the driver, and
    the backtest is the default engine's from the files."""
    from typer.testing import CliRunner

    from reactivate.cli import app

    (tmp_path / "txn").mkdir()
    pq.write_table(pq.read_table(book / "transactions.parquet"), tmp_path / "txn" / "part-0.parquet")
    (tmp_path / "spark.toml").write_text('[engine]\nname = "spark"\n')
    common = ["backtest", "--as-of", AS_OF.isoformat(), "--quiet"]
    runs = {"files": ["--accounts", str(book / "accounts.parquet"), "--transactions",
                      str(book / "transactions.parquet")],
            "spark": ["--accounts", str(book / "accounts_parts"), "--transactions", str(tmp_path / "txn"),
                      "--campaign", str(tmp_path / "spark.toml")]}
    for kind, args in runs.items():
        r = CliRunner().invoke(app, [*common, *args, "--out", str(tmp_path / kind)])
        assert r.exit_code == 0, r.output
    assert (tmp_path / "files" / "backtest.csv").read_bytes() == (tmp_path / "spark" / "backtest.csv").read_bytes()


def test_the_weekly_run_on_spark_reads_its_inputs_from_the_warehouse(spark, book, tmp_path):
    """``reactivate run`` with ``[engine] name = "spark"`` and ``[inputs]`` naming a catalog table and folders of
    Parquet: the week's scores and plan are those of the same campaign on the default engine from the files."""
    from reactivate.jobs.weekly import run_week

    (tmp_path / "txn").mkdir()
    pq.write_table(pq.read_table(book / "transactions.parquet"), tmp_path / "txn" / "part-0.parquet")
    spark.read.parquet(str(book / "accounts_parts")).createOrReplaceTempView("weekly_accounts")
    sources = {
        "files": {"accounts": book / "accounts.parquet", "transactions": book / "transactions.parquet",
                  "contacts": book / "contacts.parquet"},
        "warehouse": {"accounts": "table:weekly_accounts", "transactions": tmp_path / "txn",
                      "contacts": book / "contacts_parts"},
    }
    weeks = {}
    for kind, inputs in sources.items():
        engine = '[engine]\nname = "spark"\n\n' if kind == "warehouse" else ""
        (tmp_path / f"{kind}.toml").write_text(
            f'{engine}[campaign]\nid = "wk"\n\n[inputs]\n' + "".join(f'{k} = "{v}"\n' for k, v in inputs.items())
            + f'out = "{tmp_path / kind}"\n')
        weeks[kind] = run_week(tmp_path / f"{kind}.toml", "2026-W50")
    run = json.loads((weeks["warehouse"].out / "run.json").read_text())
    assert run["campaign"]["engine"]["name"] == "spark" and run["inputs"]["accounts"]["path"] == "table:weekly_accounts"
    assert weeks["warehouse"].summary["plan"] == weeks["files"].summary["plan"]
    assert weeks["files"].summary["plan"]["touches"] > 0
    for fname in ("scores.csv", "plan.csv", "holdout.csv", "suppressed.csv"):
        assert (weeks["files"].out / fname).read_bytes() == (weeks["warehouse"].out / fname).read_bytes(), fname


def test_the_drivers_result_cap_is_one_line_naming_the_setting(monkeypatch, spark, book):
    """A cluster's ``spark.driver.maxResultSize`` smaller than the accounts: the setting to raise, not Spark's
    stack (the cap is a session's setting, so a stand-in DataFrame fails as Spark's collect does)."""
    from reactivate.data import spark_tables
    from reactivate.errors import ConfigError

    real = spark.read.parquet(str(book / "accounts_parts"))

    class Capped:
        columns = real.columns

        def __getitem__(self, name):
            return real[name]

        def select(self, *cols):
            return self

        def toArrow(self):  # pyspark's name
            raise RuntimeError("Job aborted: Total size of serialized results of 3 tasks (1100.0 MiB) is bigger "
                               "than spark.driver.maxResultSize (1024.0 MiB)")

    monkeypatch.setattr(spark_tables, "read_source", lambda *a: Capped())
    with pytest.raises(ConfigError, match=r"^table:bank\.accounts: the accounts are larger than Spark lets the "
                                          r"driver receive: raise spark\.driver\.maxResultSize"):
        read_spark_table("table:bank.accounts", TABLES["accounts"], TableInput(), spark=spark)
