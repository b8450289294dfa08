"""The optimizer's price iteration on Spark (local mode) against the default, on one machine.

The passes over the candidates run on Spark (:mod:`reactivate.planning.prices_spark`); the repair, the fill
and the improvement on the driver. The bar: an objective within 0.5% of the default's, every capacity and
every hard rule exact. Skipped without pyspark or Java; one small local[2] session for the file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest

import reactivate.planning.optimizer as optimizer
from reactivate.config.campaign import EngineSpec, load_campaign
from reactivate.planning import allocation
from reactivate.planning.optimizer import allocate, price_step, shifted_values
from reactivate.planning.prices_spark import SparkPrices, loads_from_rows, partition_loads
from reactivate.schema import CHANNELS
from tests.spark_local import LOCAL, SPARK_MARKS  # skips the module without pyspark or Java
from tests.test_allocate import check_feasible, random_instance

pytestmark = SPARK_MARKS
DELAY = 0.05
AS_OF = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def instance():
    """Above EXACT_BELOW candidates (the default runs the price iteration), phone at column 0, some care."""
    util, lo, rm, ch_cap, rm_cap = random_instance(30_000, 12, 5, 120, seed=5, tight=0.5)
    assert len(util) > optimizer.EXACT_BELOW
    rng = np.random.default_rng(5)
    first = rng.random(len(util)) < 0.01
    candidates = rng.random(len(util)) < 0.95  # the others are suppressed or held out: never placed
    return util, lo, rm, ch_cap, rm_cap, first, candidates


def test_the_passes_of_the_partitions_add_up_to_the_pass_over_everyone():
    """The shared step on three parts, summed as Spark sums them, is the step on everyone."""
    util, lo, rm, ch_cap, rm_cap = random_instance(5_000, 8, 4, 10, seed=3)
    o = np.argsort(lo, kind="stable")
    util, lo, rm = util[o], lo[o], rm[o]
    rng = np.random.default_rng(3)
    pc, pr = rng.uniform(0, 5, ch_cap.shape), rng.uniform(0, 5, rm_cap.shape)
    pc[1, 2], pr[3, 0] = np.inf, np.inf  # closed resources
    whole = price_step(shifted_values(util, lo, DELAY, np.float32), lo, rm, pc, pr, 0, DELAY)
    pdf = pd.DataFrame({**{f"u{j}": util[:, j] for j in range(util.shape[1])}, "lo": lo, "rm": rm})
    cuts = [0, 1_234, 3_000, len(pdf)]
    parts = [partition_loads(pdf.iloc[a:b].sample(frac=1.0, random_state=k), pc, pr, util.shape[1], 0, DELAY,
                             False, k) for k, (a, b) in enumerate(itertools.pairwise(cuts))]
    rows = pd.concat(parts).groupby(["kind", "a", "b"], as_index=False)[["n", "score"]].sum()
    summed = loads_from_rows(rows, pc.shape, pr.shape)
    np.testing.assert_array_equal(summed.channel, whole.channel)
    np.testing.assert_array_equal(summed.rm, whole.rm)
    assert summed.score == pytest.approx(whole.score, rel=1e-12)
    assert whole.channel.sum() > 0 and whole.rm.sum() > 0


@pytest.mark.parametrize("sample", [None, 10_000], ids=["every-iteration-on-spark", "sampled-then-refined"])
def test_the_price_iteration_on_spark_is_within_half_a_percent(spark, instance, monkeypatch, sample):
    util, lo, rm, ch_cap, rm_cap, first, candidates = instance
    if sample:  # prices learnt on a sample on the driver, refined on everyone on Spark
        monkeypatch.setattr(optimizer, "SAMPLE_SIZE", sample)
    # a dozen iterations (each a Spark job here) on both sides: the same method, a shorter test
    kw = {"phone": 0, "delay_cost": DELAY, "first": first, "candidates": candidates, "iterations": 12}
    default = allocate(util, lo, rm, ch_cap, rm_cap, **kw)
    prices = SparkPrices(spark=spark)
    on_spark = allocate(util, lo, rm, ch_cap, rm_cap, **kw, price_pass=prices)
    assert default.method == on_spark.method == "lagrangian"
    # every iteration on everyone (or the refinement's) and the final bound were passes on Spark
    assert prices.passes == (on_spark.stats["iterations"] if sample is None else optimizer.REFINE_ITERATIONS) + 1
    assert abs(on_spark.objective - default.objective) <= 0.005 * default.objective
    assert on_spark.bound == pytest.approx(default.bound, rel=1e-6)
    assert on_spark.objective <= on_spark.bound
    # every capacity exact, only options placed (finite, positive values), never before the release week
    check_feasible(on_spark, util, lo, rm, ch_cap, rm_cap, 0)
    assert not (on_spark.week[~candidates] >= 0).any()  # nobody unreachable placed
    # care first, as on one machine
    assert (on_spark.week[first & candidates] >= 0).sum() == (default.week[first & candidates] >= 0).sum()
    if sample:  # the same inputs, the same allocation (a few passes: cheap to run twice)
        again = allocate(util, lo, rm, ch_cap, rm_cap, **kw, price_pass=SparkPrices(spark=spark))
        np.testing.assert_array_equal(again.week, on_spark.week)
        np.testing.assert_array_equal(again.channel, on_spark.channel)
        assert again.objective == on_spark.objective


def _plan(book, engine: EngineSpec):
    from reactivate.jobs.pipeline import run_plan

    spec = dataclasses.replace(load_campaign(None), engine=engine)
    return run_plan(as_of=AS_OF, accounts=book / "accounts.parquet", transactions=book / "transactions.parquet",
                    contacts=book / "contacts.parquet", campaign=spec)


def test_a_plan_with_the_spark_engine_keeps_every_hard_rule(spark, monkeypatch, tmp_path_factory):
    """The plan job with ``[engine] name = "spark"`` on a small demo book: the prices on Spark (the price
    iteration forced on, the book being small), every hard rule exact, the objective within 0.5%."""
    from reactivate.demo.book import generate_book, write_book

    book = tmp_path_factory.mktemp("book")
    write_book(generate_book(2500, seed=11, as_of=AS_OF), book, fmt="parquet")
    monkeypatch.setattr(optimizer, "EXACT_BELOW", 0)
    made: list[SparkPrices] = []

    class Counted(SparkPrices):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            made.append(self)

    monkeypatch.setattr(allocation, "SparkPrices", Counted)
    duck = _plan(book, EngineSpec())
    assert not made
    run = _plan(book, EngineSpec(name="spark", spark=LOCAL))
    assert run.book.engine.__class__.__name__ == "SparkEngine"
    assert sum(p.passes for p in made) > 0
    res, s, spec = run.result, run.scores, run.spec
    for name in ("suppressed", "holdout"):
        assert sorted(getattr(res, name)["customer_id"]) == sorted(getattr(duck.result, name)["customer_id"])
    plan = res.plan.set_index("customer_id")
    assert len(plan) > 0
    c = s.loc[plan.index]
    for ch in CHANNELS:  # consent, reach and opt-outs, per channel
        on = (plan["channel"] == ch).to_numpy()
        assert (c[f"has_{ch}"] & c[f"consent_{ch}"] & ~c[f"opted_out_{ch}"]).to_numpy()[on].all(), ch
    assert not plan.index.isin(res.holdout["customer_id"]).any()
    assert not plan.index.isin(res.suppressed["customer_id"]).any()
    cap = res.capacity
    assert (cap["used"] <= cap["capacity"]).all()
    ch_cap = cap[cap["resource"] == "channel"].set_index(["week_start", "name"])["capacity"]
    for key, k in plan.groupby(["week_start", "channel"], observed=True).size().items():
        assert k <= ch_cap[key]
    rm_cap = cap[cap["resource"].isin(["rm", "pool"])].set_index(["week_start", "name"])["capacity"]
    for key, k in plan[plan["channel"] == "phone"].groupby(["week_start", "rm_id"], observed=True).size().items():
        assert k <= rm_cap[key]
    assert (plan.groupby(level=0).size() <= spec.policy.max_touches).all()
    oa, ob = (r.summary["plan"]["optimizer"]["objective"] for r in (duck, run))
    assert abs(ob - oa) <= 0.005 * abs(oa)

