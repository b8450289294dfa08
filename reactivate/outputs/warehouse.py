"""A run's scores, plan and RM lists as partitioned Parquet, written by Spark where the bank's warehouse reads them.

Beside the files a run writes for people (:mod:`reactivate.outputs.writer`: CSV, the RM lists, the report),
a bank that runs on Spark wants the scores, the plan and the lists as tables: :func:`write_warehouse` writes
``<out>/scores/`` (partitioned by ``segment_id``), ``<out>/plan/`` (by ``week_start``) and ``<out>/lists/``
(by ``week_start`` and ``rm_id``) as Parquet folders, on any filesystem Spark writes (``hdfs://``, ``s3a://``,
local), with the same columns and values as scores.csv, plan.csv and the due weeks' RM lists
(:func:`~reactivate.outputs.writer.scores_columns`, ``PLAN_COLUMNS``,
:func:`~reactivate.outputs.writer.target_list_columns`; the lists' text as it is, not neutralised for a
spreadsheet). The lists leave out the ``[targets] show`` columns: personal data goes to the RM's own files only
(the warehouse joins on ``customer_id`` to its own customer table).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from reactivate.outputs.lists import ListContext
from reactivate.outputs.workbooks import due_rows
from reactivate.outputs.writer import PLAN_COLUMNS, customer_columns, scores_columns, target_list_columns


def _arrow(columns: dict) -> pa.Table:
    """Columns (Arrow arrays, numpy arrays, pandas arrays) as an Arrow table of plain types (text, not
    dictionary-encoded: Spark reads those)."""
    out = {}
    for name, values in columns.items():
        if isinstance(values, pd.Series):
            values = values.array
        if isinstance(values, pd.Categorical):
            values = pa.array(np.asarray(values.astype(object)), type=pa.string(), from_pandas=True)  # NaN: null
        elif not isinstance(values, pa.Array | pa.ChunkedArray):
            values = pa.array(np.asarray(values))
        if pa.types.is_dictionary(values.type):
            values = values.cast(values.type.value_type)
        out[name] = values
    return pa.table(out)


def warehouse_tables(run, lang: str = "en") -> dict[str, tuple[pa.Table, tuple[str, ...]]]:
    """The tables :func:`write_warehouse` writes: name -> (Arrow table, partition columns); the lists' names
    (segments, themes, products...) in ``lang``."""
    scores, ids, seg_name = scores_columns(run)
    plan = run.result.plan if run.result is not None else None
    tables = {"scores": (_arrow(scores), ("segment_id",))}
    if plan is not None:
        cols = {"customer_id": ids.take(plan["pos"].to_numpy()), **{c: plan[c] for c in PLAN_COLUMNS[1:]}}
        table = _arrow(cols)
        week = table.column("week_start")
        if not pa.types.is_string(week.type):
            table = table.set_column(table.column_names.index("week_start"), "week_start",
                                     pa.array(pd.Series(week.to_pandas()).astype(str).to_numpy(dtype=object)))
        tables["plan"] = (table, ("week_start",))
        tables["lists"] = (_arrow(list_columns(run, ids, seg_name, lang)), ("week_start", "rm_id"))
    return tables


def list_columns(run, ids: pa.Array, seg_name: pa.Array, lang: str) -> dict:
    """The due weeks' RM list rows (``[targets] list_weeks``) as the lists' CSV files hold them, without the
    ``show`` columns."""
    plan = run.result.plan
    rows = due_rows(plan, run.spec.targets.list_weeks)
    extra = customer_columns(run, plan["pos"].to_numpy()[rows.order], seg_name, lang)
    extra = {k: v for k, v in extra.items() if k not in run.spec.targets.show}  # personal data: the RM's files only
    return target_list_columns(plan, run.scores, ids, seg_name, lang, rows, extra, ListContext())


def write_warehouse(run, out: str, spark, lang: str = "en") -> dict[str, str]:
    """Write the run's scores, plan and RM lists under ``out`` as partitioned Parquet folders (replaced whole),
    by ``spark``; returns table name -> folder."""
    written = {}
    for name, (table, part) in warehouse_tables(run, lang).items():
        path = f"{out.rstrip('/')}/{name}"
        spark.createDataFrame(table).write.mode("overwrite").partitionBy(*part).parquet(path)
        written[name] = path
    return written
