"""Segments on Spark: the driver's fitted model assigns every customer on the executors, as on one machine."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from reactivate.config.campaign import load_campaign
from reactivate.jobs.pipeline import load_targets
from reactivate.segmentation.assign_spark import assign_on_spark, carve_out_columns, fit_sample
from reactivate.segmentation.cluster import assign_segments, segment_customers
from reactivate.segmentation.spec import CarveOut, SegmentSpec
from tests.spark_local import LOCAL, SPARK_MARKS  # skips the module without pyspark or Java

pytestmark = SPARK_MARKS
AS_OF = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def targets(tmp_path_factory):
    from reactivate.demo.book import generate_book, write_book

    out = tmp_path_factory.mktemp("segbook")
    write_book(generate_book(4000, seed=21, as_of=AS_OF), out, fmt="parquet")
    return load_targets(as_of=AS_OF, accounts=out / "accounts.parquet", transactions=out / "transactions.parquet",
                        spec=load_campaign(None))


def _frame(spark, t, spec: SegmentSpec, features: list[str]):
    cols = carve_out_columns(spec)
    pdf = pd.concat([t.targets[cols].astype(float), t.features[features]], axis=1)
    pdf.insert(0, "customer_id", t.targets.index.astype(str))
    return spark.createDataFrame(pdf.reset_index(drop=True)).repartition(3)  # several batches, several tasks


def test_every_customer_gets_the_driver_segment_on_spark(spark, targets):
    spec = dataclasses.replace(SegmentSpec(), carve_outs=(
        *SegmentSpec().carve_outs, CarveOut(id="rich", name="Rich", when="total_balance >= 200000")))
    seg, model = segment_customers(targets.targets, targets.features, spec)
    ids = list(seg.categories)
    on_spark = assign_on_spark(_frame(spark, targets, spec, list(model.feature_names_in_)), spec, model, ids)
    got = on_spark.toPandas().set_index("customer_id")["segment_id"]
    assert len(got) == len(targets.targets)
    want = pd.Series(np.asarray(seg.astype(object)), index=targets.targets.index.astype(str))
    assert (got.reindex(want.index) == want).all()
    assert (want == "rich").any() and (want == "hardship").any()  # the carve-outs were applied on Spark too


def test_a_model_fitted_on_a_sample_drawn_by_spark_assigns_like_the_driver(spark, targets):
    spec = SegmentSpec()
    features = [c for c in targets.features.columns if targets.features[c].notna().any()]
    frame = _frame(spark, targets, spec, features)
    sample = fit_sample(frame, 1500, seed=4)
    assert len(sample) == 1500 and sample["customer_id"].is_unique
    # the same rows however Spark holds the frame; another seed, other rows
    for parts in (1, 7):
        again = fit_sample(frame.repartition(parts), 1500, seed=4)
        assert again["customer_id"].tolist() == sample["customer_id"].tolist()
    assert fit_sample(frame, 1500, seed=5)["customer_id"].tolist() != sample["customer_id"].tolist()
    assert len(fit_sample(frame, 10**6, seed=4)) == len(targets.targets)  # fewer rows than asked: all of them
    sample = sample.set_index("customer_id")
    seg, model = segment_customers(targets.targets.loc[sample.index], sample[features], spec)
    ids = list(seg.categories)
    got = assign_on_spark(frame, spec, model, ids).toPandas().set_index("customer_id")["segment_id"]
    want = assign_segments(targets.targets, targets.features, spec, model, ids)
    want = pd.Series(np.asarray(want.astype(object)), index=targets.targets.index.astype(str))
    assert (got.reindex(want.index) == want).all()


@pytest.mark.parametrize("saved", [False, True], ids=["fitted in the plan", "a saved model"])
def test_with_the_spark_engine_every_target_is_assigned_on_spark(spark, tmp_path, monkeypatch, saved):
    """With the Spark engine the segments are assigned on the executors (segments_on_spark) by the model
    fitted on its sample, or by a saved model: carve-outs included, the driver's segments target for target."""
    from reactivate.demo.book import generate_book, write_book
    from reactivate.jobs.pipeline import run_plan
    from reactivate.jobs.segments import fit_segments
    from reactivate.segmentation import assign_spark

    book = tmp_path / "book"
    write_book(generate_book(3000, seed=5, as_of=AS_OF), book, fmt="parquet")
    files = {k: book / f"{k}.parquet" for k in ("accounts", "transactions", "contacts")}
    model = None
    if saved:
        model = tmp_path / "segments.json"
        fit_segments(as_of=AS_OF, model_path=model, **files)
    driver = run_plan(as_of=AS_OF, segments_model=model, plan=False, **files)
    calls = []
    real = assign_spark.SegmentsOnSpark.assign
    monkeypatch.setattr(assign_spark.SegmentsOnSpark, "assign",
                        lambda self, *a, **k: calls.append(len(self.customers)) or real(self, *a, **k))
    spec = dataclasses.replace(load_campaign(None), engine=dataclasses.replace(load_campaign(None).engine,
                                                                               name="spark", spark=LOCAL))
    on_spark = run_plan(as_of=AS_OF, segments_model=model, plan=False, campaign=spec, **files)
    assert calls == [len(driver.scores)]  # every target, once, on Spark
    want = driver.scores["segment_id"].astype(str)
    got = on_spark.scores["segment_id"].astype(str)
    assert got.index.equals(want.index) and got.equals(want)
    assert want.nunique() > 2


def test_with_more_targets_than_the_sample_spark_draws_the_fitting_sample(spark, targets):
    """More customers to cluster than ``sample_size``: Spark draws the sample (only rows no carve-out takes,
    exactly ``sample_size``, the same rows on every call), the model is the one the driver fits on exactly those
    rows, and every target gets the segment the driver's assign_segments gives by that model."""
    from reactivate.segmentation.assign_spark import SegmentsOnSpark
    from reactivate.segmentation.cluster import Segmenter, carve_out_free

    spec = SegmentSpec()
    spec = dataclasses.replace(spec, algorithm=dataclasses.replace(spec.algorithm, sample_size=1000))
    t = targets
    free = carve_out_free(t.targets, spec)
    assert free.sum() > 1000 and not free.all()
    on = SegmentsOnSpark(spark, t.targets, t.features, spec)
    seg, model = segment_customers(t.targets, t.features, spec, assign=on.assign, draw=on.draw)
    rows = on.draw(free, 1000, spec.algorithm.random_state)
    assert len(rows) == 1000 and free[rows].all() and (np.diff(rows) > 0).all()
    np.testing.assert_array_equal(rows, on.draw(free, 1000, spec.algorithm.random_state))
    a = spec.algorithm
    alone = Segmenter(features=model.features, n_clusters=a.k, k_range=(a.k_min, a.k_max), sample_size=a.sample_size,
                      n_init=a.n_init, random_state=a.random_state, algorithm=a.name,
                      covariance_type=a.covariance_type).fit(t.features.iloc[rows])
    np.testing.assert_array_equal(model.cluster_centers_, alone.cluster_centers_)
    want = assign_segments(t.targets, t.features, spec, model, list(seg.categories))
    assert (seg.codes == want.codes).all() and len(set(seg.codes)) > 2
