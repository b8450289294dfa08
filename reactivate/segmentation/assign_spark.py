"""Segments on Spark: a model fitted on the driver from a sample, every customer assigned where the data lies.

The clustering itself is fitted on a sample (:func:`fit_sample` draws it on Spark; k-means on 200,000 rows is
what :class:`~reactivate.segmentation.cluster.Segmenter` fits anyway), then :func:`assign_on_spark` ships the
fitted model to the executors once and assigns every customer with
:func:`~reactivate.segmentation.cluster.assign_segments` — the driver's own function, carve-outs first, so a
customer gets the same segment on Spark as on one machine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reactivate.segmentation.cluster import Segmenter, assign_segments
from reactivate.segmentation.spec import SegmentSpec, parse_condition

#: the rows' position column of the frames :func:`segments_on_spark` sends
ROW = "row"


def carve_out_columns(spec: SegmentSpec) -> list[str]:
    """The customer columns the carve-outs of ``spec`` read (their conditions' columns), in spec order."""
    cols: list[str] = []
    for co in spec.carve_outs:
        for _neg, col, _op, _val in parse_condition(co.when, f"{spec.source}: carve_outs.{co.id}.when"):
            if col not in cols:
                cols.append(col)
    return cols


def fit_sample(frame, size: int, seed: int = 0) -> pd.DataFrame:
    """About ``size`` rows of the Spark DataFrame ``frame``, drawn on Spark (Bernoulli, seeded), as pandas."""
    total = frame.count()
    if total <= size:
        return frame.toPandas()
    return frame.sample(withReplacement=False, fraction=min(1.0, 1.05 * size / total), seed=seed).limit(size).toPandas()


def assign_on_spark(frame, spec: SegmentSpec, model: Segmenter, segment_ids: list[str],
                    id_column: str = "customer_id"):
    """Every row of the Spark DataFrame ``frame`` assigned to a segment of the fitted ``model``.

    ``frame`` holds ``id_column``, the columns the carve-outs read (:func:`carve_out_columns`) and the model's
    features. Returns a Spark DataFrame of ``id_column`` and ``segment_id``, assigned in pandas batches on the
    executors (``mapInPandas``) by :func:`~reactivate.segmentation.cluster.assign_segments`.
    """
    model.check_fitted()
    features = list(model.feature_names_in_)
    ids = list(segment_ids)
    id_type = frame.schema[id_column].dataType.simpleString()  # a text id, or a row number

    def run(batches):
        for pdf in batches:
            seg = assign_segments(pdf, pdf[features], spec, model, ids) if len(pdf) else \
                pd.Categorical([], categories=ids)
            yield pd.DataFrame({id_column: pdf[id_column].astype(str) if id_type == "string" else pdf[id_column],
                                "segment_id": np.asarray(seg.astype(object), dtype=object)})

    return frame.mapInPandas(run, schema=f"`{id_column}` {id_type}, segment_id string")


def segments_on_spark(spark, customers: pd.DataFrame, features: pd.DataFrame, spec: SegmentSpec, model: Segmenter,
                      segment_ids: list[str]) -> pd.Categorical:
    """:func:`~reactivate.segmentation.cluster.assign_segments` of every row of ``customers`` made on Spark's
    executors (:func:`assign_on_spark`): the columns the carve-outs read and the model's features go to Spark
    as one Arrow table with each row's position, and the segments come back in the rows' order."""
    cols = carve_out_columns(spec)
    pdf = pd.DataFrame({ROW: np.arange(len(customers), dtype=np.int64)})
    for c in cols:
        v = customers[c]
        pdf[c] = v.astype(object).where(v.notna(), None) if isinstance(v.dtype, pd.CategoricalDtype) else v.to_numpy()
    for c in model.feature_names_in_:
        pdf[c] = features[c].to_numpy(dtype=float)
    got = assign_on_spark(spark.createDataFrame(pdf), spec, model, segment_ids, id_column=ROW).toPandas()
    row = got[ROW].to_numpy(dtype=np.int64)
    if len(row) != len(customers) or len(np.unique(row)) != len(customers):
        raise RuntimeError(f"Spark assigned {len(np.unique(row))} distinct rows of {len(customers)}")
    seg = np.empty(len(customers), dtype=object)
    seg[row] = got["segment_id"].to_numpy(dtype=object)
    return pd.Categorical(seg, categories=list(segment_ids))
