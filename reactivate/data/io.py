"""Reading input tables: CSV (also .gz) and Parquet, chosen by extension.

A bank's own column names are mapped to the contract's by the campaign spec
(``[data.<table>.columns]``); dates may use a bank's own format; CSV text may
be GBK/GB18030 or UTF-8 with or without a byte-order mark.

Reading takes a fast typed path (Arrow's CSV reader with the contract's
types). Only when that fails is the file read again as text and converted
column by column, so that :mod:`reactivate.data.validate` can report every bad
value with its row numbers in one pass.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from reactivate.config.campaign import TableInput
from reactivate.errors import InputDataError
from reactivate.schema import Table

TRUE_VALUES = ["true", "True", "TRUE", "1", "yes", "Yes", "YES", "y", "Y", "t", "T"]
FALSE_VALUES = ["false", "False", "FALSE", "0", "no", "No", "NO", "n", "N", "f", "F"]
_BOOL_MAP = {**{v.lower(): True for v in TRUE_VALUES}, **{v.lower(): False for v in FALSE_VALUES}}
NULL_VALUES = ["", "NA", "N/A", "NaN", "nan", "NULL", "null", "None"]


@dataclass
class Problem:
    """One kind of bad value found in one column of one file."""

    file: str
    column: str | None
    message: str
    rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    example: str | None = None

    def render(self) -> str:
        where = f"{self.file}: column '{self.column}'" if self.column else self.file
        n = len(self.rows)
        text = f"{where}: {self.message}"
        if n:
            first = ", ".join(str(int(r)) for r in self.rows[:5])
            more = ", ..." if n > 5 else ""
            s = "s" if n > 1 else ""
            text += f" in {n:,} row{s} (row{s} {first}{more}"
            if self.example is not None:
                text += f"; first value {self.example!r}"
            text += ")"
        return text


@dataclass
class RawTable:
    """A table as read, in contract column names, with what went wrong."""

    name: str
    path: Path
    frame: pd.DataFrame
    problems: list[Problem]
    absent_optional: list[str]
    fingerprint: str
    #: file row number (1 = first row under the header) of each frame row, when rows were skipped
    row_numbers: np.ndarray | None = None

    def file_rows(self, frame_rows: np.ndarray) -> np.ndarray:
        """Map 1-based frame row numbers to 1-based file row numbers."""
        return frame_rows if self.row_numbers is None else self.row_numbers[frame_rows - 1]


def file_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv.gz", ".txt.gz", ".tsv.gz")):
        return "csv.gz"
    if name.endswith((".csv", ".txt", ".tsv")):
        return "csv"
    raise InputDataError(f"{path}: unknown file type (use .csv, .csv.gz or .parquet)")


def fingerprint(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def read_table(path: str | Path, table: Table, spec: TableInput, encoding: str = "utf-8") -> RawTable:
    """Read one input file into contract columns and types.

    Values that cannot be converted become missing and are listed in
    ``problems``; missing required columns are problems too. Raises
    :class:`InputDataError` only when the file itself cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise InputDataError(f"{path}: file not found")
    fmt = file_format(path)
    enc = (spec.encoding or encoding or "utf-8").lower().replace("_", "-")
    label = path.name
    try:
        if fmt == "parquet":
            source_names = pq.read_schema(path).names
        else:
            source_names = _csv_header(path, fmt, enc, spec.sep)
            at = None
    except (OSError, pa.ArrowInvalid, UnicodeDecodeError, LookupError) as exc:
        raise InputDataError(f"{path}: cannot read the file ({_short(exc)})") from None

    problems: list[Problem] = []
    # bank name -> contract name; unmapped names that already match pass through
    rename: dict[str, str] = {}
    for src in source_names:
        dst = spec.columns.get(src, src.strip())
        if dst in table.names:
            if dst in rename.values():
                problems.append(Problem(label, dst, "appears twice (after the column mapping)"))
                continue
            rename[src] = dst
    present = set(rename.values())
    for col in table.required:
        if col not in present:
            hint = ""
            mapped_from = [s for s, d in spec.columns.items() if d == col]
            if mapped_from:
                hint = f" (mapped from {mapped_from[0]!r}, which the file does not have)"
            problems.append(Problem(label, col, f"missing required column{hint}"))
    absent = [c.name for c in table.columns if not c.required and c.name not in present]

    # columns the contract accepts but the pipeline does not use are not read at all
    rename = {src: dst for src, dst in rename.items() if table.column(dst).used}
    if fmt == "parquet":
        # enums have few values: Arrow's per-row-group dictionaries are cheap to unify for them
        keyed = [src for src, dst in rename.items()
                 if table.column(dst).kind == "enum" or (table.column(dst).kind == "id" and not table.column(dst).many)]
        try:
            at = pq.read_table(path, columns=list(rename), read_dictionary=keyed)
        except (OSError, pa.ArrowInvalid) as exc:
            raise InputDataError(f"{path}: cannot read the file ({_short(exc)})") from None
        frame, conv = _from_arrow(at, rename, table, spec.date_format, label)
    else:
        frame, conv = _read_csv(path, fmt, enc, spec, rename, table, label)
    problems.extend(conv)
    row_numbers = frame.attrs.pop("row_numbers", None)
    return RawTable(table.name, path, frame, problems, absent, "", row_numbers)


# --------------------------------------------------------------------------- CSV


def _open_text_head(path: Path, fmt: str) -> bytes:
    opener = gzip.open if fmt == "csv.gz" else open
    with opener(path, "rb") as fh:
        return fh.read(1 << 16)


def _csv_header(path: Path, fmt: str, enc: str, sep: str) -> list[str]:
    head = _open_text_head(path, fmt)
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    text = line.decode("utf-8" if enc in ("utf-8", "utf8", "utf-8-sig") else enc)
    return next(csv.reader(io.StringIO(text), delimiter=sep), [])


def _arrow_type(col, date_format: str) -> pa.DataType:
    kind = col.kind
    if kind == "id" and col.many:
        return pa.string()  # dictionary-encoded once, after reading (see _id_categorical)
    if kind in ("date", "datetime"):
        return pa.timestamp("s")
    if kind == "float":
        return pa.float64()
    if kind == "bool":
        return pa.bool_()
    if kind in ("id", "enum"):
        return pa.dictionary(pa.int32(), pa.string())
    return pa.string()


def _read_csv(path, fmt, enc, spec: TableInput, rename, table: Table, label):
    arrow_enc = "utf8" if enc in ("utf-8", "utf8", "utf-8-sig") else enc
    read_opts = pacsv.ReadOptions(encoding=arrow_enc)  # 1 MiB blocks: twice as fast as 16 MiB on 2 cores
    parse_opts = pacsv.ParseOptions(delimiter=spec.sep)
    types = {src: _arrow_type(table.column(dst), spec.date_format) for src, dst in rename.items()}
    parsers = [spec.date_format] if spec.date_format else [pacsv.ISO8601]
    fast = pacsv.ConvertOptions(
        column_types=types,
        include_columns=list(rename),
        true_values=TRUE_VALUES,
        false_values=FALSE_VALUES,
        null_values=NULL_VALUES,
        strings_can_be_null=True,
        timestamp_parsers=parsers,
    )
    try:
        at = pacsv.read_csv(path, read_opts, parse_opts, fast)
        frame = _finish(at, rename, table)
        return frame, []
    except pa.ArrowInvalid:
        pass  # a value did not convert: the slow path below finds them all
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputDataError(f"{path}: cannot decode as {enc} ({_short(exc)})") from None

    # slow path: everything as text, convert column by column, report bad values
    slow = pacsv.ConvertOptions(
        column_types={src: pa.string() for src in rename},
        include_columns=list(rename),
        null_values=NULL_VALUES,
        strings_can_be_null=True,
    )
    # one thread, so that Arrow can tell the line number of each malformed row; those are skipped
    # and reported (without their text, which holds personal data)
    bad_lines: list[int] = []

    def on_bad_row(row) -> str:
        bad_lines.append(row.number if row.number is not None else -1)
        return "skip"

    slow_read = pacsv.ReadOptions(encoding=read_opts.encoding, block_size=read_opts.block_size, use_threads=False)
    slow_parse = pacsv.ParseOptions(delimiter=spec.sep, invalid_row_handler=on_bad_row)
    try:
        at = pacsv.read_csv(path, slow_read, slow_parse, slow)
    except pa.ArrowInvalid as exc:
        if "invalid UTF8" in str(exc):
            raise InputDataError(f"{path}: not valid UTF-8 text; set data.encoding in the campaign spec "
                                 "(e.g. gbk or gb18030)") from None
        raise InputDataError(f"{path}: cannot parse the CSV ({_short(exc)})") from None
    frame, problems = _convert_text(at.to_pandas().rename(columns=rename), table, spec.date_format, label)
    row_numbers = None
    if bad_lines:
        skipped = np.array(sorted(n - 1 for n in bad_lines if n > 0), dtype=np.int64)  # line 2 = row 1
        kept = np.setdiff1d(np.arange(1, len(frame) + len(bad_lines) + 1), skipped)
        row_numbers = kept[: len(frame)]
        for pr in problems:
            pr.rows = row_numbers[pr.rows - 1]
        problems.insert(0, Problem(label, None, "malformed rows (wrong number of fields; skipped)",
                                   skipped if len(skipped) else np.array([0])))
    frame.attrs["row_numbers"] = row_numbers
    return frame, problems


def _finish(at: pa.Table, rename: dict[str, str], table: Table) -> pd.DataFrame:
    many = [src for src, dst in rename.items() if table.column(dst).kind == "id" and table.column(dst).many]
    ids = {rename[src]: _id_categorical(at.column(src), table.column(rename[src]).values_used) for src in many}
    frame = at.drop_columns(many).to_pandas(split_blocks=True, self_destruct=True).rename(columns=rename)
    for dst, cat in ids.items():
        frame[dst] = cat
    frame = _tidy(frame, table, skip=set(ids))
    return frame[[dst for dst in rename.values() if dst in frame.columns]]


def _from_arrow(at: pa.Table, rename, table: Table, date_format: str, label):
    """Convert a Parquet table column by column in Arrow; only text that must be parsed goes slow."""
    arrays, names, text, ids = [], [], {}, {}
    for src, dst in rename.items():
        kind = table.column(dst).kind
        arr = at.column(src)
        t = arr.type
        if kind == "id" and table.column(dst).many and (pa.types.is_string(t) or pa.types.is_large_string(t)):
            ids[dst] = _id_categorical(arr, table.column(dst).values_used)
            continue
        if kind in ("id", "enum") and pa.types.is_dictionary(t) and pa.types.is_string(t.value_type):
            arrays.append(arr)  # trimmed below, on the dictionary's values only
            names.append(dst)
            continue
        if pa.types.is_dictionary(t):
            arr = arr.cast(t.value_type)
            t = arr.type
        is_text = pa.types.is_string(t) or pa.types.is_large_string(t)
        if kind in ("id", "enum", "str"):
            arr = pc.utf8_trim_whitespace(arr if is_text else arr.cast(pa.string()))
            if kind != "str":
                arr = arr.dictionary_encode()
        elif kind in ("date", "datetime") and (pa.types.is_timestamp(t) or pa.types.is_date(t)):
            if pa.types.is_timestamp(t) and t.tz is not None:
                arr = arr.cast(pa.timestamp(t.unit))
            arr = pc.cast(arr, pa.timestamp("s"), safe=False)
        elif kind == "float" and (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)):
            arr = arr.cast(pa.float64())
        elif kind == "bool" and pa.types.is_boolean(t):
            pass
        else:
            text[dst] = arr.to_pandas()
            continue
        arrays.append(arr)
        names.append(dst)
    frame = pa.table(arrays, names=names).to_pandas() if arrays else pd.DataFrame(index=range(at.num_rows))
    for dst, cat in ids.items():
        frame[dst] = cat
    problems: list[Problem] = []
    if text:
        conv, problems = _convert_text(pd.DataFrame(text), table, date_format, label)
        for col in conv.columns:
            frame[col] = conv[col].to_numpy() if conv[col].dtype.kind in "Mf" else conv[col].array
    frame = _tidy(frame, table, skip=set(ids))
    return frame[[dst for dst in rename.values() if dst in frame.columns]], problems


def _id_categorical(arr: pa.ChunkedArray, values_used: bool = True):
    """A high-cardinality text column as a pandas Categorical, encoded once by Arrow.

    (Letting Parquet hand out per-row-group dictionaries and having them unified
    costs several times more for a million distinct ids.)
    """
    d = arr.combine_chunks().dictionary_encode() if arr.num_chunks != 1 else arr.chunk(0).dictionary_encode()
    dictionary = d.dictionary
    trimmed = pc.utf8_trim_whitespace(dictionary)
    if not trimmed.equals(dictionary):  # surrounding spaces: trim the distinct values, then merge equals
        d = pc.take(trimmed, d.indices).dictionary_encode()
        dictionary = d.dictionary
    if not values_used:  # a key that is only checked: stays in Arrow, no Python strings made
        return pd.arrays.ArrowExtensionArray(d)
    codes = d.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    cats = pd.Index(dictionary.to_numpy(zero_copy_only=False), dtype=object)
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(cats))


def _tidy(frame: pd.DataFrame, table: Table, skip: set[str] = frozenset()) -> pd.DataFrame:
    """Dates to whole days; surrounding spaces off categorical values (done on the categories only)."""
    for col in frame.columns:
        kind = table.column(col).kind
        if col in skip:
            continue
        if kind == "date":
            frame[col] = frame[col].dt.floor("D")
        elif kind in ("id", "enum") and isinstance(frame[col].dtype, pd.CategoricalDtype):
            cats = pa.array(frame[col].cat.categories.to_numpy(dtype=object), type=pa.string())
            trimmed = pc.utf8_trim_whitespace(cats)
            if not cats.equals(trimmed):
                stripped = pd.Index(trimmed.to_numpy(zero_copy_only=False), dtype=object)
                if stripped.is_unique:
                    frame[col] = frame[col].cat.rename_categories(stripped)
                else:
                    frame[col] = frame[col].astype(str).str.strip().astype("category")
    return frame


def _convert_text(frame: pd.DataFrame, table: Table, date_format: str, label: str, already_typed=False):
    """Convert text columns to contract types; report values that do not convert."""
    problems: list[Problem] = []
    out = {}
    for col in frame.columns:
        kind = table.column(col).kind
        s = frame[col]
        if kind in ("date", "datetime"):
            if pd.api.types.is_datetime64_any_dtype(s):
                conv = s.astype("datetime64[s]")
            else:
                txt = s.astype("string")
                conv = pd.to_datetime(txt, format=date_format or "ISO8601", errors="coerce")
                conv = conv.astype("datetime64[s]")
                _report_bad(problems, label, col, txt, conv, f"not a {'date' if kind == 'date' else 'timestamp'}"
                            + (f" in the format {date_format!r}" if date_format else " like 2024-01-31"))
            if kind == "date":
                conv = conv.dt.floor("D")
            out[col] = conv
        elif kind == "float":
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                out[col] = s.astype("float64")
            else:
                txt = s.astype("string")
                conv = pd.to_numeric(txt.str.strip(), errors="coerce").astype("float64")
                _report_bad(problems, label, col, txt, conv, "not a number")
                out[col] = conv
        elif kind == "bool":
            if pd.api.types.is_bool_dtype(s):
                out[col] = s.astype("boolean")
            else:
                txt = s.astype("string").str.strip().str.lower()
                conv = txt.map(_BOOL_MAP).astype("boolean")
                _report_bad(problems, label, col, txt, conv, "not true/false")
                out[col] = conv
        elif kind in ("id", "enum"):
            out[col] = s.astype("string").str.strip().astype("category")
        else:
            out[col] = s.astype("string")
    return pd.DataFrame(out, index=frame.index), problems


def _report_bad(problems, label, col, txt: pd.Series, conv: pd.Series, message: str) -> None:
    bad = txt.notna().to_numpy() & conv.isna().to_numpy()
    if bad.any():
        rows = np.flatnonzero(bad) + 1
        problems.append(Problem(label, col, message, rows, str(txt.iloc[rows[0] - 1])))


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
