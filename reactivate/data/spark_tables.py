"""The accounts and the contact history read by Spark, for a bank whose book lives in a warehouse.

With the Spark engine, ``--accounts`` and ``--contacts`` may be what the transactions may be: a Parquet file
or a folder of them (partitioned or not) on any filesystem Spark reads, or a catalog table (``table:db.name``).
Spark reads the source; the contract's columns come to the driver as Arrow (one or a few rows per customer:
the per-customer stages run there) and are matched, converted and checked by the same functions as a file's
(:func:`reactivate.data.io.read_named`, :func:`reactivate.data.validate.check_table`), so a table read by Spark
gives the frame and the problems a file with its rows gives. Only the row numbers differ: a folder of files
or a table has none a user could look up, so a problem says how many rows and the first value, not which.

A file on this machine (CSV or Parquet) is still read on the driver, whatever the engine.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from reactivate.config.campaign import SparkSettings, TableInput
from reactivate.data.io import RawTable, read_named
from reactivate.data.spark_engine import (
    RAISE_RESULT_SIZE,
    check_source,
    read_source,
    spark_reason,
    spark_session,
)
from reactivate.errors import ConfigError, InputDataError
from reactivate.schema import Table


def read_spark_table(source: str | Path, table: Table, spec: TableInput, settings: SparkSettings | None = None,
                     timezone: str = "", spark=None) -> RawTable:
    """Read ``source`` (a Parquet file or folder Spark reads, or ``table:db.name``) as :func:`read_table` reads a
    file: contract columns by name (``spec.columns``), converted, with every problem; rows unnumbered.

    Raises
    ------
    InputDataError
        The source is named as text (CSV, JSON), or Spark cannot read it (Spark's reason, one line).
    """
    text = check_source(source, table.name)  # before a session is started for it
    spark = spark or spark_session(settings)
    df = read_source(spark, text, table.name)

    def reader(columns: list[str], keyed: list[str]) -> pa.Table:
        try:
            return df.select(*[df[_quoted(c)] for c in columns]).toArrow()
        except Exception as exc:  # a file of the folder damaged, a table's storage gone: Spark's reason
            if "maxResultSize" in str(exc):  # the driver's result cap (a cluster's setting): what to raise
                raise ConfigError(f"{text}: the {table.name} are larger than Spark lets the driver receive: "
                                  + RAISE_RESULT_SIZE) from None
            raise InputDataError(f"{text}: cannot be read by Spark ({spark_reason(exc)[:300]})") from None

    raw = read_named(Path(text), Path(text).name or text, df.columns, reader, table, spec, timezone)
    raw.numbered = False
    for problem in raw.problems:
        problem.numbered = False
    return raw


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
