"""Customer ids as integer codes: the sorted customer index and fast lookups of ids in it.

Every stage that joins a table to the customers uses these (in Arrow, hashing only the distinct ids);
the last few conversions are cached by identity, as the same immutable index is looked up many times.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from reactivate.data.engine import arrow_of, increasing, positions_in, remember_arrow, sorted_ids


def _categorical(ids: pd.Series) -> pd.Series:
    return ids if isinstance(ids.dtype, pd.CategoricalDtype) else ids.astype("category")


def customer_index(ids: pd.Series) -> tuple[pd.Index, np.ndarray]:
    """The distinct customer ids, sorted, and each row's position among them (-1 for a missing id).

    Sorting is done by Arrow (several times faster than numpy on strings) and only
    on the distinct ids; ids read in order (their categories sorted already) are not sorted again.
    The index has object dtype: positional selections of it are pointer copies.
    """
    cat = _categorical(ids)
    codes = cat.cat.codes.to_numpy()
    cats = arrow_of(cat.cat.categories)
    used = np.bincount(codes[codes >= 0], minlength=len(cats)) > 0
    if used.all() and increasing(cats):  # the categories are the index
        index = remember_arrow(cat.cat.categories.rename("customer_id"), cats)
        return index, codes.astype(np.int64)
    order = pc.array_sort_indices(cats).to_numpy()
    order = order[used[order]]
    rank = np.full(len(cats), -1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    values = cats.take(pa.array(order))
    index = pd.Index(values.to_numpy(zero_copy_only=False).astype(object), dtype=object, name="customer_id")
    remember_arrow(index, values)
    return index, np.where(codes >= 0, rank[np.maximum(codes, 0)], -1) if len(cats) else codes.astype(np.int64)


def index_of(ids: pa.Array) -> pd.Index:
    """The customer index of distinct ids (Arrow strings, no missing): sorted as :func:`customer_index` sorts."""
    values = sorted_ids(ids)
    return remember_arrow(pd.Index(values.to_numpy(zero_copy_only=False).astype(object), dtype=object,
                                   name="customer_id"), values)


def _as_arrow(values: pd.Index) -> pa.Array:
    """An Index of string ids as an Arrow array (the last few kept, looked up by identity: :func:`arrow_of`)."""
    return arrow_of(values)


def _categories_positions(cats: pd.Index, index: pd.Index) -> np.ndarray:
    return positions_in(_as_arrow(cats), _as_arrow(index))


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
