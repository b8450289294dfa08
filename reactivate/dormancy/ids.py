"""Customer ids as integer codes: the sorted customer index and fast lookups of ids in it.

Every stage that joins a table to the customers uses these (in Arrow, hashing only the distinct ids);
the last few conversions are cached by identity, as the same immutable index is looked up many times.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def _categorical(ids: pd.Series) -> pd.Series:
    return ids if isinstance(ids.dtype, pd.CategoricalDtype) else ids.astype("category")


def customer_index(ids: pd.Series) -> tuple[pd.Index, np.ndarray]:
    """The distinct customer ids, sorted, and each row's position among them (-1 for a missing id).

    Sorting is done by Arrow (several times faster than numpy on strings) and only
    on the distinct ids. The index has object dtype: positional selections of it
    are pointer copies.
    """
    cat = _categorical(ids)
    codes = cat.cat.codes.to_numpy()
    cats = pa.array(cat.cat.categories.to_numpy(dtype=object), type=pa.string())
    used = np.bincount(codes[codes >= 0], minlength=len(cats)) > 0
    order = pc.array_sort_indices(cats).to_numpy()
    order = order[used[order]]
    rank = np.full(len(cats), -1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    values = cats.take(pa.array(order)).to_numpy(zero_copy_only=False)
    index = pd.Index(values.astype(object), dtype=object, name="customer_id")
    return index, np.where(codes >= 0, rank[np.maximum(codes, 0)], -1) if len(cats) else codes.astype(np.int64)


def index_of(ids: pa.Array) -> pd.Index:
    """The customer index of distinct ids (Arrow strings, no missing): sorted as :func:`customer_index` sorts."""
    values = ids.take(pc.array_sort_indices(ids)).to_numpy(zero_copy_only=False)
    return pd.Index(values.astype(object), dtype=object, name="customer_id")


_ARROW_CACHE: list[tuple[object, pa.Array]] = []


def _as_arrow(values: pd.Index) -> pa.Array:
    """An Index of string ids as an Arrow array; the last few conversions are kept (looked up by identity)."""
    for obj, arr in _ARROW_CACHE:
        if obj is values:
            return arr
    arr = pa.array(values.to_numpy(dtype=object), type=pa.string())
    _ARROW_CACHE.insert(0, (values, arr))
    del _ARROW_CACHE[4:]
    return arr


_POS_CACHE: list[tuple[object, object, np.ndarray]] = []


def _categories_positions(cats: pd.Index, index: pd.Index) -> np.ndarray:
    for a, b, pos in _POS_CACHE:
        if a is cats and b is index:
            return pos
    pos = pc.index_in(_as_arrow(cats), value_set=_as_arrow(index))
    pos = pos.fill_null(-1).to_numpy().astype(np.int64)
    pos.flags.writeable = False
    _POS_CACHE.insert(0, (cats, index, pos))
    del _POS_CACHE[4:]
    return pos


def codes_for(ids: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of each id in ``index`` (-1 when absent), hashing only the distinct ids (in Arrow).

    The same ids are often looked up in the same index by several stages: the
    Arrow conversions of the last few (immutable) indexes are reused.
    """
    cat = _categorical(ids)
    pos = _categories_positions(cat.cat.categories, index)
    codes = cat.cat.codes.to_numpy()
    return np.where(codes >= 0, pos[np.maximum(codes, 0)], -1) if len(pos) else np.full(len(codes), -1)


def days_to_datetime(days: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """Day numbers since 1970-01-01 as ``datetime64[s]``; NaT where ``missing`` (sentinels never converted)."""
    days = np.asarray(days, dtype=np.int64)
    if missing is None:
        return days.astype("datetime64[D]").astype("datetime64[s]")
    out = np.where(missing, 0, days).astype("datetime64[D]").astype("datetime64[s]")
    out[missing] = np.datetime64("NaT")
    return out
