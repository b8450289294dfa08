"""Reading input tables: CSV (also .gz) and Parquet, chosen by extension.

A bank's own column names are mapped to the contract's by the campaign spec
(``[data.<table>.columns]``); dates may use a bank's own format; CSV text may
be GBK/GB18030 or UTF-8 with or without a byte-order mark.

Reading takes a fast typed path (Arrow's CSV reader with the contract's
types). Only when that fails is the file read again as text and converted
column by column, so that :mod:`reactivate.data.validate` can report every bad
value with its row numbers in one pass.

The rules, the same for CSV and Parquet (see docs/data.md):

- the header is the first line; its names are matched after trimming spaces and byte-order marks,
  and columns are read by position (two columns with one name are a problem, never a guess);
- a cell that is empty, only spaces, or one of :data:`NULL_VALUES` (after trimming) is missing, in
  every column; text values are trimmed;
- timestamps that carry a time zone (``+08:00``, ``Z``, a zoned Parquet column) are converted to
  ``data.timezone``, the bank's local time, and the zone dropped; without ``data.timezone`` they are
  a problem (naive timestamps are local time already);
- a file that cannot be read at all (missing, a folder, empty, a damaged gzip or Parquet file, the
  wrong encoding, the wrong separator) is one :class:`~reactivate.errors.InputDataError` naming the
  file, the problem and the ``[data]`` key to set; values quoted in messages are cut to
  :data:`SHOWN` characters.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from reactivate.config.campaign import DataSpec, TableInput, data_reading_problems
from reactivate.data.engine import DuckEngine, remember_arrow
from reactivate.errors import ConfigError, InputDataError
from reactivate.schema import Table

TRUE_VALUES = ["true", "True", "TRUE", "1", "yes", "Yes", "YES", "y", "Y", "t", "T"]
FALSE_VALUES = ["false", "False", "FALSE", "0", "no", "No", "NO", "n", "N", "f", "F"]
_BOOL_MAP = {**{v.lower(): True for v in TRUE_VALUES}, **{v.lower(): False for v in FALSE_VALUES}}
#: cells that mean "missing" (after trimming spaces), in every column of every format
NULL_VALUES = ["", "NA", "N/A", "NaN", "nan", "NULL", "null", "None"]
#: a value quoted in a message is cut to this many characters (a cell may hold a megabyte)
SHOWN = 80
#: a time zone at the end of a timestamp: ``Z`` after a digit, or ``±hh[:mm]`` after a time of day
ZONE_RE = r"(?:\d[Zz]|\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s?[+-]\d\d(?::?\d\d)?)\s*$"
#: the longest header line read (a header of 10,000 long names is about 1 MiB)
HEADER_MAX = 16 << 20
#: the largest block Arrow reads at once: a row (a line) may be up to this long
BLOCK_MAX = 512 << 20
#: the separators a header is tried with when the required columns are not found
SEPARATORS = (",", ";", "\t", "|")
#: the errors of reading a file that make it unreadable as a whole (Arrow's include I/O and parsing)
READ_ERRORS = (OSError, EOFError, zlib.error, UnicodeError, pa.ArrowException)


def quoted(value: object, limit: int = SHOWN) -> str:
    """``repr`` of a value for a message, cut to ``limit`` characters with the full length said."""
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text):,} characters)"


@dataclass
class Problem:
    """One kind of bad value found in one column of one file."""

    file: str
    column: str | None
    message: str
    rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    example: str | None = None
    #: False for a table read by Spark (a folder of files, a catalog table): ``rows`` count, and have no numbers
    numbered: bool = True

    def render(self) -> str:
        where = f"{self.file}: column '{self.column}'" if self.column else self.file
        n = len(self.rows)
        text = f"{where}: {self.message}"
        if n:
            s = "s" if n > 1 else ""
            shown = []
            if self.numbered:
                shown.append(f"row{s} " + ", ".join(str(int(r)) for r in self.rows[:5]) + (", ..." if n > 5 else ""))
            if self.example is not None:
                shown.append(f"first value {quoted(self.example)}")
            text += f" in {n:,} row{s}" + (f" ({'; '.join(shown)})" if shown else "")
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
    #: False when the rows have no numbers a user could find (a table Spark read: a folder of files, a catalog table)
    numbered: bool = True

    def file_rows(self, frame_rows: np.ndarray) -> np.ndarray:
        """Map 1-based frame row numbers to 1-based file row numbers."""
        return frame_rows if self.row_numbers is None else self.row_numbers[frame_rows - 1]


@dataclass(frozen=True)
class _Header:
    """The first line of a CSV file: its text, the bytes read to find it, and whether a line follows."""

    line: str
    nbytes: int
    more: bool


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


def read_table(path: str | Path, table: Table, spec: TableInput, encoding: str = "utf-8",
               timezone: str = "") -> RawTable:
    """Read one input file into contract columns and types.

    Values that cannot be converted become missing and are listed in
    ``problems``; missing required columns are problems too. ``timezone`` is the
    bank's local zone (``data.timezone``) that zoned timestamps are converted to.

    Raises
    ------
    InputDataError
        The file itself cannot be read (see the module doc).
    ConfigError
        A reading option (``spec``, ``encoding``, ``timezone``) cannot work.
    """
    path = Path(path)
    _check_file(path)
    fmt = file_format(path)
    options = DataSpec(encoding=encoding or "utf-8", timezone=timezone, **{table.name: spec})
    bad = data_reading_problems(options)
    if bad:
        raise ConfigError(f"{path.name}: cannot be read with these [data] settings: " + "; ".join(bad))
    enc = codecs.lookup(spec.encoding or encoding or "utf-8").name
    enc = "utf-8" if enc == "utf-8-sig" else enc
    try:
        return _read(path, fmt, enc, table, spec, timezone)
    except READ_ERRORS as exc:
        raise InputDataError(f"{path}: {_unreadable(exc, fmt, enc, table.name, spec)}") from None


def open_log(path: str | Path, table: Table, spec: TableInput, encoding: str = "utf-8", timezone: str = ""):
    """The transaction log as an engine (:class:`reactivate.data.engine.DuckEngine`) that aggregates it where it
    lies, with the optional columns absent; or None when the file needs what :func:`read_table` does
    (a column to parse as text, a time zone, a header problem, a file that cannot be read): then
    :func:`read_table` reads it and reports what is wrong.

    A Parquet file is scanned in place; a CSV file is read by Arrow's typed reader into memory (as
    :func:`read_table`'s fast path reads it), without any pandas conversion.
    """
    path = Path(path)
    try:
        _check_file(path)
        fmt = file_format(path)
        options = DataSpec(encoding=encoding or "utf-8", timezone=timezone, **{table.name: spec})
        if data_reading_problems(options):
            return None
        enc = codecs.lookup(spec.encoding or encoding or "utf-8").name
        enc = "utf-8" if enc == "utf-8-sig" else enc
        if fmt == "parquet":
            schema = pq.read_schema(path)
            names, header = schema.names, None
        else:
            header = _csv_header(path, fmt, enc, table)
            names = _header_names(header.line, spec.sep)
        rename, problems, absent = _match_columns(names, table, spec, path.name)
        used = {i: dst for i, dst in rename.items() if table.column(dst).used}
        if problems or not used:
            return None
        if fmt == "parquet":
            engine = _parquet_log(path, schema, {names[i]: dst for i, dst in used.items()}, table)
        else:
            engine = _csv_log(path, header, len(names), enc, spec, used, table)
        return (engine, absent) if engine is not None else None
    except (InputDataError, ConfigError, *READ_ERRORS):
        return None


_LOG_TYPES = {"id": ("text",), "enum": ("text",), "datetime": ("timestamp", "date"), "float": ("number",)}


def _log_kind(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    if pa.types.is_timestamp(t):
        return "timestamp" if t.tz is None and t.unit in ("s", "ms", "us") else "other"
    if pa.types.is_date32(t):
        return "date"
    if pa.types.is_floating(t) or pa.types.is_integer(t):
        return "number"
    return "other"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _parquet_log(path: Path, schema: pa.Schema, rename: dict[str, str], table: Table):
    """A Parquet log scanned in place, when each column is of a type that needs no conversion."""
    select = {}
    for src, dst in rename.items():
        if _log_kind(schema.field(src).type) not in _LOG_TYPES.get(table.column(dst).kind, ()):
            return None
        select[dst] = _ident(src)
    return DuckEngine(str(path), select, parquet=True)


def _csv_log(path: Path, header: _Header, ncols: int, enc: str, spec: TableInput, used: dict[int, str],
             table: Table):
    """A CSV log read by Arrow's typed reader (None when a value does not convert: :func:`read_table` reports it)."""
    rename = {f"c{i}": dst for i, dst in used.items()}
    at = _read_csv_arrow(path, header, ncols, enc, spec, rename, table, coded=True)
    at = at.rename_columns([rename[c] for c in at.column_names])
    select = {dst: (f"CAST({dst} AS VARCHAR)" if table.column(dst).kind in ("id", "enum") else dst)
              for dst in at.column_names}
    return DuckEngine(at, select)


def _check_file(path: Path) -> None:
    if path.is_dir():
        raise InputDataError(f"{path}: a folder, not a file")
    if not path.exists():
        raise InputDataError(f"{path}: file not found")
    if not path.is_file():
        raise InputDataError(f"{path}: not a regular file (a pipe or a device cannot be read)")


def _unreadable(exc: BaseException, fmt: str, enc: str, tname: str, spec: TableInput) -> str:
    """What an error that stopped the reading of a whole file means, and what to do."""
    reason = _short(exc)
    if fmt != "parquet" and (isinstance(exc, UnicodeError) or "invalid UTF8" in str(exc)):
        return _encoding_hint(enc, tname, spec)
    if isinstance(exc, PermissionError):
        return "cannot be read (permission denied)"
    if fmt == "csv.gz" and (isinstance(exc, (EOFError, zlib.error, gzip.BadGzipFile))
                            or "compress" in reason.lower() or "gzip" in reason.lower()):
        return f"not a complete gzip file: damaged or cut short ({reason}); compress the table again"
    if fmt == "parquet":
        return f"not a readable Parquet file: damaged, cut short or not Parquet ({reason})"
    return f"cannot parse the CSV ({reason})"


def _encoding_hint(enc: str, tname: str, spec: TableInput) -> str:
    key = f"data.{tname}.encoding" if spec.encoding else "data.encoding"
    if enc == "utf-8":
        return f"not valid UTF-8 text; set {key} in the campaign spec (e.g. gbk or gb18030)"
    return f"not valid {enc} text; set {key} in the campaign spec to the file's encoding (e.g. utf-8 or gb18030)"


def _read(path: Path, fmt: str, enc: str, table: Table, spec: TableInput, timezone: str) -> RawTable:
    label = path.name
    if fmt == "parquet":
        return read_named(path, label, pq.read_schema(path).names, _parquet_reader(path), table, spec, timezone)
    header = _csv_header(path, fmt, enc, table)
    names = _header_names(header.line, spec.sep)
    rename, problems, absent = _match_columns(names, table, spec, label)
    if any(p.message.startswith("missing required column") for p in problems):
        problems = _separator_hint(header.line, problems, table, spec, label)
    # columns the contract accepts but the pipeline does not use are not read at all
    used = {i: dst for i, dst in rename.items() if table.column(dst).used}
    if not used:  # none of the contract's columns (the required ones are reported missing): nothing to read
        return RawTable(table.name, path, pd.DataFrame(), problems, absent, "")
    frame, conv = _read_csv(path, header, len(names), enc, spec, used, table, timezone, label)
    problems.extend(conv)
    row_numbers = frame.attrs.pop("row_numbers", None)
    return RawTable(table.name, path, frame, problems, absent, "", row_numbers)


def _match_columns(names: list[str], table: Table, spec: TableInput, label: str):
    """Contract names of the file's columns by position; problems (twice, missing); optional columns absent."""
    problems: list[Problem] = []
    rename: dict[int, str] = {}  # position -> contract name
    for i, src in enumerate(names):
        clean = src.replace("\ufeff", "").strip()
        dst = spec.columns.get(src, spec.columns.get(clean, clean))
        if dst in table.names:
            if dst in rename.values():
                problems.append(Problem(label, dst, "appears twice in the header (after the column mapping)"))
                continue
            rename[i] = dst
    present = set(rename.values())
    for col in table.required:
        if col not in present:
            hint = ""
            mapped_from = [s for s, d in spec.columns.items() if d == col]
            if mapped_from:
                hint = f" (mapped from {quoted(mapped_from[0])}, which the file does not have)"
            problems.append(Problem(label, col, f"missing required column{hint}"))
    absent = [c.name for c in table.columns if not c.required and c.name not in present]
    return rename, problems, absent


def _separator_hint(line: str, problems: list[Problem], table: Table, spec: TableInput, label: str):
    """Required columns are missing: when another separator finds more of them, say so once."""
    missing = [p.column for p in problems if p.message.startswith("missing required column")]
    found = len(table.required) - len(missing)
    best, best_found = None, found
    for sep in SEPARATORS:
        if sep == spec.sep:
            continue
        try:
            names = _header_names(line, sep)
        except pa.ArrowException:
            continue
        _, other, _ = _match_columns(names, table, spec, label)
        n = len(table.required) - sum(p.message.startswith("missing required column") for p in other)
        if n > best_found:
            best, best_found = sep, n
    if best is None:
        return problems
    kept = [p for p in problems if p.column not in missing]
    return [Problem(label, None, f"required columns missing ({', '.join(missing)}): the header looks "
                    f"{best!r}-separated, not {spec.sep!r}; set sep = {json.dumps(best)} under "
                    f"[data.{table.name}] in the campaign spec (data.{table.name}.sep)"), *kept]


# --------------------------------------------------------------------------- CSV


def _csv_header(path: Path, fmt: str, enc: str, table: Table) -> _Header:
    """The first line of the file, decoded (a UTF-8 byte-order mark dropped)."""
    opener = gzip.open if fmt == "csv.gz" else open
    decoder = codecs.getincrementaldecoder("utf-8-sig" if enc == "utf-8" else enc)()
    text, nbytes, part = "", 0, "x"
    with opener(path, "rb") as fh:
        while "\n" not in part and "\r" not in part:
            chunk = fh.read(1 << 16)
            nbytes += len(chunk)
            part = decoder.decode(chunk, final=not chunk)
            text += part
            if not chunk:
                break
            if nbytes > HEADER_MAX:
                raise InputDataError(f"{path}: no line break in the first {HEADER_MAX >> 20} MiB: not a CSV header "
                                     f"line (or not {enc} text: is data.encoding right?)")
    cut = min((i for i in (text.find("\n"), text.find("\r")) if i >= 0), default=len(text))
    line = text[:cut]
    if line.count('"') % 2:
        raise InputDataError(f"{path}: the header has an unclosed quote (a column name with a line break?); "
                             "the column names must all be on the first line")
    if not line.strip():
        what = "empty file" if not text else "the first line is empty"
        raise InputDataError(f"{path}: {what}; the first line must be the header ({', '.join(table.required)}, ...)")
    return _Header(line, nbytes, cut < len(text))


def _header_names(line: str, sep: str) -> list[str]:
    """The column names of a header line, split by Arrow's own CSV parser (as the rows will be)."""
    opts = pacsv.ParseOptions(delimiter=sep)
    data = line.encode("utf-8") + b"\n"
    read = pacsv.ReadOptions(block_size=max(1 << 20, 2 * len(data)))
    return pacsv.read_csv(io.BytesIO(data), read_options=read, parse_options=opts).column_names


def _arrow_type(col) -> pa.DataType:
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


def _csv_options(header: _Header, ncols: int, enc, spec: TableInput, rename: dict[str, str], table: Table,
                 coded: bool = False):
    """Where and how the rows of a CSV file are read: the source, the read options, Arrow's typed conversion
    (``coded``: ids as dictionaries too, a block at a time: a log's ids repeat, and are looked up as codes)."""
    arrow_enc = "utf8" if enc == "utf-8" else enc
    # columns by position (the header is read above), 1 MiB blocks: twice as fast as 16 MiB on 2 cores
    block = max(1 << 20, 2 * header.nbytes)
    read_opts = pacsv.ReadOptions(encoding=arrow_enc, column_names=[f"c{i}" for i in range(ncols)],
                                  skip_rows=1 if header.more else 0, block_size=block)
    parsers = [spec.date_format] if spec.date_format else [pacsv.ISO8601]
    fast = pacsv.ConvertOptions(
        column_types={src: pa.dictionary(pa.int32(), pa.string()) if coded and table.column(dst).kind == "id"
                      else _arrow_type(table.column(dst)) for src, dst in rename.items()},
        include_columns=list(rename),
        true_values=TRUE_VALUES,
        false_values=FALSE_VALUES,
        null_values=NULL_VALUES,
        strings_can_be_null=True,
        timestamp_parsers=parsers,
    )
    return read_opts, fast


def _read_csv_arrow(path, header: _Header, ncols: int, enc, spec: TableInput, rename: dict[str, str],
                    table: Table, coded: bool = False) -> pa.Table:
    """The CSV file in the contract's types by Arrow's typed reader; raises ArrowInvalid when a value does not
    convert (a row of the wrong length, a bad number...)."""
    read_opts, fast = _csv_options(header, ncols, enc, spec, rename, table, coded)
    source = path if header.more else io.BytesIO(b"\n")  # a header alone: no rows
    return _read_blocks(source, read_opts, pacsv.ParseOptions(delimiter=spec.sep), fast)


def _read_csv(path, header: _Header, ncols: int, enc, spec: TableInput, used: dict[int, str], table: Table,
              timezone: str, label: str):
    rename = {f"c{i}": dst for i, dst in used.items()}
    try:
        at = _read_csv_arrow(path, header, ncols, enc, spec, rename, table)
    except pa.ArrowInvalid as exc:
        if "invalid UTF8" in str(exc):
            raise
        # a value did not convert: the slow path below finds them all
        read_opts, _ = _csv_options(header, ncols, enc, spec, rename, table)
        source = path if header.more else io.BytesIO(b"\n")
        return _read_csv_slowly(source, read_opts, spec, rename, table, timezone, label)
    # the typed columns converted as a Parquet file's are (one conversion for both formats)
    return _from_arrow(at, rename, table, spec.date_format, label, timezone)


def _read_csv_slowly(source, read_opts, spec: TableInput, rename: dict[str, str], table: Table, timezone: str,
                     label: str):
    """Everything as text, converted column by column; every bad value and malformed row reported."""
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

    slow_read = pacsv.ReadOptions(encoding=read_opts.encoding, block_size=read_opts.block_size, use_threads=False,
                                  column_names=read_opts.column_names, skip_rows=read_opts.skip_rows)
    slow_parse = pacsv.ParseOptions(delimiter=spec.sep, invalid_row_handler=on_bad_row)
    at = _read_blocks(source, slow_read, slow_parse, slow)
    text = at.to_pandas().rename(columns=rename)
    frame, problems = _convert_text(text, table, spec.date_format, label, timezone)
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


def _read_blocks(source, read_opts: pacsv.ReadOptions, parse_opts, convert_opts) -> pa.Table:
    """Arrow's read_csv, again with larger blocks while a row is longer than a block (a megabyte cell)."""
    while True:
        if isinstance(source, io.BytesIO):
            source.seek(0)
        try:
            return pacsv.read_csv(source, read_opts, parse_opts, convert_opts)
        except pa.ArrowInvalid as exc:
            if "straddl" not in str(exc) or read_opts.block_size >= BLOCK_MAX:
                raise
            read_opts.block_size = min(BLOCK_MAX, read_opts.block_size * 8)


# --------------------------------------------------------------------------- Parquet


def read_named(path: Path, label: str, names: list[str], reader, table: Table, spec: TableInput,
               timezone: str = "") -> RawTable:
    """A table from a source whose columns are named and typed (a Parquet file; a Spark DataFrame, see
    :mod:`reactivate.data.spark_tables`): its columns matched to the contract by name, as a CSV file's header
    is; the ones used read as Arrow by ``reader(columns, keyed)`` (``keyed``: the few-valued text columns,
    which may come dictionary-encoded) and converted to the contract's types; ``label`` names the source in
    problems."""
    rename, problems, absent = _match_columns(names, table, spec, label)
    used = {i: dst for i, dst in rename.items() if table.column(dst).used}
    # a name the source has twice is a problem already: it is not read (Parquet and Spark read by name)
    once = {names[i]: dst for i, dst in used.items() if names.count(names[i]) == 1}
    if not once:  # none of the contract's columns (the required ones are reported missing): nothing to read
        return RawTable(table.name, path, pd.DataFrame(), problems, absent, "")
    # enums have few values: Arrow's per-row-group dictionaries are cheap to unify for them
    keyed = [src for src, dst in once.items()
             if table.column(dst).kind == "enum" or (table.column(dst).kind == "id" and not table.column(dst).many)]
    frame, conv = _from_arrow(reader(list(once), keyed), once, table, spec.date_format, label, timezone)
    row_numbers = frame.attrs.pop("row_numbers", None)
    return RawTable(table.name, path, frame, problems + conv, absent, "", row_numbers)


def _parquet_reader(path: Path):
    return lambda columns, keyed: pq.read_table(path, columns=columns, read_dictionary=keyed)


def _from_arrow(at: pa.Table, rename, table: Table, date_format: str, label: str, timezone: str = ""):
    """Convert an Arrow table (a Parquet file's, or a CSV file's as Arrow's typed reader read it) column by
    column in Arrow; only text that must be parsed goes slow."""
    arrays, names = [], []
    routed: dict[str, dict] = {"text": {}, "ids": {}, "zoned": {}}
    problems: list[Problem] = []
    days = set()  # date columns read from Parquet dates: whole days already
    for src, dst in rename.items():
        col = table.column(dst)
        if col.kind == "date" and pa.types.is_date32(at.column(src).type):
            days.add(dst)
        try:
            got = _arrow_column(at.column(src), col)
        except pa.ArrowException as exc:
            problems.append(Problem(label, dst, f"cannot be read as {_KIND_WORDS[col.kind]}: the Parquet column "
                                    f"is {at.column(src).type} ({_short(exc)})"))
            continue
        if isinstance(got, _Routed):
            routed[got.route][dst] = got.value
            continue
        arrays.append(got)
        names.append(dst)
    text, ids = routed["text"], routed["ids"]
    frame = pa.table(arrays, names=names).to_pandas() if arrays else pd.DataFrame(index=range(at.num_rows))
    for dst, cat in ids.items():
        frame[dst] = cat
    for dst, series in routed["zoned"].items():
        conv, more = _zoned_timestamps(series, timezone, label, dst)
        frame[dst] = conv.to_numpy()
        problems.extend(more)
    if text:
        conv, more = _convert_text(pd.DataFrame(text), table, date_format, label, timezone)
        problems.extend(more)
        for col in conv.columns:
            frame[col] = conv[col].to_numpy() if conv[col].dtype.kind in "Mf" else conv[col].array
    frame = _tidy(frame, table, skip=set(ids) | (days - set(text)))
    return frame[[dst for dst in rename.values() if dst in frame.columns]], problems


_KIND_WORDS = {"id": "text", "str": "text", "enum": "text", "date": "a date", "datetime": "a timestamp",
               "float": "a number", "bool": "true/false"}


@dataclass(frozen=True)
class _Routed:
    """A Parquet column that is converted outside Arrow: text to parse, many ids, zoned timestamps."""

    route: str
    value: object


def _arrow_column(arr: pa.ChunkedArray, col):
    """One Parquet column in its contract type (an Arrow array), or routed to a slower conversion."""
    kind, t = col.kind, arr.type
    is_text = pa.types.is_string(t) or pa.types.is_large_string(t)
    if kind == "id" and col.many and is_text:
        return _Routed("ids", _id_categorical(arr, col.values_used))
    if kind in ("id", "enum") and pa.types.is_dictionary(t) and pa.types.is_string(t.value_type):
        return arr  # trimmed (and null words dropped) by _tidy, on the dictionary's values only
    if pa.types.is_dictionary(t):
        arr = arr.cast(t.value_type)
        t = arr.type
        is_text = pa.types.is_string(t) or pa.types.is_large_string(t)
    if kind in ("id", "enum", "str"):
        arr = clean_text(arr if is_text else arr.cast(pa.string()))
        return arr.dictionary_encode() if kind != "str" else arr
    if kind in ("date", "datetime") and pa.types.is_timestamp(t) and t.tz is not None:
        return _Routed("zoned", arr.to_pandas())
    if kind in ("date", "datetime") and (pa.types.is_timestamp(t) or pa.types.is_date(t)):
        return pc.cast(arr, pa.timestamp("s"), safe=False)
    if kind == "float" and (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)):
        return arr.cast(pa.float64())
    if kind == "bool" and pa.types.is_boolean(t):
        return arr
    if is_text:
        arr = clean_text(arr)
    return _Routed("text", arr.to_pandas())


def clean_text(arr: pa.ChunkedArray | pa.Array):
    """Text trimmed; empty cells and the null words of :data:`NULL_VALUES` (after trimming) missing."""
    trimmed = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.is_in(trimmed, value_set=pa.array(NULL_VALUES)), pa.scalar(None, trimmed.type), trimmed)


def _id_categorical(arr: pa.ChunkedArray, values_used: bool = True):
    """A high-cardinality text column as a pandas Categorical, encoded once by Arrow.

    (Letting Parquet hand out per-row-group dictionaries and having them unified
    costs several times more for a million distinct ids.) Ids are trimmed and a
    null word is missing, as everywhere; both are done on the distinct values only.
    A column already in order (a bank's export sorted by its key) is encoded without hashing.
    """
    arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    d = _sorted_encode(arr) or arr.dictionary_encode()
    dictionary = d.dictionary
    trimmed = pc.utf8_trim_whitespace(dictionary)
    nulls = pc.is_in(trimmed, value_set=pa.array(NULL_VALUES))
    if not trimmed.equals(dictionary) or pc.any(nulls).as_py():  # merge equals; null words are missing
        cleaned = pc.if_else(nulls, pa.scalar(None, trimmed.type), trimmed)
        d = pc.take(cleaned, d.indices).dictionary_encode()
        dictionary = d.dictionary
    if not values_used:  # a key that is only checked: stays in Arrow, no Python strings made
        return pd.arrays.ArrowExtensionArray(d)
    codes = d.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    cats = pd.Index(dictionary.to_numpy(zero_copy_only=False), dtype=object)
    remember_arrow(cats, dictionary.cast(pa.string()))  # its Arrow form, for the look-ups of later stages
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(cats))


def _sorted_encode(arr: pa.Array) -> pa.DictionaryArray | None:
    """A text column with no missing value whose equal values are together and in order (sorted), dictionary
    encoded as Arrow encodes it (values in order of appearance) by comparing neighbours; else None."""
    text = pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)
    if len(arr) < 2 or arr.null_count or not text:
        return None
    if not pc.all(pc.less_equal(arr[:-1], arr[1:])).as_py():
        return None
    new = np.ones(len(arr), dtype=bool)
    new[1:] = pc.not_equal(arr[1:], arr[:-1]).to_numpy(zero_copy_only=False)
    indices = (np.cumsum(new, dtype=np.int64) - 1).astype(np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(indices), arr.filter(pa.array(new)))


def _tidy(frame: pd.DataFrame, table: Table, skip: set[str] = frozenset()) -> pd.DataFrame:
    """Dates to whole days; categorical values trimmed and null words dropped (done on the categories only)."""
    for col in frame.columns:
        if col in skip or col not in table.names:
            continue
        kind = table.column(col).kind
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
                    frame[col] = frame[col].astype(object).str.strip().astype("category")
            nulls = [c for c in frame[col].cat.categories if c in NULL_VALUES]
            if nulls:
                frame[col] = frame[col].cat.remove_categories(nulls)
    return frame


# --------------------------------------------------------------------------- text to types


def _clean_text(s: pd.Series) -> pd.Series:
    """Text trimmed; empty cells and null words missing (the rule of :func:`clean_text`, in pandas)."""
    txt = s.astype("string").str.strip()
    return txt.mask(txt.isin(NULL_VALUES))


_BEYOND_FLOAT = r"[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+"


def _to_float(txt: pd.Series) -> pd.Series:
    """Text to float64 (missing where it is not a number). A number beyond the float range ("1e999") is
    infinite, as in Python (pandas before 3 leaves it missing), so that it is reported as not finite."""
    conv = pd.to_numeric(txt, errors="coerce").astype("float64")
    beyond = conv.isna() & txt.str.fullmatch(_BEYOND_FLOAT).fillna(False).astype(bool)
    if beyond.any():
        conv[beyond] = [float(v) for v in txt[beyond]]
    return conv


def _convert_text(frame: pd.DataFrame, table: Table, date_format: str, label: str, timezone: str = ""):
    """Convert text columns to contract types; report values that do not convert."""
    problems: list[Problem] = []
    out = {}
    for col in frame.columns:
        kind = table.column(col).kind
        s = frame[col]
        if kind in ("date", "datetime"):
            if pd.api.types.is_datetime64_any_dtype(s) and getattr(s.dt, "tz", None) is None:
                conv = s.astype("datetime64[s]")
            else:
                conv = _parse_timestamps(_clean_text(s), kind, date_format, timezone, label, col, problems)
            out[col] = conv.dt.floor("D") if kind == "date" else conv
        elif kind == "float":
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                out[col] = s.astype("float64")
            else:
                txt = _clean_text(s)
                conv = _to_float(txt)
                _report_bad(problems, label, col, txt, conv, "not a number")
                out[col] = conv
        elif kind == "bool":
            if pd.api.types.is_bool_dtype(s):
                out[col] = s.astype("boolean")
            else:
                txt = _clean_text(s).str.lower()
                conv = txt.map(_BOOL_MAP).astype("boolean")
                _report_bad(problems, label, col, txt, conv, "not true/false")
                out[col] = conv
        elif kind in ("id", "enum"):
            out[col] = _clean_text(s).astype("category")
        else:
            out[col] = _clean_text(s)
    return pd.DataFrame(out, index=frame.index), problems


_ZONED = "timestamps with a time zone and no data.timezone to convert them to"
_SET_ZONE = "set data.timezone in the campaign spec to the bank's local zone, e.g. \"Asia/Shanghai\""


def _parse_timestamps(txt: pd.Series, kind: str, date_format: str, timezone: str, label: str, col: str,
                      problems: list[Problem]) -> pd.Series:
    """Text to naive local timestamps (seconds); zoned values converted to ``timezone`` (see the module doc)."""
    fmt = date_format or "ISO8601"
    what = f"not a {'date' if kind == 'date' else 'timestamp'}" + (
        f" in the format {date_format!r}" if date_format else " like 2024-01-31")
    if "%z" in date_format or "%Z" in date_format:
        zoned = txt.notna().to_numpy()
    else:
        zoned = txt.str.contains(ZONE_RE, regex=True).fillna(False).to_numpy(dtype=bool)
    conv = _to_datetime(txt.mask(zoned), fmt, label, col)
    if zoned.any():
        if timezone:
            local = _to_datetime(txt.where(zoned), fmt, label, col, utc=True)
            local = local.dt.tz_convert(timezone).dt.tz_localize(None).astype("datetime64[s]")
            conv = conv.mask(zoned, local)
        else:
            rows = np.flatnonzero(zoned) + 1
            problems.append(Problem(label, col, f"{_ZONED} ({_SET_ZONE})", rows, str(txt.iloc[rows[0] - 1])))
    reported = txt.mask(zoned) if not timezone else txt
    _report_bad(problems, label, col, reported, conv, what)
    return conv


def _to_datetime(txt: pd.Series, fmt: str, label: str, col: str, utc: bool = False) -> pd.Series:
    try:
        conv = pd.to_datetime(txt, format=fmt, errors="coerce", utc=utc)
    except ValueError as exc:  # a format pandas cannot use (Python's strptime accepted it)
        raise InputDataError(f"{label}: column '{col}': the date format {fmt!r} cannot be used ({_short(exc)})") \
            from None
    return conv if utc else conv.astype("datetime64[s]")


def _zoned_timestamps(series: pd.Series, timezone: str, label: str, col: str):
    """A zoned Parquet timestamp column in the bank's local time (``timezone``), or a problem without one."""
    if timezone:
        return series.dt.tz_convert(timezone).dt.tz_localize(None).astype("datetime64[s]"), []
    given = series.notna().to_numpy()
    conv = pd.Series(pd.NaT, index=series.index, dtype="datetime64[s]")
    if not given.any():
        return conv, []
    rows = np.flatnonzero(given) + 1
    return conv, [Problem(label, col, f"{_ZONED}: a Parquet timestamp in {series.dt.tz} ({_SET_ZONE})", rows,
                          str(series.iloc[rows[0] - 1]))]


def _report_bad(problems, label, col, txt: pd.Series, conv: pd.Series, message: str) -> None:
    bad = txt.notna().to_numpy() & conv.isna().to_numpy()
    if bad.any():
        rows = np.flatnonzero(bad) + 1
        problems.append(Problem(label, col, message, rows, str(txt.iloc[rows[0] - 1])))


def _short(exc: BaseException) -> str:
    """The first line of an exception's message, cut (it may quote a cell of any size)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 2 * SHOWN else text[: 2 * SHOWN] + "…"
