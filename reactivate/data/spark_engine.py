"""The transaction log on Apache Spark: the :class:`~reactivate.data.engine.Engine` of a book beyond one machine.

:class:`SparkEngine` answers the same questions as :class:`~reactivate.data.engine.DuckEngine` (the
contract's checks, the customers' aggregates, the purchase occasions, the standing credits) with the same SQL
text (:mod:`reactivate.data.log_sql`), run by Spark SQL over a Parquet file, a folder of (partitioned)
Parquet files on any filesystem Spark reads (``hdfs://``, ``s3a://``, local), or a catalog table
(``table:db.transactions``). Only aggregates come back to the driver, never the log's rows: one row per
customer (the activity) and, up to :data:`FETCH_DAYS_UP_TO` customers, one per customer and active day (the
occasions, which the models read) and one per standing credit; beyond, the occasions' figures and the payday
are folded on the executors by the default engine's functions, so that a row per customer comes back, and only
the customer-days of the history sample the models look back on (:meth:`SparkEngine.occasions` with ``among``).

pyspark is an optional extra (``pip install 'reactivate[spark]'``, with Java 17 or later): without it,
:func:`require_spark` raises a :class:`~reactivate.errors.ConfigError` saying what to install.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import os
import re
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from reactivate.config.campaign import FIRST_DATE, SparkSettings, TableInput
from reactivate.data import engine as log_engine
from reactivate.data.engine import LogCheck, fold_rows, occasion_positions, occasion_totals, scatter
from reactivate.data.log_sql import (
    SPARK,
    active_sql,
    activity_sql,
    check_sql,
    codes_sql,
    credits_sql,
    day_rows_sql,
    log_columns,
    remap,
    unknown_sql,
)
from reactivate.errors import ConfigError, InputDataError
from reactivate.schema import TABLES

#: the one line ``--engine spark`` prints when pyspark is not installed
SPARK_MISSING = ("the Spark engine needs pyspark: install it with pip install 'reactivate[spark]' "
                 "(and Java 17 or later, e.g. apt-get install openjdk-17-jre-headless)")
#: what stops a run whose aggregates are larger than the driver may receive
RAISE_RESULT_SIZE = ("raise spark.driver.maxResultSize (e.g. \"8g\", or \"0\" for no limit, with spark.driver.memory "
                     "to match) in the campaign's [engine.spark] conf or spark-submit's --conf")
RESULT_TOO_LARGE = ("the log's aggregates (a row per customer, one per customer and active day) are larger than "
                    "Spark lets the driver receive: " + RAISE_RESULT_SIZE)
#: a source read as a catalog (Hive) table rather than Parquet files
TABLE_PREFIX = "table:"
#: names of files the Spark engine does not read as the log (text: convert to Parquet, or use the default engine)
TEXT_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt", ".json", ".jsonl")
#: Spark's console log for a session started here (:func:`spark_session`): fatal errors only, no stack traces
LOG4J_CONFIG = Path(__file__).with_name("spark-log4j2.properties")
#: bound customers up to this many are broadcast to every executor (beyond: a shuffled join)
BROADCAST_IDS = 2_000_000
#: up to this many customers Spark sends every customer-day to the driver once, where the occasions' figures are
#: folded and the models read them (cheaper while the driver can hold them: at 10M customers in local mode
#: 842.6 s in all, against 958.8 s folding on the executors and reading the history sample's days again);
#: beyond, the days stay on the executors and the models look back on a history sample
#: (:data:`~reactivate.data.engine.HISTORY_CUSTOMERS` customers)
FETCH_DAYS_UP_TO = 10_000_000
#: customers folded together on an executor (:meth:`SparkEngine.by_customer`): a group's rows are one pandas frame
GROUP_CUSTOMERS = 100_000
#: the columns (and their Spark types) of :func:`~reactivate.data.engine.occasion_totals`, folded on the executors
TOTALS_SCHEMA = {"n_occ": "int", "occ_first": "int", "occ_last": "int", "occ_prev": "int", "rows": "int",
                 "gap2": "bigint", "n_last_year": "int", "recent": "int", "last_year_window": "int",
                 "amount": "double", "digital": "int", "amount_last": "double", "periods": "int"}
_ACCEPTED = {"id": ("string",), "enum": ("string",), "datetime": ("timestamp", "timestamp_ntz", "date"),
             "float": ("double", "float", "int", "bigint", "smallint", "tinyint", "decimal")}


def spark_available() -> bool:
    """Whether pyspark can be imported (without importing it)."""
    return importlib.util.find_spec("pyspark") is not None


def require_spark() -> None:
    """Raise a :class:`ConfigError` (exit code 2) saying what to install, when pyspark is missing."""
    if not spark_available():
        raise ConfigError(SPARK_MISSING)


def spark_session(settings: SparkSettings | None = None):
    """The Spark session of this run: the one spark-submit started, else one built from ``settings``
    (master, app name, conf). Its time zone is UTC, so that a timestamp without a zone is read as written."""
    require_spark()
    from pyspark.sql import SparkSession

    settings = settings or SparkSettings()
    builder = SparkSession.builder.appName(settings.app_name)
    if settings.master:
        builder = builder.master(settings.master)
    master = settings.master
    if SparkSession.getActiveSession() is None and not master:
        from pyspark import SparkConf

        if not SparkConf().contains("spark.master"):  # not under spark-submit: this machine
            master = "local[*]"
            builder = builder.master(master)
    defaults = {"spark.ui.showConsoleProgress": "false"}
    if SparkSession.getActiveSession() is None and "PYSPARK_GATEWAY_PORT" not in os.environ:
        # the JVM is started here (not by spark-submit): its console log quiet (LOG4J_CONFIG), so that a user
        # sees reactivate's one line, not Spark's stack traces; the campaign's conf may set its own
        defaults["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile={LOG4J_CONFIG.as_uri()}"
    if master.startswith("local"):  # the Python workers of local mode: this environment's (with reactivate)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        # the aggregates come back to the driver by design (a row per customer, one per customer and active
        # day: gigabytes at ten million customers), and in local mode the driver is this machine: Spark's
        # 1 GiB cap would only stop a large book (on a cluster the cap is the cluster's: RESULT_TOO_LARGE)
        defaults["spark.driver.maxResultSize"] = "0"
    for key, value in {**defaults, **settings.conf}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    return spark


def read_source(spark, source: str | Path, what: str = "transactions"):
    """A Spark DataFrame of a Parquet file or folder (any filesystem Spark reads) or of a catalog table
    (``table:db.name``). A file named as text (CSV, JSON) is refused before Spark is asked; any other source
    Spark cannot read is an :class:`InputDataError` giving Spark's reason (its innermost error's message)."""
    text = check_source(source, what)
    try:
        if text.startswith(TABLE_PREFIX):
            return spark.table(text[len(TABLE_PREFIX):])
        return spark.read.parquet(text)
    except Exception as exc:  # AnalysisException (no such path or table, not Parquet), or the JVM's own errors
        raise InputDataError(f"{text}: cannot be read by Spark ({spark_reason(exc)[:300]})") from None


def check_source(source: str | Path, what: str = "transactions") -> str:
    """``source`` as the URI Spark is given; a file named as text (CSV, JSON) is refused with an
    :class:`InputDataError` saying what the Spark engine reads (before any Spark session is started).
    ``what`` is the table (``transactions``, ``accounts``, ``contacts``)."""
    text = source_uri(source)
    suffix = next((s for s in TEXT_SUFFIXES if text.lower().endswith(s)), None)
    if suffix and not text.startswith(TABLE_PREFIX):
        raise InputDataError(f"{text}: the Spark engine reads the {what} from Parquet (a file, or a folder "
                             f"of them) or a catalog table (table:db.name), not {suffix}: write the {what} as "
                             "Parquet" + (", or give a file on this machine" if what != "transactions" else
                                          ", or run on this machine with --engine duckdb"))
    return text


def spark_reason(exc: BaseException) -> str:
    """The first line of what Spark says went wrong: the innermost Java error's message for an error from
    the JVM (whose own text is a stack trace), else the exception's own first line."""
    java = getattr(exc, "java_exception", None)
    text = ""
    if java is not None:
        try:
            while java.getCause() is not None:
                java = java.getCause()
            text = str(java.getMessage() or java.getClass().getSimpleName())
        except Exception:  # the gateway is gone: fall back on the Python text
            text = ""
    text = (text or str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__


#: a URI's scheme (two letters at least: not a Windows drive) and its first slash
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):/")


def source_uri(source: str | Path) -> str:
    """A source as Spark is given it: a URI that went through :class:`pathlib.Path` (``hdfs:/nn/x``,
    ``s3a:/bucket/x``) given back its ``//``; a local path or ``table:db.name`` as it is."""
    text = str(source)
    m = _SCHEME.match(text)
    if m is None or m.group(1).lower() == "file" or text[m.end():].startswith("/"):
        return text
    return f"{m.group(1)}://{text[m.end():]}"


def spark_reads(source: str | Path) -> bool:
    """Whether only Spark reads ``source``: a URI (``hdfs://``, ``s3a://``...), a catalog table
    (``table:db.name``) or a folder (of Parquet files, partitioned or not), not a file on this machine."""
    text = source_uri(source)
    return text.startswith(TABLE_PREFIX) or _SCHEME.match(text) is not None or Path(text).is_dir()


def log_problems(engine: SparkEngine, source: str | Path, as_of: dt.date) -> list[str]:
    """What breaks the data contract in a log on Spark, from its checks' counts (a log that does not fit one
    machine is not read as a frame to list its rows): missing ids and timestamps, timestamps out of range,
    infinite amounts, values outside an enum column's. Empty when the log is clean."""
    c, label = engine.check(), Path(source_uri(source)).name or str(source)
    day = 86400
    first_ok = (FIRST_DATE - dt.date(1970, 1, 1)).days * day
    end = ((as_of - dt.date(1970, 1, 1)).days + 1) * day
    out = []
    if c.rows == 0:
        out.append(f"{label}: no rows: the transactions table is empty")
    for col, n in (("customer_id", c.id_missing), ("timestamp", c.ts_missing)):
        if n:
            out.append(f"{label}: column {col}: {n:,} missing values")
    if c.first_second is not None and c.first_second < first_ok:
        out.append(f"{label}: column timestamp: values before {FIRST_DATE.isoformat()}")
    if c.last_second is not None and c.last_second >= end:
        out.append(f"{label}: column timestamp: values after the as-of date {as_of.isoformat()}")
    if c.amount_infinite:
        out.append(f"{label}: column amount: {c.amount_infinite:,} infinite values")
    for col, values in c.values.items():
        allowed = set(TABLES["transactions"].column(col).values)
        bad = sorted(str(v) for v in values if v is not None and v not in allowed)
        if bad:
            out.append(f"{label}: column {col}: values not allowed: {', '.join(map(repr, bad[:5]))}"
                       + (", ..." if len(bad) > 5 else "") + f" (allowed: {', '.join(sorted(allowed))})")
    return out


def open_spark_log(source: str | Path, spec: TableInput, settings: SparkSettings | None = None,
                   spark=None) -> tuple[SparkEngine, list[str]]:
    """The transaction log ``source`` as a :class:`SparkEngine`, with the optional columns it lacks.

    Columns are matched to the contract by name through ``spec.columns`` (as a file's header is).

    Raises
    ------
    InputDataError
        The source cannot be read, a required column is missing or twice, or a column's type is not one
        the contract's column can hold (all problems in one message).
    """
    check_source(source)  # before a session is started for it
    spark = spark or spark_session(settings)
    df = read_source(spark, source)
    table = TABLES["transactions"]
    types = dict(df.dtypes)
    select, present, problems = {}, set(), []
    for src, kind in types.items():
        dst = spec.columns.get(src, src.strip())
        if dst not in table.names:
            continue
        if dst in present:
            problems.append(f"column {dst}: appears twice (after the column mapping)")
            continue
        present.add(dst)
        if not table.column(dst).used:
            continue
        accepted = _ACCEPTED.get(table.column(dst).kind, ())
        if kind.split("(")[0] not in accepted:
            problems.append(f"column {dst} ({src}): of type {kind}, should be one of {', '.join(accepted)}")
            continue
        ident = "`" + src.replace("`", "``") + "`"
        select[dst] = f"CAST({ident} AS DOUBLE)" if dst == "amount" else ident
    for col in table.required:
        if col not in present:
            problems.append(f"column {col}: missing required column")
    if problems:
        raise InputDataError(f"{source_uri(source)}: " + "; ".join(problems))
    absent = [c.name for c in table.columns if not c.required and c.name not in present]
    return SparkEngine(df, select), absent


class SparkEngine:
    """:class:`~reactivate.data.engine.Engine` on Spark, over a DataFrame of the log.

    ``select`` maps each contract column the log has (customer_id, timestamp, and any of amount, channel,
    initiated_by) to a Spark SQL expression over the DataFrame's own columns; the timestamp's expression
    must give a timestamp or a date. The log as codes (:func:`~reactivate.data.log_sql.codes_sql`) is built
    once per binding and kept cached (memory, then disk) on the executors until :meth:`release`.
    """

    def __init__(self, df, select: dict[str, str]):
        self.spark = df.sparkSession
        self.columns = tuple(select)
        self._lock = threading.Lock()
        self._log = df.selectExpr(*log_columns(select, SPARK))
        self._check: LogCheck | None = None
        self._bound: pa.Array | None = None
        self._bound_df = None
        self._days_df = None
        self._remaps: list[tuple[object, np.ndarray]] = []
        self._cache: list = []
        self._store: list = []
        #: the customer-days, kept on the executors when their figures were folded there, until the history
        #: sample's are read (:meth:`occasions` with ``among``)
        self._day_rows = None
        #: a pandas frame materialised from this log (never, on Spark: the log stays where it lies)
        self.frame = None

    def _sql(self, q: str, **frames):
        """Run ``q``, whose ``{log}``, ``{bound_ids}`` and ``{codes}`` (and the names of ``frames``) stand for
        this engine's relations (Spark binds them as DataFrames, so several engines share a session without
        sharing view names)."""
        views = {"log": self._log, "bound_ids": self._bound_df, "codes": self._days_df, **frames}
        kwargs = {name: df for name, df in views.items() if df is not None}
        return self.spark.sql(q, **kwargs)

    def check(self) -> LogCheck:
        """The contract's counts and ranges and the enum columns' values, in one scan of the log."""
        enums = [col for col in ("channel", "initiated_by") if col in self.columns]
        extra = tuple(e for col in enums for e in (f"collect_set({col})", f"count_if({col} IS NULL) > 0"))
        with self._lock:
            if self._check is None:
                r = self._sql(check_sql(self.columns, log="{log}", extra=extra)).collect()[0]
                values = {col: sorted(r[7 + 2 * i]) + ([None] if r[8 + 2 * i] else [])
                          for i, col in enumerate(enums)}
                self._check = LogCheck(int(r[0]), int(r[1]), int(r[2]), r[3], r[4], int(r[5]), int(r[6]), values)
        return self._check

    def distinct_ids(self) -> pa.Array:
        """The distinct customer ids of the log (missing left out), in no particular order."""
        with self._lock:
            t = self._sql("SELECT DISTINCT customer_id FROM {log} WHERE customer_id IS NOT NULL").toArrow()
        return _strings(t.column(0))

    def bind(self, ids: pa.Array) -> None:
        """Read the log for the customers ``ids`` (distinct, clean): rows of others are left out."""
        ids = _strings(ids)
        if self._bound is not None and self._bound.equals(ids):
            return
        with self._lock:
            if self._days_df is not None:
                self._days_df.unpersist()
            self._bound, self._days_df, self._remaps, self._cache, self._store = ids, None, [], [], []
            self._drop_day_rows()
            t = pa.table({"id": ids, "pos": pa.array(np.arange(len(ids), dtype=np.int32))})
            bound = self.spark.createDataFrame(t)
            if len(ids) <= BROADCAST_IDS:
                from pyspark.sql.functions import broadcast

                bound = broadcast(bound)
            self._bound_df = bound

    def bound(self) -> pa.Array | None:
        """The ids the log is read for (None before :meth:`bind`)."""
        return self._bound

    def _days(self) -> None:
        """The log as codes (:func:`~reactivate.data.log_sql.codes_sql`), built once per binding (one scan of
        the log, one join of its ids) and cached on the executors."""
        with self._lock:
            if self._days_df is None:
                from pyspark import StorageLevel

                codes = codes_sql(self.columns, log="{log}", bound="{bound_ids}")
                days = self._sql(codes).persist(StorageLevel.MEMORY_AND_DISK)
                days.count()
                self._days_df = days

    def unknown(self) -> tuple[int, int, np.ndarray]:
        """Rows of customers not bound: how many rows, of how many customers, and their first five row numbers
        (none on Spark: a folder of files has no row numbers, so an empty array)."""
        self._days()
        with self._lock:
            n = self._sql(unknown_sql("{codes}")).collect()[0][0]
        if not n:
            return 0, 0, np.zeros(0, dtype=np.int64)
        return int(n), len(self.unknown_ids()), np.zeros(0, dtype=np.int64)

    def unknown_ids(self) -> pa.Array:
        """The distinct ids of the log that are not bound (missing ids left out)."""
        with self._lock:
            t = self._sql("SELECT DISTINCT l.customer_id FROM {log} l ANTI JOIN {bound_ids} b "
                          "ON l.customer_id = b.id WHERE l.customer_id IS NOT NULL").toArrow()
        return _strings(t.column(0))

    def _remap(self, index: pd.Index) -> np.ndarray:
        for obj, r in self._remaps:
            if obj is index:
                return r
        r = remap(self._bound, index)
        self._remaps = [(index, r), *self._remaps[:3]]
        return r

    def _query(self, q: str, **frames) -> dict[str, np.ndarray]:
        self._days()
        return self._fetch(self._sql(q, **frames))

    def _fetch(self, df) -> dict[str, np.ndarray]:
        """A DataFrame's rows on the driver, as numpy columns."""
        with self._lock:
            try:
                t = df.toArrow()
            except Exception as exc:  # the JVM's error: one the user can act on, else as it is
                if "maxResultSize" in str(exc):
                    raise ConfigError(RESULT_TOO_LARGE) from None
                raise
        return {name: _numpy(t.column(name)) for name in t.column_names}

    def by_customer(self, q, fold, schema: dict[str, str]) -> dict[str, np.ndarray]:
        """``fold`` run on the executors over the rows of the query ``q`` (or DataFrame; with ``pos``), a group of
        customers at a time (every row of a customer in one group): ``fold(frame)`` gives one row per customer
        of the group, ``pos`` and the columns of ``schema``. Only those rows come back."""
        from pyspark.sql import functions as F

        if isinstance(q, str):
            self._days()
        groups = max(8, -(-len(self._bound) // GROUP_CUSTOMERS))
        types = ", ".join(f"{k} {v}" for k, v in {"pos": "int", **schema}.items())
        with self._lock:
            rows = self._sql(q) if isinstance(q, str) else q
            df = rows.groupBy(F.pmod(F.col("pos"), F.lit(groups)).alias("_group")).applyInPandas(fold, types)
        return self._fetch(df)

    def customers(self, index: pd.Index, today: int, horizon_days: int, period_days: int) -> dict[str, np.ndarray]:
        """Per customer of ``index``: the aggregates :meth:`reactivate.data.engine.DuckEngine.customers` gives
        (the activity in Spark SQL; the occasions' figures by the same function as there,
        :func:`~reactivate.data.engine.occasion_totals`: on the driver from every customer's days, fetched once
        for the models too, or, beyond :data:`FETCH_DAYS_UP_TO` customers, on the executors over each customer's
        days, so that only a row per customer comes back); the last answer is kept."""
        key = (today, horizon_days, period_days)
        for obj, k, value in self._cache:
            if k == key and (obj is index or (len(obj) == len(index) and obj.equals(index))):
                return value
        n, remap = len(index), self._remap(index)
        r = self._query(activity_sql("{codes}", today, SPARK))
        out = scatter(r, remap[np.asarray(r["pos"], dtype=np.int64)], n)
        if not self.samples_history(n):  # every customer's days are fetched for the models anyway: folded here
            out.update(occasion_totals(self.occasions(index), n, today, horizon_days, period_days))
            self._cache = [(index, key, out)]
            return out
        from pyspark import StorageLevel

        self._days()
        with self._lock:  # kept (the history sample's are read from them), freed by occasions() or forget()
            self._drop_day_rows()
            self._day_rows = self._sql(day_rows_sql("{codes}", SPARK)).persist(StorageLevel.MEMORY_AND_DISK)
        t = self.by_customer(self._day_rows,
                             functools.partial(fold_totals, today=today, horizon_days=horizon_days,
                                               period_days=period_days), TOTALS_SCHEMA)
        p = remap[np.asarray(t.pop("pos"), dtype=np.int64)]
        keep = p >= 0
        # customers of no occasion: the figures of none (days -1, counts and sums 0)
        none = occasion_totals(empty_store(n), n, today, horizon_days, period_days)
        for k, v in none.items():
            v[p[keep]] = t[k][keep]
        out.update(none)
        self._cache = [(index, key, out)]
        return out

    def samples_history(self, n: int) -> bool:
        """Beyond :data:`FETCH_DAYS_UP_TO` customers: their customer-days stay on the executors (the occasions'
        figures are folded there) but for the history sample's."""
        return n > max(FETCH_DAYS_UP_TO, log_engine.HISTORY_CUSTOMERS)

    def occasions(self, index: pd.Index, among: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The purchase occasions of every customer of ``index``, or of those ``among`` only (sorted positions),
        as :meth:`reactivate.data.engine.DuckEngine.occasions` gives them (:func:`~reactivate.data.engine.fold_rows`
        makes both), from customer-days folded by Spark (only they come to the driver, not the rows; with
        ``among``, only those customers': a semi-join with their positions, broadcast); kept."""
        for obj, sub, value in self._store:
            if (obj is index or (len(obj) == len(index) and obj.equals(index))) and _same(sub, among):
                return value
        remap = self._remap(index)
        if among is None:
            r, local, n = self._query(day_rows_sql("{codes}", SPARK)), remap, len(index)
        else:
            among = np.asarray(among, dtype=np.int64)
            local = np.full(len(index), -1, dtype=np.int64)
            local[among] = np.arange(len(among))
            local = np.where(remap >= 0, local[np.maximum(remap, 0)], -1)  # bound position -> place in among
            r, n = self._days_of(self._positions(np.flatnonzero(local >= 0))), len(among)
        p = local[np.asarray(r["pos"], dtype=np.int64)]
        day = np.asarray(r["day"], dtype=np.int64)
        keep = np.flatnonzero(p >= 0)
        order = keep[np.lexsort((day[keep], p[keep]))]
        out = fold_rows(p[order], day[order], np.asarray(r["amount"], dtype=float)[order],
                        np.asarray(r["digital"])[order] > 0, n)
        # fold_rows saw one row a day: each day's own count of rows
        out["rows"] = np.asarray(r["rows"])[order].astype(out["rows"].dtype)
        out["abs_amount"] = np.bincount(occasion_positions(out["start"]), weights=out["amount"], minlength=n)
        self._store = [(index, among, out)]
        if among is not None:  # read: the customer-days kept for it are no longer needed
            self._drop_day_rows()
        return out

    def _days_of(self, positions) -> dict[str, np.ndarray]:
        """The customer-days of the customers at bound ``positions`` (a DataFrame): a semi-join with the days
        kept when the figures were folded (:meth:`customers`), else with the log as codes before folding them."""
        if self._day_rows is not None:
            return self._fetch(self._sql("SELECT d.* FROM {days} d LEFT SEMI JOIN {among} a ON d.pos = a.pos",
                                         days=self._day_rows, among=positions))
        sampled = "(SELECT c.* FROM {codes} c LEFT SEMI JOIN {among} a ON c.pos = a.pos) AS sampled"
        return self._query(day_rows_sql(sampled, SPARK), among=positions)

    def _drop_day_rows(self) -> None:
        if self._day_rows is not None:
            self._day_rows.unpersist()
            self._day_rows = None

    def _positions(self, pos: np.ndarray):
        """A DataFrame of bound positions ``pos`` (column ``pos``), broadcast when small enough."""
        from pyspark.sql import functions as F

        df = self.spark.createDataFrame(pa.table({"pos": pa.array(np.asarray(pos, dtype=np.int32))}))
        return F.broadcast(df) if len(pos) <= BROADCAST_IDS else df

    def credits(self, index: pd.Index) -> dict[str, np.ndarray]:
        """Standing credits: ``pos`` (in ``index``) and ``day`` of each."""
        r = self._query(credits_sql("{codes}"))
        p = self._remap(index)[np.asarray(r["pos"], dtype=np.int64)]
        keep = p >= 0
        return {"pos": p[keep], "day": np.asarray(r["day"], dtype=np.int64)[keep]}

    def credits_by_customer(self, index: pd.Index, rule, names: tuple[str, ...]) -> tuple[np.ndarray, ...]:
        """``rule(pos, day, n)`` (arrays of length n, floats: e.g. the payday of
        :func:`reactivate.dormancy.customers.paydays`) of the standing credits of every customer of ``index``,
        run on the executors a group of customers at a time; only a row per customer with credits comes back.
        ``names`` name the rule's arrays; customers without credits get the rule's answer for none. A book
        whose customer-days are fetched anyway (:meth:`samples_history` false) has its credits fetched too and
        the rule run on the driver: one job fewer, the same answer."""
        n = len(index)
        if not self.samples_history(n):
            cr = self.credits(index)
            return tuple(rule(cr["pos"], cr["day"], n))
        t = self.by_customer(credits_sql("{codes}"), functools.partial(fold_credits, rule=rule, names=names),
                             dict.fromkeys(names, "double"))
        p = self._remap(index)[np.asarray(t["pos"], dtype=np.int64)]
        keep = p >= 0
        out = rule(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), n)
        for name, v in zip(names, out, strict=True):
            v[p[keep]] = np.asarray(t[name], dtype=float)[keep]
        return tuple(out)

    def active_within(self, index: pd.Index, start: np.ndarray, days: int) -> np.ndarray:
        """Per customer of ``index``: whether a row of their own falls in the ``days`` days from ``start[i]`` on
        (:func:`~reactivate.data.log_sql.active_sql`, a join of the log as codes with the windows, broadcast);
        only the customers found come back."""
        if self.bound() is None:
            self.bind(pa.array(index.to_numpy(dtype=object), type=pa.string()))
        from pyspark.sql import functions as F

        rm = self._remap(index)
        bound = np.flatnonzero(rm >= 0)
        windows = self.spark.createDataFrame(pd.DataFrame({
            "pos": bound.astype(np.int32), "start": np.asarray(start, dtype=np.int64)[rm[bound]].astype(np.int32)}))
        self._days()
        with self._lock:
            t = self._sql(active_sql("{codes}", "{windows}", days), windows=F.broadcast(windows)).toArrow()
        hit = np.zeros(len(index), dtype=bool)
        hit[rm[_numpy(t.column("pos")).astype(np.int64)]] = True
        return hit

    def release(self) -> None:
        """Free the log as codes cached on the executors (the aggregates and occasions already computed are
        kept): after the dormancy stage nothing scans the log again (the history sample's customer-days are
        read from the customer-days kept when their figures were folded: :meth:`occasions`)."""
        with self._lock:
            if self._days_df is not None:
                self._days_df.unpersist()
                self._days_df = None

    def forget(self) -> None:
        """Drop the aggregates and occasions kept for the later stages (once scoring is done with them), and the
        customer-days if they were kept for the history sample."""
        self._cache, self._store = [], []
        self._drop_day_rows()

    def close(self) -> None:
        """Free what the engine cached (the session is left to the run: it may be spark-submit's)."""
        self.release()


def fold_totals(frame: pd.DataFrame, today: int, horizon_days: int, period_days: int) -> pd.DataFrame:
    """On an executor: the customer-days (:func:`~reactivate.data.log_sql.day_rows_sql`) of a group of customers
    folded by :func:`~reactivate.data.engine.fold_rows` and summed up by
    :func:`~reactivate.data.engine.occasion_totals` (the default engine's functions), one row per customer."""
    order, who, local, day = _by_customer_and_day(frame)
    occ = fold_rows(local, day, frame["amount"].to_numpy(dtype=float)[order],
                    frame["digital"].to_numpy()[order] > 0, len(who))
    occ["rows"] = frame["rows"].to_numpy()[order].astype(occ["rows"].dtype)
    out = occasion_totals(occ, len(who), today, horizon_days, period_days)
    return pd.DataFrame({"pos": who.astype(np.int32), **{k: out[k] for k in TOTALS_SCHEMA}})


def fold_credits(frame: pd.DataFrame, rule, names: tuple[str, ...]) -> pd.DataFrame:
    """On an executor: ``rule(pos, day, n)`` of the standing credits of a group of customers, a row per customer."""
    _, who, local, day = _by_customer_and_day(frame)
    out = rule(local, day, len(who))
    return pd.DataFrame({"pos": who.astype(np.int32), **dict(zip(names, out, strict=True))})


def _by_customer_and_day(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A group's rows ordered by customer and day: the order, the group's customers (bound positions), each
    row's customer among them (0..k-1) and its day, in that order."""
    pos = frame["pos"].to_numpy(dtype=np.int64)
    day = frame["day"].to_numpy(dtype=np.int64)
    order = np.lexsort((day, pos))
    who, local = np.unique(pos[order], return_inverse=True)
    return order, who, local, day[order]


def empty_store(n: int) -> dict[str, np.ndarray]:
    """The occasions of ``n`` customers who have none (:func:`~reactivate.data.engine.fold_rows` of no rows)."""
    return fold_rows(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool), n)


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))


def _strings(arr) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else (arr.chunk(0) if arr.num_chunks else
                                                                 pa.array([], type=arr.type))
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    return arr.cast(pa.string()) if not pa.types.is_string(arr.type) else arr


def _numpy(col: pa.ChunkedArray) -> np.ndarray:
    """An Arrow column as numpy: numbers with nulls as floats with NaN (as :func:`scatter` expects)."""
    if col.null_count:
        return col.cast(pa.float64()).to_numpy()
    return col.to_numpy()


def spark_for(book, spec):
    """The Spark session a run's per-customer stages use (segments and today's scores on the executors), or
    None for the default engine: the session of the book's log when Spark reads it, else, when the campaign
    asks for Spark (``[engine] name = "spark"``), the session of its ``[engine.spark]`` settings."""
    if isinstance(getattr(book, "engine", None), SparkEngine):
        return book.engine.spark
    if spec.engine.name == "spark":
        return spark_session(spec.engine.spark)
    return None
