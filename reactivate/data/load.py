"""Load and validate a bank's book: accounts, transactions, contact history.

:func:`load_book` reads whatever tables are given, checks them all and raises
one :class:`~reactivate.errors.InputDataError` listing every problem, or
returns a :class:`Book`. Optional columns that are absent are reported in
``Book.notes`` (the pipeline degrades gracefully without them), and so is what
is given but not used: rows of customers the accounts do not have, birth dates
after the as-of date, an empty contact history.

An accounts or transactions file with no rows is a problem (a customer list
cannot come from it); an empty contact history is a note.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from reactivate.config.campaign import FIRST_DATE, CampaignSpec
from reactivate.data.engine import (
    Engine,
    arrow_of,
    engine_for_frame,
    give_back_memory,
    positions_in,
    sorted_ids,
)
from reactivate.data.io import READ_ERRORS, Problem, RawTable, clean_text, fingerprint, open_log, read_table
from reactivate.data.spark_engine import TABLE_PREFIX, log_problems, open_spark_log, source_uri, spark_reads
from reactivate.data.spark_tables import read_spark_table
from reactivate.data.validate import check_day, check_table, render
from reactivate.errors import InputDataError
from reactivate.schema import TABLES

EPOCH = dt.date(1970, 1, 1)


class _Deferred:
    """A frame read on first use (:class:`Book`'s transactions, when the engine had all it needed)."""

    def __init__(self, read):
        self.read = read


class _Materialised:
    """A dataclass field whose value may be :class:`_Deferred`: read (once) when it is first looked at."""

    def __set_name__(self, owner, name):
        self.slot = "_" + name

    def __get__(self, obj, owner=None):
        if obj is None:
            return None  # the field's default
        value = obj.__dict__.get(self.slot)
        if isinstance(value, _Deferred):
            value = obj.__dict__[self.slot] = value.read()
        return value

    def __set__(self, obj, value):
        obj.__dict__[self.slot] = value


@dataclass
class Book:
    """A validated book. ``accounts`` may be None when only transactions were given.

    The transaction log is aggregated by :attr:`engine` where it lies (:mod:`reactivate.data.engine`);
    ``transactions``, the log as a pandas frame, is read only when something asks for it (a job that cuts
    the book at an earlier day). A book built with a transactions frame gets an engine over that frame.
    """

    accounts: pd.DataFrame | None
    transactions: pd.DataFrame | None = _Materialised()
    contacts: pd.DataFrame | None = None
    #: human-readable notes on degraded inputs (absent optional columns, ...)
    notes: list[str] = field(default_factory=list)
    #: table name -> {"path": ..., "sha256": ..., "rows": ...}
    inputs: dict[str, dict] = field(default_factory=dict)
    #: absent optional columns per table
    absent: dict[str, list[str]] = field(default_factory=dict)
    #: the engine over the transaction log (None without one; built from ``transactions`` when not given)
    engine: Engine | None = None

    def __post_init__(self):
        value = self.__dict__.get("_transactions")
        if self.engine is not None and not isinstance(value, _Deferred) and value is not self.engine.frame:
            self.engine = None  # another log (a book cut at an earlier day): an engine over it when asked

    @property
    def log(self) -> Engine | None:
        """The engine over the transaction log; None without a log."""
        if self.engine is None:
            value = self.__dict__.get("_transactions")
            if value is None:
                return None
            self.engine = engine_for_frame(value)
            self.engine.frame = value
        return self.engine


def load_book(
    *,
    accounts: str | Path | None = None,
    transactions: str | Path | None = None,
    contacts: str | Path | None = None,
    spec: CampaignSpec,
    as_of: dt.date,
) -> Book:
    """Read and check the given tables.

    The transaction log is checked where it lies by the engine (:func:`clean_log`); only when a check
    fails is it read as a frame, so that every problem is reported as :func:`read_table` and
    :func:`check_table` report them.

    Raises
    ------
    InputDataError
        No accounts nor transactions were given, a file cannot be read, or any
        contract check fails (all problems are listed in the message).
    """
    if accounts is None and transactions is None:
        raise InputDataError("no input: give --accounts, --transactions or both")
    check_day(as_of, "as-of date")
    paths = {"accounts": accounts, "transactions": transactions, "contacts": contacts}
    raws: dict[str, RawTable] = {}
    given = {name: Path(path) for name, path in paths.items() if path is not None}

    _check_sources(given, spec)

    def read(name: str) -> RawTable:
        if spec.engine.name == "spark" and spark_reads(given[name]):  # a folder, a URI or a catalog table
            return read_spark_table(given[name], TABLES[name], getattr(spec.data, name), spec.engine.spark,
                                    spec.data.timezone)
        return read_table(given[name], TABLES[name], getattr(spec.data, name), spec.data.encoding,
                          spec.data.timezone)

    log = _read_all(given, spec, as_of, read, raws)
    problems = []
    for name, raw in raws.items():
        if name == "transactions" and log is not None:
            continue
        problems.extend(check_table(raw, TABLES[name], as_of))
        if name != "contacts" and len(raw.frame) == 0 and not raw.problems:
            problems.append(Problem(raw.path.name, None, f"no rows under the header: the {name} table is empty "
                                    f"(give a file with rows, or leave --{name} out)"))
    if problems:
        raise InputDataError(render(problems))

    book = Book(
        accounts=_used(raws["accounts"].frame, "accounts") if "accounts" in raws else None,
        transactions=raws["transactions"].frame if "transactions" in raws else None,
        contacts=raws["contacts"].frame if "contacts" in raws else None,
    )
    if log is not None:
        book.transactions = _Deferred(lambda: _materialise(log[0], read("transactions")))
        book.engine = log[0]
    for name, raw in raws.items():
        rows = log[0].check().rows if name == "transactions" and log is not None else len(raw.frame)
        book.inputs[name] = {"path": str(raw.path), "sha256": raw.fingerprint, "rows": rows}
        book.absent[name] = raw.absent_optional
        if raw.absent_optional:
            book.notes.append(_absent_note(raw))
    if "transactions" in raws and "initiated_by" in book.absent.get("transactions", []):
        book.notes.append("transactions: no initiated_by column, so every transaction counts as activity")
    if book.accounts is None:
        book.notes.append(
            "no accounts file: customers come from the transactions; no balances, RMs, consent or flags"
        )
    book.notes.extend(_unused_notes(book, raws, as_of))
    give_back_memory()  # what reading took and freed (the parts of the log, Arrow's tables) goes back
    return book


def _check_sources(given: dict[str, Path], spec: CampaignSpec) -> None:
    """Refuse a source only Spark reads (a URI, a catalog table, a folder) when the engine is this machine's."""
    if spec.engine.name == "spark":
        return
    for name, path in given.items():
        if spark_reads(path):
            what = "a folder, not a file" if Path(path).is_dir() else (
                "a catalog table" if str(path).startswith(TABLE_PREFIX) else "a URI, not a file on this machine")
            raise InputDataError(f"{source_uri(path)}: {what}: give the {name} as a file (.csv, .csv.gz or "
                                 ".parquet), or run with --engine spark, which reads folders of Parquet, URIs "
                                 "and catalog tables (pip install 'reactivate[spark]')")


def _read_all(given: dict[str, Path], spec: CampaignSpec, as_of: dt.date, read, raws: dict[str, RawTable]):
    """Read every given table into ``raws`` (the log, when clean, as an engine: returned, else None), with each
    file's fingerprint (sha256) computed beside the parsing (hashlib releases the GIL) and the log's columns
    read beside the accounts (:func:`_read_ahead`; the engine reads them once). A CSV log is parsed
    first, on every core: two CSV files parsed at once take longer than one after the other."""
    log = None
    with ThreadPoolExecutor(max_workers=3) as pool:
        opened = _open_log(given.get("transactions"), spec)
        if opened is not None and hasattr(opened[0], "raw"):  # an engine that reads the log's columns itself
            pool.submit(_read_ahead, opened[0])
        prints = {name: pool.submit(fingerprint, path) for name, path in given.items() if path.is_file()}
        for name, path in given.items():
            if name == "transactions" and (log := _clean_log(path, spec, as_of, raws.get("accounts"),
                                                             opened)) is not None:
                raws[name] = RawTable(name, path, pd.DataFrame(), [], log[1], "")
                continue
            raws[name] = read(name)
        for name, fut in prints.items():
            try:
                raws[name].fingerprint = fut.result()
            except OSError as exc:
                raise InputDataError(f"{given[name]}: cannot be read ({exc.strerror or exc})") from None
    return log


def _read_ahead(engine: Engine) -> None:
    """The log's columns read (as codes) ahead of :func:`_clean_log` (which counts the contract's checks: beside the
    accounts' conversion, they made the peak of a 1M book's load vary from 1.42 to 1.61 GiB); what goes wrong is
    left for :func:`_clean_log`, whose calls raise it again and report it."""
    try:
        engine.raw()
    except Exception:  # raised again (and reported) where the log is checked
        pass


def _used(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """A checked table without its keys that are only checked (an account's id: unique, present), which nothing
    reads after the checks (two million account ids hold tens of megabytes)."""
    only = [c.name for c in TABLES[name].columns if not c.values_used and c.name in frame.columns]
    return frame.drop(columns=only) if only else frame


def _materialise(engine: Engine, raw: RawTable) -> pd.DataFrame:
    engine.frame = raw.frame
    return raw.frame


def _open_log(path: Path | None, spec: CampaignSpec):
    """The log opened where it lies (:func:`open_log`) on this machine's engine, or None (no log, Spark, or a
    file that is read as a frame)."""
    if path is None or spec.engine.name == "spark":
        return None
    return open_log(path, TABLES["transactions"], spec.data.transactions, spec.data.encoding, spec.data.timezone)


def _clean_log(path: Path, spec: CampaignSpec, as_of: dt.date, accounts: RawTable | None, opened=None):
    """The transaction log as an engine with its absent optional columns, when every contract check passes on
    it as it lies; else None (the log is then read as a frame, whose checks report the problems).
    On Spark (``[engine] name = "spark"``) the log is never read as a frame: :func:`_spark_log`. ``opened`` is
    the log as :func:`_open_log` opened it (its columns may be being read already)."""
    if spec.engine.name == "spark":
        return _spark_log(path, spec, as_of, accounts)
    if opened is None:
        return None
    engine, absent = opened
    try:
        bound = _bind_clean(engine, spec, as_of, accounts)
    except READ_ERRORS:  # a part of the file cannot be read: read as a frame, which reports it
        bound = False
    if not bound:
        engine.close()
        return None
    return engine, absent


def _bind_clean(engine: Engine, spec: CampaignSpec, as_of: dt.date, accounts: RawTable | None) -> bool:
    """Whether every contract check passes on the log as it lies; if so it is bound to its customers (the
    accounts', or its own without accounts)."""
    c = engine.check()
    day = 86400
    first_ok, end = (FIRST_DATE - EPOCH).days * day, ((as_of - EPOCH).days + 1) * day
    allowed = {col: set(TABLES["transactions"].column(col).values) | {None} for col in c.values}
    clean = (c.rows > 0 and c.id_missing == 0 and c.ts_missing == 0 and c.amount_infinite == 0
             and c.first_second >= first_ok and c.last_second < end
             and all(set(v) <= allowed[col] for col, v in c.values.items()))
    if clean and accounts is not None:
        if accounts.problems or "customer_id" not in accounts.frame.columns:
            return False
        engine.bind(sorted_ids(_arrow_ids(accounts.frame["customer_id"])))
        clean = _clean_ids(engine.unknown_ids())  # an id that cleaning would change or match: read as a frame
    elif clean:
        ids = engine.distinct_ids()
        clean = _clean_ids(ids)
        engine.bind(sorted_ids(ids))
    return clean


def _spark_log(path: Path, spec: CampaignSpec, as_of: dt.date, accounts: RawTable | None):
    """The log on Spark (a Parquet file, a folder of them, a URI or ``table:db.name``) with its absent optional
    columns: the contract's checks are counted where it lies and raised as one :class:`InputDataError`
    (counts and the rule broken; a folder has no row numbers); bound to the accounts' customers."""
    engine, absent = open_spark_log(path, spec.data.transactions, spec.engine.spark)
    problems = log_problems(engine, path, as_of)
    if problems:
        engine.close()
        raise InputDataError("\n".join(problems))
    if accounts is not None and not accounts.problems and "customer_id" in accounts.frame.columns:
        engine.bind(sorted_ids(_arrow_ids(accounts.frame["customer_id"])))
    elif accounts is None:
        engine.bind(sorted_ids(engine.distinct_ids()))
    return engine, absent


def _clean_ids(ids: pa.Array) -> bool:
    """Whether reading would keep every id as it is (no spaces around it, not a word that means missing)."""
    return bool(len(ids) == 0 or clean_text(ids).equals(ids))


def _unused_notes(book: Book, raws: dict[str, RawTable], as_of: dt.date) -> list[str]:
    """Notes on what the book gives but a run cannot use as it is (each counted, with its first rows)."""
    notes = []
    if book.contacts is not None and len(book.contacts) == 0:
        notes.append(f"{raws['contacts'].path.name}: no rows: no contact history")
    acc = book.accounts
    if acc is not None and "birth_date" in acc.columns:
        # a negative age: the customer counts as a minor and is never contacted (the safe reading of a typo)
        late = (acc["birth_date"] > pd.Timestamp(as_of)).fillna(False).to_numpy(dtype=bool)
        if late.any():
            notes.append(f"{raws['accounts'].path.name}: {int(late.sum()):,} birth dates after the as-of date "
                         f"{as_of.isoformat()} ({_first_rows(raws['accounts'], late)}): their customers count as "
                         "minors and are not contacted")
    owner = "accounts" if acc is not None else "transactions"
    eng = book.engine if "transactions" in raws and book.engine is not None and book.engine.frame is None else None
    known = eng.distinct_ids() if owner == "transactions" and eng is not None else \
        _arrow_ids(getattr(book, owner)["customer_id"])  # once, for both tables
    for name in ("transactions", "contacts"):
        if name == owner or name not in raws:
            continue
        if name == "transactions" and eng is not None:  # counted where the log lies
            n_rows, n_customers, first = eng.unknown()
            if n_rows:
                notes.append(f"{raws[name].path.name}: {n_rows:,} rows of {n_customers:,} customers not in "
                             f"{raws[owner].path.name} are not used ({_rows_text(first, n_rows)})")
            continue
        frame = getattr(book, name)
        if frame is None or len(frame) == 0:
            continue
        unknown = _unknown_ids(frame["customer_id"], known)
        if unknown.any():
            n_customers = frame["customer_id"][unknown].nunique()
            notes.append(f"{raws[name].path.name}: {int(unknown.sum()):,} rows of {n_customers:,} customers not in "
                         f"{raws[owner].path.name} are not used ({_first_rows(raws[name], unknown)})")
    return notes


def _arrow_ids(ids: pd.Series) -> pa.Array:
    """The distinct ids of a column, as Arrow strings (a read id column is categorical: its categories)."""
    cat = ids if isinstance(ids.dtype, pd.CategoricalDtype) else ids.astype("category")
    return arrow_of(cat.cat.categories)


def _unknown_ids(ids: pd.Series, known: pa.Array) -> np.ndarray:
    """Rows whose id is not among ``known`` (missing ids are not counted), hashing the distinct ids only (Arrow)."""
    cat = ids if isinstance(ids.dtype, pd.CategoricalDtype) else ids.astype("category")
    hit = positions_in(_arrow_ids(cat), known) >= 0
    codes = cat.cat.codes.to_numpy()
    return (codes >= 0) & ~hit[np.maximum(codes, 0)] if len(hit) else np.zeros(len(codes), dtype=bool)


def _first_rows(raw: RawTable, mask: np.ndarray) -> str:
    rows = raw.file_rows(np.flatnonzero(mask) + 1) if raw.numbered else np.empty(0, dtype=np.int64)
    return _rows_text(rows, int(mask.sum()))


def _rows_text(rows: np.ndarray, n: int) -> str:
    """``rows 3, 5, ...``: the first five row numbers of ``n``."""
    s = "s" if n > 1 else ""
    if len(rows) == 0:  # a log on Spark: a folder of files has no row numbers
        return f"{n:,} row{s}"
    return f"row{s} " + ", ".join(str(int(r)) for r in rows[:5]) + (", ..." if n > 5 else "")


def _absent_note(raw: RawTable) -> str:
    table = TABLES[raw.name]
    parts = []
    for name in raw.absent_optional:
        col = table.column(name)
        if name.startswith(("has_", "consent_")):
            continue
        parts.append(f"{name} ({col.default_doc})" if col.default_doc else name)
    reach = [n for n in raw.absent_optional if n.startswith("has_")]
    consent = [n for n in raw.absent_optional if n.startswith("consent_")]
    if reach:
        parts.append(f"{len(reach)} reach columns ({', '.join(reach)}: assumed reachable)")
    if consent:
        parts.append(
            f"{len(consent)} consent columns ({', '.join(consent)}: no consent unless "
            "consent.assume_when_missing lists the channel)"
        )
    return f"{raw.path.name}: optional columns absent: " + "; ".join(parts)
