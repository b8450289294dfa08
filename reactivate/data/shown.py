"""The accounts file's columns an RM sees (``[targets] show``): read as text, one value per customer.

:func:`read_shown` reads only the customer id and the ``show`` columns of the accounts file (CSV,
CSV.gz or Parquet; ``[data.accounts]`` column names, separator and encoding honoured), as text, and
keeps per customer the first non-empty value of each column in file order. The values are personal
data (names, mobile numbers): they go to the RM lists and workbooks only, and no message here ever
quotes one.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from reactivate.config.campaign import CampaignSpec
from reactivate.data.io import NULL_VALUES, READ_ERRORS, file_format
from reactivate.errors import ConfigError, InputDataError

#: the spec key that names the columns
SHOW_KEY = "targets.show"


def check_show_input(spec: CampaignSpec, accounts: str | Path | None) -> None:
    """``[targets] show`` needs an accounts file to read from.

    Raises
    ------
    ConfigError
        ``show`` names columns but no accounts file is given.
    """
    if spec.targets.show and accounts is None:
        raise ConfigError(f"{spec.source}: {SHOW_KEY} names columns of the accounts file "
                          f"({', '.join(spec.targets.show)}), but no accounts file is given")


def read_shown(path: str | Path, spec: CampaignSpec, customers: pd.Index) -> pa.Table:
    """The ``show`` columns of the accounts file for each of ``customers`` (in their order), as text.

    A name of ``show`` is matched to the file's columns after the ``[data.accounts.columns]`` mapping
    (``branch_id``), else as the file names it. Values are trimmed; an empty cell (or one of
    :data:`~reactivate.data.io.NULL_VALUES`) is no value. A customer without a value is null.

    Raises
    ------
    InputDataError
        A ``show`` column (or the customer id) is not in the file (naming the file, the column and
        the key ``targets.show``), or the file cannot be read.
    """
    path = Path(path)
    show = list(spec.targets.show)
    fmt = file_format(path)
    try:
        names, at = _read_columns(path, fmt, spec, show)
    except READ_ERRORS as exc:
        raise InputDataError(f"{path}: cannot be read for {SHOW_KEY} ({type(exc).__name__})") from None
    ids = at.column(0).combine_chunks().cast(pa.string())
    pos = pc.index_in(pc.utf8_trim_whitespace(ids), value_set=pa.array(customers.to_numpy(dtype=object),
                                                                          type=pa.string()))
    pos = pos.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    out = {}
    for j, name in enumerate(names, 1):  # one per show column
        values = pc.utf8_trim_whitespace(at.column(j).combine_chunks().cast(pa.string()))
        empty = pc.or_kleene(pc.is_null(values), pc.is_in(values, value_set=pa.array(NULL_VALUES)))
        keep = np.flatnonzero((pos >= 0) & ~empty.fill_null(True).to_numpy(zero_copy_only=False))
        first_of, first_row = np.unique(pos[keep], return_index=True)  # rows are in file order
        take = np.full(len(customers), -1, dtype=np.int64)
        take[first_of] = keep[first_row]
        out[name] = values.take(pa.array(take, mask=take < 0))
    return pa.table(out) if out else pa.table({})


def _read_columns(path: Path, fmt: str, spec: CampaignSpec, show: list[str]) -> tuple[list[str], pa.Table]:
    """The customer id and the ``show`` columns of the file (as text, in that order)."""
    ti = spec.data.accounts
    if fmt == "parquet":
        header = pq.read_schema(path).names
    else:
        enc = codecs.lookup(ti.encoding or spec.data.encoding or "utf-8").name
        read = pacsv.ReadOptions(encoding="utf8" if enc in ("utf-8", "utf-8-sig") else enc, block_size=1 << 20)
        parse = pacsv.ParseOptions(delimiter=ti.sep)
        header = pacsv.open_csv(path, read_options=read, parse_options=parse).schema.names
    where = _positions(path, header, ti.columns, ["customer_id", *show])
    if fmt == "parquet":
        at = pq.read_table(path, columns=[header[i] for i in where])
        return show, pa.table([at.column(k) for k in range(len(where))], names=["customer_id", *show])
    cols = [f"c{i}" for i in range(len(header))]
    read = pacsv.ReadOptions(encoding=read.encoding, block_size=1 << 20, column_names=cols, skip_rows=1)
    convert = pacsv.ConvertOptions(include_columns=[cols[i] for i in where],
                                   column_types={cols[i]: pa.string() for i in where}, strings_can_be_null=False)
    at = pacsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    return show, pa.table([at.column(cols[i]) for i in where], names=["customer_id", *show])


def _positions(path: Path, header: list[str], mapping: dict[str, str], wanted: list[str]) -> list[int]:
    """The position in ``header`` of each of ``wanted``: by its contract name (after the mapping), else
    by the file's own name. A name not found, or found twice, is an InputDataError naming the file,
    the column and the key."""
    clean = [h.replace("\ufeff", "").strip() for h in header]
    mapped = [mapping.get(h, mapping.get(c, c)) for h, c in zip(header, clean, strict=True)]
    out = []
    for name in wanted:  # one per column
        found = [i for i, m in enumerate(mapped) if m == name] or [i for i, c in enumerate(clean) if c == name]
        if not found:
            raise InputDataError(f"{path}: no column {name!r} (named by {SHOW_KEY}); the file's columns: "
                                 f"{', '.join(repr(c) for c in clean[:50])}")
        if len(found) > 1:
            raise InputDataError(f"{path}: column {name!r} (named by {SHOW_KEY}) appears {len(found)} times in "
                                 "the header")
        out.append(found[0])
    return out
