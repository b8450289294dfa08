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
