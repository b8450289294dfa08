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


def _plan_to(demo_book, out, early_targets: int, fail: bool = False) -> str:
    """A script that runs ``plan_to`` (what `reactivate plan` runs) with the output workers started once
    ``early_targets`` targets are found; ``fail``: scoring then fails, with the workers started."""
    return f"""
import datetime as dt, sys
from reactivate.errors import InputDataError
from reactivate.jobs import commands, pipeline
from reactivate.outputs import workers, writer
workers.EARLY_TARGETS = {early_targets}
writer.POOL_WORKBOOKS = 10 ** 9  # only a pool started early is used
if {fail}:
    def boom(*a, **k):
        raise InputDataError("stop here")
    pipeline.score_targets = boom
book = {str(demo_book)!r}
try:
    commands.plan_to({str(out)!r}, as_of=dt.date.fromisoformat({str(AS_OF)!r}), accounts=book + "/accounts.csv",
                     transactions=book + "/transactions.csv", contacts=book + "/contacts.csv",
                     campaign={str(ROOT / "campaigns" / "default.toml")!r}, report_lang="en")
except InputDataError as exc:
    print("failed:", exc)
import multiprocessing
print("children:", len(multiprocessing.active_children()), "matplotlib:", "matplotlib" in sys.modules)
"""


def test_output_workers_started_during_the_plan_write_the_same_bytes(demo_book, tmp_path):
    """A large run starts its output workers (and warms them: the report's modules, a first chart) as soon as
    dormancy has found its targets; the outputs are byte for byte those of a run that starts none."""
    outs = {}
    for name, early in (("early", 1), ("none", 10 ** 9)):
        outs[name] = tmp_path / name
        r = subprocess.run([sys.executable, "-c", _plan_to(demo_book, outs[name], early)], cwd=ROOT,
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        assert r.stderr == ""
        # early: the charts were drawn by a worker, and the pool is gone when plan_to returns
        assert r.stdout.strip() == ("children: 0 matplotlib: " + str(name == "none"))
    files = sorted(p.relative_to(outs["early"]) for p in outs["early"].rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(outs["none"]) for p in outs["none"].rglob("*") if p.is_file())
    assert any(f.suffix == ".png" for f in files) and any(f.suffix == ".xlsx" for f in files)
    for f in files:
        assert (outs["early"] / f).read_bytes() == (outs["none"] / f).read_bytes(), f


def test_a_run_that_fails_after_its_workers_started_stops_them_and_writes_nothing(demo_book, tmp_path):
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-c", _plan_to(demo_book, out, 1, fail=True)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout.splitlines() == ["failed: stop here", "children: 0 matplotlib: False"]
    assert list(tmp_path.iterdir()) == []  # no outputs, no staging folder
