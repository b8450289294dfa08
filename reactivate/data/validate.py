"""Checks of the data contract, reporting every problem in one pass.

Each check takes a typed frame (as :func:`reactivate.data.io.read_table` returns
it) and appends :class:`~reactivate.data.io.Problem` entries; nothing stops at the
first failure. Messages carry file, column, count and the first row numbers
(row 1 = the first row under the header), and never the values of id
columns, which identify people.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from reactivate.config.campaign import FIRST_DATE, LAST_DATE
from reactivate.data.io import Problem, RawTable
from reactivate.errors import InputDataError, ReactivateError
from reactivate.schema import DEPOSIT_PRODUCTS, Table

#: the dates an input and the as-of date may hold (the range a campaign spec's dates have too):
#: pandas holds them, with a campaign's weeks after them; a year 1 or 9999 placeholder is not a date
DATES = f"{FIRST_DATE.isoformat()}..{LAST_DATE.isoformat()}"


def check_day(day: dt.date, what: str, error: type[ReactivateError] = InputDataError) -> None:
    """Raise ``error`` when ``day`` lies outside :data:`DATES`; ``what`` names the day (an option, a key)."""
    if not FIRST_DATE <= day <= LAST_DATE:
        raise error(f"{what} {day.isoformat()} is outside the dates reactivate handles ({DATES})")


def _rows(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask) + 1


def check_table(raw: RawTable, table: Table, as_of: dt.date) -> list[Problem]:
    """All contract checks of one table; returns the problems found."""
    frame = raw.frame
    label = raw.path.name
    problems = list(raw.problems)
    own_from = len(problems)
    cutoff = pd.Timestamp(as_of) + pd.Timedelta(days=1)  # end of the as-of day

    for col in table.columns:
        if col.name not in frame.columns:
            continue
        s = frame[col.name]
        if col.required:
            missing = s.isna().to_numpy().copy()
            # values that failed conversion are already reported as such
            already = _already_reported(problems, col.name, raw, len(frame))
            if col.name == "last_activity_date":
                missing[:] = False  # empty means "never used"
            missing &= ~already
            if missing.any():
                problems.append(Problem(label, col.name, "missing (a required column)", _rows(missing)))
        if col.kind == "enum" and isinstance(s.dtype, pd.CategoricalDtype):
            bad_cats = [c for c in s.cat.categories if c not in col.values]
            if bad_cats:
                mask = s.isin(bad_cats).to_numpy()
                first = str(s.iloc[int(np.flatnonzero(mask)[0])])
                problems.append(
                    Problem(
                        label,
                        col.name,
                        f"unknown value (allowed: {', '.join(col.values)})",
                        _rows(mask),
                        first,
                    )
                )
        outside = np.zeros(len(s), dtype=bool)
        if col.kind in ("date", "datetime"):
            outside = _outside_dates(problems, label, col.name, col.kind, s)
        if col.kind == "float":
            _not_finite(problems, label, col.name, s)
        if col.kind in ("date", "datetime") and col.name not in ("maturity_date", "birth_date"):
            late = (s >= cutoff).fillna(False).to_numpy(dtype=bool) & ~outside
            if late.any():
                what = "activity" if col.name in ("last_activity_date", "timestamp") else "dates"
                problems.append(
                    Problem(
                        label,
                        col.name,
                        f"{what} after the as-of date {as_of.isoformat()}",
                        _rows(late),
                        _show(s.iloc[int(np.flatnonzero(late)[0])], col.kind),
                    )
                )

    if table.key and all(k in frame.columns for k in table.key):
        dup = _duplicated(frame, list(table.key))
        if dup.any():
            problems.append(
                Problem(label, ", ".join(table.key), "duplicate key (repeats an earlier row)", _rows(dup))
            )
    if table.name == "accounts" and {"balance", "product"} <= set(frame.columns):
        neg = (frame["balance"] < 0).fillna(False).to_numpy(dtype=bool)
        neg = neg & frame["product"].isin(DEPOSIT_PRODUCTS).to_numpy()
        if neg.any():
            problems.append(
                Problem(
                    label,
                    "balance",
                    f"negative balance on a deposit product ({', '.join(DEPOSIT_PRODUCTS)})",
                    _rows(neg),
                    str(frame["balance"].iloc[int(np.flatnonzero(neg)[0])]),
                )
            )
    for p in problems[own_from:]:  # rows found here are frame rows: give the file's row numbers
        p.rows = raw.file_rows(p.rows)
        p.numbered = raw.numbered
    return problems


def _duplicated(frame: pd.DataFrame, key: list[str]) -> np.ndarray:
    """Rows whose key (every part given) repeats an earlier row's. A key of one column read as codes (an account's
    id: Arrow's dictionary of distinct values, :func:`reactivate.data.io.read_table`) is compared by its codes,
    without making a Python string of each id."""
    col = frame[key[0]] if len(key) == 1 else None
    arr = col.array.__arrow_array__() if col is not None and isinstance(col.dtype, pd.ArrowDtype) else None
    if arr is None or not pa.types.is_dictionary(arr.type) or arr.num_chunks != 1:
        dup = frame.duplicated(key, keep="first").to_numpy()
        return dup & frame[key].notna().all(axis=1).to_numpy()
    chunk = arr.chunk(0)
    codes = chunk.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    rows = np.arange(len(codes))
    given = codes >= 0
    first = np.full(len(chunk.dictionary), len(codes))
    np.minimum.at(first, codes[given], rows[given])
    return given & (first[np.maximum(codes, 0)] != rows)


def _outside_dates(problems: list[Problem], label: str, column: str, kind: str, s: pd.Series) -> np.ndarray:
    """Dates outside :data:`DATES` (such as a 9999-12-31 placeholder): a problem; returns their rows."""
    lo, hi = pd.Timestamp(FIRST_DATE), pd.Timestamp(LAST_DATE) + pd.Timedelta(days=1)
    outside = ((s < lo) | (s >= hi)).fillna(False).to_numpy(dtype=bool)
    if outside.any():
        problems.append(Problem(label, column, f"outside the dates reactivate handles ({DATES}; leave the cell "
                                "empty when there is no date)", _rows(outside),
                                _show(s.iloc[int(np.flatnonzero(outside)[0])], kind)))
    return outside


def _not_finite(problems: list[Problem], label: str, column: str, s: pd.Series) -> None:
    """Infinite numbers (``inf``, ``1e999``): a problem (a missing number is left empty)."""
    inf = np.isinf(s.to_numpy(dtype=float, na_value=np.nan))
    if inf.any():
        problems.append(Problem(label, column, "not a finite number", _rows(inf),
                                str(s.iloc[int(np.flatnonzero(inf)[0])])))


def _already_reported(problems: list[Problem], column: str, raw: RawTable, n: int) -> np.ndarray:
    """Frame rows whose value in ``column`` was already reported (e.g. as not a date)."""
    rows = [p.rows for p in problems if p.column == column and len(p.rows)]
    if not rows:
        return np.zeros(n, dtype=bool)
    return np.isin(raw.file_rows(np.arange(1, n + 1)), np.concatenate(rows))


def _show(value, kind: str) -> str:
    if kind == "date" and isinstance(value, pd.Timestamp):  # numpy's text: also for year -1 or 10000
        return np.datetime_as_string(value.to_datetime64(), unit="D")
    return str(value)


def render(problems: list[Problem]) -> str:
    n = len(problems)
    head = f"{n} problem{'s' if n != 1 else ''} in the input data"
    return head + "\n" + "\n".join("  " + p.render() for p in problems)
