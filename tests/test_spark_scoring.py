"""Today's scores on Spark: the driver's fitted scorer applied on the executors gives the default engine's numbers.

Run as their own group (``pytest -m spark``): one Spark session for the file, local[2]. Skipped without pyspark
(``pip install 'reactivate[spark]'``) or without Java.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from reactivate.config.campaign import EngineSpec, load_campaign
from reactivate.data import load as load_module
from reactivate.data.io import open_log
from reactivate.data.spark_engine import open_spark_log
from reactivate.jobs.pipeline import run_plan
from reactivate.scoring import apply_spark, propensity
from reactivate.scoring.apply_spark import score_on_spark
from reactivate.scoring.propensity import fit_today, score_today
from tests.spark_local import LOCAL, SPARK_MARKS  # skips the module without pyspark or Java
from tests.test_scoring_scorer import context, scoring_books

pytestmark = SPARK_MARKS
#: the bar of the issue: every target's score within this of the default engine's
BAR = 1e-6
AS_OF = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """The scorer tests' books (:func:`tests.test_scoring_scorer.scoring_books`): with contacts, and short."""
    return scoring_books(tmp_path_factory.mktemp("sparkscores"))


@pytest.fixture
def small_batches(spark):
    """Arrow batches of 200 rows: every partition is scored in several pandas batches."""
    key = "spark.sql.execution.arrow.maxRecordsPerBatch"
    before = spark.conf.get(key)
    spark.conf.set(key, "200")
    yield
    spark.conf.set(key, before)


@pytest.mark.parametrize("case", ["contacts", "log only", "short log"])
def test_every_source_scored_on_spark_is_the_drivers(spark, books, small_batches, case):
    folder = books / "short" if case == "short log" else books
    ctx, pos = context(folder, contacts=case == "contacts")
    scorer, info = fit_today(ctx, every_source=True)
    if case == "contacts":
        assert "campaigns" in scorer.sources and "backtest" in scorer.sources
    elif case == "short log":
        assert list(scorer.sources) == ["bgnbd"] and scorer.calibrator is None
        assert not info["candidates"]["backtest"]["usable"] and not info["candidates"]["campaigns"]["usable"]
    rows = pos[::-1].copy()  # any order of the targets comes back in that order
    here, there = score_today(ctx, scorer, rows), score_on_spark(spark, ctx, scorer, rows)
    assert set(there) == set(here) == set(scorer.outputs())
    for key, value in here.items():
        assert there[key].shape == value.shape
        np.testing.assert_allclose(there[key], value, rtol=0, atol=BAR, err_msg=key)


def _run(monkeypatch, spark, folder, engine: str, contacts: bool = True):
    """The plan job on the book in ``folder`` with the log on ``engine``; the scores each pass gave today."""
    seen = {}
    if engine == "spark":  # the log opened by Spark where the default engine opens it
        monkeypatch.setattr(load_module, "open_log",
                            lambda path, table, spec, *a, **k: open_spark_log(path, spec, spark=spark))

        def on_spark(spark_, ctx, scorer, target_pos):
            seen["spark"] = out = score_on_spark(spark_, ctx, scorer, target_pos)
            return out

        monkeypatch.setattr(apply_spark, "score_on_spark", on_spark)
    else:
        monkeypatch.setattr(load_module, "open_log", open_log)

    def on_driver(ctx, scorer, target_pos):
        seen["driver"] = out = score_today(ctx, scorer, target_pos)
        return out

    monkeypatch.setattr(propensity, "score_today", on_driver)
    run = run_plan(as_of=AS_OF, accounts=folder / "accounts.parquet", transactions=folder / "transactions.parquet",
                   contacts=folder / "contacts.parquet" if contacts else None, plan=False)
    monkeypatch.undo()
    return run, seen


@pytest.mark.parametrize("case", ["contacts", "short log"])
def test_the_plan_with_the_spark_engine_scores_on_spark(monkeypatch, spark, books, case):
    folder, contacts = (books, True) if case == "contacts" else (books / "short", False)
    duck, seen_duck = _run(monkeypatch, spark, folder, "duckdb", contacts)
    on_spark, seen_spark = _run(monkeypatch, spark, folder, "spark", contacts)
    assert on_spark.book.engine.__class__.__name__ == "SparkEngine"
    assert set(seen_duck) == {"driver"} and set(seen_spark) == {"spark"}  # each engine's own pass, once
    a, b = duck.summary["scoring"], on_spark.summary["scoring"]
    assert a["source"] == b["source"] == ("bgnbd" if case == "short log" else a["source"])
    assert a["mean_p_today"] == b["mean_p_today"]
    if case == "contacts":
        assert a["candidates"]["campaigns"]["usable"] and a["method"].endswith("+history")
    for key in ("z", "p"):  # the chosen source's (or blend's) z, and its calibrated probability
        np.testing.assert_allclose(seen_spark["spark"][key], seen_duck["driver"][key], rtol=0, atol=BAR, err_msg=key)
    sa, sb = duck.scores, on_spark.scores
    assert list(sa.index) == list(sb.index)
    np.testing.assert_allclose(sb["p_reactivate"].to_numpy(float), sa["p_reactivate"].to_numpy(float), rtol=0,
                               atol=BAR)


def test_engine_spark_in_the_campaign_scores_on_spark_without_a_log(monkeypatch, spark, books):
    """``[engine] name = "spark"`` and no transaction log: the documented prior, scored on Spark all the same."""
    called = []
    real = apply_spark.score_on_spark
    monkeypatch.setattr(apply_spark, "score_on_spark", lambda *a: called.append(1) or real(*a))
    spec = load_campaign(None)
    runs = [run_plan(as_of=AS_OF, accounts=books / "accounts.parquet", plan=False,
                     campaign=dataclasses.replace(spec, engine=EngineSpec(name=name, spark=LOCAL)))
            for name in ("duckdb", "spark")]
    assert called == [1]
    assert runs[0].summary["scoring"] == runs[1].summary["scoring"]
    assert runs[0].summary["scoring"]["source"] == "prior"
    np.testing.assert_array_equal(runs[1].scores["p_reactivate"].to_numpy(), runs[0].scores["p_reactivate"].to_numpy())
