"""A run's scores and plan as partitioned Parquet, written by Spark where the bank's warehouse reads them.

Beside the files a run writes for people (:mod:`reactivate.outputs.writer`: CSV, the RM lists, the report),
a bank that runs on Spark wants the scores and the plan as tables: :func:`write_warehouse` writes
``<out>/scores/`` (partitioned by ``segment_id``) and ``<out>/plan/`` (partitioned by ``week_start``) as
Parquet folders, on any filesystem Spark writes (``hdfs://``, ``s3a://``, local), with the same columns and
values as scores.csv and plan.csv (:func:`~reactivate.outputs.writer.scores_columns`, ``PLAN_COLUMNS``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from reactivate.outputs.writer import PLAN_COLUMNS, scores_columns


def _arrow(columns: dict) -> pa.Table:
    """Columns (Arrow arrays, numpy arrays, pandas arrays) as an Arrow table of plain types (text, not
    dictionary-encoded: Spark reads those)."""
    out = {}
    for name, values in columns.items():
        if isinstance(values, pd.Series):
            values = values.array
        if isinstance(values, pd.Categorical):
            values = pa.array(np.asarray(values.astype(object)), type=pa.string())
        elif not isinstance(values, pa.Array | pa.ChunkedArray):
            values = pa.array(np.asarray(values))
        if pa.types.is_dictionary(values.type):
            values = values.cast(values.type.value_type)
        out[name] = values
    return pa.table(out)


def warehouse_tables(run) -> dict[str, tuple[pa.Table, str]]:
    """The tables :func:`write_warehouse` writes: name -> (Arrow table, partition column)."""
    scores, ids, _ = scores_columns(run)
    plan = run.result.plan if run.result is not None else None
    tables = {"scores": (_arrow(scores), "segment_id")}
    if plan is not None:
        cols = {"customer_id": ids.take(plan["pos"].to_numpy()), **{c: plan[c] for c in PLAN_COLUMNS[1:]}}
        table = _arrow(cols)
        week = table.column("week_start")
        if not pa.types.is_string(week.type):
            table = table.set_column(table.column_names.index("week_start"), "week_start",
                                     pa.array(pd.Series(week.to_pandas()).astype(str).to_numpy(dtype=object)))
        tables["plan"] = (table, "week_start")
    return tables


def write_warehouse(run, out: str, spark) -> dict[str, str]:
    """Write the run's scores and plan under ``out`` as partitioned Parquet folders (replaced whole), by
    ``spark``; returns table name -> folder."""
    written = {}
    for name, (table, part) in warehouse_tables(run).items():
        path = f"{out.rstrip('/')}/{name}"
        spark.createDataFrame(table).write.mode("overwrite").partitionBy(part).parquet(path)
        written[name] = path
    return written
