"""Today's scores on Spark: the driver's fitted scorer applied to every target where the batches are processed.

The sources are fitted, validated, chosen and calibrated on the driver on samples, as on one machine
(:func:`reactivate.scoring.propensity.fit_today`). What grows with the book is today's pass over every target:
:func:`score_on_spark` builds the columns the chosen sources read (:meth:`reactivate.scoring.sources.Context.frame`,
on the driver, a slice of the targets at a time) into a Spark DataFrame with each target's position, ships the
fitted :class:`~reactivate.scoring.scorer.Scorer` (numbers only: coefficients, BG/NBD's parameters, the blend's
weights, the calibration) to the executors once, applies it in pandas batches there (``mapInPandas``) and
brings z and p back to the driver in the targets' order. The scorer is the one the default engine applies
(:func:`reactivate.scoring.propensity.score_today`): one implementation, the same numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from reactivate.scoring.scorer import Scorer

#: the targets' position column of the frames on Spark
ROW = "row"
#: targets whose columns are built at once on the driver (as on one machine: a slice at a time)
SLICE_ROWS = 50_000


def spark_scoring(spark):
    """The ``apply`` of :func:`reactivate.scoring.propensity.choose` that scores the targets on ``spark``."""

    def apply(ctx, scorer: Scorer, target_pos: np.ndarray) -> dict[str, np.ndarray]:
        return score_on_spark(spark, ctx, scorer, target_pos)

    return apply


def target_frame(spark, ctx, columns: tuple[str, ...], target_pos: np.ndarray):
    """A Spark DataFrame of the targets today: ``row`` (the position among the targets) and the ``columns``
    (as ``c0``, ``c1``, ...: any name survives), built on the driver from the run's context ``ctx``
    (:meth:`reactivate.scoring.sources.Context.frame`), a slice of :data:`SLICE_ROWS` targets at a time."""
    day = np.full(len(target_pos), ctx.today, dtype=np.int64)
    names = [ROW, *(f"c{j}" for j in range(len(columns)))]
    batches = []
    for i in range(0, len(target_pos), SLICE_ROWS):
        f = ctx.frame(columns, target_pos[i:i + SLICE_ROWS], day[i:i + SLICE_ROWS])
        arrays = [pa.array(np.arange(i, i + len(f), dtype=np.int64))]
        for c in columns:
            v = f[c].to_numpy()
            arrays.append(pa.array(v, type=pa.bool_()) if v.dtype == bool else pa.array(v.astype(float, copy=False)))
        batches.append(pa.RecordBatch.from_arrays(arrays, names=names))
    return spark.createDataFrame(pa.Table.from_batches(batches))


def apply_on_spark(frame, scorer: Scorer, columns: tuple[str, ...]):
    """``scorer`` applied to every row of the Spark DataFrame ``frame`` (:func:`target_frame`'s: ``row`` and
    ``columns`` as ``c0``, ``c1``, ...) in pandas batches on the executors (``mapInPandas``). Returns a Spark
    DataFrame of ``row`` and the scorer's answer (:meth:`~reactivate.scoring.scorer.Scorer.outputs`, as
    ``o0``, ``o1``, ..., in that order)."""
    outputs = scorer.outputs()
    names = dict(zip((f"c{j}" for j in range(len(columns))), columns, strict=True))

    def run(batches):
        for pdf in batches:
            if not len(pdf):
                continue
            out = scorer(pdf.drop(columns=[ROW]).rename(columns=names).reset_index(drop=True))
            yield pd.DataFrame({ROW: pdf[ROW].to_numpy(dtype=np.int64),
                                **{f"o{j}": np.asarray(out[k], dtype=float) for j, k in enumerate(outputs)}})

    schema = ", ".join([f"{ROW} bigint", *(f"o{j} double" for j in range(len(outputs)))])
    return frame.mapInPandas(run, schema=schema)


def score_on_spark(spark, ctx, scorer: Scorer, target_pos: np.ndarray) -> dict[str, np.ndarray]:
    """``scorer`` applied to the targets at the end of today on Spark's executors: its answer's arrays, one
    value per target in the targets' order (what :func:`reactivate.scoring.propensity.score_today` gives on
    this machine)."""
    outputs = scorer.outputs()
    n = len(target_pos)
    if n == 0:
        return {k: np.zeros(0) for k in outputs}
    columns = scorer.reads
    got = apply_on_spark(target_frame(spark, ctx, columns, target_pos), scorer, columns).toArrow()
    row = got.column(ROW).to_numpy()
    if len(row) != n or np.bincount(row, minlength=n).max() != 1:
        raise RuntimeError(f"Spark scored {len(row)} rows of {n} targets")  # never: every row maps to itself
    out = {}
    for j, k in enumerate(outputs):
        v = np.empty(n)
        v[row] = got.column(f"o{j}").to_numpy()
        out[k] = v
    return out


__all__ = ["apply_on_spark", "score_on_spark", "spark_scoring", "target_frame"]
