"""The transaction log's aggregations as SQL text, one definition for every engine (DuckDB and Spark).

Each rule of the log (which rows are the customer's own, which are digital, which credits are standing,
what the per-customer aggregates are, what an occasion is) is written once here, as SQL that
DuckDB and Spark SQL both run. Where the two dialects differ (integer division, a compensated sum, the
seconds of a timestamp) the text asks :class:`Dialect` for the spelling.

The queries read two relations an engine provides (their names are arguments): ``log`` (the contract
columns, ``sec``: whole seconds since 1970, and ``day``) and ``bound_ids`` (``id``, ``pos``: the customers
the log is read for).
The log as codes that :func:`codes_sql` builds from them (kept by the engine) is what every other query
reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from reactivate.data.engine import DIGITAL_TXN_CHANNELS


@dataclass(frozen=True)
class Dialect:
    """How one engine spells what DuckDB and Spark SQL spell differently."""

    name: str
    #: integer division truncated towards zero
    div: str
    #: a sum of doubles (compensated where the engine has one)
    fsum: str
    #: the whole seconds since 1970 of a TIMESTAMP expression ``{}``, truncated towards zero
    seconds: str

    def idiv(self, a: str, b: str) -> str:
        return f"({a}) {self.div} ({b})"


DUCKDB = Dialect("duckdb", div="//", fsum="fsum", seconds="epoch_us(CAST({} AS TIMESTAMP)) // 1000000")
SPARK = Dialect("spark", div="div", fsum="sum", seconds="unix_micros(CAST({} AS TIMESTAMP)) div 1000000")


def log_columns(select: dict[str, str], d: Dialect) -> list[str]:
    """The ``log`` relation's select list: each contract column's expression (``select``), ``sec`` and ``day``."""
    cols = [f"{expr} AS {name}" for name, expr in select.items() if name != "timestamp"]
    sec = d.seconds.format(select["timestamp"])
    cols.append(f"{sec} AS sec")
    # the day the second falls on (floor division, also before 1970)
    cols.append(f"CAST({d.idiv(f'({sec}) - ((({sec}) % 86400) + 86400) % 86400', '86400')} AS INTEGER) AS day")
    return cols


def check_sql(columns: tuple[str, ...], log: str = "log", extra: tuple[str, ...] = ()) -> str:
    """What the contract's checks need, in one row: rows, missing ids and timestamps, the range of the
    seconds, infinite amounts and amounts given (then the ``extra`` expressions, in the same scan)."""
    amount = ("count(*) FILTER (WHERE abs(amount) = CAST('Infinity' AS DOUBLE)), "
              "count(*) FILTER (WHERE NOT isnan(amount))") if "amount" in columns else "0, 0"
    return ("SELECT count(*), count(*) FILTER (WHERE customer_id IS NULL), count(*) FILTER (WHERE sec IS NULL), "
            f"min(sec), max(sec), {amount}{''.join(', ' + e for e in extra)} FROM {log}")


def codes_sql(columns: tuple[str, ...], log: str = "log", bound: str = "bound_ids") -> str:
    """The log as codes, one row per row with an id: the customer's bound position (NULL for ids not bound),
    the day, the amount (NULL when missing), and whether the row is the customer's own (``cust``), digital
    (``dig``), a standing order (``standing``). Every rule of which row is which is here."""
    cust = "(initiated_by IS DISTINCT FROM 'bank')" if "initiated_by" in columns else "TRUE"
    digital = ("coalesce(channel IN (" + ", ".join(f"'{c}'" for c in DIGITAL_TXN_CHANNELS) + "), FALSE)"
               if "channel" in columns else "FALSE")
    standing = "coalesce(channel = 'auto', FALSE)" if "channel" in columns else "TRUE"
    amount = "(CASE WHEN isnan(amount) THEN NULL ELSE amount END)" if "amount" in columns else "CAST(NULL AS DOUBLE)"
    return (f"SELECT b.pos, l.day, {amount} AS amount, {cust} AS cust, {digital} AS dig, {standing} AS standing "
            f"FROM {log} l LEFT JOIN {bound} b ON l.customer_id = b.id WHERE l.customer_id IS NOT NULL")


def unknown_sql(codes: str) -> str:
    """How many rows of the log are of customers not bound."""
    return f"SELECT count(*) FROM {codes} WHERE pos IS NULL"


def activity_sql(codes: str, today: int, d: Dialect) -> str:
    """Per bound customer, the activity aggregates as of ``today`` (dormancy's transaction features):
    ``txn_last``, ``txn_first``, ``n_txn``, ``n_txn_24m``, ``abs_amount``, ``net_12m``, ``n_digital``."""
    return f"""
        SELECT pos, coalesce(max(day) FILTER (WHERE cust), -1) AS txn_last, min(day) AS txn_first,
               count(*) FILTER (WHERE cust) AS n_txn, count(*) FILTER (WHERE cust AND day >= {today - 730}) AS n_txn_24m,
               coalesce({d.fsum}(abs(amount)) FILTER (WHERE cust), 0) AS abs_amount,
               coalesce({d.fsum}(amount) FILTER (WHERE day >= {today - 365}), 0) AS net_12m,
               count(*) FILTER (WHERE cust AND dig) AS n_digital
        FROM {codes} WHERE pos IS NOT NULL GROUP BY pos"""


def day_rows_sql(codes: str, d: Dialect) -> str:
    """The purchase occasions: per bound customer and day with a customer-initiated row, ``rows``,
    ``amount`` (their absolute amounts, a missing one as 0) and ``digital`` (one of them made online);
    folded where the log lies (the engine that fetches the rows instead folds them with
    :func:`reactivate.data.engine.fold_rows`, which gives the same)."""
    return (f"SELECT pos, day, count(*) AS rows, {d.fsum}(abs(coalesce(amount, 0))) AS amount, "
            f"CAST(bool_or(dig) AS DOUBLE) AS digital FROM {codes} WHERE pos IS NOT NULL AND cust "
            "GROUP BY pos, day")


def credits_sql(codes: str) -> str:
    """Standing credits (channel ``auto``, a positive amount; every row without a channel column): ``pos``
    and ``day`` of each."""
    return f"SELECT pos, day FROM {codes} WHERE pos IS NOT NULL AND standing AND amount > 0"


def active_sql(codes: str, windows: str, days: int) -> str:
    """The bound customers (``pos``) with a row of their own in their window: ``windows`` holds each
    customer's ``pos`` and ``start`` (a day); the window is the ``days`` days from ``start`` on (the rule of
    "reactivated" that a campaign's uplift counts)."""
    return (f"SELECT DISTINCT c.pos FROM {codes} c JOIN {windows} w ON c.pos = w.pos "
            f"WHERE c.cust AND c.day >= w.start AND c.day < w.start + {int(days)}")


def remap(bound: pa.Array, index: pd.Index) -> np.ndarray:
    """Bound position -> position in ``index`` (-1 when not in it)."""
    values = pa.array(index.to_numpy(dtype=object), type=pa.string())
    return pc.index_in(bound, value_set=values).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
