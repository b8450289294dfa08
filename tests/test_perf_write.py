"""The writer of a large run keeps its heavy work off its own process: the report's charts are drawn by a
pool's worker (matplotlib is never imported by the writer), and the workers write their files into the
staging folder themselves."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import AS_OF, ROOT


def test_a_pooled_run_draws_its_charts_in_a_worker(demo_book, tmp_path):
    out = tmp_path / "out"
    code = f"""
import datetime as dt, sys
from reactivate.jobs.pipeline import run_plan
from reactivate.outputs import writer
book = {str(demo_book)!r}
run = run_plan(as_of=dt.date.fromisoformat({str(AS_OF)!r}), accounts=book + "/accounts.csv",
               transactions=book + "/transactions.csv", contacts=book + "/contacts.csv",
               campaign={str(ROOT / "campaigns" / "default.toml")!r})
before = "matplotlib" in sys.modules
writer.POOL_WORKBOOKS = 1  # as in a run with thousands of workbooks
writer.write_run(run, {str(out)!r}, report_lang="en")
assert before or "matplotlib" not in sys.modules, "the writer drew the charts itself"
"""
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # no worker printed anything
    assert (out / "report.html").is_file() and len(list((out / "charts").glob("*.png"))) >= 5
    assert list((out / "targets").glob("*/*.xlsx"))
    assert not list(tmp_path.glob(".out.tmp-*"))
