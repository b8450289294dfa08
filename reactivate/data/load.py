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
import pyarrow.compute as pc

from reactivate.config.campaign import CampaignSpec
from reactivate.data.io import Problem, RawTable, fingerprint, read_table
from reactivate.data.validate import check_day, check_table, render
from reactivate.errors import InputDataError
from reactivate.schema import TABLES


@dataclass
class Book:
    """A validated book. ``accounts`` may be None when only transactions were given."""

    accounts: pd.DataFrame | None
    transactions: pd.DataFrame | None
    contacts: pd.DataFrame | None
    #: human-readable notes on degraded inputs (absent optional columns, ...)
    notes: list[str] = field(default_factory=list)
    #: table name -> {"path": ..., "sha256": ..., "rows": ...}
    inputs: dict[str, dict] = field(default_factory=dict)
    #: absent optional columns per table
    absent: dict[str, list[str]] = field(default_factory=dict)


def load_book(
    *,
    accounts: str | Path | None = None,
    transactions: str | Path | None = None,
    contacts: str | Path | None = None,
    spec: CampaignSpec,
    as_of: dt.date,
) -> Book:
    """Read and check the given tables.

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
    # the input fingerprints (sha256) are computed beside the parsing: hashlib releases the GIL
    with ThreadPoolExecutor(max_workers=2) as pool:
        prints = {name: pool.submit(fingerprint, path) for name, path in given.items() if path.is_file()}
        for name, path in given.items():
            raws[name] = read_table(path, TABLES[name], getattr(spec.data, name), spec.data.encoding,
                                    spec.data.timezone)
        for name, fut in prints.items():
            try:
                raws[name].fingerprint = fut.result()
            except OSError as exc:
                raise InputDataError(f"{given[name]}: cannot be read ({exc.strerror or exc})") from None
    problems = []
    for name, raw in raws.items():
        problems.extend(check_table(raw, TABLES[name], as_of))
        if name != "contacts" and len(raw.frame) == 0 and not raw.problems:
            problems.append(Problem(raw.path.name, None, f"no rows under the header: the {name} table is empty "
                                    f"(give a file with rows, or leave --{name} out)"))
    if problems:
        raise InputDataError(render(problems))

    book = Book(
        accounts=raws["accounts"].frame if "accounts" in raws else None,
        transactions=raws["transactions"].frame if "transactions" in raws else None,
        contacts=raws["contacts"].frame if "contacts" in raws else None,
    )
    for name, raw in raws.items():
        book.inputs[name] = {"path": str(raw.path), "sha256": raw.fingerprint, "rows": len(raw.frame)}
        book.absent[name] = raw.absent_optional
        if raw.absent_optional:
            book.notes.append(_absent_note(raw))
    if book.transactions is not None and "initiated_by" in book.absent.get("transactions", []):
        book.notes.append("transactions: no initiated_by column, so every transaction counts as activity")
    if book.accounts is None:
        book.notes.append(
            "no accounts file: customers come from the transactions; no balances, RMs, consent or flags"
        )
    book.notes.extend(_unused_notes(book, raws, as_of))
    return book


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
    known = _arrow_ids(getattr(book, owner)["customer_id"])  # once, for both tables
    for name in ("transactions", "contacts"):
        frame = getattr(book, name)
        if name == owner or frame is None or len(frame) == 0:
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
    return pa.array(cat.cat.categories.to_numpy(dtype=object), type=pa.string())


def _unknown_ids(ids: pd.Series, known: pa.Array) -> np.ndarray:
    """Rows whose id is not among ``known`` (missing ids are not counted), hashing the distinct ids only (Arrow)."""
    cat = ids if isinstance(ids.dtype, pd.CategoricalDtype) else ids.astype("category")
    hit = pc.is_in(_arrow_ids(cat), value_set=known).to_numpy(zero_copy_only=False)
    codes = cat.cat.codes.to_numpy()
    return (codes >= 0) & ~hit[np.maximum(codes, 0)] if len(hit) else np.zeros(len(codes), dtype=bool)


def _first_rows(raw: RawTable, mask: np.ndarray) -> str:
    rows = raw.file_rows(np.flatnonzero(mask) + 1)
    s = "s" if len(rows) > 1 else ""
    return f"row{s} " + ", ".join(str(int(r)) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")


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
