"""``reactivate backtest``: plan as of past cutoffs, judge every score on what happened next."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from reactivate.cli import app
from tests.conftest import AS_OF

runner = CliRunner()
FILES = ["backtest.csv", "backtest.json", "backtest_auc.png", "backtest_calibration.png", "run.json"]


def invoke(*args):
    return runner.invoke(app, list(map(str, args)))


def test_help_has_an_example():
    r = invoke("backtest", "--help")
    assert r.exit_code == 0 and "Example:" in r.stdout and "reactivate backtest" in r.stdout


@pytest.fixture(scope="module")
def backtest_out(demo_book, tmp_path_factory):
    out = tmp_path_factory.mktemp("bt") / "out"
    r = invoke("backtest", "--as-of", AS_OF, "--accounts", demo_book / "accounts.csv", "--transactions",
               demo_book / "transactions.csv", "--contacts", demo_book / "contacts.csv", "--out", out)
    assert r.exit_code == 0, r.output
    return out, r


def test_the_last_two_horizons_side_by_side_with_the_baselines(backtest_out):
    out, r = backtest_out
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    table = pd.read_csv(out / "backtest.csv")
    assert list(table["cutoff"].unique()) == ["2026-06-15", "2026-09-07"]  # 168 and 84 days before as-of
    for _, t in table.groupby("cutoff"):
        scores = set(t["score"])
        assert {"chosen", "baseline recency", "baseline freq/recency", "baseline bgnbd"} <= scores
        assert {"campaigns", "backtest", "bgnbd", "prior", "recency", "freq/recency"} & scores
        chosen = t[t["score"] == "chosen"].iloc[0]
        assert 0.5 < chosen["auc"] <= 1 and chosen["brier"] > 0 and chosen["mean_predicted"] > 0
        assert t["positives"].nunique() == 1 and t["rows"].nunique() == 1  # the same customers for all
    doc = json.loads((out / "backtest.json").read_text())
    c = doc["cutoffs"][0]
    assert c["scoring"]["source"] and len(c["reliability_chosen"]) >= 5
    assert "chosen" in r.stderr and "baseline bgnbd" in r.stderr


def test_the_same_inputs_give_the_same_bytes(backtest_out, demo_book, tmp_path):
    out, _ = backtest_out
    again = tmp_path / "again"
    r = invoke("backtest", "--as-of", AS_OF, "--accounts", demo_book / "accounts.csv", "--transactions",
               demo_book / "transactions.csv", "--contacts", demo_book / "contacts.csv", "--out", again, "-q")
    assert r.exit_code == 0 and r.stderr == ""
    for name in FILES:
        if name != "run.json":  # it names the outputs' inputs... the same here, but written per run
            assert (again / name).read_bytes() == (out / name).read_bytes(), name
    # a second run into the same folder replaces it (it is reactivate's: it holds run.json)
    r = invoke("backtest", "--as-of", AS_OF, "--transactions", demo_book / "transactions.csv", "--out", again, "-q")
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize(("args", "message"), [
    (["--cutoff", "2026-11-01"], "Error: cutoff 2026-11-01: its 84-day horizon ends after the as-of day 2026-11-30"),
    (["--cutoff", "2001-01-01"], "Error: cutoff 2001-01-01 is before the transaction log starts"),
    (["--cutoff", "1-2-3"], "Error: --cutoff='1-2-3' is not a date like 2026-11-30"),
])
def test_bad_cutoffs_exit_2_with_one_clear_line(demo_book, tmp_path, args, message):
    r = invoke("backtest", "--as-of", AS_OF, "--transactions", demo_book / "transactions.csv",
               "--out", tmp_path / "out", *args)
    assert r.exit_code == 2 and r.stderr.startswith(message) and "Traceback" not in r.output
    assert not (tmp_path / "out").exists()


def test_without_a_transaction_log_there_is_nothing_to_read_the_outcome_from(demo_book, tmp_path):
    r = invoke("backtest", "--as-of", AS_OF, "--accounts", demo_book / "accounts.csv", "--out", tmp_path / "out")
    assert r.exit_code == 2 and r.stderr.startswith("Error: backtest reads what happened after each cutoff")
