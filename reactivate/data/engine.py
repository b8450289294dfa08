"""The transaction log where it lies: aggregated by an engine, never held row by row in pandas.

The log is the one big table of a book (ten rows per customer and more). The pipeline never needs its rows,
only what they add up to, so every stage asks the :class:`Engine` for aggregates:

- :meth:`Engine.check` — what the data contract's checks need (missing values, the range of the
  timestamps, the values of the enum columns, infinite amounts): a clean log is never converted to pandas;
- :meth:`Engine.bind` — the customers the log is read for (the accounts' ids): rows of other customers
  are counted (:meth:`Engine.unknown`) and left out of everything else;
- :meth:`Engine.customers` — per customer, the activity aggregates as of a day (dormancy's
  transaction features) and the purchase-occasion aggregates of everyone on that day (today's scoring);
- :meth:`Engine.occasions` — the purchase occasions (one compact row per customer-day with activity),
  from which :class:`reactivate.scoring.occasions.LogOccasions` cuts the **samples** of customers the
  models look back on at earlier days;
- :meth:`Engine.credits` — the standing credits (salary or pension days);
- :meth:`Engine.release` / :meth:`Engine.forget` — what the later stages no longer need goes.

All of them are computed from the log as integer codes (:attr:`DuckEngine.DAYS`: the customer's position,
the day, the amount and three flags), built by one scan of the log and one join of its ids, then dropped
after the dormancy stage. :class:`DuckEngine` is the DuckDB implementation: it scans a Parquet file in place
(projection push-down, its statistics for the checks, spilling to disk beyond its memory limit) or an
Arrow table in memory (a CSV file, or a frame a job built), and fetches ordered rows a chunk of customers
at a time; another engine (Spark, for a log that does not fit one machine) implements the same methods. Sums of amounts are added row after row in numpy, in the order of the
customer's days and then of the log's rows, so that they do not depend on how the engine split its work
between threads (a float sum depends on its order), and are those of the rows folded in memory.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: channels of a transaction made online (the digital share)
DIGITAL_TXN_CHANNELS = ("online", "mobile", "wechat")


@dataclass(frozen=True)
class LogCheck:
    """What the contract's checks of a log need, in one pass: counts and ranges (no rows)."""

    rows: int
    #: rows whose customer id / timestamp is missing
    id_missing: int
    ts_missing: int
    #: the first and the last timestamp, in whole seconds since 1970 (None without rows)
    first_second: int | None
    last_second: int | None
    #: rows with an infinite amount, rows with an amount at all (0 without the column)
    amount_infinite: int
    amount_given: int
    #: the distinct values of each enum column present (None stands for missing)
    values: dict[str, list]


class Engine(Protocol):
    """The aggregations of the transaction log the pipeline needs (see the module doc).

    Positions are those of a customer index (:func:`reactivate.dormancy.ids.customer_index`): 0..n-1;
    days are whole days since 1970-01-01.
    """

    columns: tuple[str, ...]

    def check(self) -> LogCheck: ...

    def distinct_ids(self) -> pa.Array: ...

    def bind(self, ids: pa.Array) -> None: ...

    def bound(self) -> pa.Array | None: ...

    def unknown(self) -> tuple[int, int, np.ndarray]: ...

    def customers(self, index: pd.Index, today: int, horizon_days: int, period_days: int) -> dict[str, np.ndarray]:
        ...

    def occasions(self, index: pd.Index) -> dict[str, np.ndarray]: ...

    def credits(self, index: pd.Index) -> dict[str, np.ndarray]: ...

    def release(self) -> None: ...

    def forget(self) -> None: ...


#: the keys of :meth:`DuckEngine.customers` that only the dormancy stage reads
ACTIVITY_KEYS = ("txn_last", "txn_first", "n_txn", "n_txn_24m", "n_digital", "abs_amount", "net_12m")
#: customers whose rows are fetched at once (a chunk of a large log)
CHUNK_CUSTOMERS = 2_000_000


def _threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


class DuckEngine:
    """:class:`Engine` on DuckDB, over a Parquet file (scanned in place) or an Arrow table.

    ``select`` maps each contract column the log has (customer_id, timestamp, and any of amount,
    channel, initiated_by) to a SQL expression over the source's own columns; the timestamp's
    expression must give ``TIMESTAMP`` (or ``DATE``).
    """

    DAYS = "log_codes"

    def __init__(self, source: str | pa.Table, select: dict[str, str], parquet: bool = False):
        import duckdb

        self._tmp = tempfile.TemporaryDirectory(prefix="reactivate-duckdb-")
        self.con = duckdb.connect(config={"threads": _threads(), "memory_limit": _memory_limit(),
                                          "temp_directory": self._tmp.name, "preserve_insertion_order": False})
        self._lock = threading.Lock()
        self.columns = tuple(select)
        if parquet:
            src = f"read_parquet({_sql_text(str(source))}, file_row_number = true)"
            self._row = "file_row_number + 1"
        else:  # the rows numbered (1 = the first), as a Parquet file's are
            source = source.append_column("__row", pa.array(np.arange(1, source.num_rows + 1, dtype=np.int64)))
            self.con.register("arrow_log", source)
            src = "arrow_log"
            self._row = "__row"
        #: a Parquet file: its path and the columns' names in it (read without expression: plain names only)
        self._parquet = (str(source), {c: e[1:-1].replace('""', '"') for c, e in select.items()
                                       if c in ("customer_id", "timestamp", "amount")}) if parquet else None
        cols = [f"{'CAST(' + expr + ' AS DOUBLE)' if name == 'amount' else expr} AS {name}"
                for name, expr in select.items() if name != "timestamp"]
        # whole seconds truncated towards zero (as Arrow casts to seconds), then the day they fall on
        sec = f"epoch_us(CAST({select['timestamp']} AS TIMESTAMP)) // 1000000"
        cols.append(f"{sec} AS sec")
        cols.append(f"{self._row} AS row_number")
        self._sql(f"CREATE VIEW log AS SELECT {', '.join(cols)} FROM {src}")
        self._sql("CREATE VIEW log_days AS SELECT *, CAST((sec - ((sec % 86400) + 86400) % 86400) // 86400 "
                  "AS INTEGER) AS day FROM log")
        self._check: LogCheck | None = None
        self._bound: pa.Array | None = None
        self._days_built = False
        self._remaps: list[tuple[object, np.ndarray]] = []
        self._cache: list = []
        self._store: list = []
        #: a pandas frame materialised from this log (see :mod:`reactivate.data.load`)
        self.frame = None

    def _sql(self, q: str) -> None:
        self.con.execute(q).fetchall()

    # -- the checks

    def check(self) -> LogCheck:
        if self._check is None and self._parquet is not None:
            self._check = self._check_from_statistics()
        if self._check is None:
            amount = "amount" in self.columns
            q = ("SELECT count(*), count(*) FILTER (customer_id IS NULL), count(*) FILTER (sec IS NULL), "
                 "min(sec), max(sec), "
                 + ("count(*) FILTER (isinf(amount)), count(*) FILTER (NOT isnan(amount))" if amount else "0, 0")
                 + " FROM log")
            with self._lock:
                r = self.con.execute(q).fetchall()[0]
                values = {}
                for col in ("channel", "initiated_by"):
                    if col in self.columns:
                        values[col] = [v[0] for v in self.con.execute(f"SELECT DISTINCT {col} FROM log").fetchall()]
            self._check = LogCheck(int(r[0]), int(r[1]), int(r[2]), r[3], r[4], int(r[5]), int(r[6]), values)
        return self._check

    def _check_from_statistics(self) -> LogCheck | None:
        """:meth:`check` from the Parquet file's statistics (row counts, missing values, minimum and maximum
        of each row group), reading only the enum columns; None when a row group lacks them."""
        import pyarrow.parquet as pq

        path, names = self._parquet
        meta = pq.ParquetFile(path).metadata
        cols = {meta.schema.column(j).name: j for j in range(meta.num_columns)}
        if any(names[c] not in cols for c in names):
            return None
        missing = {c: 0 for c in names}
        lo = hi = amount_lo = amount_hi = None
        for i in range(meta.num_row_groups):
            rg = meta.row_group(i)
            for c, src in names.items():
                st = rg.column(cols[src]).statistics
                if st is None or not st.has_null_count or (c in ("timestamp", "amount") and rg.num_rows > st.null_count
                                                           and not st.has_min_max):
                    return None
                missing[c] += st.null_count
                if c in ("timestamp", "amount") and rg.num_rows > st.null_count:
                    a, b = (_seconds(st.min), _seconds(st.max)) if c == "timestamp" else (st.min, st.max)
                    if a is None or b is None:
                        return None
                    if c == "timestamp":
                        lo, hi = (a if lo is None else min(lo, a)), (b if hi is None else max(hi, b))
                    else:
                        amount_lo = a if amount_lo is None else min(amount_lo, a)
                        amount_hi = b if amount_hi is None else max(amount_hi, b)
        if "amount" in names and (amount_lo is None or not (np.isfinite(amount_lo) and np.isfinite(amount_hi))):
            return None  # no amount at all, or an infinite one: counted by the scan
        values = {}
        with self._lock:
            for col in ("channel", "initiated_by"):
                if col in self.columns:
                    values[col] = [v[0] for v in self.con.execute(f"SELECT DISTINCT {col} FROM log").fetchall()]
        given = meta.num_rows - missing["amount"] if "amount" in names else 0
        return LogCheck(meta.num_rows, missing["customer_id"], missing["timestamp"], lo, hi, 0, given, values)

    def distinct_ids(self) -> pa.Array:
        """The distinct customer ids of the log (missing left out), in no particular order."""
        with self._lock:
            t = _arrow(self.con, "SELECT DISTINCT customer_id FROM log WHERE customer_id IS NOT NULL")
        return _plain_strings(t.column(0))

    # -- the customers

    def bind(self, ids: pa.Array) -> None:
        """Read the log for the customers ``ids`` (distinct, clean): rows of others are left out."""
        ids = _plain_strings(ids)
        if self._bound is not None and self._bound.equals(ids):
            return
        with self._lock:
            self._bound = ids
            self.con.register("bound_ids", pa.table({"id": ids, "pos": pa.array(np.arange(len(ids), dtype=np.int32))}))
            self._days_built = False
            self._remaps, self._cache, self._store = [], [], []

    def bound(self) -> pa.Array | None:
        """The ids the log is read for (None before :meth:`bind`)."""
        return self._bound

    def _days(self) -> None:
        """The log as integer codes, built once per binding (one scan of the log, one join of its ids):
        the customer's position (NULL for ids not bound), the day, the amount (NULL when missing), and
        whether the row is customer-initiated, digital, a standing order."""
        if self._days_built:
            return
        cust = "(initiated_by IS DISTINCT FROM 'bank')" if "initiated_by" in self.columns else "TRUE"
        digital = ("coalesce(channel IN (" + ", ".join(f"'{c}'" for c in DIGITAL_TXN_CHANNELS) + "), FALSE)"
                   if "channel" in self.columns else "FALSE")
        standing = "coalesce(channel = 'auto', FALSE)" if "channel" in self.columns else "TRUE"
        amount = "(CASE WHEN isnan(amount) THEN NULL ELSE amount END)" if "amount" in self.columns else "NULL::DOUBLE"
        row = "INTEGER" if self.check().rows < 2**31 - 1 else "BIGINT"  # the row numbers, in four bytes when they fit
        q = (f"CREATE OR REPLACE TEMP TABLE {self.DAYS} AS SELECT b.pos, l.day, {amount} AS amount, "
             f"{cust} AS cust, {digital} AS dig, {standing} AS standing, CAST(l.row_number AS {row}) AS row "
             "FROM log_days l LEFT JOIN bound_ids b ON l.customer_id = b.id WHERE l.customer_id IS NOT NULL")
        with self._lock:
            self._sql(q)
            self._days_built = True

    def unknown(self) -> tuple[int, int, np.ndarray]:
        """Rows of customers not bound: how many rows, of how many customers, and their first five row numbers."""
        n = self._unknown_rows_count()
        if not n:
            return 0, 0, np.zeros(0, dtype=np.int64)
        ids = self.unknown_ids()
        return int(n), len(ids), self._unknown_rows()

    def _unknown_rows_count(self) -> int:
        self._days()
        with self._lock:
            return int(self.con.execute(f"SELECT count(*) FROM {self.DAYS} WHERE pos IS NULL").fetchall()[0][0])

    def unknown_ids(self) -> pa.Array:
        """The distinct ids of the log that are not bound (missing ids left out)."""
        if not self._unknown_rows_count():
            return pa.array([], pa.string())
        with self._lock:
            t = _arrow(self.con, "SELECT DISTINCT l.customer_id FROM log l ANTI JOIN bound_ids b ON "
                                 "l.customer_id = b.id WHERE l.customer_id IS NOT NULL")
        return _plain_strings(t.column(0))

    def _unknown_rows(self) -> np.ndarray:
        with self._lock:
            t = self.con.execute("SELECT l.row_number FROM log l ANTI JOIN bound_ids b ON l.customer_id = b.id "
                                 "WHERE l.customer_id IS NOT NULL ORDER BY 1 LIMIT 5").fetchnumpy()
        return np.asarray(t["row_number"], dtype=np.int64)

    def _remap(self, index: pd.Index) -> np.ndarray:
        """Bound position -> position in ``index`` (-1 when not in it); the last few are kept."""
        for obj, remap in self._remaps:
            if obj is index:
                return remap
        values = pa.array(index.to_numpy(dtype=object), type=pa.string())
        if values.equals(self._bound):  # bound to this index (the usual case): nothing to look up
            remap = np.arange(len(values), dtype=np.int64)
        else:
            remap = pc.index_in(self._bound, value_set=values).fill_null(-1).to_numpy(zero_copy_only=False)
            remap = remap.astype(np.int64)
        self._remaps = [(index, remap), *self._remaps[:3]]
        return remap

    def _query(self, q: str, **tables) -> dict[str, np.ndarray]:
        self._days()
        with self._lock:
            for name, t in tables.items():
                self.con.register(name, t)
            try:
                return self.con.execute(q).fetchnumpy()
            finally:
                for name in tables:
                    self.con.unregister(name)

    def customers(self, index: pd.Index, today: int, horizon_days: int, period_days: int) -> dict[str, np.ndarray]:
        """Per customer of ``index`` (arrays of its length): the activity aggregates of the whole log as of
        ``today`` (the log holds nothing later) and those of its purchase occasions (customer-initiated days).

        Keys: ``txn_last`` (last customer-initiated day), ``txn_first`` (first day of any row), ``n_txn``,
        ``n_txn_24m`` (customer-initiated rows, in the 730 days before), ``abs_amount`` (their sum of absolute
        amounts), ``net_12m`` (signed amounts of every row in the 365 days before), ``n_digital``; and of the
        occasions: ``n_occ``, ``occ_first``, ``occ_last``, ``occ_prev`` (the day before the last), ``rows``,
        ``gap2`` (sum of squared gaps), ``n_last_year`` (days after ``today - 365``), ``recent`` (days within
        180 of the last), ``last_year_window`` (days in ``(today - 365, today - 365 + horizon]``),
        ``amount`` and ``amount_last`` (absolute amounts: all, and on the last day), ``digital`` (days with a
        digital row), ``periods`` (distinct ``period_days``-long periods counted from the first). Days are -1
        and counts and sums 0 where a customer has none. The last answer is kept.
        """
        key = (today, horizon_days, period_days)
        for obj, k, value in self._cache:
            if k == key and (obj is index or (len(obj) == len(index) and obj.equals(index))):
                return value
        act = self._query(f"""
            SELECT pos, coalesce(max(day) FILTER (cust), -1) AS txn_last, min(day) AS txn_first,
                   count(*) FILTER (cust) AS n_txn, count(*) FILTER (cust AND day >= {today - 730}) AS n_txn_24m,
                   count(*) FILTER (cust AND dig) AS n_digital
            FROM {self.DAYS} WHERE pos IS NOT NULL GROUP BY pos""")
        remap = self._remap(index)
        out = scatter(act, remap[np.asarray(act["pos"], dtype=np.int64)], len(index))
        occ = self.occasions(index)
        out.update(occasion_totals(occ, len(index), today, horizon_days, period_days))
        # sums of amounts row after row (per customer by day, then as the log lists them): the same
        # additions, in the same order, whatever the engine's threads
        out["abs_amount"] = occ["abs_amount"]
        out["net_12m"] = np.zeros(len(index))
        for year in self._ordered(index, "coalesce(amount, 0) AS amount", f"day >= {today - 365}"):
            out["net_12m"] += np.bincount(year["pos"], weights=year["amount"], minlength=len(index))
        self._cache = [(index, key, out)]
        return out

    def occasions(self, index: pd.Index) -> dict[str, np.ndarray]:
        """The purchase occasions (customer-initiated days) of every customer of ``index``: arrays ``pos``
        (in ``index``), ``day``, ``rows``, ``amount`` (their absolute amounts), ``digital`` (1.0 when one of
        them was made online), sorted by (pos, day); and ``start`` (n + 1 offsets: customer ``i``'s occasions
        are ``start[i]:start[i + 1]``). Fetched once, sorted by the engine, and kept: samples of customers
        are cut from it (:meth:`reactivate.scoring.occasions.LogOccasions.fetch`)."""
        for obj, value in self._store:
            if obj is index or (len(obj) == len(index) and obj.equals(index)):
                return value
        parts, abs_amount = [], np.zeros(len(index))
        for r in self._ordered(index, "day, abs(coalesce(amount, 0)) AS amount, dig", "cust"):
            parts.append(fold_part(r["pos"], r["day"], r["amount"], r["dig"].astype(bool)))
            abs_amount += np.bincount(r["pos"], weights=r["amount"], minlength=len(index))
        out = fold_finish(parts, len(index))
        out["abs_amount"] = abs_amount
        self._store = [(index, out)]
        return out

    def _ordered(self, index: pd.Index, columns: str, where: str):
        """The rows (``columns`` and ``pos``, in ``index``) of the log as codes where ``where`` holds, ordered by
        customer, day and row: fetched a chunk of customers at a time (so that a large log is never all in
        memory), each chunk's rows in that order."""
        remap = self._remap(index)
        n = len(self._bound)
        for a in range(0, max(n, 1), CHUNK_CUSTOMERS):
            r = self._query(f"SELECT pos, {columns} FROM {self.DAYS} WHERE pos >= {a} AND pos < "
                            f"{a + CHUNK_CUSTOMERS} AND {where} ORDER BY pos, day, row")
            r = {k: np.asarray(v) for k, v in r.items()}
            r["pos"] = remap[r["pos"].astype(np.int64)]
            if "day" in r:
                r["day"] = r["day"].astype(np.int64)
            if len(r["pos"]) and ((r["pos"] < 0).any() or (np.diff(r["pos"]) < 0).any()):  # not the index's order
                keep = np.flatnonzero(r["pos"] >= 0)
                order = keep[np.argsort(r["pos"][keep], kind="stable")]  # by day and row within a customer still
                r = {k: v[order] for k, v in r.items()}
            yield r

    def credits(self, index: pd.Index) -> dict[str, np.ndarray]:
        """Standing credits (channel ``auto``, a positive amount; every row without a channel column):
        ``pos`` (in ``index``) and ``day`` of each."""
        r = self._query(f"SELECT pos, day FROM {self.DAYS} WHERE pos IS NOT NULL AND standing AND amount > 0")
        p = self._remap(index)[np.asarray(r["pos"], dtype=np.int64)]
        keep = p >= 0
        return {"pos": p[keep].astype(np.int32), "day": np.asarray(r["day"])[keep].astype(np.int32)}

    def release(self) -> None:
        """Drop the log as codes and the activity aggregates (the occasions and their aggregates are kept for
        scoring): after the dormancy stage nothing scans the log again, and its memory goes to the later stages."""
        with self._lock:
            self._sql(f"DROP TABLE IF EXISTS {self.DAYS}")
            self._days_built = False
            for _, _, value in self._cache:
                for k in ACTIVITY_KEYS:
                    value.pop(k, None)

    def forget(self) -> None:
        """Drop the aggregates and occasions kept for the later stages (once scoring is done with them)."""
        self._cache, self._store = [], []

    def close(self) -> None:
        self.con.close()
        self._tmp.cleanup()


def fold_part(pos: np.ndarray, day: np.ndarray, amount: np.ndarray, digital: np.ndarray) -> dict:
    """Customer-initiated rows sorted by (pos, day) folded to one row per (customer, day): ``pos``, ``day``,
    ``rows``, ``amount`` (added in the order given), ``digital``; compact (21 bytes a customer-day)."""
    if not len(pos):
        z = np.zeros(0)
        return {"pos": z.astype(np.int32), "day": z.astype(np.int32), "rows": z.astype(np.int32), "amount": z,
                "digital": z.astype(bool)}
    first = np.flatnonzero(np.r_[True, (pos[1:] != pos[:-1]) | (day[1:] != day[:-1])])
    return {"pos": pos[first].astype(np.int32), "day": day[first].astype(np.int32),
            "rows": np.diff(np.r_[first, len(pos)]).astype(np.int32), "amount": np.add.reduceat(amount, first),
            "digital": np.maximum.reduceat(digital, first)}


def fold_finish(parts: list[dict], n: int) -> dict:
    """Folded parts (:func:`fold_part`, of customers in order) as one table of ``n`` customers' occasions, with
    ``start`` (n + 1 offsets: customer ``i``'s occasions are ``start[i]:start[i + 1]``) and ``cum_amount``."""
    parts = parts or [fold_part(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, bool))]
    out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    if len(parts) > 1 and len(out["pos"]) and (np.diff(out["pos"]) < 0).any():
        order = np.argsort(out["pos"], kind="stable")
        out = {k: v[order] for k, v in out.items()}
    out["start"] = np.searchsorted(out["pos"], np.arange(n + 1))
    # the running total of the amounts over every occasion: a customer's total is a difference of two of its
    # entries (so a sample's totals are exactly those of the whole log)
    out["cum_amount"] = np.concatenate([[0.0], np.cumsum(out["amount"])])
    return out


def fold_rows(pos: np.ndarray, day: np.ndarray, amount: np.ndarray, digital: np.ndarray, n: int) -> dict:
    """Customer-initiated rows sorted by (pos, day) folded to one row per (customer, day): see
    :meth:`DuckEngine.occasions`. Amounts of a day are added in the order given."""
    return fold_finish([fold_part(pos, day, amount, digital)], n)


def occasion_totals(occ: dict, n: int, today: int, horizon_days: int, period_days: int) -> dict[str, np.ndarray]:
    """Per customer (arrays of length ``n``), the figures of their occasions ``occ`` (:func:`fold_rows`) up to
    ``today`` that :meth:`DuckEngine.customers` lists (``n_occ`` ... ``periods``)."""
    start, day = occ["start"], occ["day"].astype(np.int64)
    count = np.diff(start)
    has = count > 0
    lo, hi = start[:-1], start[1:]
    cust = occ["pos"]

    def per(values) -> np.ndarray:  # sum over each customer's occasions, in their order
        return np.bincount(cust, weights=values, minlength=n)

    none = np.full(n, -1, dtype=np.int64)
    first = np.where(has, day[np.minimum(lo, len(day) - 1)] if len(day) else none, -1)
    last = np.where(has, day[np.maximum(hi - 1, 0)] if len(day) else none, -1)
    prev = np.where(count > 1, day[np.maximum(hi - 2, 0)] if len(day) else none, -1)
    same = np.r_[False, cust[1:] == cust[:-1]] if len(day) else np.zeros(0, bool)
    gap = np.where(same, np.diff(day, prepend=day[:1]), 0).astype(float)
    def count_of(mask) -> np.ndarray:  # how many of each customer's occasions
        return np.bincount(cust[mask], minlength=n).astype(np.int32)

    out = {"n_occ": count.astype(np.int32), "occ_first": first.astype(np.int32), "occ_last": last.astype(np.int32),
           "occ_prev": prev.astype(np.int32), "rows": per(occ["rows"]).astype(np.int32),
           "gap2": per(gap * gap).astype(np.int64), "n_last_year": count_of(day > today - 365),
           "recent": count_of(day >= last[cust] - 179),
           "last_year_window": count_of((day > today - 365) & (day <= today - 365 + horizon_days)),
           "amount": occ["cum_amount"][hi] - occ["cum_amount"][lo], "digital": count_of(occ["digital"].astype(bool))}
    out["amount_last"] = np.where(has, occ["amount"][np.maximum(hi - 1, 0)], 0.0) if len(day) else np.zeros(n)
    if period_days > 1:
        idx = (day - first[cust]) // period_days
        out["periods"] = count_of(~same | np.r_[True, idx[1:] != idx[:-1]])
    else:
        out["periods"] = out["n_occ"]
    return out


def scatter(r: dict[str, np.ndarray], pos: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Query results (one row per bound customer, no missing values) as arrays of length ``n`` by position
    (customers of no row: -1 for days, 0 for counts and sums); days and counts as int32, sums as float64
    (four or eight bytes a customer each). Both engines' answers go through it."""
    keep = pos >= 0
    at = pos[keep]
    out = {}
    for k, v in r.items():
        if k == "pos":
            continue
        v = np.asarray(v)
        day = k in ("txn_last", "txn_first")
        full = np.full(n, -1 if day else 0, dtype=np.int32 if v.dtype.kind in "iu" else float)
        full[at] = v[keep]
        out[k] = full
    return out


def _seconds(value) -> int | None:
    """A Parquet statistic of a timestamp or date column in whole seconds since 1970 (towards zero)."""
    import datetime as dt

    if isinstance(value, dt.datetime):
        delta = value - dt.datetime(1970, 1, 1)
    elif isinstance(value, dt.date):
        delta = value - dt.date(1970, 1, 1)
    else:
        return None
    seconds = delta.days * 86400 + delta.seconds
    return seconds + 1 if seconds < 0 and delta.microseconds else seconds


def sorted_ids(ids: pa.Array) -> pa.Array:
    """Distinct ids in the customer index's order (:func:`reactivate.dormancy.ids.customer_index` sorts them so):
    a log bound to them needs no look-up of positions."""
    return ids.take(pc.array_sort_indices(ids))


def _arrow(con, query: str) -> pa.Table:
    """A query's result as an Arrow table (the method's name changed in DuckDB 1.4)."""
    rel = con.sql(query)
    fetch = getattr(rel, "to_arrow_table", None) or rel.arrow
    return fetch()


def _plain_strings(arr) -> pa.Array:
    """An Arrow string column (chunked, large, dictionary-encoded) as one plain ``string`` array."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    return arr.cast(pa.string()) if not pa.types.is_string(arr.type) else arr


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _memory_limit() -> str:
    """What DuckDB holds in memory at most: beyond it the log as codes and its sorts go to a temporary folder
    (a sixteenth of the machine's memory, between 1 and 2 GiB: the pipeline's own frames need the rest)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 16 << 30
    return f"{min(2 << 10, max(1 << 10, total // 16 >> 20))}MB"


def engine_for_frame(frame: pd.DataFrame) -> DuckEngine:
    """An engine over a transactions frame (contract columns and types, as :func:`reactivate.data.io.read_table`
    gives it): a book a job built or cut (``reactivate backtest``)."""
    cols = {}
    for name in ("customer_id", "timestamp", "amount", "channel", "initiated_by"):
        if name not in frame.columns:
            continue
        s = frame[name]
        if name == "timestamp":
            cols[name] = pa.array(s.to_numpy(dtype="datetime64[s]"), type=pa.timestamp("s"))
        elif name == "amount":
            cols[name] = pa.array(s.to_numpy(dtype=float, na_value=np.nan), type=pa.float64())
        elif isinstance(s.dtype, pd.CategoricalDtype):  # read: codes and the distinct values, no strings made
            cats = pa.array(s.cat.categories.to_numpy(dtype=object), type=pa.string())
            cols[name] = pa.DictionaryArray.from_arrays(pa.array(s.cat.codes.to_numpy(), mask=s.isna().to_numpy()),
                                                        cats)
        else:  # built by a job
            cols[name] = pa.array(s.astype(object).where(s.notna(), None).to_numpy(dtype=object), type=pa.string())
    table = pa.table(cols)
    return DuckEngine(table, {c: (f"CAST({c} AS VARCHAR)" if c not in ("timestamp", "amount") else c)
                              for c in table.column_names})
