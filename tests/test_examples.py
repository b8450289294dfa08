"""The examples are executed, so they never rot."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT, SHARED_DATA


def run_example(name: str, tmp_path) -> str:
    r = subprocess.run([sys.executable, str(ROOT / "examples" / name), str(tmp_path)], capture_output=True,
                       text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_library_quickstart(tmp_path):
    out = run_example("library_quickstart.py", tmp_path)
    assert "dormant customers in" in out and "touches; first week by channel" in out
    assert (tmp_path / "plan" / "plan.csv").is_file()


@pytest.mark.slow
def test_online_retail_transaction_log_only(tmp_path):
    if not (SHARED_DATA / "online-retail" / "onlineretail.csv.gz").is_file():
        pytest.skip("../shared/data/online-retail is absent")
    out = run_example("online_retail.py", tmp_path)
    # the published figures of the log: 4,339 customers with purchases, 858 lapsed over 180 days
    assert out.startswith("4,339 customers with purchases")
    assert "over 180 days: 858" in out
    assert "segments of the lapsed:" in out and "e-mails over 8 weeks" in out
    assert out.count("sets it apart:") >= 3 and "no relationship manager" not in out  # no RM data: no RM claim


def test_cdnow_plain_purchase_log(tmp_path):
    if not (SHARED_DATA / "cdnow-sample" / "CDNOW_sample.txt").is_file():
        pytest.skip("../shared/data/cdnow-sample is absent")
    import pandas as pd

    out = run_example("cdnow_plan.py", tmp_path)
    lines = out.splitlines()
    assert lines[0] == f"6,919 purchases written to {tmp_path / 'transactions.csv'}"
    # the bank template: nobody may be contacted, and the line to set
    assert lines[1].startswith("with campaigns/default.toml: 0 touches; nobody can be contacted: ")
    assert 'set [consent] assume_when_missing = ["email", "app"]' in lines[1]
    # campaigns/purchase_log.toml: a plan on the owned channels, none by phone
    assert lines[2].startswith("with campaigns/purchase_log.toml: ") and "2,060 lapsed customers" in lines[2]
    plan = pd.read_csv(tmp_path / "plan" / "plan.csv")
    assert len(plan) > 1000 and set(plan["channel"]) == {"email", "app"}
    scores = pd.read_csv(tmp_path / "plan" / "scores.csv", keep_default_na=False)
    assert set(scores["best_channel"]) <= {"email", "app"}
    assert "no digital channel" not in out and " New" not in out and "Long-standing" not in out
