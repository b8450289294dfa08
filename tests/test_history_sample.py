"""When the log's engine does not hold every customer's occasions (Spark), the models look back on a sample.

The scoring's sources draw every sample of customers they read at earlier days (backtest snapshots, the
held-out slice, BG/NBD's fit) from ``Context.history``: :data:`reactivate.data.engine.HISTORY_CUSTOMERS`
customers drawn with the campaign's seed plus those contacted with a known outcome. Here the default engine is
made to behave so on a small book (``samples_history``, a small ``HISTORY_CUSTOMERS``): the whole plan
runs, and a question about anyone else at an earlier day would raise (``LogOccasions.local``), so the run
finishing is the proof that no sample escapes the history.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from reactivate.data import engine as log_engine
from reactivate.data.engine import DuckEngine
from reactivate.scoring import sources
from tests.conftest import ROOT

AS_OF = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def sampled_run(demo_book):
    from reactivate.jobs.pipeline import run_plan

    mp = pytest.MonkeyPatch()
    mp.setattr(log_engine, "HISTORY_CUSTOMERS", 1500)
    mp.setattr(DuckEngine, "samples_history", lambda self, n: n > log_engine.HISTORY_CUSTOMERS)
    made = []
    real = sources.Context.__init__

    def spy(self, *a, **k):
        real(self, *a, **k)
        made.append(self)

    mp.setattr(sources.Context, "__init__", spy)
    try:
        run = run_plan(as_of=AS_OF, accounts=demo_book / "accounts.csv", transactions=demo_book / "transactions.csv",
                       contacts=demo_book / "contacts.csv", campaign=ROOT / "campaigns" / "default.toml")
    finally:
        mp.undo()
    return run, made


def test_the_models_read_only_the_history_sample_and_the_plan_still_holds(sampled_run, demo_run):
    run, made = sampled_run
    ctx = made[0]
    n = len(ctx.customers)
    assert n > 1500 and ctx.history is not None
    h = ctx.history
    assert np.all(np.diff(h) > 0) and 1500 <= len(h) < n  # sorted, distinct, fewer than everyone
    assert ctx.occ.all.n == len(h)  # only the sample's occasions were fetched
    # every customer contacted with an outcome is in it (the campaigns source learns from them)
    assert ctx.contacts is not None and np.isin(ctx.contacts["pos"].to_numpy(), h).all()
    for most, salt in ((200, 1), (5000, 2)):
        drawn = ctx.draw(most, salt)
        assert len(drawn) == min(most, len(h)) and np.isin(drawn, h).all()
        assert np.array_equal(drawn, ctx.draw(most, salt))  # the campaign's seed: the same draw
    # the run says so, with counts only (no customer's id)
    said = [n for n in run.book.notes if "looked back on the history of" in n]
    assert len(said) == 1 and f"{len(h):,} of the {n:,} customers" in said[0]
    # today everyone is scored, as without the sample; the hard rules hold
    full, _ = demo_run
    assert sorted(run.scores.index) == sorted(full.scores.index)
    p = run.scores["p_reactivate"].to_numpy(float)
    assert np.isfinite(p).all() and ((p > 0) & (p < 1)).all()
    assert sorted(run.result.suppressed["customer_id"]) == sorted(full.result.suppressed["customer_id"])
    planned = set(run.result.plan["customer_id"])
    assert planned and not planned & set(run.result.holdout["customer_id"])
    assert not planned & set(run.result.suppressed["customer_id"])

