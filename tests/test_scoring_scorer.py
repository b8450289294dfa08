"""Today's pass as a pure function: the fitted scorer holds numbers only, pickles, and gives the context's scores."""

from __future__ import annotations

import datetime as dt
import pickle

import numpy as np
import pandas as pd
import pytest

from reactivate.config.campaign import load_campaign
from reactivate.jobs.pipeline import load_targets
from reactivate.scoring.calibration import logit, sigmoid
from reactivate.scoring.propensity import choose, fit_today, score_today
from reactivate.scoring.rank import target_positions
from reactivate.scoring.scorer import Scorer
from reactivate.scoring.sources import SOURCES, Context

AS_OF = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    return scoring_books(tmp_path_factory.mktemp("scorerbook"))


def scoring_books(out):
    """A small demo book in ``out``, and in ``out/short`` the same accounts with only the last 300 days of the
    log and no contacts (too short for any backtest snapshot: no slice to validate on, no learned source)."""
    from reactivate.demo.book import generate_book, write_book

    write_book(generate_book(2500, seed=11, as_of=AS_OF), out, fmt="parquet")
    short = out / "short"
    short.mkdir()
    txn = pd.read_parquet(out / "transactions.parquet")
    txn[txn["timestamp"] >= pd.Timestamp(AS_OF) - pd.Timedelta(days=300)].to_parquet(short / "transactions.parquet")
    (short / "accounts.parquet").write_bytes((out / "accounts.parquet").read_bytes())
    return out


def context(folder, contacts: bool = True) -> tuple[Context, np.ndarray]:
    """The run's scoring context on ``folder``'s book (as :func:`reactivate.scoring.rank.propensity` makes it) and
    the targets' positions among the customers."""
    spec = load_campaign(None)
    t = load_targets(as_of=AS_OF, accounts=folder / "accounts.parquet", transactions=folder / "transactions.parquet",
                     contacts=folder / "contacts.parquet" if contacts else None, spec=spec)
    pos = target_positions(t.targets, t.customers, spec)
    return Context(t.customers, t.book, spec, AS_OF, t.targets.index, None, pos), pos


def by_context(ctx: Context, scorer: Scorer, pos: np.ndarray) -> dict[str, np.ndarray]:
    """Each source's z of the targets today worked out from the context directly, as the sources scored before
    they were split into columns and a model."""
    day = np.full(len(pos), ctx.today, dtype=np.int64)
    rec = ctx.recency(pos, day)
    out = {"recency": -np.log1p(np.nan_to_num(rec, nan=3650.0)),
           "prior": logit(ctx.prior_fn(pos, day, rec))}
    if ctx.occ is not None:
        n, _, _ = ctx.occ.span(pos, day)
        out["freq/recency"] = np.log(np.maximum(n, 0.1)) - np.log1p(np.nan_to_num(rec, nan=3650.0) / 30.0)
    if "bgnbd" in scorer.sources:
        m = scorer.sources["bgnbd"]
        x, t_x, T, ok = ctx.occ.rfm(pos, day, period_days=ctx.spec.dormancy.occasion_days)
        out["bgnbd"] = np.where(ok, logit(m.model.p_active(ctx.horizon / 7.0, x, t_x, T)), logit(1e-4))
    for name in ("backtest", "campaigns"):
        if name in scorer.sources:
            out[name] = scorer.sources[name].learner.z(ctx.features(pos, day))
    return {k: v for k, v in out.items() if k in scorer.sources}


def test_the_scorer_pickles_holds_no_context_and_gives_the_contexts_scores(book):
    ctx, pos = context(book)
    scorer, info = fit_today(ctx, every_source=True)
    assert list(scorer.sources) == list(SOURCES)  # every source fits on this book, campaigns included
    data = pickle.dumps(scorer)
    assert b"Context" not in data and b"Occasions" not in data  # the fit's numbers only, not the run's data
    clone = pickle.loads(data)
    day = np.full(len(pos), ctx.today, dtype=np.int64)
    frame = ctx.frame(scorer.reads, pos, day)[list(scorer.reads)]  # only the columns it says it reads
    got = clone(frame)
    want = by_context(ctx, scorer, pos)
    for name, z in want.items():
        np.testing.assert_array_equal(got[f"z:{name}"], z, err_msg=name)
        np.testing.assert_array_equal(got[f"p:{name}"], scorer.each[name](z), err_msg=name)
    chosen = (scorer.blend.decision_function(np.column_stack([want[k] for k in scorer.sources]))
              if scorer.chosen == "blend" else want[scorer.chosen])
    np.testing.assert_array_equal(got["z"], chosen)
    np.testing.assert_array_equal(got["p"], scorer.calibrator(chosen))
    # the default engine's pass (a slice of the targets at a time) and the run's choice: the same numbers
    for key, value in score_today(ctx, scorer, pos).items():
        np.testing.assert_array_equal(value, got[key], err_msg=key)
    p, described, _ = choose(ctx, pos)
    np.testing.assert_array_equal(p, got["p"])
    assert described["source"] == info["source"] == scorer.chosen
    assert described["mean_p_today"] == round(float(p.mean()), 4)


def test_without_a_slice_the_scorer_is_the_strongest_source_uncalibrated(book):
    ctx, pos = context(book / "short", contacts=False)
    scorer, info = fit_today(ctx)
    assert info["source"] == scorer.chosen == "bgnbd" and not info["calibrated"]
    assert scorer.calibrator is None and list(scorer.sources) == ["bgnbd"]
    assert not info["candidates"]["backtest"]["usable"] and not info["candidates"]["campaigns"]["usable"]
    got = pickle.loads(pickle.dumps(scorer))(ctx.frame(scorer.reads, pos, np.full(len(pos), ctx.today)))
    z = by_context(ctx, scorer, pos)["bgnbd"]
    np.testing.assert_array_equal(got["z"], z)
    np.testing.assert_array_equal(got["p"], sigmoid(z))
    assert set(got) == {"z", "p", "z:bgnbd"}


def test_a_learner_that_learned_nothing_reads_no_column():
    from reactivate.scoring.learners import Learner
    from reactivate.scoring.scorer import LearnedModel

    X = pd.DataFrame({"a": np.arange(10.0), "prior_logit": np.zeros(10)})
    model = LearnedModel(Learner("linear", 0, offset="prior_logit").fit(X, np.zeros(10, dtype=bool)))
    assert model.reads == ()
    z = Scorer({"campaigns": model}, "campaigns")(pd.DataFrame(index=range(3)))["z"]
    assert len(z) == 3 and (z == z[0]).all() and z[0] < -9  # the training rate (none): log-odds of 1e-4
