"""Segments on Spark: a model fitted on a sample drawn on Spark, every customer assigned where the data lies.

The clustering is fitted on a sample of at most ``algorithm.sample_size`` rows (k-means on 200,000 rows is what
:class:`~reactivate.segmentation.cluster.Segmenter` fits anyway): Spark draws it (:func:`sample_rows`, the rows
whose seeded hash of their key is smallest: the same rows however the data is partitioned), the driver fits on
it, then :func:`assign_on_spark` ships the fitted model to the executors once and assigns every customer with
:func:`~reactivate.segmentation.cluster.assign_segments` — the driver's own function, carve-outs first, so a
customer gets the same segment on Spark as on one machine. :class:`SegmentsOnSpark` does both for a run whose
targets the Spark engine made: their columns go to Spark once, for the sample and for the assignment.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reactivate.segmentation.cluster import Segmenter, assign_segments
from reactivate.segmentation.spec import SegmentSpec, parse_condition

#: the rows' position column of the frames :func:`segments_on_spark` sends
ROW = "row"
#: the column of those frames that marks the rows no carve-out takes (the ones clustered)
FREE = "free"


def carve_out_columns(spec: SegmentSpec) -> list[str]:
    """The customer columns the carve-outs of ``spec`` read (their conditions' columns), in spec order."""
    cols: list[str] = []
    for co in spec.carve_outs:
        for _neg, col, _op, _val in parse_condition(co.when, f"{spec.source}: carve_outs.{co.id}.when"):
            if col not in cols:
                cols.append(col)
    return cols


def sample_rows(frame, size: int, seed: int, key: str):
    """The fitting sample's rule on Spark: the ``size`` rows of the Spark DataFrame ``frame`` whose
    ``xxhash64(seed, key)`` is smallest (ties by ``key``), as a Spark DataFrame. Every row is as likely to be
    drawn, exactly ``size`` are (all when fewer), and they are the same rows whatever the partitioning: a
    top-``size`` per partition, then of those (no shuffle of the whole frame)."""
    from pyspark.sql import functions as F

    return frame.orderBy(F.xxhash64(F.lit(int(seed)), F.col(key)), F.col(key)).limit(int(size))


def fit_sample(frame, size: int, seed: int = 0, key: str = "customer_id") -> pd.DataFrame:
    """The ``size`` rows of the Spark DataFrame ``frame`` that :func:`sample_rows` draws, as pandas in the
    order of ``key``."""
    return sample_rows(frame, size, seed, key).toPandas().sort_values(key, kind="stable", ignore_index=True)


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


class SegmentsOnSpark:
    """The segment step of a run whose targets the Spark engine made: the columns the carve-outs read and the
    spec's features go to Spark once (one Arrow table, each row with its position), and Spark both draws the
    fitting sample (:meth:`draw`) and assigns every target (:meth:`assign`).

    Give its two methods to :func:`~reactivate.segmentation.cluster.segment_customers` (``draw``, ``assign``).
    """

    def __init__(self, spark, customers: pd.DataFrame, features: pd.DataFrame, spec: SegmentSpec,
                 feature_names=None):
        self.spark, self.customers, self.features, self.spec = spark, customers, features, spec
        self.names = list(feature_names) if feature_names is not None else \
            [c for c in spec.features if c in features.columns]
        self._frame = None

    def frame(self, free: np.ndarray | None = None):
        """The targets' columns on Spark (sent on first use; ``free``, the rows no carve-out takes, with them)."""
        if self._frame is not None and free is not None and FREE not in self._frame.columns:
            raise ValueError("the targets were sent to Spark without the carve-outs' mask: draw before assign")
        if self._frame is None:
            pdf = pd.DataFrame({ROW: np.arange(len(self.customers), dtype=np.int64)})
            for c in carve_out_columns(self.spec):
                v = self.customers[c]
                pdf[c] = v.astype(object).where(v.notna(), None) if isinstance(v.dtype, pd.CategoricalDtype) \
                    else v.to_numpy()
            for c in self.names:
                pdf[c] = self.features[c].to_numpy(dtype=float)
            if free is not None:
                pdf[FREE] = np.asarray(free, dtype=bool)
            self._frame = self.spark.createDataFrame(pdf)
        return self._frame

    def draw(self, free: np.ndarray, size: int, seed: int) -> np.ndarray:
        """The positions (ascending) of the ``size`` rows of ``free`` that Spark draws (:func:`sample_rows`)."""
        got = sample_rows(self.frame(free).where(FREE).select(ROW), size, seed, ROW).toPandas()
        return np.sort(got[ROW].to_numpy(dtype=np.int64))

    def assign(self, model: Segmenter, segment_ids: list[str]) -> pd.Categorical:
        """:func:`~reactivate.segmentation.cluster.assign_segments` of every target, made on the executors
        (:func:`assign_on_spark`); the segments come back in the targets' order."""
        missing = [c for c in model.feature_names_in_ if c not in self.names]
        if missing:
            raise ValueError(f"the model's features {missing} were not sent to Spark")
        got = assign_on_spark(self.frame(), self.spec, model, segment_ids, id_column=ROW).toPandas()
        row = got[ROW].to_numpy(dtype=np.int64)
        n = len(self.customers)
        if len(row) != n or len(np.unique(row)) != n:
            raise RuntimeError(f"Spark assigned {len(np.unique(row))} distinct rows of {n}")
        seg = np.empty(n, dtype=object)
        seg[row] = got["segment_id"].to_numpy(dtype=object)
        return pd.Categorical(seg, categories=list(segment_ids))


def segments_on_spark(spark, customers: pd.DataFrame, features: pd.DataFrame, spec: SegmentSpec, model: Segmenter,
                      segment_ids: list[str]) -> pd.Categorical:
    """:func:`~reactivate.segmentation.cluster.assign_segments` of every row of ``customers`` by a fitted (or
    saved) ``model``, made on Spark's executors (:meth:`SegmentsOnSpark.assign`)."""
    on = SegmentsOnSpark(spark, customers, features, spec, feature_names=model.feature_names_in_)
    return on.assign(model, segment_ids)
