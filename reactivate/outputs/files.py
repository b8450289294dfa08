"""Output files: deterministic CSV and JSON bytes, all-or-nothing staging, safe names and cells.

Everything is written into a fresh sibling directory first and swapped into
place only when complete, so a failed run leaves the previous outputs as they
were. A directory that holds no ``run.json`` is never replaced (it is not
ours), unless it is empty, and neither is one that holds an input of the run
(:func:`check_out`). The replaced outputs are deleted by a detached
background process (a weekly run replaces tens of thousands of RM lists, and
deleting them is slow on some file systems); leftovers of an interrupted
deletion, and staging folders of killed runs (:func:`stale_staging`), are
swept by the next run.

Files made for a spreadsheet (the RM lists) have every text cell neutralised
(:func:`sheet_csv_bytes`); file names made from ids (:func:`file_names`) are
distinct for distinct ids, portable and short.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from reactivate.errors import ConfigError, OutputError

try:  # the lock that tells a live staging folder from a killed run's (POSIX; elsewhere none is swept)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

#: a spreadsheet reads a cell starting with one of these as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: the same, as an RE2 pattern for Arrow
FORMULA_RE = "^[=+\\-@\t\r]"
#: the longest file-name stem kept as it is, in UTF-8 bytes (longer ones are cut and get a hash)
NAME_BYTES = 120
#: device names Windows reserves whatever the case or extension
RESERVED_NAMES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                            *(f"lpt{i}" for i in range(10))})
#: the file in a staging folder that marks it as reactivate's; its process holds it locked while staging
STAGING_MARKER = ".reactivate-staging"
#: a staging folder whose marker is older than this (seconds) and not locked is a killed run's: swept
STALE_AFTER = 3600.0


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
    buf = io.BytesIO()
    write_csv(columns, buf)
    return buf.getvalue()


def write_csv(columns: pd.DataFrame | dict, sink) -> None:
    """:func:`csv_bytes` written to ``sink`` (a writable binary file, Python's or Arrow's), chunk by chunk:
    a large file is never held whole."""
    items = columns.items() if isinstance(columns, dict) else ((c, columns[c]) for c in columns.columns)
    cols = {str(name): _arrow(values) for name, values in items}
    sink.write((",".join(_header_cell(c) for c in cols) + "\n").encode())
    table = pa.table(cols) if cols else None
    if table is not None and table.num_rows:
        # Arrow's "needed" style quotes every text value; quote nothing unless some value must be
        style = "needed" if any(_needs_quotes(a) for a in cols.values()) else "none"
        pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, quoting_style=style))


def _needs_quotes(arr: pa.Array | pa.ChunkedArray) -> bool:
    """Whether a value of a text column holds a comma, a quote or a line end: a search of its characters' bytes
    (the values one after the other), not a match per value."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for a in chunks:
        if pa.types.is_dictionary(a.type):
            a = a.dictionary
        if not (pa.types.is_string(a.type) or pa.types.is_large_string(a.type)) or len(a) == 0:
            continue
        if a.null_count:  # a missing value's slot may hold characters: the values themselves
            if pc.any(pc.match_substring_regex(a, '[,"\r\n]')).as_py():
                return True
            continue
        offsets = np.frombuffer(a.buffers()[1], dtype=np.int64 if pa.types.is_large_string(a.type) else np.int32)
        data = a.buffers()[2]
        if data is None:
            continue
        text = memoryview(data)[offsets[a.offset]:offsets[a.offset + len(a)]].tobytes()
        if any(ch in text for ch in (b",", b'"', b"\r", b"\n")):
            return True
    return False


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


def _is_within(path: Path, folder: Path) -> bool:
    """``path`` is ``folder`` or lies inside it, as written (absolute) or with symlinks resolved."""
    forms = {Path(os.path.abspath(path)), path.resolve()}
    folders = {Path(os.path.abspath(folder)), folder.resolve()}
    return any(p == f or p.is_relative_to(f) for p in forms for f in folders)


def check_out(out: str | Path, inputs: Mapping[str, str | Path | None] | None = None, option: str = "--out",
              subject: str | None = None) -> None:
    """Refuse, before anything is written, an outputs folder whose swap would delete an input or
    replace what is not ours.

    ``inputs`` maps how each input was given (``--accounts``, ``[inputs] contacts``) to its path (None:
    not given). ``out`` may not be an input, nor hold one (directly, through ``..`` or as a symlink),
    nor lie inside a folder given as input. ``option`` is how ``out`` was given; ``subject`` how the
    messages name it (default ``"<option> <out>"``).

    Raises
    ------
    ConfigError
        ``out`` and an input overlap (exit 2).
    OutputError
        ``out`` is a file, or a non-empty folder without ``run.json`` (exit 3).
    """
    out = Path(out)
    subject = subject or f"{option} {out}"
    try:
        for label, value in (inputs or {}).items():
            if value is not None and str(value) != "":
                _check_input(out, label, Path(value), option, subject)
        _check_replaceable(out, option)
    except OSError as exc:  # e.g. a name too long for the file system
        raise OutputError(f"{out}: cannot write here ({exc.strerror or exc})") from None


def _check_input(out: Path, label: str, path: Path, option: str, subject: str) -> None:
    if _is_within(path, out) and Path(os.path.abspath(path)) == Path(os.path.abspath(out)):
        raise ConfigError(f"{subject} is the input {label} {path}: the outputs would replace it; "
                          f"choose another {option}")
    if _is_within(path, out):
        raise ConfigError(f"{subject} holds the input {label} {path}: the outputs replace that folder "
                          f"whole, so the input would be deleted; choose another {option} or move the input")
    if path.is_dir() and _is_within(out, path):
        raise ConfigError(f"{subject} lies inside the input {label} {path}; choose another {option}")


def _check_replaceable(out: Path, option: str) -> None:
    """``out`` is a folder of ours (or nothing yet) below folders."""
    above = Path(os.path.abspath(out))
    while not above.exists() and above.parent != above:  # the nearest folder (or file) that exists
        above = above.parent
    if above.exists() and not above.is_dir():
        raise OutputError(f"{above}: exists and is not a directory (choose another {option})")
    if out.is_dir() and any(out.iterdir()) and not (out / "run.json").is_file():
        raise OutputError(
            f"{out}: not empty and holds no run.json; refusing to replace a directory "
            f"reactivate did not write (choose another {option})"
        )


class Staging:
    """A temporary directory beside ``out`` that replaces it on :meth:`commit`.

    ``inputs`` (how each was given → path) are checked by :func:`check_out` first. The staging
    folder holds a marker (:data:`STAGING_MARKER`) locked by this process until the commit or the
    abort, so that a later run can tell a killed run's folder from a live one (:func:`stale_staging`).
    """

    def __init__(self, out: Path, inputs: Mapping[str, str | Path | None] | None = None):
        self.out = Path(out)
        check_out(self.out, inputs)
        parent = self.out.resolve().parent
        self._marker: int | None = None
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.tmp-", dir=parent))
        except OSError as exc:
            raise OutputError(f"{parent}: cannot write here ({exc.strerror})") from None
        self._root = str(self.tmp)
        self._dirs: set[str] = set()
        try:
            self._marker = _hold_marker(self.tmp)
        except OSError as exc:
            self.abort()
            raise OutputError(f"{self.tmp}: cannot write here ({exc.strerror})") from None

    def write(self, rel: str, data: bytes) -> None:
        try:
            with open(self._path(rel), "wb") as fh:
                fh.write(data)
        except OSError as exc:
            raise OutputError(f"{self.out / rel}: cannot write ({exc.strerror or exc})") from None

    def write_csv(self, rel: str, columns: pd.DataFrame | dict) -> None:
        """Stage :func:`csv_bytes` of ``columns`` as ``rel``, written to the file as Arrow renders it."""
        try:
            with pa.OSFile(self._path(rel), "wb") as fh:
                write_csv(columns, fh)
        except OSError as exc:
            raise OutputError(f"{self.out / rel}: cannot write ({exc.strerror or exc})") from None

    def _path(self, rel: str) -> str:
        """Where ``rel`` is staged, its folder made."""
        folder, _, _ = rel.rpartition("/")
        try:
            if folder and folder not in self._dirs:
                os.makedirs(os.path.join(self._root, folder), exist_ok=True)
                self._dirs.add(folder)
        except OSError as exc:
            raise OutputError(f"{self.out / rel}: cannot write ({exc.strerror or exc})") from None
        return os.path.join(self._root, rel)

    def commit(self) -> None:
        old = None
        try:
            self._release(unlink=True)
            if self.out.exists():
                old = self.out.with_name(f".{self.out.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
                os.replace(self.out, old)
            os.replace(self.tmp, self.out)
        except OSError as exc:
            if old is not None and not self.out.exists():
                os.replace(old, self.out)
            raise OutputError(f"{self.out}: cannot put the outputs in place ({exc.strerror})") from None
        claimed = stale_staging(self.out)  # killed runs' staging folders beside it, renamed to .old-*
        stale = sorted({*claimed, *self.out.parent.glob(f".{self.out.name}.old-*")})
        if stale:
            _remove_in_background(stale)

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
        self._release(unlink=False)

    def _release(self, unlink: bool) -> None:
        """Let go of the marker; with ``unlink`` it is removed first, still locked (so that no sweep
        sees an unlocked marker in a folder about to become the outputs)."""
        if self._marker is None:
            return
        fd, self._marker = self._marker, None
        try:
            if unlink and fcntl is not None:
                os.unlink(self.tmp / STAGING_MARKER)
        finally:
            os.close(fd)
        if unlink and fcntl is None:  # pragma: no cover - Windows: an open file cannot be removed
            os.unlink(self.tmp / STAGING_MARKER)


def _hold_marker(folder: Path) -> int:
    """Create the staging marker in ``folder``, lock it and return its descriptor (kept open)."""
    fd = os.open(folder / STAGING_MARKER, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, json.dumps({"tool": "reactivate", "pid": os.getpid(), "host": socket.gethostname(),
                                 "started": round(time.time(), 3)}).encode())
    except OSError:
        os.close(fd)
        raise
    return fd


def stale_staging(out: str | Path, grace: float = STALE_AFTER) -> list[Path]:
    """Claim the staging folders that killed runs left beside ``out`` (``.<name>.tmp-*``, for any
    outputs folder there: a weekly run sweeps an earlier week's): each is renamed to ``.<name>.old-*``
    and returned, for removal.

    A folder is taken only when it is reactivate's (its marker says so), no live process holds its
    marker's lock, and the marker is older than ``grace`` seconds; an empty folder (killed before its
    marker was written) older than ``grace`` is removed. Without POSIX locks nothing is taken.
    """
    out = Path(out)
    if fcntl is None:  # pragma: no cover - Windows
        return []
    claimed = []
    for folder in sorted(out.parent.glob(".*.tmp-*")):  # one per leftover folder
        try:
            target = _claim(folder, grace)
        except OSError:
            continue
        if target is not None:
            claimed.append(target)
    return claimed


def _claim(folder: Path, grace: float) -> Path | None:
    if folder.is_symlink() or not folder.is_dir():
        return None
    name = folder.name[1:].rpartition(".tmp-")[0]
    now = time.time()
    try:
        fd = os.open(folder / STAGING_MARKER, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        if now - folder.stat().st_mtime > grace:
            os.rmdir(folder)  # only when empty (an OSError otherwise: not ours to judge)
        return None
    try:
        if now - os.fstat(fd).st_mtime < grace:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # a live run is staging there
        if json.loads(os.read(fd, 4096) or b"{}").get("tool") != "reactivate":
            return None
        target = folder.with_name(f".{name}.old-{os.getpid()}-{secrets.token_hex(4)}")
        os.replace(folder, target)
        return target
    except ValueError:  # not a marker of ours
        return None
    finally:
        os.close(fd)


@contextmanager
def staged(out: str | Path, inputs: Mapping[str, str | Path | None] | None = None):
    """``with staged(out) as stage:`` write into ``stage``; the outputs replace ``out`` only on success.

    ``inputs`` (how each was given → path) are refused inside ``out`` (:func:`check_out`).
    """
    stage = Staging(Path(out), inputs)
    try:
        yield stage
        stage.commit()
    except BaseException:
        stage.abort()
        raise


def _remove_in_background(paths: list[Path]) -> None:
    """Remove replaced outputs (a symlinked ``out`` that was replaced: the link only) in a detached process."""
    code = ("import os, shutil, sys\nfor p in sys.argv[1:]:\n"
            "    os.unlink(p) if os.path.islink(p) else shutil.rmtree(p, ignore_errors=True)\n")
    try:
        subprocess.Popen([sys.executable, "-c", code, *map(str, paths)], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        for p in paths:
            if p.is_symlink():
                p.unlink(missing_ok=True)
            else:
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
    if len(set(cats)) == len(cats):
        return pd.Categorical.from_codes(cat.codes, categories=pd.Index(cats, dtype=object))
    codes = np.asarray(cat.codes)  # "=x" and "'=x" both there: one category after neutralising
    return pd.Categorical(np.where(codes >= 0, np.asarray(cats, dtype=object)[np.maximum(codes, 0)], None))


def _neutral_arrow(arr):
    """An Arrow text column (plain or dictionary-encoded) with its formula-like values neutralised."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        return pa.DictionaryArray.from_arrays(arr.indices, _neutral_arrow(arr.dictionary))
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return arr
    bad = pc.match_substring_regex(arr, FORMULA_RE)
    if not pc.any(bad).as_py():
        return arr
    return pc.if_else(bad, pc.binary_join_element_wise(pa.scalar("'", arr.type), arr, pa.scalar("", arr.type)), arr)


def spreadsheet_columns(columns: pd.DataFrame | dict) -> dict:
    """The columns of a file made for a spreadsheet, with every text cell neutralised (:func:`neutralise`):
    Arrow and categorical columns once per distinct value, others vectorised; numbers and dates as they are."""
    items = columns.items() if isinstance(columns, dict) else ((c, columns[c]) for c in columns.columns)
    out = {}
    for name, values in items:  # one per column
        if isinstance(values, (pa.Array, pa.ChunkedArray)):
            out[name] = _neutral_arrow(values)
        elif isinstance(values, pd.Categorical) or isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
            out[name] = neutral_categorical(values)
        elif getattr(values, "dtype", None) is not None and values.dtype.kind in "OSUT":
            out[name] = neutralise(values)
        else:
            out[name] = values
    return out


def sheet_csv_bytes(columns: pd.DataFrame | dict) -> bytes:
    """:func:`csv_bytes` of a file made for people to open in a spreadsheet: every text cell neutralised."""
    return csv_bytes(spreadsheet_columns(columns))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _cut(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, on a character boundary."""
    data = text.encode("utf-8")
    return data[:limit].decode("utf-8", "ignore") if len(data) > limit else text


def safe_name(name) -> str:
    """A file-name stem for an id (an RM, a campaign): the id itself when it is a plain, portable name,
    else its safe form with a hash of the id.

    Plain: letters, digits, ``-``, ``_`` and ``.`` only, not starting or ending with a dot, at most
    :data:`NAME_BYTES` UTF-8 bytes, not a device name Windows reserves (``CON``, ``nul.txt``). Any other
    id gives its safe form (other characters as ``_``, cut to :data:`NAME_BYTES` bytes), ``~`` and 12 hex
    digits of the id's SHA-256. Different ids give different stems: a stem with ``~`` is never a plain id.
    """
    text = str(name)
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text).strip(".") or "_"
    if safe == text and len(text.encode("utf-8")) <= NAME_BYTES \
            and text.split(".", 1)[0].lower() not in RESERVED_NAMES:
        return text
    return f"{_cut(safe, NAME_BYTES)}~{_digest(text)}"


def file_names(ids: Iterable) -> list[str]:
    """:func:`safe_name` of each of ``ids`` (distinct), distinct on case-insensitive file systems too:
    names that would be one file there (``RM1`` and ``rm1``, or one in two Unicode forms) get the hash."""
    ids = [str(i) for i in ids]
    names = [safe_name(i) for i in ids]  # one per id (RM, campaign)
    keys = [unicodedata.normalize("NFC", n).casefold() for n in names]
    count = Counter(keys)
    return [n if count[k] == 1 or "~" in n else f"{_cut(n, NAME_BYTES)}~{_digest(i)}"
            for i, n, k in zip(ids, names, keys, strict=True)]
