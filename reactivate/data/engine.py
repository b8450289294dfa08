"""The transaction log where it lies: aggregated by an engine, never held row by row in pandas.

The log is the one big table of a book (ten rows per customer and more). The pipeline never needs its rows,
only what they add up to, so every stage asks the :class:`Engine` for aggregates:

- :meth:`Engine.check` — what the data contract's checks need (missing values, the range of the
  timestamps, the values of the enum columns, infinite amounts): a clean log is never converted to pandas;
- :meth:`Engine.bind` — the customers the log is read for (the accounts' ids): rows of other customers
  are counted (:meth:`Engine.unknown`) and left out of everything else;
- :meth:`Engine.customers` — per customer, the activity aggregates as of a day (dormancy's
  transaction features) and the purchase-occasion aggregates of everyone on that day (today's scoring);
- :meth:`Engine.occasions` — the purchase occasions (one compact row per customer-day with activity) of
  every customer or of a sample of them (``among``), from which
  :class:`reactivate.scoring.occasions.LogOccasions` cuts the **samples** of customers the models look back
  on at earlier days (:meth:`Engine.samples_history`: on one machine every customer's are at hand, on Spark
  a large book's stay on the executors but for a sample);
- :meth:`Engine.credits` — the standing credits (salary or pension days);
- :meth:`Engine.release` / :meth:`Engine.forget` — what the later stages no longer need goes.

All of them are computed from the log as integer codes (:class:`LogCodes`: the customer's position, the day,
the amount and three flags, 17 bytes a row, sorted by customer and day), built by one read of the log's
columns with Arrow (a Parquet file a row group at a time, its ids as Parquet's own dictionaries, so that only
the distinct ids of each part are looked up among the customers' — never a join of ten million strings) and
dropped after the dormancy stage; every aggregate is then a pass of numpy over those arrays, a chunk of
customers at a time. :class:`DuckEngine` is the implementation for one machine: it reads a Parquet file in
place or an Arrow table in memory (a CSV file, or a frame a job built), and keeps a DuckDB connection for the
few questions that are SQL (its distinct ids; the checks of a log in memory whose timestamps are finer than
seconds: Arrow counts the others); another engine (Spark, for a log that does not fit one machine) implements
the same methods. Sums of amounts are added row after row in numpy, in the order of the customer's days and then
of the log's rows, so that they do not depend on how the work was split, and are those of the rows folded in
memory.
"""

from __future__ import annotations

import itertools
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

    def occasions(self, index: pd.Index, among: np.ndarray | None = None) -> dict[str, np.ndarray]: ...

    def samples_history(self, n: int) -> bool:
        """Whether, for a book of ``n`` customers, the models look back on a history sample
        (:data:`HISTORY_CUSTOMERS` customers) rather than on every customer's occasions."""
        ...

    def credits(self, index: pd.Index) -> dict[str, np.ndarray]: ...

    def active_within(self, index: pd.Index, start: np.ndarray, days: int) -> np.ndarray: ...

    def release(self) -> None: ...

    def forget(self) -> None: ...


#: the keys of :meth:`DuckEngine.customers` that only the dormancy stage reads
ACTIVITY_KEYS = ("txn_last", "txn_first", "n_txn", "n_txn_24m", "n_digital", "abs_amount", "net_12m")
#: customers whose occasions the models may look back on when the engine does not fetch everyone's
#: (:meth:`Engine.samples_history`: Spark, beyond ``FETCH_DAYS_UP_TO`` customers): every sample the scoring's sources draw comes from
#: these (with the campaign's seed), and those contacted with a known outcome, as many again at most
#: (:meth:`reactivate.scoring.sources.Context.draw`)
HISTORY_CUSTOMERS = 1_000_000
#: rows of a log in memory read as codes at once, at least (:func:`_table_parts`)
PART_ROWS = 1 << 20
#: customers whose rows are folded at once (the copies made are those of a chunk of the log)
CHUNK_CUSTOMERS = 500_000


def _threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


class DuckEngine:
    """:class:`Engine` on one machine, over a Parquet file (read in place) or an Arrow table: the aggregates from
    the log as codes in numpy (:class:`LogCodes`), the few SQL questions by DuckDB.

    ``select`` maps each contract column the log has (customer_id, timestamp, and any of amount,
    channel, initiated_by) to a SQL expression over the source's own columns; the timestamp's
    expression must give ``TIMESTAMP`` (or ``DATE``).
    """

    def __init__(self, source: str | pa.Table, select: dict[str, str], parquet: bool = False):
        self._lock = threading.Lock()
        self.columns = tuple(select)
        self._select, self._source = select, source
        self._con = None
        self._table = None if parquet else source
        #: a Parquet file: its path and the columns' names in it (read without expression: plain names only)
        self._parquet = (str(source), {c: e[1:-1].replace('""', '"') for c, e in select.items()}) if parquet else None
        self._check: LogCheck | None = None
        self._bound: pa.Array | None = None
        self._raw: RawLog | None = None
        self._codes: LogCodes | None = None
        self._remaps: list[tuple[object, np.ndarray]] = []
        self._identity: list = []  # indexes the log is bound to as they are
        self._cache: list = []
        self._store: list = []
        #: a pandas frame materialised from this log (see :mod:`reactivate.data.load`)
        self.frame = None

    @property
    def con(self):
        """The DuckDB connection with the view ``log`` over the source: made when a question needs SQL (the
        checks of a log in memory with timestamps finer than seconds, its distinct ids); the aggregates are computed
        from the codes in numpy."""
        if self._con is None:
            import duckdb

            self._tmp = tempfile.TemporaryDirectory(prefix="reactivate-duckdb-")
            con = duckdb.connect(config={"threads": _threads(), "memory_limit": _memory_limit(),
                                         "temp_directory": self._tmp.name, "preserve_insertion_order": False})
            if self._parquet is not None:
                src = f"read_parquet({_sql_text(self._parquet[0])})"
            else:
                con.register("arrow_log", self._source)
                src = "arrow_log"
            cols = [f"{'CAST(' + expr + ' AS DOUBLE)' if name == 'amount' else expr} AS {name}"
                    for name, expr in self._select.items() if name != "timestamp"]
            # whole seconds truncated towards zero (as Arrow casts to seconds)
            cols.append(f"epoch_us(CAST({self._select['timestamp']} AS TIMESTAMP)) // 1000000 AS sec")
            con.execute(f"CREATE VIEW log AS SELECT {', '.join(cols)} FROM {src}").fetchall()
            self._con = con
        return self._con

    def _sql(self, q: str) -> None:
        self.con.execute(q).fetchall()

    # -- the checks

    def check(self) -> LogCheck:
        if self._check is None and self._parquet is not None:
            self._check = self._check_from_statistics()
        if self._check is None and self._table is not None:
            self._check = self._check_from_arrow()
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
        names = {c: src for c, src in names.items() if c in ("customer_id", "timestamp", "amount")}
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
        values = self.raw().values  # read once, for the codes too
        given = meta.num_rows - missing["amount"] if "amount" in names else 0
        return LogCheck(meta.num_rows, missing["customer_id"], missing["timestamp"], lo, hi, 0, given, values)

    def _check_from_arrow(self) -> LogCheck | None:
        """:meth:`check` of a log in memory (a CSV file's columns) counted by Arrow, as the SQL counts it; None for
        timestamps not in whole seconds (counted by the SQL)."""
        t = self._table
        if t.column("timestamp").type != pa.timestamp("s"):
            return None

        def count(mask) -> int:
            return int(pc.sum(mask).as_py() or 0)

        sec = pc.min_max(t.column("timestamp").cast(pa.int64())).as_py()
        infinite = given = 0
        if "amount" in self.columns:
            amount = t.column("amount").cast(pa.float64())
            infinite, given = count(pc.is_inf(amount)), len(amount) - amount.null_count - count(pc.is_nan(amount))
        return LogCheck(t.num_rows, count(pc.is_null(t.column("customer_id"))), t.column("timestamp").null_count,
                        sec["min"], sec["max"], infinite, given,
                        {c: pc.unique(t.column(c)).cast(pa.string()).to_pylist()
                         for c in ("channel", "initiated_by") if c in self.columns})

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
            self._codes = None
            self._remaps, self._identity, self._cache, self._store = [], [], [], []

    def bound(self) -> pa.Array | None:
        """The ids the log is read for (None before :meth:`bind`)."""
        return self._bound

    def _days(self) -> LogCodes:
        """The log as integer codes (:class:`LogCodes`), built once per binding: one read of the log's columns
        (a Parquet file a row group at a time, its ids as Parquet's own dictionaries), the distinct ids of each
        part looked up once among the bound ones; rows of ids not bound counted and left out."""
        raw = self.raw() if self._codes is None else None
        with self._lock:
            if self._codes is None:
                self._codes = bind_codes(raw, self._bound)
                self._raw = None  # read again only if bound again
            return self._codes

    def raw(self) -> RawLog:
        """The log's rows as codes before any binding (:func:`read_raw`): read once, for the checks (the values
        of the enum columns) and the binding, whichever asks first."""
        with self._lock:
            if self._raw is None:
                rows = self._table.num_rows if self._table is not None else None
                if self._parquet is not None:
                    import pyarrow.parquet as pq

                    rows = pq.ParquetFile(self._parquet[0]).metadata.num_rows
                self._raw = read_raw(self._parts(), self.columns, rows)
            return self._raw

    def _parts(self):
        """The log's columns a part at a time (contract names -> Arrow arrays), in the order of its rows."""
        if self._parquet is None:
            yield from _table_parts(self._table, self.columns)
            return
        import pyarrow.parquet as pq

        path, names = self._parquet
        text = [names[c] for c in ("customer_id", "channel", "initiated_by") if c in names]
        f = pq.ParquetFile(path, read_dictionary=text)
        for i in range(f.num_row_groups):
            t = f.read_row_group(i, columns=[names[c] for c in self.columns])
            yield {c: t.column(names[c]) for c in self.columns}

    def unknown(self) -> tuple[int, int, np.ndarray]:
        """Rows of customers not bound: how many rows, of how many customers, and their first five row numbers."""
        codes = self._days()
        if not codes.unknown_rows:
            return 0, 0, np.zeros(0, dtype=np.int64)
        return codes.unknown_rows, len(codes.unknown_ids), codes.unknown_first

    def unknown_ids(self) -> pa.Array:
        """The distinct ids of the log that are not bound (missing ids left out)."""
        return self._days().unknown_ids

    def _remap(self, index: pd.Index) -> np.ndarray:
        """Bound position -> position in ``index`` (-1 when not in it); the last few are kept."""
        for obj, remap in self._remaps:
            if obj is index:
                return remap
        values = arrow_of(index)
        if values is self._bound or values.equals(self._bound):  # bound to this index (the usual case): nothing to look up
            remap = np.arange(len(values), dtype=np.int64)
            self._identity = [index, *self._identity[:3]]
        else:
            remap = pc.index_in(self._bound, value_set=values).fill_null(-1).to_numpy(zero_copy_only=False)
            remap = remap.astype(np.int64)
        self._remaps = [(index, remap), *self._remaps[:3]]
        return remap

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
        codes = self._days()
        remap = self._remap(index)
        act = codes.activity(today)
        out = scatter(act, remap[act["pos"]], len(index))
        occ = self.occasions(index)
        out.update(occasion_totals(occ, len(index), today, horizon_days, period_days))
        give_back_memory()  # the chunks' temporaries
        # sums of amounts row after row (per customer by day, then as the log lists them): the same
        # additions, in the same order, whatever the source
        out["abs_amount"] = occ["abs_amount"]
        out["net_12m"] = np.zeros(len(index))
        for year in self._ordered(index, lambda r: r["day"] >= today - 365):
            out["net_12m"] += np.bincount(year["pos"], weights=year["amount"], minlength=len(index))
        self._cache = [(index, key, out)]
        return out

    def occasions(self, index: pd.Index, among: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The purchase occasions (customer-initiated days) of every customer of ``index``: arrays ``day``,
        ``rows``, ``amount`` (their absolute amounts), ``digital`` (1.0 when one of them was made online), sorted
        by customer and day, with ``start`` (n + 1 offsets: customer ``i``'s occasions are ``start[i]:start[i + 1]``;
        :func:`occasion_positions` gives each occasion's customer). Folded once and kept:
        samples of customers are read from it in place (:class:`reactivate.scoring.occasions.StoreOccasions`).
        With ``among`` (sorted positions in ``index``), those customers' only, in that order
        (:func:`store_among`)."""
        if among is not None:
            return store_among(self.occasions(index), among)
        for obj, value in self._store:
            if obj is index or (len(obj) == len(index) and obj.equals(index)):
                return value
        parts, abs_amount = [], np.zeros(len(index))
        for r in self._ordered(index, lambda r: (r["flags"] & CUST) != 0):
            amount = np.abs(r["amount"])
            parts.append(fold_part(r["pos"], r["day"], amount, (r["flags"] & DIG) != 0))
            abs_amount += np.bincount(r["pos"], weights=amount, minlength=len(index))
        out = fold_finish(parts, len(index))
        out["abs_amount"] = abs_amount
        self._store = [(index, out)]
        give_back_memory()  # the folded parts (heap-sized chunks, a gigabyte at 10M) before the next temporaries
        return out

    def samples_history(self, n: int) -> bool:
        """Never: every customer's occasions are folded and kept on this machine anyway."""
        return False

    def _ordered(self, index: pd.Index, where):
        """The rows (``pos`` in ``index``, ``day``, ``amount``, ``flags``) of the log as codes where ``where``
        holds, ordered by customer, day and row: a chunk of customers at a time (so that the copies made are
        never those of the whole log)."""
        codes = self._days()
        remap = self._remap(index)
        same = len(remap) == codes.n and any(obj is index for obj in self._identity)
        for r in codes.chunks(CHUNK_CUSTOMERS):
            keep = where(r)
            r = {k: v[keep] for k, v in r.items()}
            if same:  # bound to this index: positions and order are the index's
                yield r
                continue
            r["pos"] = remap[r["pos"]]
            if len(r["pos"]) and ((r["pos"] < 0).any() or (np.diff(r["pos"]) < 0).any()):  # not the index's order
                keep = np.flatnonzero(r["pos"] >= 0)
                order = keep[np.argsort(r["pos"][keep], kind="stable")]  # by day and row within a customer still
                r = {k: v[order] for k, v in r.items()}
            yield r

    def credits(self, index: pd.Index) -> dict[str, np.ndarray]:
        """Standing credits (channel ``auto``, a positive amount; every row without a channel column):
        ``pos`` (in ``index``) and ``day`` of each."""
        codes = self._days()
        pos, day = [np.zeros(0, np.int32)], [np.zeros(0, np.int32)]
        for r in codes.chunks(CHUNK_CUSTOMERS):  # a chunk at a time: no temporaries the length of the log
            keep = ((r["flags"] & STANDING) != 0) & (r["amount"] > 0)
            pos.append(r["pos"][keep])
            day.append(r["day"][keep])
        credit = {"pos": np.concatenate(pos), "day": np.concatenate(day)}
        remap = self._remap(index)
        if len(remap) == codes.n and any(obj is index for obj in self._identity):
            return credit
        p = remap[credit["pos"]]
        mine = p >= 0
        return {"pos": p[mine].astype(np.int32), "day": credit["day"][mine].astype(np.int32)}

    def active_within(self, index: pd.Index, start: np.ndarray, days: int) -> np.ndarray:
        """Per customer of ``index``: whether a row of their own falls in the ``days`` days from ``start[i]`` on
        (days since 1970; :func:`~reactivate.data.log_sql.active_sql`'s rule), a chunk of customers at a time.
        Reads the log again when the codes were released (an evaluation after the plan)."""
        if self.bound() is None:
            self.bind(pa.array(index.to_numpy(dtype=object), type=pa.string()))
        codes = self._days()
        remap = self._remap(index)
        start = np.asarray(start, dtype=np.int64)
        hit = np.zeros(len(index), dtype=bool)
        for r in codes.chunks(CHUNK_CUSTOMERS):
            p = remap[r["pos"]]
            own = (p >= 0) & ((r["flags"] & CUST) != 0)
            p, day = p[own], r["day"][own]
            inside = (day >= start[p]) & (day < start[p] + days)
            hit[p[inside]] = True
        return hit

    def release(self) -> None:
        """Drop the log as codes and the activity aggregates (the occasions and their aggregates are kept for
        scoring): after the dormancy stage nothing scans the log again, and its memory goes to the later stages."""
        with self._lock:
            self._codes = None
            for _, _, value in self._cache:
                for k in ACTIVITY_KEYS:
                    value.pop(k, None)
        give_back_memory()

    def forget(self) -> None:
        """Drop the aggregates and occasions kept for the later stages (once scoring is done with them)."""
        self._cache, self._store = [], []
        give_back_memory()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._tmp.cleanup()


#: the bits of a row's flags in the log as codes: the customer's own, made online, a standing order
CUST, DIG, STANDING = 1, 2, 4


@dataclass
class LogCodes:
    """The log as integer codes: one entry per row of a bound customer, sorted by (customer, day, row): the
    customer's bound position, the day, the amount (0 when missing) and the flags (:data:`CUST`, :data:`DIG`,
    :data:`STANDING`), 17 bytes a row; and the rows of ids not bound: how many, their distinct ids, the first
    five row numbers."""

    pos: np.ndarray
    day: np.ndarray
    amount: np.ndarray
    flags: np.ndarray
    n: int
    unknown_rows: int
    unknown_ids: pa.Array
    unknown_first: np.ndarray

    def chunks(self, size: int):
        """The codes of ``size`` bound customers at a time (views, no copy)."""
        cut = np.searchsorted(self.pos, np.arange(0, self.n + size, size))
        for a, b in itertools.pairwise(cut):
            yield {"pos": self.pos[a:b], "day": self.day[a:b], "amount": self.amount[a:b], "flags": self.flags[a:b]}

    def activity(self, today: int) -> dict[str, np.ndarray]:
        """Per bound customer with rows (``pos``, their bound positions): ``txn_last`` (last day of their own rows, -1 without),
        ``txn_first`` (first day of any row), ``n_txn``, ``n_txn_24m`` (their own rows, in the 730 days before
        ``today``) and ``n_digital``."""
        rows = np.bincount(self.pos, minlength=self.n)
        has = np.flatnonzero(rows)
        start = np.cumsum(rows) - rows
        cust = (self.flags & CUST) != 0
        own, own_day = self.pos[cust], self.day[cust]
        n_txn = np.bincount(own, minlength=self.n)
        end = np.cumsum(n_txn)[has]
        n_txn = n_txn[has]
        out = {"txn_last": np.where(n_txn > 0, own_day[np.maximum(end - 1, 0)] if len(own) else -1, -1),
               "txn_first": self.day[start[has]],
               "n_txn": n_txn,
               "n_txn_24m": np.bincount(own[own_day >= today - 730], minlength=self.n)[has],
               "n_digital": np.bincount(self.pos[cust & ((self.flags & DIG) != 0)], minlength=self.n)[has]}
        out["pos"] = has
        return out


@dataclass
class RawLog:
    """The log's rows as codes before any binding (:func:`read_raw`), in the log's order: each row's index
    among the distinct ids of its part (``idx``, into ``ids``: the parts' distinct ids one after the other;
    -1 for a row with no id or no timestamp), its day, amount (0 when missing) and flags; and the distinct
    values of the enum columns (None for a missing value)."""

    idx: np.ndarray
    day: np.ndarray
    amount: np.ndarray
    flags: np.ndarray
    ids: pa.ChunkedArray
    values: dict[str, list]


def _table_parts(table: pa.Table, columns: tuple[str, ...]):
    """A log in memory a part at a time, as a Parquet file's row groups are read: whole record batches (a CSV file's
    blocks, each with its own dictionaries) of :data:`PART_ROWS` rows or more, so that the temporaries of
    :func:`read_raw` are those of a part; a table of one batch (a frame's) is one part."""
    table = table.select(list(columns))
    batches, start = table.to_batches(), 0
    while True:
        end, n = start, 0
        while end < len(batches) and (n < PART_ROWS or end == start):
            n, end = n + batches[end].num_rows, end + 1
        part = pa.Table.from_batches(batches[start:end], schema=table.schema)
        yield {c: part.column(c) for c in columns}
        start = end
        if start >= len(batches):
            return


def read_raw(parts, columns: tuple[str, ...], rows: int | None = None) -> RawLog:
    """The log's rows as codes (:class:`RawLog`) from its parts (each a dict of contract columns, Arrow arrays,
    in the order of the log's rows; a Parquet file's ids come with its own dictionaries). With ``rows`` (the
    log's length, a Parquet file's metadata says it) each part is written into arrays made once."""
    kinds = (("idx", np.int32), ("day", np.int32), ("amount", float), ("flags", np.uint8))
    full = {k: np.empty(rows, t) for k, t in kinds} if rows is not None else None
    pieces, dicts, base, at = [], [], 0, 0
    values: dict[str, set] = {c: set() for c in ("channel", "initiated_by") if c in columns}
    for part in parts:
        piece, ids = _piece(part, columns)
        if base:
            piece["idx"] = np.where(piece["idx"] >= 0, piece["idx"] + base, -1).astype(np.int32)
        base += sum(len(d) for d in ids)
        dicts.extend(ids)
        seen = piece.pop("values")
        for col, distinct in values.items():
            distinct.update(seen[col])
        if full is not None:
            for k, _ in kinds:
                full[k][at:at + len(piece[k])] = piece[k]
            at += len(piece["idx"])
        else:
            pieces.append(piece)
    if full is not None:
        cols = {k: v[:at] if at < rows else v for k, v in full.items()}
    else:
        cols = {k: np.concatenate([p[k] for p in pieces]) if len(pieces) > 1 else pieces[0][k] if pieces else
                np.zeros(0, t) for k, t in kinds}
    return RawLog(**cols, ids=pa.chunked_array(dicts, pa.string()), values={c: list(v) for c, v in values.items()})


def bind_codes(raw: RawLog, bound: pa.Array) -> LogCodes:
    """The log as codes (:class:`LogCodes`) for the customers ``bound``: the distinct ids of every part are
    looked up among them in one go; rows with no id are left out (as everywhere), rows of ids not bound are
    counted and left out."""
    where = pc.index_in(raw.ids, value_set=bound).fill_null(-1).to_numpy().astype(np.int32)
    pos = np.where(raw.idx >= 0, where[np.maximum(raw.idx, 0)] if len(where) else -1, -2).astype(np.int32)
    out = np.flatnonzero(pos == -1)
    ids = np.unique(raw.idx[out])
    unknown_ids = pc.unique(raw.ids.take(pa.array(ids, pa.int64())).combine_chunks()) if len(ids) else \
        pa.array([], pa.string())
    cols = {"pos": pos, "day": raw.day, "amount": raw.amount, "flags": raw.flags}
    if len(out) or (pos < 0).any():
        keep = pos >= 0
        cols = {k: v[keep] for k, v in cols.items()}
    _sort_codes(cols)
    return LogCodes(cols["pos"], cols["day"], cols["amount"], cols["flags"], len(bound), len(out), unknown_ids,
                    (out[:5] + 1).astype(np.int64))


def _sort_codes(cols: dict[str, np.ndarray]) -> None:
    """Sort the codes by (customer, day), keeping the log's order within a day (a stable sort; none at all for
    a log already in that order)."""
    pos, day = cols["pos"], cols["day"]
    if len(pos) < 2:
        return
    later = (pos[1:] > pos[:-1]) | ((pos[1:] == pos[:-1]) & (day[1:] >= day[:-1]))
    if later.all():
        return
    del later
    key = (pos.astype(np.int64) << 32) | (day.astype(np.int64) - int(day.min()))
    order = np.argsort(key, kind="stable")
    del key
    for k in cols:
        cols[k] = cols[k][order]


def _piece(part: dict, columns: tuple[str, ...]) -> tuple[dict, list[pa.Array]]:
    """One part of the log as codes: per row the index of its id among the part's ``ids`` (its dictionary, or the
    ids themselves; -1 when missing or without a day), ``day``, ``amount`` (0 when missing), ``flags``."""
    coded = _coded(part["customer_id"])
    if coded is not None:
        idx, ids = coded
    else:  # plain strings: each row looked up (hashing them to a dictionary first costs as much)
        ids = _chunked(part["customer_id"]).cast(pa.string())
        idx = np.arange(len(ids), dtype=np.int32)
        if ids.null_count:
            idx[np.asarray(ids.is_null().to_numpy(), dtype=bool)] = -1
        ids = ids.combine_chunks() if ids.num_chunks != 1 else ids.chunk(0)
    n = len(idx)
    day, known = _days_of(part["timestamp"])
    if not known.all():
        idx[~known] = -1
    amount = np.zeros(n)
    if "amount" in columns:
        amount = np.asarray(part["amount"].cast(pa.float64()).to_numpy(), dtype=float).copy()
        amount[np.isnan(amount)] = 0.0
    enums = {c: _enum_codes(part[c]) for c in ("channel", "initiated_by") if c in columns}
    cust = ~_is(enums["initiated_by"], ("bank",)) if "initiated_by" in enums else np.ones(n, bool)
    dig = _is(enums["channel"], DIGITAL_TXN_CHANNELS) if "channel" in enums else np.zeros(n, bool)
    standing = _is(enums["channel"], ("auto",)) if "channel" in enums else np.ones(n, bool)
    flags = cust.astype(np.uint8) | (dig.astype(np.uint8) << 1) | (standing.astype(np.uint8) << 2)
    values = {c: _distinct(coded) for c, coded in enums.items()}
    return {"idx": idx, "day": day, "amount": amount, "flags": flags, "values": values}, [ids]


def _chunked(arr) -> pa.ChunkedArray:
    return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])


def _coded(arr) -> tuple[np.ndarray, pa.Array] | None:
    """A dictionary-encoded text column as codes (-1 for a missing value) into one dictionary (Arrow strings);
    None for a column of plain values."""
    arr = _chunked(arr)
    if not pa.types.is_dictionary(arr.type):
        return None
    if arr.num_chunks == 0:
        return np.zeros(0, np.int32), pa.array([], pa.string())
    if arr.num_chunks > 1:  # chunks with dictionaries of their own (a CSV file's blocks): one dictionary
        arr = pa.table({"c": arr}).unify_dictionaries().column(0)
    idx = pc.fill_null(pa.chunked_array([c.indices for c in arr.chunks]), -1).to_numpy()
    return np.asarray(idx, dtype=np.int32), arr.chunk(0).dictionary.cast(pa.string())


def _days_of(ts) -> tuple[np.ndarray, np.ndarray]:
    """The days (since 1970) of a timestamp or date column, and where it is given: the whole seconds truncated
    towards zero, then the day they fall on."""
    known = ~np.asarray(ts.is_null().to_numpy(), dtype=bool)
    if pa.types.is_date(ts.type):
        days = ts.cast(pa.date32()).cast(pa.int32()).fill_null(0).to_numpy()
        return np.asarray(days, dtype=np.int32), known
    per = {"s": 1, "ms": 1000, "us": 1_000_000, "ns": 1_000_000_000}[ts.type.unit]
    v = np.asarray(ts.cast(pa.int64()).fill_null(0).to_numpy(), dtype=np.int64)
    if v.min(initial=0) >= 0:  # after 1970: truncating and flooring agree
        return (v // (per * 86400)).astype(np.int32), known
    sec = np.where(v < 0, -(-v // per), v // per)
    return (sec // 86400).astype(np.int32), known


def _enum_codes(arr) -> tuple[np.ndarray, pa.Array]:
    """An enum column as codes into one dictionary (:func:`_coded`), encoded first when it holds plain values."""
    coded = _coded(arr)
    return coded if coded is not None else _coded(_chunked(arr).cast(pa.string()).dictionary_encode())


def _is(coded: tuple[np.ndarray, pa.Array], values: tuple[str, ...]) -> np.ndarray:
    """Whether each value of an enum column (as codes) is one of ``values`` (a missing value is not)."""
    idx, dictionary = coded
    hit = pc.is_in(dictionary, value_set=pa.array(values)).to_numpy(zero_copy_only=False)
    return np.append(hit, False)[idx]


def _distinct(coded: tuple[np.ndarray, pa.Array]) -> set:
    """The distinct values of an enum column (as codes; None for a missing one): its dictionary's used values."""
    idx, dictionary = coded
    used = np.bincount(idx + 1, minlength=len(dictionary) + 1)
    out = set(dictionary.take(pa.array(np.flatnonzero(used[1:]), pa.int64())).to_pylist())
    return out | {None} if used[0] else out


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
    ``start`` (n + 1 offsets: customer ``i``'s occasions are ``start[i]:start[i + 1]``)."""
    parts = parts or [fold_part(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, bool))]
    # a key at a time, each part's array dropped once copied (and the heap they were in returned to the system):
    # the parts and the whole are never all held
    out = dict(parts[0])
    if len(parts) > 1:
        for k in list(parts[0]):
            out[k] = np.concatenate([p.pop(k) for p in parts])
            give_back_memory()
    if len(parts) > 1 and len(out["pos"]) and (np.diff(out["pos"]) < 0).any():
        order = np.argsort(out["pos"], kind="stable")
        out = {k: v[order] for k, v in out.items()}
    out["start"] = np.zeros(n + 1, dtype=np.int64)  # the occasions before each customer's
    np.cumsum(np.bincount(out.pop("pos"), minlength=n), out=out["start"][1:])  # the offsets say whose each is
    return out


def store_among(occ: dict, among: np.ndarray) -> dict:
    """The occasions ``occ`` (:func:`fold_rows`) of the customers ``among`` only (sorted positions), as
    :func:`fold_rows` of their rows alone gives them: customer ``k``'s are those of ``among[k]``."""
    among = np.asarray(among, dtype=np.int64)
    lo, hi = occ["start"][among], occ["start"][among + 1]
    size = hi - lo
    start = np.zeros(len(among) + 1, dtype=np.int64)
    np.cumsum(size, out=start[1:])
    at = np.arange(int(start[-1])) + np.repeat(lo - start[:-1], size)
    out = {k: occ[k][at] for k in ("day", "rows", "amount", "digital")}
    out["start"] = start
    if "abs_amount" in occ:
        out["abs_amount"] = occ["abs_amount"][among]
    return out


def occasion_positions(start: np.ndarray) -> np.ndarray:
    """Each occasion's customer (int32), from the offsets ``start`` of :func:`fold_finish`."""
    return np.repeat(np.arange(len(start) - 1, dtype=np.int32), np.diff(start))


def fold_rows(pos: np.ndarray, day: np.ndarray, amount: np.ndarray, digital: np.ndarray, n: int) -> dict:
    """Customer-initiated rows sorted by (pos, day) folded to one row per (customer, day): see
    :meth:`DuckEngine.occasions`. Amounts of a day are added in the order given."""
    return fold_finish([fold_part(pos, day, amount, digital)], n)


def occasion_totals(occ: dict, n: int, today: int, horizon_days: int, period_days: int) -> dict[str, np.ndarray]:
    """Per customer (arrays of length ``n``), the figures of their occasions ``occ`` (:func:`fold_rows`) up to
    ``today`` that :meth:`DuckEngine.customers` lists (``n_occ`` ... ``periods``): :data:`CHUNK_CUSTOMERS` at a
    time, so that the temporaries (eight bytes an occasion each) are never those of the whole log. A customer's
    figures are added up over their own occasions in order, so the chunks change no bit."""
    parts = []
    for a in range(0, max(n, 1), CHUNK_CUSTOMERS):
        b = min(a + CHUNK_CUSTOMERS, n)
        lo, hi = occ["start"][a], occ["start"][b]
        part = {k: occ[k][lo:hi] for k in ("day", "rows", "amount", "digital")}
        part["start"] = occ["start"][a:b + 1] - lo
        parts.append(_occasion_totals(part, b - a, today, horizon_days, period_days))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if len(parts) > 1 else parts[0]


def _occasion_totals(occ: dict, n: int, today: int, horizon_days: int, period_days: int) -> dict[str, np.ndarray]:
    """:func:`occasion_totals` of ``n`` customers (``occ``: theirs only, offsets from 0)."""
    start, day = occ["start"], occ["day"].astype(np.int64)
    count = np.diff(start)
    has = count > 0
    lo, hi = start[:-1], start[1:]
    cust = occasion_positions(start)

    def per(values) -> np.ndarray:  # sum over each customer's occasions, in their order (float, even of none)
        return np.bincount(cust, weights=values, minlength=n).astype(np.float64, copy=False)

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
           "amount": per(occ["amount"]), "digital": count_of(occ["digital"].astype(bool))}
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
    return ids if increasing(ids) else ids.take(pc.array_sort_indices(ids))


def increasing(ids: pa.Array) -> bool:
    """Whether Arrow strings (no missing) are strictly increasing: distinct and sorted as Arrow sorts them."""
    return len(ids) < 2 or (ids.null_count == 0 and pc.all(pc.less(ids[:-1], ids[1:])).as_py())


#: Arrow forms of indexes of ids, by identity (the last few): those made from Arrow arrays, and those converted
_ARROW_OF: list[tuple[object, pa.Array]] = []


def remember_arrow(index: pd.Index, ids: pa.Array) -> pd.Index:
    """Keep ``ids`` (Arrow strings) as the Arrow form of ``index`` (made from them): :func:`arrow_of` answers it
    without converting a million Python strings again."""
    _ARROW_OF.insert(0, (index, ids))
    del _ARROW_OF[6:]
    return index


def arrow_of(index: pd.Index) -> pa.Array:
    """The ids of an index (text, no missing) as Arrow strings: the array it was made from when remembered
    (:func:`remember_arrow`), else converted (and remembered)."""
    for obj, arr in _ARROW_OF:
        if obj is index:
            return arr
    arr = pa.array(index.to_numpy(dtype=object), type=pa.string())
    remember_arrow(index, arr)
    return arr


#: answers of :func:`positions_in`, by identity of its arguments (the last few)
_POSITIONS: list[tuple[object, object, np.ndarray]] = []


def positions_in(values: pa.Array, among: pa.Array) -> np.ndarray:
    """The position of each of ``values`` among ``among`` (-1 when absent or missing), by Arrow's hashing; the
    last few answers are kept (the contacts' ids are looked up among the customers' by loading and dormancy)."""
    for a, b, pos in _POSITIONS:
        if a is values and b is among:
            return pos
    pos = pc.index_in(values, value_set=among).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    pos.flags.writeable = False
    _POSITIONS.insert(0, (values, among, pos))
    del _POSITIONS[4:]
    return pos


def give_back_memory() -> None:
    """Return the memory freed so far to the system: the C heap's free pages (glibc keeps those of arrays below
    its moving mmap threshold) and Arrow's pool; nothing where there is no glibc."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    pa.default_memory_pool().release_unused()


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
