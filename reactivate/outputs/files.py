"""Output files: deterministic CSV and JSON bytes, all-or-nothing staging, safe names and cells.

Everything is written into a fresh sibling directory first and swapped into
place only when complete, so a failed run leaves the previous outputs as they
were. A directory that holds no ``run.json`` is never replaced (it is not
ours), unless it is empty. The replaced outputs are deleted by a detached
background process (a weekly run replaces tens of thousands of RM lists, and
deleting them is slow on some file systems); leftovers of an interrupted
deletion are swept by the next run.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from reactivate.errors import OutputError

#: a spreadsheet reads a cell starting with one of these as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _arrow(values) -> pa.Array:
    """One output column as Arrow: dates as date32, categoricals as dictionaries, text as strings."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    if isinstance(values, pd.Series):
        values = values.to_numpy() if values.dtype.kind == "M" else values.array
    if isinstance(values, pd.Categorical):
        codes = np.asarray(values.codes)
        cats = pa.array(np.asarray(values.categories, dtype=object).astype(str), type=pa.string())
        return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), cats)
    arr = np.asarray(values) if not isinstance(values, pd.api.extensions.ExtensionArray) else values
    if isinstance(arr, np.ndarray) and arr.dtype.kind == "M":
        return pa.array(arr.astype("datetime64[D]"), type=pa.date32())
    if isinstance(arr, np.ndarray) and arr.dtype == object:
        return pa.array(arr, type=pa.string(), from_pandas=True)
    return pa.array(arr, from_pandas=True)


def csv_bytes(columns: pd.DataFrame | dict) -> bytes:
    """Deterministic CSV written by Arrow: dates as YYYY-MM-DD, quotes only where needed, '\\n' line ends.

    Takes a DataFrame or a dict of column arrays (no pandas round trip). Round
    floats before calling: they are written in their shortest exact form.
    """
    items = columns.items() if isinstance(columns, dict) else ((c, columns[c]) for c in columns.columns)
    cols = {str(name): _arrow(values) for name, values in items}
    buf = io.BytesIO()
    buf.write((",".join(_header_cell(c) for c in cols) + "\n").encode())
    table = pa.table(cols) if cols else None
    if table is not None and table.num_rows:
        # Arrow's "needed" style quotes every text value; quote nothing unless some value must be
        style = "needed" if any(_needs_quotes(a) for a in cols.values()) else "none"
        pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style=style))
    return buf.getvalue()


def _needs_quotes(arr: pa.Array) -> bool:
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return False
    return bool(pc.any(pc.match_substring_regex(arr, '[,"\r\n]')).as_py())


def _header_cell(name: str) -> str:
    return f'"{name}"' if any(ch in name for ch in ',"\n') else name


def json_bytes(obj) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=_jsonable) + "\n").encode()


def _jsonable(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    return str(o)


class Staging:
    """A temporary directory beside ``out`` that replaces it on :meth:`commit`."""

    def __init__(self, out: Path):
        self.out = Path(out)
        if self.out.exists() and not self.out.is_dir():
            raise OutputError(f"{self.out}: exists and is not a directory")
        if self.out.is_dir() and any(self.out.iterdir()) and not (self.out / "run.json").is_file():
            raise OutputError(
                f"{self.out}: not empty and holds no run.json; refusing to replace a directory "
                "reactivate did not write (choose another --out)"
            )
        parent = self.out.resolve().parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.tmp-", dir=parent))
        except OSError as exc:
            raise OutputError(f"{parent}: cannot write here ({exc.strerror})") from None
        self._root = str(self.tmp)
        self._dirs: set[str] = set()

    def write(self, rel: str, data: bytes) -> None:
        folder, _, _ = rel.rpartition("/")
        if folder and folder not in self._dirs:
            os.makedirs(os.path.join(self._root, folder), exist_ok=True)
            self._dirs.add(folder)
        with open(os.path.join(self._root, rel), "wb") as fh:
            fh.write(data)

    def commit(self) -> None:
        old = None
        try:
            if self.out.exists():
                old = self.out.with_name(f".{self.out.name}.old-{os.getpid()}")
                os.replace(self.out, old)
            os.replace(self.tmp, self.out)
        except OSError as exc:
            if old is not None and not self.out.exists():
                os.replace(old, self.out)
            raise OutputError(f"{self.out}: cannot put the outputs in place ({exc.strerror})") from None
        stale = sorted(self.out.parent.glob(f".{self.out.name}.old-*"))
        if stale:
            _remove_in_background(stale)

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


@contextmanager
def staged(out: str | Path):
    """``with staged(out) as stage:`` write into ``stage``; the outputs replace ``out`` only on success."""
    stage = Staging(Path(out))
    try:
        yield stage
        stage.commit()
    except BaseException:
        stage.abort()
        raise


def _remove_in_background(paths: list[Path]) -> None:
    code = "import shutil, sys\nfor p in sys.argv[1:]:\n    shutil.rmtree(p, ignore_errors=True)\n"
    try:
        subprocess.Popen([sys.executable, "-c", code, *map(str, paths)], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        for p in paths:
            shutil.rmtree(p, ignore_errors=True)


def neutralise(values) -> np.ndarray:
    """Text safe to open in a spreadsheet: a value starting with = + - @ (or a tab or carriage return)
    gets a leading apostrophe, so it is shown as text and never run as a formula."""
    arr = np.asarray(values, dtype=object)
    if len(arr) == 0:
        return arr
    text = pd.Series(arr).astype(str)
    bad = text.str.startswith(FORMULA_START).to_numpy()
    if not bad.any():
        return arr
    out = arr.copy()
    out[bad] = ("'" + text[bad]).to_numpy()
    return out


def neutral_categorical(values) -> pd.Categorical:
    """A categorical column with its categories neutralised (one pass over the distinct values)."""
    cat = pd.Categorical(values)
    cats = neutralise(np.asarray(cat.categories, dtype=object).astype(str))
    return pd.Categorical.from_codes(cat.codes, categories=pd.Index(cats).unique()) if len(set(cats)) == len(cats) \
        else pd.Categorical(np.asarray(cats, dtype=object)[cat.codes])


def safe_name(name: str) -> str:
    """A file-name-safe version of an RM id."""
    out = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(name))
    return out.strip(".") or "_"
